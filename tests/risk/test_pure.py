"""Pure rules without a database: credit codes, industries and the 三管三必须
table, LEC/LS grading, accident levels."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yingji.risk import accidents, creditcode, grading, supervision
from yingji.risk.categories import parse_categories


def test_a_published_credit_code_is_valid():
    assert creditcode.problem("91350100M000100Y43") is None


def test_a_wrong_check_character_is_named():
    assert "校验位错误" in creditcode.problem("91350100M000100Y44")


@pytest.mark.parametrize(
    "code,words",
    [
        ("9135010", "18位"),
        ("91350100M000100YI3", "第17位“I”"),
        ("91ABCDEFM000100Y43", "行政区划代码"),
    ],
)
def test_malformed_credit_codes_say_what_is_wrong(code, words):
    assert words in creditcode.problem(code)


@given(st.integers(min_value=0, max_value=31**9 - 1))
def test_generated_codes_validate_and_any_single_change_is_caught(serial):
    code = creditcode.make("91440106", serial)
    assert creditcode.problem(code) is None
    changed = code[:10] + creditcode.CHARSET[(creditcode.VALUES[code[10]] + 1) % 31] + code[11:]
    assert creditcode.problem(changed) is not None


@pytest.mark.parametrize(
    "text,expected", [("C2614", "2614"), ("2614", "2614"), ("26", "26"), ("2614.0", "2614")]
)
def test_industry_codes_are_accepted_with_or_without_section_letter(text, expected):
    assert supervision.normalise_industry(text) == (expected, None)


@pytest.mark.parametrize("text", ["E2614", "99", "x", "261456"])
def test_bad_industry_codes_are_refused(text):
    assert supervision.normalise_industry(text)[1] is not None


def test_the_table_sends_chemicals_to_weihua_and_construction_to_housing():
    table = supervision.load_table()
    assert table.department_for("2614") == "危化处"
    assert table.department_for("4710") == "市住房城乡建设局"
    assert table.department_for("5166") == "危化处"  # longest prefix wins over 51
    assert table.department_for("5199") == "市市场监管局"
    assert table.department_for("3311") == "基础处"


def test_a_key_category_overrides_the_industry():
    assert supervision.load_table().department_for("5199", ["hc_trade"]) == "危化处"


def test_the_table_is_data(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("match,department,note\n26,综合处,\n", encoding="utf-8")
    assert supervision.load_table(path).department_for("2614") == "综合处"


def test_categories_parse_from_labels_and_name_unknown_ones():
    assert parse_categories("城镇燃气、有限空间,town_gas") == (["town_gas", "confined_space"], [])
    assert parse_categories("燃气")[1] == ["燃气"]


@pytest.mark.parametrize(
    "lk,e,c,grade",
    [
        (10, 6, 7, "red"),  # 420 > 320
        (6, 6, 7, "orange"),  # 252
        (3, 6, 7, "yellow"),  # 126
        (3, 3, 7, "blue"),  # 63
        (1, 1, 1, "blue"),  # 1
        (1, 2, 160 / 2 / 1, None),  # not on the scale
    ],
)
def test_lec_bands(lk, e, c, grade):
    if grade is None:
        with pytest.raises(grading.AssessmentError, match="C"):
            grading.lec(lk, e, c)
    else:
        assert grading.lec(lk, e, c).grade == grade


def test_lec_band_edges_follow_domain_md():
    scales = {
        "lec": {
            "L": [1, 320, 160, 70, 20],
            "E": [1],
            "C": [1],
            "bands": grading.load_scales()["lec"]["bands"],
        }
    }
    assert grading.lec(320, 1, 1, scales).grade == "orange"  # 160–320 is orange
    assert grading.lec(160, 1, 1, scales).grade == "yellow"
    assert grading.lec(70, 1, 1, scales).grade == "blue"


def test_ls_matrix_grades_and_refuses_off_scale_values():
    assert grading.ls(5, 5).grade == "red"
    assert grading.ls(3, 3).grade == "orange"
    assert grading.ls(2, 3).grade == "yellow"
    assert grading.ls(1, 2).grade == "blue"
    with pytest.raises(grading.AssessmentError, match="S"):
        grading.ls(1, 6)


def test_enterprise_grade_is_the_highest():
    assert grading.highest(["blue", "orange", "yellow"]) == "orange"
    assert grading.highest([]) == ""


@pytest.mark.parametrize(
    "deaths,injuries,loss,missing,level",
    [
        (0, 0, 0, 0, "general"),
        (2, 9, Decimal("999.99"), 0, "general"),
        (3, 0, 0, 0, "larger"),
        (2, 0, 0, 1, "larger"),  # missing counts with the dead
        (0, 10, 0, 0, "larger"),
        (0, 0, 1000, 0, "larger"),  # 10 M yuan = 1000 万元
        (9, 49, Decimal("4999.99"), 0, "larger"),
        (10, 0, 0, 0, "major"),
        (0, 50, 0, 0, "major"),
        (0, 0, 5000, 0, "major"),
        (29, 99, Decimal("9999.99"), 0, "major"),
        (30, 0, 0, 0, "extraordinary"),
        (0, 100, 0, 0, "extraordinary"),
        (0, 0, 10000, 0, "extraordinary"),
        (1, 0, 10000, 0, "extraordinary"),  # the highest criterion decides
    ],
)
def test_accident_level_from_the_national_thresholds(deaths, injuries, loss, missing, level):
    assert accidents.level(deaths, injuries, loss, missing) == level


def test_negative_casualties_are_refused():
    with pytest.raises(ValueError, match="负数"):
        accidents.level(-1, 0, 0)


def test_import_progress_file_is_throttled_but_keeps_phase_changes_and_the_end(tmp_path):
    from yingji.risk import importprogress as ip

    now = [0.0]
    path = tmp_path / "1.progress.json"
    track = ip.ProgressFile(path, interval=1.0, clock=lambda: now[0])
    assert ip.read(path) is None
    track("read", 5000, 0)
    assert ip.read(path).describe() == "读取文件:已读取 5,000 行"
    track("validate", 0, 100_000)
    now[0] = 0.5
    track("validate", 40_000, 100_000)  # within the interval: not written
    assert ip.read(path).done == 0
    now[0] = 1.2
    track("validate", 60_000, 100_000)
    assert ip.read(path).describe() == "逐行校验:已校验 60,000 / 100,000 行(60%)"
    track("validate", 100_000, 100_000)  # the end of a phase is always written
    assert ip.read(path).percent == 100
    assert not ip.read(path).stale(now=1.2 + 60) and ip.read(path).stale(now=1.2 + 3600)
    path.write_text("{broken")
    assert ip.read(path) is None
