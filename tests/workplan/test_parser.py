"""The work-plan parser: the 2022 Guangzhou plan as golden test, the variants
other plans use, and every way a document can be wrong."""

import datetime as dt
import hashlib
import io
import json
import random
import time
from pathlib import Path

import docx
import pytest

from yingji.workplan.parser import (
    GUANGZHOU_2022_PLAN,
    ParsedPlan,
    PlanDocumentError,
    Warning,
    extract_goals,
    looks_like_department,
    parse_owners,
    parse_plan,
    parse_plan_file,
)
from yingji.workplan.timehints import cn_number, read_time_hints

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED = json.loads((FIXTURES / "seed_owners.json").read_text(encoding="utf-8"))
# Full-width punctuation, spelled as escapes so no editor or tool folds it to ASCII.
LP, RP, COMMA, SEMI, COLON = "\uff08", "\uff09", "\uff0c", "\uff1b", "\uff1a"
TITLE = "广州市应急管理局2022年工作要点"


@pytest.fixture(scope="module")
def seed() -> ParsedPlan:
    return parse_plan_file(GUANGZHOU_2022_PLAN)


def task(plan: ParsedPlan, number: int):
    return next(t for t in plan.tasks if t.number == number)


def issues_of(source, **kwargs) -> list[tuple[int, str]]:
    with pytest.raises(PlanDocumentError) as caught:
        parse_plan(source, **kwargs)
    return [(issue.line, issue.message) for issue in caught.value.issues]


def doc(*lines: str, title: str = TITLE) -> str:
    return "\n".join([title, *lines])


# --------------------------------------------------------------- the 2022 plan (golden)


def test_bundled_plan_is_the_seed_unchanged():
    digest = hashlib.sha256(GUANGZHOU_2022_PLAN.read_bytes()).hexdigest()
    assert digest == "f3dd9590521f770cf92a9f79af16bda7ccdd7d9ce4dbfcf1f4af4cf98051d6ab"


def test_seed_has_seven_sections_and_tasks_1_to_61(seed):
    assert [s.number for s in seed.sections] == [1, 2, 3, 4, 5, 6, 7]
    assert [t.number for t in seed.tasks] == list(range(1, 62))
    for section in seed.sections:
        first, last = EXPECTED["sections"][str(section.number)]
        assert [t.number for t in section.tasks] == list(range(first, last + 1))


@pytest.mark.parametrize("number", range(1, 62))
def test_seed_task_owners_are_those_written(seed, number):
    expected = EXPECTED["tasks"][str(number)]
    found = task(seed, number)
    assert (found.lead, found.co) == (expected["lead"], expected["co"])


def test_seed_title_is_derived_with_a_warning(seed):
    assert seed.title == "2022年工作要点"
    assert seed.year == 2022
    assert seed.warnings == [Warning(1, "文件开头没有标题行,标题取为“2022年工作要点”")]


def test_seed_preamble_and_goal(seed):
    assert seed.preamble.startswith("2022年是党的二十大召开之年")
    assert seed.goals == ["生产安全事故起数和死亡人数“双下降”"]


def test_seed_source_lines_are_kept(seed):
    assert [s.line for s in seed.sections] == [2, 13, 24, 34, 43, 55, 63]
    assert (task(seed, 1).line, task(seed, 61).line, task(seed, 61).end_line) == (3, 69, 69)


def test_seed_section_title_as_written(seed):
    assert seed.sections[0].title == "强化政治引领,高站位推进应急管理事业改革发展"


def test_task_2_remark_about_ranking_is_not_a_department(seed):
    second = task(seed, 2)
    assert second.lead == ["办公室"] and second.co == ["机关党委", "新闻处"]
    assert second.text.endswith("推动实际工作。")


def test_task_22_keeps_nine_departments_in_order(seed):
    assert task(seed, 22).lead == ["指挥处"]
    assert task(seed, 22).co[-1] == "指挥中心"


def test_task_47_keeps_both_owner_clauses_mid_sentence_and_at_the_end(seed):
    t47 = task(seed, 47)
    assert (t47.lead, t47.co) == (["地震局"], ["地震监测中心"])
    assert [(c.text, c.lead, c.co) for c in t47.clauses] == [
        ("启动防灾减灾救灾综合基地建设规划工作", ["地震监测中心"], []),
        ("推动国家地震烈度速报与预警工程广东子项目在广州的落地", ["地震局"], ["地震监测中心"]),
    ]
    assert t47.text == (
        "启动防灾减灾救灾综合基地建设规划工作(地震监测中心),"
        "推动国家地震烈度速报与预警工程广东子项目在广州的落地。"
    )


def test_a_clause_parenthesis_after_a_full_stop_owns_that_sentence():
    plan = parse_plan(
        doc("一、强化准备", "1.完善机制。组织演练。(救援预案处)推动落实。(指挥处、综合处)")
    )
    only = plan.tasks[0]
    assert (only.lead, only.co) == (["指挥处"], ["综合处"])
    assert [(c.text, c.lead, c.co) for c in only.clauses] == [
        ("组织演练", ["救援预案处"], []),
        ("推动落实", ["指挥处"], ["综合处"]),
    ]


def test_task_34_key_dates_in_written_order(seed):
    assert task(seed, 34).key_dates == [
        "春节",
        "清明",
        "端午",
        "七一",
        "中秋",
        "国庆",
        "党的二十大",
    ]


def test_task_41_places_in_the_text_are_not_owners(seed):
    t41 = task(seed, 41)
    assert "中大、华工、华农、奥体中心" in t41.text
    assert (t41.lead, t41.co) == (["减灾处"], [])


def test_content_parentheses_are_not_owners(seed):
    assert "铝加工(深井铸造)企业" in task(seed, 33).text
    assert (task(seed, 33).lead, task(seed, 33).co, task(seed, 33).clauses) == (["基础处"], [], [])
    assert "分区域(市-区-街道)、分人群" in task(seed, 23).text
    assert (task(seed, 23).lead, task(seed, 23).clauses) == (["指挥处"], [])


def test_seed_time_hints(seed):
    derived = {
        t.number: (t.due, t.recurrence, t.key_dates)
        for t in seed.tasks
        if t.due or t.recurrence or t.key_dates
    }
    assert derived == {
        3: (None, None, ["党的二十大"]),  # "党的二十大召开后"
        5: (None, "yearly", []),  # "每年至少一次"
        21: (None, "quarterly", []),  # "定期组织召开季度风险分析会"
        34: (None, None, ["春节", "清明", "端午", "七一", "中秋", "国庆", "党的二十大"]),
    }


def test_seed_mentions_that_are_not_key_dates(seed):
    assert "“七一”重要讲话" in task(seed, 2).text and task(seed, 2).key_dates == []


def test_seed_near_duplicate_departments_are_kept_as_written(seed):
    names = {name for t in seed.tasks for name in t.lead + t.co}
    assert {
        "科技处",
        "科技和统计处",
        "火灾处",
        "火灾管理处",
        "防火处",
        "指挥中心",
        "三防指挥中心",
    } <= names


def test_json_has_exactly_the_documented_shape(seed):
    data = seed.to_json()
    assert list(data) == ["title", "year", "goals", "sections", "warnings"]
    assert list(data["sections"][0]) == ["number", "title", "tasks"]
    assert list(data["sections"][0]["tasks"][0]) == [
        "number",
        "text",
        "lead",
        "co",
        "clauses",
        "due",
        "recurrence",
        "key_dates",
        "subsection",
        "source",
        "collective",
        "owners_pending",
    ]
    assert data["warnings"] == [
        {"line": 1, "message": "文件开头没有标题行,标题取为“2022年工作要点”"}
    ]
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data


def test_seed_parses_the_same_from_str_bytes_and_file(seed):
    text = GUANGZHOU_2022_PLAN.read_text(encoding="utf-8")
    assert parse_plan(text).to_json() == seed.to_json()
    assert parse_plan(text.encode("utf-8")).to_json() == seed.to_json()


# ------------------------------------------------------------------- owner conventions


def owners_of(text: str) -> tuple[list[str], list[str]]:
    owners = parse_owners(text)
    return owners.lead, owners.co


@pytest.mark.parametrize(
    "content, lead, co",
    [
        ("综合处", ["综合处"], []),
        ("办公室、机关党委、新闻处,排名第一的为牵头处室,下同", ["办公室"], ["机关党委", "新闻处"]),
        (f"办公室、机关党委{COMMA}排名第一的为牵头处室{COMMA}下同", ["办公室"], ["机关党委"]),
        ("地震局,地震监测中心", ["地震局"], ["地震监测中心"]),
        (f"地震局{COMMA}地震监测中心", ["地震局"], ["地震监测中心"]),
        (
            f"牵头单位{COLON}综合处{SEMI}协同单位{COLON}法规处、执法处",
            ["综合处"],
            ["法规处", "执法处"],
        ),
        ("牵头单位:综合处;配合单位:法规处、执法处", ["综合处"], ["法规处", "执法处"]),
        (f"牵头单位{COLON}综合处{SEMI}协办单位{COLON}法规处", ["综合处"], ["法规处"]),
        (
            f"牵头单位{COLON}综合处、危化处{SEMI}协同单位{COLON}法规处",
            ["综合处", "危化处"],
            ["法规处"],
        ),
        (f"责任单位{COLON}综合处、法规处", ["综合处"], ["法规处"]),
        (f"协同单位{COLON}法规处{SEMI}牵头单位{COLON}综合处", ["综合处"], ["法规处"]),
        (f"综合处牵头{COMMA}法规处、执法处按职责分工负责", ["综合处"], ["法规处", "执法处"]),
        ("综合处牵头,各区按职责分工负责", ["综合处"], []),
        (f"综合处、危化处牵头{COMMA}执法处配合", ["综合处", "危化处"], ["执法处"]),
        (
            "由市应急管理局牵头,市公安局、市交通运输局配合",
            ["市应急管理局"],
            ["市公安局", "市交通运输局"],
        ),
        ("综合处牵头,法规处", ["综合处"], ["法规处"]),
        ("综合处 法规处", ["综合处"], ["法规处"]),
    ],
)
def test_owner_conventions(content, lead, co):
    assert owners_of(content) == (lead, co)


@pytest.mark.parametrize(
    "name",
    [
        "综合处",
        "机关党委",
        "机关纪委",
        "地震监测中心",
        "三防指挥中心",
        "各区",
        "市应急委",
        "白云区人民政府",
        "越秀区北京街道办事处",
        "市消防救援支队",
        "市委宣传部",
        "市直各有关单位",
    ],
)
def test_department_names(name):
    assert looks_like_department(name)


@pytest.mark.parametrize(
    "name",
    [
        "市-区-街道",
        "深井铸造",
        "十余处",
        "含各区应急管理局",
        "以下简称“市应急委”",
        "2022年",
        "中大",
    ],
)
def test_content_is_not_a_department(name):
    assert not looks_like_department(name)


def test_a_known_name_counts_as_a_department_whatever_its_ending():
    assert looks_like_department("穗智管", {"穗智管"})
    assert not looks_like_department("穗智管")


# ------------------------------------------------------------------- document variants


def test_title_line_gives_title_and_year_without_warning():
    plan = parse_plan(doc("一、强化责任", "1.做好工作。(综合处)"))
    assert (plan.title, plan.year, plan.warnings) == (TITLE, 2022, [])


def test_year_parameter_overrides_the_document():
    plan = parse_plan(doc("一、强化责任", "1.年底前完成。(综合处)"), year=2023)
    assert plan.year == 2023 and plan.tasks[0].due == dt.date(2023, 12, 31)


def test_title_parameter_overrides_the_document():
    plan = parse_plan(doc("一、强化责任", "1.做好工作。(综合处)"), title="另一个标题")
    assert plan.title == "另一个标题" and plan.year == 2022


def test_chinese_numbered_tasks_with_both_bracket_styles():
    plan = parse_plan(
        doc(
            "一、强化责任",
            f"{LP}一{RP}做好第一项工作。{LP}综合处、法规处{RP}",
            "(二)做好第二项工作。(执法处)",
            "二、强化准备",
            f"{LP}三{RP}做好第三项工作。{LP}救援预案处{RP}",
        )
    )
    assert [(t.number, t.text, t.lead, t.co) for t in plan.tasks] == [
        (1, "做好第一项工作。", ["综合处"], ["法规处"]),
        (2, "做好第二项工作。", ["执法处"], []),
        (3, "做好第三项工作。", ["救援预案处"], []),
    ]


@pytest.mark.parametrize("number", ["1.", "1\uff0e", "1、", "\uff11.", "1. "])
def test_arabic_number_styles(number):
    plan = parse_plan(doc("一、强化责任", f"{number}做好工作。(综合处)"))
    assert plan.tasks[0].number == 1 and plan.tasks[0].text == "做好工作。"


def test_owner_parenthesis_mixing_full_width_and_ascii_brackets():
    plan = parse_plan(doc("一、强化责任", f"1.做好工作。{LP}综合处、法规处)"))
    assert (plan.tasks[0].lead, plan.tasks[0].co) == (["综合处"], ["法规处"])


def test_multi_line_task_with_owner_parenthesis_across_lines():
    plan = parse_plan(
        doc(
            "一、强化责任",
            "1.做好第一项工作,",
            "  推动第二项工作落实。",
            f"{LP}综合处、",
            f"法规处{RP}",
            "2.做好工作。(执法处)",
        )
    )
    first = plan.tasks[0]
    assert first.text == "做好第一项工作,推动第二项工作落实。"
    assert (first.lead, first.co, first.line, first.end_line) == (["综合处"], ["法规处"], 3, 6)


def test_number_alone_on_its_line():
    plan = parse_plan(doc("一、强化责任", "1.", "做好工作。(综合处)"))
    assert plan.tasks[0].text == "做好工作。"


def test_windows_line_endings_and_full_width_indent():
    plan = parse_plan(doc("一、强化责任", "\u3000\u30001.做好工作。(综合处)").replace("\n", "\r\n"))
    assert plan.tasks[0].lead == ["综合处"]


def test_labelled_owner_form_in_a_document():
    plan = parse_plan(
        doc(
            "一、强化责任",
            f"1.做好工作。{LP}牵头单位{COLON}综合处{SEMI}协同单位{COLON}法规处、执法处{RP}",
        )
    )
    assert (plan.tasks[0].lead, plan.tasks[0].co) == (["综合处"], ["法规处", "执法处"])


def test_text_after_the_owner_parenthesis_may_only_be_punctuation():
    plan = parse_plan(doc("一、强化责任", "1.做好工作(综合处)。"))
    assert plan.tasks[0].text == "做好工作"


def test_gb18030_bytes():
    plan = parse_plan(doc("一、强化责任", "1.做好工作。(综合处)").encode("gb18030"))
    assert plan.title == TITLE and plan.tasks[0].lead == ["综合处"]


def test_utf8_bom_bytes_and_str():
    text = doc("一、强化责任", "1.做好工作。(综合处)")
    assert parse_plan(b"\xef\xbb\xbf" + text.encode()).title == TITLE
    assert parse_plan("\ufeff" + text).title == TITLE


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be"])
def test_utf16_with_bom(codec):
    text = doc("一、强化责任", "1.做好工作。(综合处)")
    data = text.encode(codec) if codec == "utf-16" else b"\xfe\xff" + text.encode(codec)
    assert parse_plan(data).tasks[0].lead == ["综合处"]


def make_docx(*paragraphs: str) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_become_lines(tmp_path):
    data = make_docx(
        TITLE,
        "一、强化责任",
        "1.做好工作,",
        f"推动落实。{LP}综合处、法规处{RP}",
        "二、强化准备",
        "2.完善预案。(救援预案处)",
    )
    path = tmp_path / "plan.docx"
    path.write_bytes(data)
    for plan in (parse_plan_file(path), parse_plan(data)):
        assert plan.title == TITLE
        assert [(t.number, t.text, t.lead, t.co) for t in plan.tasks] == [
            (1, "做好工作,推动落实。", ["综合处"], ["法规处"]),
            (2, "完善预案。", ["救援预案处"], []),
        ]


def test_the_seed_as_docx_parses_like_the_text(seed):
    lines = GUANGZHOU_2022_PLAN.read_text(encoding="utf-8").split("\n")
    assert parse_plan(make_docx(*lines)).to_json() == seed.to_json()


def test_signature_after_the_last_task_is_ignored_with_a_warning():
    plan = parse_plan(
        doc("一、强化责任", "1.做好工作。(综合处)", "广州市应急管理局", "2022年3月1日")
    )
    assert plan.tasks[0].end_line == 3
    assert plan.warnings == [
        Warning(4, "这行文字不属于任何任务,已忽略"),
        Warning(5, "这行文字不属于任何任务,已忽略"),
    ]


def test_text_between_a_section_heading_and_its_first_task_is_a_warning():
    plan = parse_plan(doc("一、强化责任", "本部分说明。", "1.做好工作。(综合处)"))
    assert plan.warnings == [Warning(3, "这行文字不属于任何任务,已忽略")]


def test_section_without_tasks_is_a_warning():
    plan = parse_plan(doc("一、强化责任", "1.做好工作。(综合处)", "二、强化准备"))
    assert plan.warnings == [Warning(4, "部分“二、强化准备”下没有任务")]


def test_title_with_sentence_punctuation_is_preamble():
    plan = parse_plan("2023年,我们要努力实现事故“零发生”。\n一、强化责任\n1.做好工作。(综合处)")
    assert (plan.title, plan.year, plan.goals) == ("2023年工作要点", 2023, ["事故“零发生”"])


# --------------------------------------------------------------------------- goals


def test_goals_rule():
    preamble = (
        "2022年是关键一年,按照“理直气壮,守住底线”要求,确保全年不发生“重特大事故”,"
        "努力实现生产安全事故起数和死亡人数“双下降”,为加快实现老城市新活力、“四个出新出彩”,"
        "为实现高质量发展提供保障。"
    )
    assert extract_goals(preamble) == [
        "全年不发生“重特大事故”",
        "生产安全事故起数和死亡人数“双下降”",
    ]


# ------------------------------------------------------------------ known departments


KNOWN = {
    "综合处": "综合处",
    "法规处": "法规处",
    "科技和统计处": "科技和统计处",
    "科技处": "科技和统计处",
    "火灾管理处": "火灾管理处",
    "执法处": "执法处",
}


def test_unknown_departments_warn_with_the_nearest_known():
    plan = parse_plan(
        doc(
            "一、强化责任",
            "1.做好工作。(综合处、火灾处、科技处)",
            "2.做好工作。(火灾处、宣传教育处)",
        ),
        known=KNOWN,
    )
    assert plan.warnings == [
        Warning(3, "未知部门“火灾处”,最接近的已知部门:火灾管理处"),
        Warning(4, "未知部门“宣传教育处”,没有相近的已知部门"),
    ]
    assert plan.tasks[0].co == ["火灾处", "科技处"]  # kept as written, alias not replaced


def test_nearest_known_lists_up_to_three_by_similarity():
    known = {
        "综合处": "综合处",
        "综合协调处": "综合协调处",
        "综合执法处": "综合执法处",
        "综合保障处": "综合保障处",
    }
    plan = parse_plan(doc("一、强化责任", "1.做好工作。(综合管理处)"), known=known)
    assert plan.warnings == [
        Warning(3, "未知部门“综合管理处”,最接近的已知部门:综合处、综合保障处、综合协调处")
    ]


def test_aliases_and_canonical_names_are_both_known():
    plan = parse_plan(
        doc("一、强化责任", "1.做好工作。(科技处、科技和统计处)"), known={"科技处": "科技和统计处"}
    )
    assert plan.warnings == []


def test_a_known_name_is_an_owner_whatever_it_looks_like():
    with pytest.raises(PlanDocumentError):
        parse_plan(doc("一、强化责任", "1.做好工作。(穗智管)"))
    plan = parse_plan(doc("一、强化责任", "1.做好工作。(穗智管)"), known={"穗智管": "穗智管专班"})
    assert plan.tasks[0].lead == ["穗智管"] and plan.warnings == []


def test_without_a_mapping_there_are_no_unknown_department_warnings(seed):
    assert all("未知部门" not in w.message for w in seed.warnings)


# ----------------------------------------------------------------------- time hints


@pytest.mark.parametrize(
    "text, due",
    [
        ("年底前完成", dt.date(2022, 12, 31)),
        ("年内建成", dt.date(2022, 12, 31)),
        ("今年底前完成", dt.date(2022, 12, 31)),
        ("明年底前完成", dt.date(2023, 12, 31)),
        ("2023年底前完成", dt.date(2023, 12, 31)),
        ("上半年完成", dt.date(2022, 6, 30)),
        ("下半年完成", dt.date(2022, 12, 31)),
        ("6月底前完成", dt.date(2022, 6, 30)),
        ("2月底前完成", dt.date(2022, 2, 28)),
        ("六月底前完成", dt.date(2022, 6, 30)),
        ("十一月底前完成", dt.date(2022, 11, 30)),
        ("9月份前完成", dt.date(2022, 8, 31)),
        ("6月前完成", dt.date(2022, 5, 31)),
        ("3月15日前完成", dt.date(2022, 3, 15)),
        ("3月15号前完成", dt.date(2022, 3, 15)),
        ("汛期前完成排查", dt.date(2022, 3, 31)),
        ("开展汛前检查", dt.date(2022, 3, 31)),
        ("年底前完成,上半年启动,汛期前部署", dt.date(2022, 3, 31)),  # earliest wins
        ("推进三年内完成的项目", None),  # a duration, not this year
        ("为期三年", None),
        ("6月前后开展", None),  # around, not before
        ("汛期前后加强值守", None),
        ("2月30日前完成", None),  # not a date
        ("13月底前完成", None),
        ("做好工作", None),
    ],
)
def test_due_rules(text, due):
    assert read_time_hints(text, 2022).due == due


def test_flood_season_start_is_a_parameter():
    hints = read_time_hints("汛期前完成", 2024, flood_season_start=(4, 4))
    assert hints.due == dt.date(2024, 4, 3)
    plan = parse_plan(doc("一、强化责任", "1.汛期前完成。(三防处)"), flood_season_start=(4, 15))
    assert plan.tasks[0].due == dt.date(2022, 4, 14)


@pytest.mark.parametrize(
    "text, recurrence",
    [
        ("每月报送进展", "monthly"),
        ("按月通报", "monthly"),
        ("每季度开展分析", "quarterly"),
        ("定期组织召开季度风险分析会", "quarterly"),
        ("每年至少一次", "yearly"),
        ("每年开展,每月通报", "monthly"),  # the shortest period wins
        ("定期开展调研", None),
        ("编制2022年度实施计划", None),
    ],
)
def test_recurrence_rules(text, recurrence):
    assert read_time_hints(text, 2022).recurrence == recurrence


@pytest.mark.parametrize(
    "text, key_dates",
    [
        (
            "在春节、清明、端午、七一、中秋、国庆、党的二十大等关键节点",
            ["春节", "清明", "端午", "七一", "中秋", "国庆", "党的二十大"],
        ),
        ("春节前后开展检查,国庆期间加强值守", ["春节", "国庆"]),
        ("在“五一”“国庆”假期", ["五一", "国庆"]),
        ("春节期间和春节后", ["春节"]),
        ("贯彻“七一”重要讲话精神", []),
        ("学习贯彻党的二十大精神", []),
        ("贯彻党的十九大和十九届历次全会精神", []),
    ],
)
def test_key_date_rules(text, key_dates):
    assert read_time_hints(text, 2022).key_dates == key_dates


@pytest.mark.parametrize(
    "text, number",
    [
        ("1", 1),
        ("12", 12),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("二十三", 23),
        ("十十", None),
        ("", None),
    ],
)
def test_cn_number(text, number):
    assert cn_number(text) == number


# ---------------------------------------------------------------------- bad documents


def test_no_sections():
    assert issues_of(doc("1.做好工作。(综合处)")) == [(0, "没有找到任何部分(形如“一、…”的标题行)")]


def test_no_tasks():
    assert issues_of(doc("一、强化责任", "二、强化准备")) == [
        (0, "没有找到任何编号任务(形如“1.…”的行)")
    ]


def test_truncated_file_task_without_owner_parenthesis():
    text = GUANGZHOU_2022_PLAN.read_text(encoding="utf-8")
    truncated = text[: text.index("(新闻处、人事处)")]
    assert issues_of(truncated) == [(69, "任务 61 末尾没有责任处室括号,文件可能不完整")]


def test_truncated_inside_a_content_parenthesis_task():
    text = doc("一、强化责任", "1.组织开展钢铁冶金、铝加工(深井铸造)")
    assert issues_of(text) == [(3, "任务 1 末尾的括号“(深井铸造)”不是责任处室名单,文件可能不完整")]


def test_truncated_after_a_clause_parenthesis():
    assert issues_of(doc("一、强化责任", "1.启动规划工作(地震监测中心),推动落地")) == [
        (3, "任务 1 末尾没有责任处室括号,文件可能不完整")
    ]


@pytest.mark.parametrize("empty", ["()", f"{LP}{RP}", "( )", f"{LP}\u3000{RP}"])
def test_empty_owner_parenthesis(empty):
    assert issues_of(doc("一、强化责任", f"1.做好工作。{empty}")) == [
        (3, "任务 1 的责任处室括号是空的")
    ]


def test_duplicate_task_number():
    assert issues_of(
        doc("一、强化责任", "1.甲。(综合处)", "2.乙。(综合处)", "2.丙。(综合处)", "3.丁。(综合处)")
    ) == [(5, "任务序号 2 重复(第4行已有任务 2)")]


def test_numbering_restarting_in_a_section_is_renumbered_through_the_document():
    plan = parse_plan(
        doc("一、强化责任", "1.甲。(综合处)", "2.丙。(综合处)", "二、强化准备", "1.乙。(法规处)")
    )
    assert [(t.number, t.text, t.lead) for t in plan.tasks] == [
        (1, "甲。", ["综合处"]),
        (2, "丙。", ["综合处"]),
        (3, "乙。", ["法规处"]),
    ]
    assert any("重新编号为 1–3" in w.message for w in plan.warnings)


def test_a_duplicate_inside_a_restarting_section_is_still_refused():
    text = doc("一、强化责任", "1.甲。(综合处)", "二、强化准备", "1.乙。(综合处)", "1.丙。(综合处)")
    assert issues_of(text) == [(6, "任务序号 1 重复(第5行已有任务 1)")]


def test_missing_task_numbers():
    assert issues_of(
        doc("一、强化责任", "1.甲。(综合处)", "2.乙。(综合处)", "4.丙。(综合处)", "7.丁。(综合处)")
    ) == [(5, "缺少任务序号 3"), (6, "缺少任务序号 5–6")]


def test_task_numbers_out_of_order():
    assert issues_of(doc("一、强化责任", "1.甲。(综合处)", "3.乙。(综合处)", "2.丙。(综合处)")) == [
        (4, "缺少任务序号 2"),
        (5, "任务序号 2 顺序错乱(前一个任务是 3)"),
    ]


def test_section_numbers_out_of_order():
    assert issues_of(
        doc(
            "一、强化责任",
            "1.甲。(综合处)",
            "三、强化准备",
            "2.乙。(综合处)",
            "二、强化宣传",
            "3.丙。(综合处)",
        )
    ) == [(4, "部分序号“三、”顺序不对,应为“二、”"), (6, "部分序号“二、”顺序不对,应为“四、”")]


def test_no_year_anywhere():
    assert issues_of("工作要点\n一、强化责任\n1.做好工作。(综合处)") == [
        (0, "找不到年度:标题和总体要求中都没有“20XX年”,请指定年度")
    ]
    assert parse_plan("工作要点\n一、强化责任\n1.做好工作。(综合处)", year=2024).year == 2024


def test_undecodable_bytes_name_the_offset_and_line():
    data = doc("一、强化责任", "1.做好工作。(综合处)").encode("utf-8")
    broken = data[:40] + b"\xff" + data[40:]
    line = broken[:40].count(b"\n") + 1
    assert issues_of(broken) == [(line, "无法按 UTF-8 解码:字节偏移 40 处的 0xFF 无效")]


def test_bytes_neither_utf8_nor_gb18030():
    assert issues_of(b"abc\n\x81\x20") == [
        (2, "无法按 UTF-8 或 GB18030 解码:字节偏移 4 处的 0x81 无效")
    ]


def test_broken_utf16():
    data = "一、强化责任\n1.".encode("utf-16-le")
    assert issues_of(b"\xff\xfe" + data + b"\x00\xd8\x41\x00") == [
        (2, f"无法按 UTF-16 解码:字节偏移 {2 + len(data)} 处的 0x00 无效")
    ]


def test_legacy_word_file():
    assert issues_of(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100) == [
        (0, "这是旧版 Word(.doc)文件,请另存为 .docx 或纯文本后再导入")
    ]


def test_a_50_mb_file_is_refused_quickly_from_its_size(tmp_path):
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: no 50 MB actually written
    started = time.perf_counter()
    with pytest.raises(PlanDocumentError) as caught:
        parse_plan_file(big)
    assert time.perf_counter() - started < 0.5
    assert str(caught.value) == (
        "全文:文件过大:52,428,800 字节(50.0 MB),上限为 20,971,520 字节(20.0 MB)"
    )


def test_text_with_lone_surrogates_is_a_plan_error_not_a_crash():
    assert issues_of("2022年\udcff\n一、强化责任") == [(0, "没有找到任何编号任务(形如“1.…”的行)")]


def test_size_limit_is_a_parameter():
    text = doc("一、强化责任", "1.做好工作。(综合处)")
    assert issues_of(text.encode(), max_bytes=10)[0][1].startswith("文件过大:")
    assert issues_of(text, max_bytes=10)[0][1].startswith("文件过大:")


def test_docx_that_is_not_a_zip(tmp_path):
    path = tmp_path / "plan.docx"
    path.write_text("一、强化责任\n1.做好工作。(综合处)", encoding="utf-8")
    with pytest.raises(PlanDocumentError) as caught:
        parse_plan_file(path)
    assert str(caught.value) == "全文:不是有效的 .docx 文件(无法作为 zip 打开)"


def test_zip_that_is_not_a_docx():
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert issues_of(buffer.getvalue()) == [
        (0, "不是有效的 .docx 文件(zip 中没有可读的 Word 文档内容)")
    ]


def test_truncated_docx():
    data = make_docx(TITLE, "一、强化责任", "1.做好工作。(综合处)")
    assert issues_of(data[: len(data) // 2]) == [(0, "不是有效的 .docx 文件(无法作为 zip 打开)")]


def test_damaged_docx_bytes_are_plan_errors():
    data = make_docx(*GUANGZHOU_2022_PLAN.read_text(encoding="utf-8").split("\n"))
    rng = random.Random(7)
    messages = set()
    for _ in range(100):
        damaged = bytearray(data)
        for _ in range(3):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        try:
            parse_plan(bytes(damaged))
        except PlanDocumentError as error:
            messages.add(error.issues[0].message)
    assert "不是有效的 .docx 文件(压缩内容已损坏)" in messages


def test_missing_file(tmp_path):
    with pytest.raises(PlanDocumentError) as caught:
        parse_plan_file(tmp_path / "none.txt")
    assert str(caught.value).startswith("全文:无法读取文件 none.txt:")


def test_every_problem_is_reported_at_once():
    text = "\n".join(
        [
            "工作要点",
            "一、强化责任",
            "1.甲。(综合处)",
            "2.乙。()",
            "2.丙。(综合处)",
            "三、强化准备",
            "5.丁。(综合处)",
            "6.戊",
        ]
    )
    with pytest.raises(PlanDocumentError) as caught:
        parse_plan(text)
    assert str(caught.value) == "\n".join(
        [
            "全文:找不到年度:标题和总体要求中都没有“20XX年”,请指定年度",
            "第4行:任务 2 的责任处室括号是空的",
            "第5行:任务序号 2 重复(第4行已有任务 2)",
            "第6行:部分序号“三、”顺序不对,应为“二、”",
            "第7行:缺少任务序号 3–4",
            "第8行:任务 6 末尾没有责任处室括号,文件可能不完整",
        ]
    )
