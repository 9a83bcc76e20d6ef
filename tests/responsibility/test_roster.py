"""The register's rules without a database: import checks by row and column, the
kinds each object needs, phones, and the 一键通 progress."""

import datetime as dt

from yingji.responsibility import roster

REGIONS = {
    "440106": "440106",
    "天河区": "440106",
    "440106006": "440106006",
    "石牌街道": "440106006",
}


def row(**over):
    base = {
        "region": "石牌街道",
        "object_kind": "内涝点",
        "object_name": "石牌桥下穿隧道积水点",
        "role": "行政责任人",
        "name": "陈明",
        "post": "石牌街道办事处主任",
        "phone": "138 0013 8000",
    }
    return {**base, **over}


def test_a_good_row_is_read_with_labels_turned_into_keys():
    checked = roster.check_rows([row()], REGIONS)
    assert checked.problems == []
    (r,) = checked.good_rows()
    assert (r.region_code, r.object_kind, r.role, r.phone) == (
        "440106006",
        "waterlogging",
        "admin",
        "13800138000",
    )


def test_each_problem_names_its_row_and_column():
    checked = roster.check_rows(
        [row(), row(role="巡查责任人", phone=""), row(region="越秀区", role="技术责任人")], REGIONS
    )
    texts = [str(p) for p in checked.problems]
    assert "第 3 行“手机”列:不能为空" in texts
    assert any(t.startswith("第 4 行“区划”列:区划不存在或不在本账号范围:越秀区") for t in texts)
    assert [r.row for r in checked.good_rows()] == [2]


def test_a_person_twice_for_one_object_and_kind_is_refused_naming_the_first_row():
    checked = roster.check_rows([row(), row(name="李强", phone="13900139000")], REGIONS)
    (problem,) = checked.problems
    assert problem.row == 3
    assert "与第 2 行重复" in problem.message and "行政责任人只能有一人" in problem.message


def test_one_mobile_under_two_names_is_refused():
    checked = roster.check_rows([row(), row(role="巡查责任人", name="李强")], REGIONS)
    (problem,) = checked.problems
    assert (problem.row, problem.column) == (3, "手机")
    assert "陈明" in problem.message


def test_bad_phone_kind_and_date_are_named():
    checked = roster.check_rows(
        [row(phone="12345", object_kind="水塘", term_start="2022-13-01")], REGIONS
    )
    columns = {p.column for p in checked.problems}
    assert columns == {"手机", "对象类型", "任期开始"}


def test_headers_in_other_words_are_recognised_and_missing_ones_named():
    found, problems = roster.header_map(
        ["所在区划", "类型", "名称", "类别", "责任人姓名", "职务", "手机号码 "]
    )
    assert sorted(found.values()) == sorted(roster.REQUIRED)
    assert problems == []
    _, problems = roster.header_map(["区划", "姓名"])
    assert "缺少列“手机”" in problems and "缺少列“责任对象”" in problems


def test_required_kinds_and_gaps():
    assert roster.missing_roles("reservoir", ["admin"]) == ["技术责任人", "巡查责任人"]
    assert roster.missing_roles("area", ["admin"]) == []


def test_public_phone_masking():
    assert roster.mask_phone("13800138000") == "138****8000"
    assert roster.mask_phone("020-83001234") == "020-83001234"


def test_progress_counts_overdue_after_the_districts_deadline_lowest_share_first():
    today = dt.date(2022, 4, 20)
    people = [
        ("440106006", dt.date(2022, 3, 1)),
        ("440106006", None),
        ("440113001", None),
        ("440113001", None),
    ]
    area_of = {"440106006": ("440106", "天河区"), "440113001": ("440113", "番禺区")}
    lines = roster.progress(
        people, area_of, {"440106": dt.date(2022, 4, 15), "440113": dt.date(2022, 5, 1)}, today
    )
    assert [(x.name, x.installed, x.pending, x.overdue) for x in lines] == [
        ("番禺区", 0, 2, 0),
        ("天河区", 1, 0, 1),
    ]
