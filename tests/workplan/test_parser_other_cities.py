"""Plans from other cities and the province (issue 14): owner lists ending in
等部门, collective owners, 牵头责任单位/协同责任单位 labels with a territorial
sentence, "A和B", numbering that restarts in each section, plans with no owners
at all, and a task with two owner clauses."""

from pathlib import Path

import pytest

from yingji.workplan.parser import (
    GUANGZHOU_2022_PLAN,
    PlanDocumentError,
    is_collective,
    parse_owners,
    parse_plan,
    parse_plan_file,
)

FIXTURES = Path(__file__).parent / "fixtures"
LP, RP, COMMA, SEMI, COLON = "\uff08", "\uff09", "\uff0c", "\uff1b", "\uff1a"
KNOWN = {n: n for n in ["综合协调处", "法规处", "执法处", "危化处", "科技和统计处"]}
KNOWN["协调处"] = "综合协调处"  # an alias


def owners(plan):
    return [(t.number, t.lead, t.co, t.collective) for t in plan.tasks]


def test_the_other_city_fixture_reads_every_form():
    plan = parse_plan_file(FIXTURES / "other_city_owners.txt", known=KNOWN)
    assert owners(plan) == [
        (1, ["综合协调处"], ["法规处"], []),
        (2, ["执法处"], [], ["各相关处室单位"]),
        (3, ["综合协调处"], [], ["市安委会各成员单位"]),
        (4, ["危化处"], ["执法处"], ["各区政府"]),
        (5, ["危化处"], ["法规处", "执法处"], ["各镇(园区)"]),
        (6, ["综合协调处"], ["法规处"], []),
        (7, ["科技和统计处"], [], []),
        (8, ["综合协调处"], ["执法处"], []),
    ]
    # numbering restarts at 1 in section 二: renumbered through the document, said once
    assert [t.source for t in plan.tasks][3] == "第8行"
    assert [w.message for w in plan.warnings] == [
        "任务序号按部分或小节分别编写,已按全文顺序重新编号为 1–8(如第8行原序号 1 改为 4)"
    ]
    # the territorial sentence is owners, not task text
    assert plan.tasks[4].text == "推进工业园区安全风险评估。"
    last = plan.tasks[7]
    assert [(c.text, c.lead, c.co, c.collective) for c in last.clauses] == [
        ("开展防汛抢险演练", [], [], ["各镇(园区)"]),
        ("完善抢险队伍保障", ["综合协调处"], ["执法处"], []),
    ]


@pytest.mark.parametrize(
    "content, lead, co, collective",
    [
        ("综合协调处、法规处等部门", ["综合协调处"], ["法规处"], []),
        ("综合协调处、法规处 等单位", ["综合协调处"], ["法规处"], []),
        ("执法处等", ["执法处"], [], []),
        (
            f"牵头责任单位{COLON}危化处{COMMA}协同责任单位{COLON}法规处、执法处",
            ["危化处"],
            ["法规处", "执法处"],
            [],
        ),
        ("牵头部门:危化处;配合单位:执法处", ["危化处"], ["执法处"], []),
        (f"牵头单位{COLON}危化处{SEMI}协同单位{COLON}各区政府", ["危化处"], [], ["各区政府"]),
        ("责任单位:执法处、法规处", ["执法处"], ["法规处"], []),
        (
            f"牵头责任单位:危化处,协同责任单位:执法处{COMMA}各镇{LP}园区{RP}落实属地管理责任",
            ["危化处"],
            ["执法处"],
            ["各镇（园区）"],
        ),
        # a collective written first does not lead: the first department does
        ("各区政府、执法处", ["执法处"], [], ["各区政府"]),
        ("各相关处室单位", [], [], ["各相关处室单位"]),
    ],
)
def test_owner_forms(content, lead, co, collective):
    found = parse_owners(content, KNOWN)
    assert (found.lead, found.co, found.collective) == (lead, co, collective)


@pytest.mark.parametrize(
    "content, names",
    [
        ("综合协调处和法规处", ["综合协调处", "法规处"]),
        ("综合协调处及法规处", ["综合协调处", "法规处"]),
        ("协调处和执法处", ["协调处", "执法处"]),  # an alias counts as known
        ("科技和统计处", ["科技和统计处"]),  # one department with 和 in its name
        ("综合协调处和宣传处", ["综合协调处和宣传处"]),  # one side unknown: kept whole
    ],
)
def test_and_splits_only_between_known_departments(content, names):
    assert parse_owners(content, KNOWN).names == names


def test_without_a_register_and_is_never_split():
    assert parse_owners("综合协调处和法规处").names == ["综合协调处和法规处"]


@pytest.mark.parametrize(
    "name", ["各区", "各区政府", "各镇(园区)", "各相关处室单位", "市安委会各成员单位", "有关单位"]
)
def test_collective_names(name):
    assert is_collective(name)


@pytest.mark.parametrize("name", ["执法处", "含各区应急管理局", "市公安局", "各项工作"])
def test_not_collective(name):
    assert not is_collective(name)


def test_a_registered_name_is_a_department_even_if_it_reads_as_collective():
    assert not is_collective("各区应急管理局", {"各区应急管理局"})


def test_a_plan_with_no_owners_at_all_is_read_with_owners_pending():
    plan = parse_plan_file(FIXTURES / "provincial_no_owners.txt")
    assert [(t.number, t.lead, t.co, t.owners_pending) for t in plan.tasks] == [
        (1, [], [], True),
        (2, [], [], True),
        (3, [], [], True),
        (4, [], [], True),
    ]
    # a parenthesis that names no department stays in the text
    assert plan.tasks[1].text == "推进城市安全风险综合监测预警平台建设(一期)。"
    assert plan.tasks[0].due is not None and plan.tasks[3].recurrence == "quarterly"
    assert [(w.line, w.message) for w in plan.warnings] == [
        (
            4,
            "全文没有写明任何责任单位,4 个任务均按“待明确责任单位”导入,请在导入后为每个任务指定牵头和配合单位",
        )
    ]


def test_one_task_without_owners_among_owned_tasks_is_still_refused_with_its_line():
    text = "\n".join(
        [
            "2023年工作要点",
            "一、强化责任",
            "1.甲。(执法处)",
            "2.乙。",
            "3.丙。(执法处)",
        ]
    )
    with pytest.raises(PlanDocumentError) as caught:
        parse_plan(text)
    assert [(i.line, i.message) for i in caught.value.issues] == [
        (4, "任务 2 末尾没有责任处室括号,文件可能不完整")
    ]


def test_a_short_fragment_without_owners_is_refused_not_taken_as_unowned():
    text = "\n".join(["2023年工作要点", "一、强化责任", "1.甲。", "2.乙。"])
    with pytest.raises(PlanDocumentError) as caught:
        parse_plan(text)
    assert [i.line for i in caught.value.issues] == [3, 4]


def test_the_seed_still_reads_61_tasks_and_task_47_has_two_clauses():
    plan = parse_plan_file(GUANGZHOU_2022_PLAN)
    assert len(plan.tasks) == 61
    assert not any(t.owners_pending or t.collective for t in plan.tasks)
    t47 = next(t for t in plan.tasks if t.number == 47)
    assert [(c.lead, c.co) for c in t47.clauses] == [
        (["地震监测中心"], []),
        (["地震局"], ["地震监测中心"]),
    ]


def test_a_labelled_list_with_content_in_it_is_refused_naming_its_line():
    text = "\n".join(
        [
            "2023年工作要点",
            "一、强化责任",
            "1.甲。(执法处)",
            f"2.乙。{LP}牵头责任单位{COLON}危化处{COMMA}协同责任单位{COLON}深井铸造{RP}",
        ]
    )
    with pytest.raises(PlanDocumentError) as caught:
        parse_plan(text)
    [(line, message)] = [(i.line, i.message) for i in caught.value.issues]
    assert line == 4 and "不是责任处室名单" in message


def test_owner_lines_may_carry_the_lead_and_co_responsibility_labels():
    text = "\n".join(
        [
            "2023年工作要点",
            "一、强化责任",
            "1.制定年度安全生产责任清单。",
            f"牵头责任单位{COLON}综合协调处{SEMI}协同责任单位{COLON}法规处、各区政府",
        ]
    )
    plan = parse_plan(text, known=KNOWN)
    assert owners(plan) == [(1, ["综合协调处"], ["法规处"], ["各区政府"])]
    assert plan.tasks[0].text == "制定年度安全生产责任清单。"
