import datetime as dt
from pathlib import Path

import pytest

import yingji.workplan
from yingji.core.departments import load_departments
from yingji.core.models import Department, MergeSuggestion
from yingji.workplan import services
from yingji.workplan.models import Assignment, Milestone, Plan, Task

SEED = Path(yingji.workplan.__file__).parent / "data" / "guangzhou_2022_plan.txt"
pytestmark = pytest.mark.django_db


@pytest.fixture
def departments():
    load_departments()


def test_seed_imports_61_tasks_each_with_its_departments(departments):
    plan = services.import_plan_file(SEED)
    assert plan.year == 2022 and plan.sections.count() == 7
    assert plan.tasks.count() == 61
    for task in plan.tasks.all():
        assert task.assignments.filter(role="lead", clause__isnull=True).count() >= 1, task.number
    t2 = plan.tasks.get(number=2)
    assert [a.department.name for a in t2.assignments.filter(clause__isnull=True)] == [
        "办公室",
        "机关党委",
        "新闻处",
    ]
    assert t2.assignments.get(department__name="办公室").role == "lead"
    # task 47: a clause with its own lead mid-sentence, and the rest with the task's
    t47 = plan.tasks.get(number=47)
    first, second = t47.clauses.all()
    assert first.assignments.get().department.name == "地震监测中心"
    assert [(a.department.name, a.role) for a in second.assignments.all()] == [
        ("地震局", "lead"),
        ("地震监测中心", "co"),
    ]
    assert [(a.department.name, a.role) for a in t47.assignments.filter(clause__isnull=True)] == [
        ("地震局", "lead"),
        ("地震监测中心", "co"),
    ]
    assert any("双下降" in g for g in plan.goals)


def test_seed_milestones_follow_the_time_hints(departments):
    plan = services.import_plan_file(SEED)
    t21 = plan.tasks.get(number=21)  # 季度风险分析会: quarterly
    assert t21.milestones.filter(kind="recurrence").count() == 4
    t34 = plan.tasks.get(number=34)  # 明查暗访 on 春节, 清明 … 国庆
    titles = list(t34.milestones.values_list("title", flat=True))
    assert "春节节点" in titles and "国庆节点" in titles
    spring = t34.milestones.get(title="春节节点")
    assert spring.due == dt.date(2022, 2, 6)
    # every task has at least one milestone (at worst, the year end)
    assert not Task.objects.filter(plan=plan, milestones__isnull=True).exists()


def test_near_duplicate_departments_stay_separate_until_an_administrator_merges(departments):
    plan = services.import_plan_file(SEED)
    names = set(
        Assignment.objects.filter(task__plan=plan).values_list("department__name", flat=True)
    )
    assert {"科技处", "科技和统计处", "火灾处", "火灾管理处", "防火处"} <= names
    assert MergeSuggestion.objects.filter(status="open").exists()


def test_reimporting_the_same_file_is_refused(departments):
    services.import_plan_file(SEED)
    with pytest.raises(services.PlanImportError, match="已导入"):
        services.import_plan_file(SEED)
    assert Plan.objects.count() == 1


def test_unknown_department_rejects_the_whole_document(departments, tmp_path):
    doc = tmp_path / "plan.txt"
    doc.write_text(
        "2023年全市应急管理工作要点\n一、强化责任\n1.修订工作规则。(综合处)\n"
        "2.建设联创中心。(未来科技处)\n",
        encoding="utf-8",
    )
    with pytest.raises(services.PlanImportError) as err:
        services.import_plan_file(doc)
    assert "第4行" in str(err.value) and "未来科技处" in str(err.value)
    assert not Plan.objects.exists() and not Task.objects.exists()
    assert not Milestone.objects.exists()


def test_gb18030_document_imports(departments, tmp_path):
    doc = tmp_path / "plan-gbk.txt"
    doc.write_bytes(
        "2023年工作要点\n一、强化责任\n1.修订工作规则,每季度通报。(综合处、法规处)\n".encode(
            "gb18030"
        )
    )
    plan = services.import_plan_file(doc)
    task = plan.tasks.get()
    assert task.recurrence == "quarterly"
    assert [a.department.name for a in task.assignments.all()] == ["综合处", "法规处"]
    assert Department.objects.get(name="法规处")
