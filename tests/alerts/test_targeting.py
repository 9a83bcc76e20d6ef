"""Recipient resolution (pure): fences, regions, groups, unions, opt-outs."""

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from yingji.alerts import targeting
from yingji.alerts.targeting import Rule, SubscriberIndex

TIANHE = "440106"
TIANHE_STREET = "440106001"
YUEXIU = "440104"
SCHOOLS, HOSPITALS, SANFANG = 0, 1, 2


def _index(n=20_000, seed=1):
    rng = np.random.default_rng(seed)
    lons = rng.uniform(113.2, 113.5, n)
    lats = rng.uniform(23.0, 23.3, n)
    located = np.where(lons > 113.35, targeting.code_int(TIANHE_STREET), targeting.code_int(YUEXIU))
    home = np.zeros(n, dtype=np.int64)
    groups = rng.integers(0, 8, n).astype(np.uint64)
    opted = rng.random(n) < 0.05
    lons[:50] = np.nan  # no known location
    lats[:50] = np.nan
    return SubscriberIndex.build(np.arange(1, n + 1), lons, lats, located, home, groups, opted)


def _brute(index, geometry):
    ok = np.isfinite(index.lons)
    hit = np.zeros(len(index), bool)
    hit[ok] = shapely.contains_xy(geometry, index.lons[ok], index.lats[ok])
    return set(index.ids[hit & ~index.opted_out].tolist())


def test_region_codes_cover_everything_below_them():
    assert targeting.code_prefix("440100") == "4401"
    assert targeting.code_prefix("440106000000") == "440106"
    assert targeting.code_range("440106") == (440106000000, 440107000000)
    lo, hi = targeting.code_range("4401")
    assert lo <= targeting.code_int(TIANHE_STREET) < hi


def test_fence_matches_exact_containment():
    index = _index()
    fence = Polygon([(113.30, 23.05), (113.42, 23.02), (113.47, 23.20), (113.33, 23.27)])
    assert set(index.resolve([Rule(shapes=(fence,))]).tolist()) == _brute(index, fence)


@settings(max_examples=25, deadline=None)
@given(st.floats(113.2, 113.5), st.floats(23.0, 23.3), st.floats(0.1, 12.0))
def test_circles_anywhere_match_exact_containment(lon, lat, radius):
    index = _INDEX
    circle = targeting.circle_polygon(lat, lon, radius)
    assert set(index.resolve([Rule(shapes=(circle,))]).tolist()) == _brute(index, circle)


_INDEX = _index(5_000, seed=7)


def test_region_rule_by_location_or_home():
    index = _index()
    got = set(index.resolve([Rule(region_codes=(TIANHE,))]).tolist())
    expected = set(
        index.ids[(index.located == targeting.code_int(TIANHE_STREET)) & ~index.opted_out].tolist()
    )
    assert got == expected
    city = index.count([Rule(region_codes=("440100",))])
    assert city == int((~index.opted_out).sum())


def test_groups_narrow_an_area_and_rules_union():
    index = _index()
    schools_in_tianhe = Rule(region_codes=(TIANHE,), group_bits=(SCHOOLS,))
    sanfang_anywhere = Rule(group_bits=(SANFANG,))
    got = set(index.resolve([schools_in_tianhe, sanfang_anywhere]).tolist())
    tianhe = index.located == targeting.code_int(TIANHE_STREET)
    school = (index.groups & np.uint64(1 << SCHOOLS)) != 0
    sanfang = (index.groups & np.uint64(1 << SANFANG)) != 0
    expected = set(index.ids[((tianhe & school) | sanfang) & ~index.opted_out].tolist())
    assert got == expected and got


def test_opted_out_subscribers_are_never_resolved():
    index = _index()
    everyone = index.resolve([Rule(region_codes=("4401",))])
    opted = set(index.ids[index.opted_out].tolist())
    assert opted and not (set(everyone.tolist()) & opted)


def test_an_empty_rule_reaches_no_one():
    assert _index().count([Rule()]) == 0


def test_cap_polygons_are_simplified_but_targeting_keeps_the_exact_shape():
    circle = targeting.circle_polygon(23.1, 113.3, 5, segments=500)
    rings = targeting.simplify_for_cap(circle, max_points=100)
    assert len(rings) == 1 and 4 <= len(rings[0]) <= 100 and rings[0][0] == rings[0][-1]
    assert len(circle.exterior.coords) == 501


def test_fence_outside_every_point_is_empty():
    fence = Polygon([(120, 30), (121, 30), (121, 31), (120, 30)])
    assert _index().resolve([Rule(shapes=(fence,))]).size == 0


@pytest.mark.parametrize("bad", ["44A1", "1234567890123"])
def test_bad_region_codes_are_refused(bad):
    with pytest.raises(ValueError):
        targeting.code_prefix(bad)


def _rows(index):
    order = np.argsort(index.ids)
    return {
        k: getattr(index, k)[order]
        for k in ("ids", "lons", "lats", "located", "home", "groups", "opted_out")
    }


@pytest.mark.parametrize("outside", [False, True])
def test_upsert_answers_like_a_fresh_build(outside):
    rng = np.random.default_rng(3)
    index = _index(3_000, seed=5)
    rows = _rows(index)
    moved = rng.choice(rows["ids"], 60, replace=False)
    new = np.arange(10_001, 10_041)
    ids = np.concatenate([moved, new])
    k = len(ids)
    lons, lats = rng.uniform(113.2, 113.5, k), rng.uniform(23.0, 23.3, k)
    lons[:5] = np.nan  # moved to "no known location"
    lats[:5] = np.nan
    if outside:
        lons[-1], lats[-1] = 113.9, 23.6  # beyond the grid: rebuilt
    located = np.where(lons > 113.35, targeting.code_int(TIANHE_STREET), targeting.code_int(YUEXIU))
    groups = rng.integers(0, 8, k).astype(np.uint64)
    opted = rng.random(k) < 0.3
    home = np.zeros(k, dtype=np.int64)
    patched = index.upsert(ids, lons, lats, located, home, groups, opted)

    final = {key: value.copy() for key, value in rows.items()}
    at = np.searchsorted(final["ids"], moved)
    for key, value in zip(
        ("lons", "lats", "located", "home", "groups", "opted_out"),
        (lons, lats, located, home, groups, opted),
        strict=True,
    ):
        final[key][at] = value[: len(moved)]
        final[key] = np.concatenate([final[key], value[len(moved) :]])
    final["ids"] = np.concatenate([final["ids"], new])
    fresh = SubscriberIndex.build(
        **{("opted_out" if k == "opted_out" else k): v for k, v in final.items()}
    )
    assert len(patched) == len(fresh) == 3_040
    fence = Polygon([(113.30, 23.05), (113.42, 23.02), (113.47, 23.20), (113.33, 23.27)])
    for rules in (
        [Rule(shapes=(fence,))],
        [Rule(region_codes=(TIANHE,), group_bits=(SCHOOLS,))],
        [Rule(shapes=(targeting.circle_polygon(23.15, 113.3, 4),)), Rule(group_bits=(SANFANG,))],
        [Rule(region_codes=("4401",))],
    ):
        assert sorted(patched.resolve(rules).tolist()) == sorted(fresh.resolve(rules).tolist())
