"""Other bureaus' layouts through `yingji plan parse` and the importer: a breakdown
table in a .docx and a three-level text plan become plans, tasks and assignments."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from yingji.core.departments import load_departments
from yingji.workplan import services

from .test_parser_layouts import FIXTURES, HEADER, TITLE, build_docx

TABLE_PLAN = build_docx(
    TITLE,
    {
        "rows": [
            HEADER,
            ["一、强化风险防控", "", "", "", "", ""],
            ["1", "危化品风险治理", "开展重大危险源评估", "危化处", "基础处", "2023年6月"],
            ["2", "隐患排查治理", "开展“安全生产月”活动", "基础处", "", "6月30日"],
            ["", "", "组织节后复工检查", "执法处", "", "3月底前"],
        ],
        "merge": [(1, 0, 1, 5), (3, 0, 4, 0), (3, 1, 4, 1)],
    },
)


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("plan", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_parse_command_reads_a_breakdown_table(tmp_path):
    path = tmp_path / "任务分解表.docx"
    path.write_bytes(TABLE_PLAN)
    data = json.loads(run("parse", str(path), "--json")[0])
    tasks = data["sections"][0]["tasks"]
    assert [(t["number"], t["lead"], t["due"], t["source"]) for t in tasks] == [
        (1, ["危化处"], "2023-06-30", "表格1第3行"),
        (2, ["基础处", "执法处"], "2023-03-31", "表格1第4–5行"),
    ]


def test_parse_command_names_the_table_in_errors(tmp_path):
    path = tmp_path / "通讯录.docx"
    path.write_bytes(build_docx(TITLE, {"rows": [["姓名", "电话"], ["张三", "123"]]}))
    with pytest.raises(CommandError):
        run("parse", str(path))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("plan", "parse", str(path), stderr=err)
    assert err.getvalue().startswith("通讯录.docx:2: 表格1无法识别表头:表格1第1行“姓名 | 电话”")


@pytest.mark.django_db
def test_breakdown_table_imports_with_assignments_and_clauses():
    load_departments()
    plan = services.import_plan_bytes(TABLE_PLAN, "任务分解表.docx")
    assert plan.year == 2023 and plan.sections.get().title == "强化风险防控"
    second = plan.tasks.get(number=2)
    assert second.due.isoformat() == "2023-03-31"
    assert [
        (a.department.name, a.role) for a in second.assignments.filter(clause__isnull=True)
    ] == [("基础处", "lead"), ("执法处", "lead")]
    assert second.clauses.count() == 2


@pytest.mark.django_db
def test_three_level_plan_imports():
    load_departments()
    plan = services.import_plan_file(FIXTURES / "three_level_restart_owner_lines.txt")
    assert plan.tasks.count() == 5 and plan.sections.count() == 2
    third = plan.tasks.get(number=3)  # written "1." in subsection (二)
    assert [(a.department.name, a.role) for a in third.assignments.all()] == [
        ("基础处", "lead"),
        ("危化处", "co"),
    ]
    # The subsection is kept with each task and shown on its page.
    assert third.subsection.endswith("推进隐患排查治理")
    assert plan.tasks.get(number=1).subsection.endswith("压实安全生产责任")


@pytest.mark.django_db
def test_task_page_shows_its_subsection(client):
    from django.contrib.auth.models import User

    from yingji.core.models import Profile, Role

    load_departments()
    plan = services.import_plan_file(FIXTURES / "three_level_restart_owner_lines.txt")
    user = User.objects.create_user("sup", password="pw-123456")
    Profile.objects.create(user=user, role=Role.SUPERVISOR)
    client.force_login(user)
    task = plan.tasks.get(number=4)
    page = client.get(reverse("workplan:task", args=[task.pk])).content.decode()
    assert "加强救援队伍建设" in page and "完善专业救援队伍布局" in page
