"""Importing plans of other cities and of the province (issue 14): collective
owners are stored and shown on the task, a plan without owners imports its tasks
as 待明确责任单位, the board flags them and the plan's manager assigns them."""

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from yingji.core.departments import load_departments
from yingji.core.models import AuditEntry, Department, DepartmentAlias, Role
from yingji.workplan import services
from yingji.workplan.models import Assignment, Plan, Task

from .factories import user

FIXTURES = Path(__file__).parent / "fixtures"
pytestmark = pytest.mark.django_db


@pytest.fixture
def departments():
    load_departments()
    # the other city calls 综合处 "综合协调处"
    DepartmentAlias.objects.create(
        department=Department.objects.get(name="综合处"), alias="综合协调处"
    )


def owners(task: Task, clause=None):
    return [
        (a.department.name, a.role)
        for a in task.assignments.filter(clause=clause).select_related("department")
    ]


def test_other_city_plan_imports_departments_and_collective_owners(departments):
    plan = services.import_plan_file(FIXTURES / "other_city_owners.txt")
    tasks = {t.number: t for t in plan.tasks.all()}
    assert len(tasks) == 8  # numbering restarted in section 二: renumbered 1–8
    assert owners(tasks[1]) == [("综合处", "lead"), ("法规处", "co")]
    assert (owners(tasks[3]), tasks[3].collective_owners) == (
        [("综合处", "lead")],
        ["市安委会各成员单位"],
    )
    assert tasks[5].collective_owners == ["各镇(园区)"]
    assert owners(tasks[6]) == [("综合处", "lead"), ("法规处", "co")]  # 综合协调处和法规处
    assert owners(tasks[7]) == [("科技和统计处", "lead")]  # one department, not split
    first, second = tasks[8].clauses.all()
    assert (owners(tasks[8], first), first.collective_owners) == ([], ["各镇(园区)"])
    assert owners(tasks[8], second) == [("综合处", "lead"), ("执法处", "co")]


def test_a_collective_owner_is_shown_on_the_task_page(client, departments):
    plan = services.import_plan_file(FIXTURES / "other_city_owners.txt")
    client.force_login(user("sup", role=Role.SUPERVISOR))
    task = plan.tasks.get(number=4)
    html = client.get(reverse("workplan:task", args=[task.pk])).content.decode()
    shown = html.split('id="collective-owners"')[1].split("</p>")[0]
    assert "集体责任单位" in shown and "各区政府" in shown
    assert "待明确责任单位" not in html
    html = client.get(reverse("workplan:tasks", args=[plan.pk])).content.decode()
    assert "各区政府" in html


def test_an_unknown_department_next_to_collective_owners_imports_nothing(departments, tmp_path):
    doc = tmp_path / "plan.txt"
    doc.write_text(
        "2023年工作要点\n一、强化责任\n1.甲。(综合处、各区政府)\n2.乙。(未来科技处、各镇(园区))\n",
        encoding="utf-8",
    )
    with pytest.raises(services.PlanImportError) as err:
        services.import_plan_file(doc)
    assert "第4行" in str(err.value) and "未来科技处" in str(err.value)
    assert "各镇" not in str(err.value)  # a collective owner is never an unknown department
    assert not Plan.objects.exists() and not Task.objects.exists()


@pytest.fixture
def provincial(departments):
    return services.import_plan_file(FIXTURES / "provincial_no_owners.txt")


def test_a_plan_without_owners_imports_every_task_without_assignments(provincial):
    assert provincial.tasks.count() == 4
    assert not Assignment.objects.filter(task__plan=provincial).exists()
    assert services.pending_owner_tasks(provincial).count() == 4
    assert any("待明确责任单位" in message for _, message in provincial.import_warnings)


def test_the_board_flags_tasks_without_owners_and_links_the_manager_to_assign(client, provincial):
    client.force_login(user("sup", role=Role.SUPERVISOR))
    html = client.get(reverse("workplan:board", args=[provincial.pk])).content.decode()
    assert "4 个任务待明确责任单位" in html
    first = provincial.tasks.get(number=1)
    assert reverse("workplan:assign_owners", args=[first.pk]) in html
    page = client.get(reverse("workplan:task", args=[first.pk])).content.decode()
    assert "待明确责任单位" in page and "指定责任单位" in page


def test_supervision_skips_tasks_without_a_lead(provincial):
    result = services.supervise(dt.date(2023, 7, 10))  # task 1 is due by 6月底
    assert result.notices == []


@pytest.mark.parametrize("role", [Role.DEPT_STAFF, Role.DUTY_OFFICER])
def test_only_the_plans_manager_may_assign_owners(client, provincial, role):
    zonghe = Department.objects.get(name="综合处")
    client.force_login(user("someone", role=role, department=zonghe))
    task = provincial.tasks.get(number=1)
    url = reverse("workplan:assign_owners", args=[task.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"lead": [zonghe.pk]}).status_code == 403
    assert not task.assignments.exists()


def test_the_manager_assigns_lead_and_co_departments_and_it_is_audited(client, provincial):
    supervisor = user("sup", role=Role.SUPERVISOR)
    client.force_login(supervisor)
    task = provincial.tasks.get(number=1)
    url = reverse("workplan:assign_owners", args=[task.pk])
    page = client.get(url).content.decode()
    assert "待明确责任单位" in page and "牵头单位" in page and "配合单位" in page
    zonghe, fagui, zhifa = (Department.objects.get(name=n) for n in ("综合处", "法规处", "执法处"))
    r = client.post(url, {"lead": [zonghe.pk], "co": [fagui.pk, zhifa.pk]})
    assert r.status_code == 302
    assert owners(task) == [("综合处", "lead"), ("法规处", "co"), ("执法处", "co")]
    entries = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(Assignment))
    assert entries.count() == 3 and {e.actor_id for e in entries} == {supervisor.pk}
    # the task page shows the owners and the audit entries; the board flags 3 tasks now
    detail = client.get(reverse("workplan:task", args=[task.pk])).content.decode()
    assert "综合处" in detail and url not in detail  # no more link to assign
    board = client.get(reverse("workplan:board", args=[provincial.pk])).content.decode()
    assert "3 个任务待明确责任单位" in board
    # a task that has its lead is not assigned twice
    again = client.post(url, {"lead": [fagui.pk]})
    assert again.status_code == 400 and "已有牵头单位" in again.content.decode()
    assert task.assignments.count() == 3


def test_assigning_needs_a_lead_and_distinct_departments(client, provincial):
    client.force_login(user("sup", role=Role.SUPERVISOR))
    task = provincial.tasks.get(number=2)
    url = reverse("workplan:assign_owners", args=[task.pk])
    zonghe = Department.objects.get(name="综合处")
    r = client.post(url, {"co": [zonghe.pk]})
    assert r.status_code == 400 and "请至少选择一个牵头单位" in r.content.decode()
    r = client.post(url, {"lead": [zonghe.pk], "co": [zonghe.pk]})
    assert r.status_code == 400 and "同一单位不能既牵头又配合" in r.content.decode()
    r = client.post(url, {"lead": ["999999"]})
    assert r.status_code == 400 and "所选单位不存在或已停用" in r.content.decode()
    assert not task.assignments.exists()


def test_the_ledger_export_says_who_is_still_to_be_named(provincial):
    import io

    from openpyxl import load_workbook

    from yingji.workplan import ledger

    ws = load_workbook(io.BytesIO(ledger.export_ledger(provincial, dt.date(2023, 3, 1))))[
        ledger.SHEET
    ]
    lead_column = [c.value for c in ws[1]].index("牵头单位")
    assert {row[lead_column].value for row in ws.iter_rows(min_row=2)} == {"待明确责任单位"}


def test_the_api_lists_collective_owners_beside_the_departments(client, departments):
    plan = services.import_plan_file(FIXTURES / "other_city_owners.txt")
    client.force_login(user("sup", role=Role.SUPERVISOR))
    tasks = {t["number"]: t for t in client.get(f"/api/v1/workplan/plans/{plan.pk}/tasks").json()}
    assert (tasks[4]["lead"], tasks[4]["co"], tasks[4]["collective"]) == (
        ["危化处"],
        ["执法处"],
        ["各区政府"],
    )
