"""Layouts other bureaus' work plans use: three-level text (一、/（一）/1.),
"牵头单位:…" lines, and task-breakdown tables (任务分解表) in .docx, alone or mixed
with text sections. The .docx files are built here with python-docx."""

import datetime as dt
import io
from pathlib import Path

import docx
import pytest

from yingji.workplan.parser import (
    COLUMN_SYNONYMS,
    PlanDocumentError,
    parse_plan,
    parse_plan_file,
)
from yingji.workplan.tables import classify_header

FIXTURES = Path(__file__).parent / "fixtures"
TITLE = "广州市应急管理局2023年重点工作任务分解表"
COLON, SEMI = "\uff1a", "\uff1b"  # full-width, as escapes so no tool folds them
HEADER = ["序号", "重点任务", "具体措施", "牵头单位", "配合单位", "完成时限"]


def summary(plan):
    return [(t.number, t.subsection, t.text, t.lead, t.co, t.due, t.source) for t in plan.tasks]


def issues_of(source, **kwargs) -> list[tuple[int, str]]:
    with pytest.raises(PlanDocumentError) as caught:
        parse_plan(source, **kwargs)
    return [(issue.line, issue.message) for issue in caught.value.issues]


def build_docx(*blocks) -> bytes:
    """Paragraphs (str) and tables ({"rows": [[...]], "merge": [(r1, c1, r2, c2)]}),
    in order. Merged cells keep the first cell's text, as Word does."""
    document = docx.Document()
    for block in blocks:
        if isinstance(block, str):
            document.add_paragraph(block)
            continue
        rows = block["rows"]
        table = document.add_table(rows=len(rows), cols=max((len(r) for r in rows), default=0))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.cell(r, c).text = text
        for r1, c1, r2, c2 in block.get("merge", []):
            keep = table.cell(r1, c1).text
            merged = table.cell(r1, c1).merge(table.cell(r2, c2))
            merged.text = keep
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------ three-level text


def test_three_level_plan_keeps_numbers_and_subsections():
    plan = parse_plan_file(FIXTURES / "three_level_continuous.txt")
    assert (plan.title, plan.year, plan.warnings) == ("深圳市应急管理局2023年工作要点", 2023, [])
    assert [(s.number, s.title) for s in plan.sections] == [
        (1, "强化风险防控"),
        (2, "强化应急准备"),
    ]
    assert summary(plan) == [
        (
            1,
            "（一）加强重大风险源头管控",
            "开展危险化学品安全风险集中治理,6月底前完成重大危险源评估。",
            ["危化处"],
            ["基础处"],
            dt.date(2023, 6, 30),
            "第5行",
        ),
        (
            2,
            "（一）加强重大风险源头管控",
            "推进城市安全风险综合监测预警平台建设。",
            ["科技处"],
            ["指挥中心"],
            None,
            "第6行",
        ),
        (
            3,
            "（二）深化安全生产专项整治",
            "持续推进安全生产专项整治三年行动巩固提升。",
            ["综合处"],
            ["执法处"],
            None,
            "第8行",
        ),
        (
            4,
            "（一）完善预案体系",
            "修订市级专项应急预案,汛期前完成演练。",
            ["救援预案处"],
            [],
            dt.date(2023, 3, 31),
            "第11行",
        ),
        (
            5,
            "（二）开展全员应急演练",
            "每季度组织一次综合应急演练。",
            ["救援预案处"],
            ["指挥中心"],
            None,
            "第13行",
        ),
    ]
    assert plan.tasks[4].recurrence == "quarterly"
    assert plan.to_json()["sections"][0]["tasks"][0]["subsection"] == "（一）加强重大风险源头管控"


def test_numbering_within_subsections_and_owner_lines():
    plan = parse_plan_file(FIXTURES / "three_level_restart_owner_lines.txt")
    assert summary(plan) == [
        (
            1,
            "（一）压实安全生产责任",
            "制定年度安全生产责任清单。",
            ["综合处"],
            ["执法处", "法规处"],
            None,
            "第4行",
        ),
        (2, "（一）压实安全生产责任", "开展安全生产巡查。", ["综合处"], ["办公室"], None, "第6行"),
        (
            3,
            "（二）推进隐患排查治理",
            "组织开展“安全生产月”活动,6月底前完成隐患排查。",
            ["基础处"],
            ["危化处"],
            dt.date(2024, 6, 30),
            "第9行",
        ),
        # The subsection's 责任单位 line holds for tasks that name none of their own.
        (4, "（一）加强救援队伍建设", "完善专业救援队伍布局。", ["救援预案处"], [], None, "第16行"),
        (
            5,
            "（一）加强救援队伍建设",
            "年底前建成两支区级专业队伍。",
            ["救援预案处"],
            [],
            dt.date(2024, 12, 31),
            "第17行",
        ),
    ]
    assert plan.tasks[2].end_line == 12  # the task runs to its 配合单位 line
    assert [w.message for w in plan.warnings] == [
        "任务序号按部分或小节分别编写,已按全文顺序重新编号为 1–5(如第9行原序号 1 改为 3)"
    ]


def test_chinese_numbered_items_are_tasks_unless_numbered_tasks_follow():
    plan = parse_plan_file(FIXTURES / "chinese_task_level.txt")
    assert [(t.number, t.subsection, t.text, t.lead, t.co) for t in plan.tasks] == [
        (1, None, "压实安全生产党政领导责任,每年开展一次述职。", ["综合处"], ["人事处"]),
        (2, None, "落实部门监管责任。", ["执法处"], []),
        (3, None, "完善自然灾害综合风险普查成果应用。", ["减灾处"], []),
        (4, "（二）推进应急避难场所建设", "年底前新建应急避难场所10个。", ["减灾处"], []),
        (5, "（二）推进应急避难场所建设", "开展避难场所标识更新。", ["减灾处"], []),
    ]


def test_mixed_punctuation_and_separators_in_owners():
    text = "\n".join(
        [
            "2023年工作要点",
            "一、强化责任",
            "(一)压实责任",
            "1.做好甲工作。(综合处，法规处、执法处;各区)",
            "2.做好乙工作。（牵头单位:综合处；配合单位：法规处,执法处）",
        ]
    )
    plan = parse_plan(text)
    assert [(t.lead, t.co, t.collective) for t in plan.tasks] == [
        (["综合处"], ["法规处", "执法处"], ["各区"]),
        (["综合处"], ["法规处", "执法处"], []),
    ]


def test_three_level_task_with_no_lead_is_an_error_naming_its_line():
    text = "\n".join(
        [
            "2023年工作要点",
            "一、强化责任",
            "（一）压实责任",
            "1.做好甲工作。(综合处)",
            "2.做好乙工作。",
        ]
    )
    assert issues_of(text) == [
        (
            5,
            "任务 2(（一）压实责任)没有写明责任单位:末尾没有责任处室括号,"
            "也没有“牵头单位:…”或“责任单位:…”行",
        )
    ]


def test_three_level_numbering_errors_inside_a_subsection():
    text = "\n".join(
        [
            "2023年工作要点",
            "一、强化责任",
            "（一）压实责任",
            "1.甲。(综合处)",
            "1.乙。(综合处)",
            "3.丙。(综合处)",
            "（二）落实责任",
            "5.丁。(综合处)",
        ]
    )
    assert issues_of(text) == [
        (5, "任务序号 1 重复(第4行已有任务 1)"),
        (6, "任务序号 3 顺序不对,应为 2"),
        (8, "任务序号 5 不对,应为 1 或 4"),
    ]


def test_owner_line_with_content_that_is_no_department():
    text = "\n".join(
        [
            "2023年工作要点",
            "一、强化责任",
            "（一）压实责任",
            "1.甲工作。",
            "责任单位:按要求落实到位",
        ]
    )
    assert issues_of(text) == [
        (5, "任务 1 的责任单位行“责任单位:按要求落实到位”中有不像单位名称的内容")
    ]


# -------------------------------------------------------------------- breakdown tables


def breakdown(*rows, merge=()):
    return {"rows": [HEADER, *rows], "merge": list(merge)}


def test_breakdown_table_with_section_rows_merged_cells_and_repeated_header(tmp_path):
    data = build_docx(
        TITLE,
        breakdown(
            ["一、强化风险防控", "", "", "", "", ""],  # row 2
            ["1", "危化品风险治理", "开展重大危险源评估", "危化处", "基础处、执法处", "2023年6月"],
            ["2", "隐患排查治理", "开展“安全生产月”活动", "基础处", "", "6月30日"],  # row 4
            ["", "", "组织节后复工检查", "执法处", "各区", "3月底前"],  # row 5
            HEADER,  # row 6
            ["二、强化应急准备", "", "", "", "", ""],  # row 7
            ["3", "预案管理", "修订市级专项应急预案", "救援预案处", "/", "长期坚持"],
            merge=[(1, 0, 1, 5), (6, 0, 6, 5), (3, 0, 4, 0), (3, 1, 4, 1)],
        ),
    )
    path = tmp_path / "plan.docx"
    path.write_bytes(data)
    plan = parse_plan_file(path)
    assert plan.title == TITLE and plan.year == 2023 and plan.warnings == []
    assert [(s.number, s.title, s.line) for s in plan.sections] == [
        (1, "强化风险防控", 3),
        (2, "强化应急准备", 8),
    ]
    assert summary(plan) == [
        (
            1,
            None,
            f"危化品风险治理{COLON}开展重大危险源评估",
            ["危化处"],
            ["基础处", "执法处"],
            dt.date(2023, 6, 30),
            "表格1第3行",
        ),
        (
            2,
            None,
            f"隐患排查治理{COLON}开展“安全生产月”活动{SEMI}组织节后复工检查",
            ["基础处", "执法处"],
            [],
            dt.date(2023, 3, 31),
            "表格1第4–5行",
        ),
        (3, None, f"预案管理{COLON}修订市级专项应急预案", ["救援预案处"], [], None, "表格1第8行"),
    ]
    second = plan.tasks[1]
    assert (second.line, second.end_line) == (5, 6)  # title paragraph is line 1, table from 2
    assert second.collective == ["各区"]  # a collective owner, not a department
    assert [(c.text, c.lead, c.co, c.collective) for c in second.clauses] == [
        ("开展“安全生产月”活动", ["基础处"], [], []),
        ("组织节后复工检查", ["执法处"], [], ["各区"]),
    ]


def test_section_numeral_in_the_number_column_and_subsection_rows():
    data = build_docx(
        TITLE,
        {
            "rows": [
                ["序号", "工作任务", "责任单位(处室)", "时间节点"],
                ["一", "夯实安全基础", "", ""],
                ["(一)", "压实责任", "", ""],
                ["1", "制定责任清单", "综合处、法规处", "2023年3月31日"],
                ["（二）推进隐患治理", "", "", ""],
                ["2", "开展隐患排查", "基础处牵头,危化处配合", "每季度"],
            ],
            "merge": [(4, 0, 4, 3)],
        },
    )
    plan = parse_plan(data)
    assert [(s.number, s.title) for s in plan.sections] == [(1, "夯实安全基础")]
    assert [
        (t.number, t.subsection, t.text, t.lead, t.co, t.due, t.recurrence) for t in plan.tasks
    ] == [
        (1, "(一)压实责任", "制定责任清单", ["综合处"], ["法规处"], dt.date(2023, 3, 31), None),
        (2, "(二)推进隐患治理", "开展隐患排查", ["基础处"], ["危化处"], None, "quarterly"),
    ]


def test_lead_column_names_all_lead_and_columns_are_found_by_name_not_position():
    data = build_docx(
        TITLE,
        {
            "rows": [
                ["完成时限", "协办", "牵头处室", "工作内容", "编号"],
                ["年底前", "", "综合处、指挥中心", "建设应急指挥平台", "1"],
            ]
        },
    )
    task = parse_plan(data).tasks[0]
    assert (task.text, task.lead, task.co, task.due) == (
        "建设应急指挥平台",
        ["综合处", "指挥中心"],
        [],
        dt.date(2023, 12, 31),
    )
    assert parse_plan(data).sections[0].title == "工作任务"  # no section row


def test_two_row_header_refines_the_owner_columns():
    data = build_docx(
        TITLE,
        {
            "rows": [
                ["序号", "重点任务", "责任单位", "", "完成时限"],
                ["", "", "牵头单位", "配合单位", ""],
                ["1", "开展应急演练", "救援预案处", "指挥中心", "6月底前"],
            ],
            "merge": [(0, 2, 0, 3), (0, 0, 1, 0), (0, 1, 1, 1), (0, 4, 1, 4)],
        },
    )
    task = parse_plan(data).tasks[0]
    assert (task.lead, task.co, task.due) == (["救援预案处"], ["指挥中心"], dt.date(2023, 6, 30))


def test_mixed_document_text_sections_then_a_breakdown_table():
    data = build_docx(
        "某市应急管理局2023年工作要点",
        "一、强化责任",
        "1.压实安全生产责任。(综合处)",
        "二、重点任务分解",
        breakdown(["1", "风险普查", "推进成果应用", "减灾处", "", "年底前"]),
        "三、强化保障",
        "2.加强经费保障。(规划财务处)",
    )
    plan = parse_plan(data)
    assert [(s.number, s.title, [t.number for t in s.tasks]) for s in plan.sections] == [
        (1, "强化责任", [1]),
        (2, "重点任务分解", [2]),
        (3, "强化保障", [3]),
    ]
    assert [t.source for t in plan.tasks] == ["第3行", "表格1第2行", "第8行"]
    assert [w.message for w in plan.warnings] == [
        "任务序号按部分或小节分别编写,已按全文顺序重新编号为 1–3(如表格1第2行原序号 1 改为 2)"
    ]


def test_header_synonym_table_is_data_callers_can_extend():
    data = build_docx(TITLE, {"rows": [["项目", "主办单位"], ["编制规划", "综合处"]]})
    with pytest.raises(PlanDocumentError):
        parse_plan(data)
    columns = {**COLUMN_SYNONYMS, "task": ("项目",), "lead": ("主办单位",)}
    assert [t.lead for t in parse_plan(data, columns=columns).tasks] == [["综合处"]]


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("牵头单位", "lead"),
        (" 牵 头 单 位 ", "lead"),
        ("牵头单位\uff08处室\uff09", "lead"),
        ("*完成时限", "deadline"),
        ("责任单位(处室)", "owners"),
        ("协办", "co"),
        ("备注", None),
        ("联系电话", None),
    ],
)
def test_header_names_are_matched_after_normalisation(header, kind):
    lookup = {name: k for k, names in COLUMN_SYNONYMS.items() for name in names}
    assert classify_header(header, lookup) == kind


# -------------------------------------------------------------------- table errors


def test_table_task_without_lead_names_table_row_and_column():
    data = build_docx(
        TITLE,
        breakdown(
            ["1", "风险普查", "推进成果应用", "减灾处", "", "年底前"],
            ["2", "预案管理", "修订预案", "", "指挥中心", "年底前"],
        ),
    )
    assert issues_of(data) == [
        (4, f"表格1第3行:任务“预案管理{COLON}修订预案”的“牵头单位”列为空,每个任务都要有牵头单位")
    ]


def test_unknown_header_layout_names_the_table_and_what_is_missing():
    data = build_docx(TITLE, {"rows": [["姓名", "职务", "联系电话"], ["张三", "处长", "123"]]})
    assert issues_of(data) == [
        (
            2,
            "表格1无法识别表头:表格1第1行“姓名 | 职务 | 联系电话”中没有“工作任务”列和“牵头单位”列"
            "(工作任务列可写作:工作任务、重点任务、具体措施;牵头单位列可写作:牵头单位、牵头处室、"
            "责任单位),该表格未导入",
        )
    ]


def test_header_without_a_lead_column_is_refused():
    data = build_docx(
        TITLE, {"rows": [["序号", "重点任务", "完成时限"], ["1", "编制规划", "年底前"]]}
    )
    assert issues_of(data) == [
        (
            2,
            "表格1无法识别表头:表格1第1行“序号 | 重点任务 | 完成时限”中没有“牵头单位”列"
            "(牵头单位列可写作:牵头单位、牵头处室、责任单位),该表格未导入",
        )
    ]


def test_empty_table_and_header_only_table():
    data = build_docx(TITLE, {"rows": [["", ""], ["", ""]]}, "间隔", {"rows": [HEADER]})
    assert issues_of(data) == [
        (2, "表格1是空表格,没有任何内容"),
        (5, "表格2只有表头,没有任务行"),
    ]


def test_docx_without_tables_numbers_lines_as_before():
    data = build_docx(TITLE, "一、强化责任", "1.做好工作。(综合处)")
    assert [(t.line, t.source) for t in parse_plan(data).tasks] == [(3, "第3行")]


def test_a_row_with_only_its_task_cell_filled_is_a_task_not_a_section():
    data = build_docx(
        TITLE,
        breakdown(
            ["1", "风险普查", "推进成果应用", "减灾处", "", "年底前"],
            ["", "预案管理", "", "", "", ""],
        ),
    )
    assert issues_of(data) == [
        (4, "表格1第3行:任务“预案管理”的“牵头单位”列为空,每个任务都要有牵头单位")
    ]


def test_two_level_plan_with_owner_lines_under_its_tasks():
    text = "\n".join(
        [
            "2023年工作要点",
            "一、强化责任",
            "1.做好甲工作。",
            "牵头单位:综合处",
            "配合单位:法规处、执法处",
            "2.做好乙工作。(综合处)",
        ]
    )
    plan = parse_plan(text)
    assert [(t.number, t.text, t.lead, t.co, t.end_line) for t in plan.tasks] == [
        (1, "做好甲工作。", ["综合处"], ["法规处", "执法处"], 5),
        (2, "做好乙工作。", ["综合处"], [], 6),
    ]
