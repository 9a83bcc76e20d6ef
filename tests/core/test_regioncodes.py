"""Region codes: the pure nesting rule (no database)."""

import pytest

from yingji.core import regioncodes as rc


@pytest.mark.parametrize(
    "code, expected",
    [
        ("440100", "4401"),  # city
        ("440000", "44"),  # province
        ("440106", "440106"),  # district
        ("440106001", "440106001"),  # street
        ("440106001001", "440106001001"),  # community
        ("440106000000", "440106"),  # a 12-digit CPEAS geocode of a district
        ("440100000000", "4401"),
        ("440106001000", "440106001"),
        (" 440100 ", "4401"),
        ("", ""),
        (None, ""),
    ],
)
def test_prefix_drops_the_zero_padding(code, expected):
    assert rc.prefix(code) == expected


@pytest.mark.parametrize(
    "code, ancestor",
    [
        ("440106", "440100"),
        ("440106001", "440100"),
        ("440106001", "440106"),
        ("440106001001", "440106001"),
        ("440106", "440106"),
        ("440100", "440100"),
        ("440106001", "440000"),
        ("440106001", "440106000000"),
    ],
)
def test_a_code_starting_with_another_regions_prefix_lies_inside_it(code, ancestor):
    assert rc.is_within(code, ancestor)


@pytest.mark.parametrize(
    "code, ancestor",
    [
        ("440100", "440106"),  # a city is not inside its district
        ("440106", "440106001"),
        ("440111001", "440106"),  # a street of another district
        ("440201", "440100"),  # a district of another city
        ("", "440100"),
        (None, "440100"),
        ("440106", ""),
        ("440106", None),
    ],
)
def test_other_codes_and_empty_codes_are_not_inside(code, ancestor):
    assert not rc.is_within(code, ancestor)


def test_within_any_ignores_empty_ancestors():
    assert rc.within_any("440106001", ["440111", "440106"])
    assert not rc.within_any("440106001", ["440111", "", None])
    assert not rc.within_any("440106001", [])


@pytest.mark.parametrize(
    "code, level",
    [
        ("440100", "city"),
        ("440106", "district"),
        ("440106001", "street"),
        ("440106001001", "community"),
        ("4401", None),
        ("44010600", None),
        ("44O106", None),
        ("４４０１０６", None),
        ("", None),
    ],
)
def test_level_of(code, level):
    assert rc.level_of(code) == level


@pytest.mark.parametrize(
    "code, parent",
    [
        ("440106", "440100"),
        ("440106001", "440106"),
        ("440106001001", "440106001"),
        ("440100", None),
        ("bad", None),
    ],
)
def test_parent_of(code, parent):
    assert rc.parent_of(code) == parent


def test_ancestors_nearest_first_and_each_contains_the_code():
    assert rc.ancestors("440106001001") == ["440106001", "440106", "440100"]
    assert rc.ancestors("440100") == []
    assert all(rc.is_within("440106001001", a) for a in rc.ancestors("440106001001"))


@pytest.mark.parametrize(
    "code, district",
    [
        ("440106001001", "440106"),
        ("440106001", "440106"),
        ("440106", "440106"),
        ("440100", "440100"),
        ("4401", None),
        ("", None),
        (None, None),
    ],
)
def test_district_of(code, district):
    assert rc.district_of(code) == district


def test_the_module_needs_no_django():
    import os
    import subprocess
    import sys

    code = (
        "import sys; import yingji.core.regioncodes; "
        "assert 'django' not in sys.modules, 'django imported'"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
