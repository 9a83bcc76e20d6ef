"""Bulletins (通报): what a reader of the June 2022 bulletin sees, and that a
bulletin as of a date never counts what was filed after it."""

import datetime as dt
import io
import re
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from yingji.core.models import Department, Profile, Role
from yingji.workplan import bulletins, services
from yingji.workplan.models import (
    Assignment,
    Bulletin,
    Milestone,
    Plan,
    ProgressReport,
    Section,
    SupervisionNotice,
    Task,
)

D = dt.date
JUNE = D(2022, 6, 30)


def _user(username: str, role: str, department: Department | None = None):
    user = get_user_model().objects.create_user(username, password="pw")
    Profile.objects.create(user=user, role=role, department=department, full_name=username)
    return user


def _task(plan, section, number, text, lead, co=(), milestones=()):
    task = Task.objects.create(plan=plan, section=section, number=number, text=text)
    for position, (dept, role) in enumerate([(lead, "lead"), *((c, "co") for c in co)]):
        Assignment.objects.create(
            task=task, department=dept, role=role, position=position, name_as_written=dept.name
        )
    for kind, title, due in milestones:
        Milestone.objects.create(task=task, kind=kind, title=title, due=due)
    return task


def report(task, dept, day: dt.date, percent: int, text: str, milestone=None):
    """A progress report filed at noon on `day` (Asia/Shanghai)."""
    return services.file_report(
        task,
        None,
        percent=percent,
        text=text,
        department=dept,
        milestone=milestone,
        reported_at=services.at_noon(day),
    )


def build_world(sha: str = "a" * 64) -> SimpleNamespace:
    """A small 2022 plan, by the ORM only:

    1. lead 指挥中心 (co 监测处): deadline 31 May, never met → late 21 working days
       on 30 June, one supervision notice on 2 June;
    2. lead 监测处 (co 指挥中心): quarterly; Q1 and Q2 done on time;
    3. lead 基础处: due at year end, 50 % in June;
    4. lead 指挥中心: due 15 June, reported 100 % on 10 June → done.
    """
    command = Department.objects.create(name="应急指挥中心", sort_order=1)
    monitor = Department.objects.create(name="风险监测和综合减灾处", sort_order=2)
    basics = Department.objects.create(name="安全生产基础处", sort_order=3)
    plan = Plan.objects.create(
        title="广州市应急管理局2022年工作要点",
        year=2022,
        goals=["生产安全事故起数和死亡人数双下降"],
        source_sha256=sha,
    )
    s1 = Section.objects.create(plan=plan, number=1, title="一、防范化解重大安全风险")
    s2 = Section.objects.create(plan=plan, number=2, title="二、提升应急救援能力")
    deadline, quarter = Milestone.Kind.DEADLINE, Milestone.Kind.RECURRENCE
    t1 = _task(
        plan,
        s1,
        1,
        "完善城市安全风险监测预警平台。接入燃气、桥梁等监测数据。",
        command,
        [monitor],
        [(deadline, "完成时限", D(2022, 5, 31))],
    )
    t2 = _task(
        plan,
        s1,
        2,
        "每季度开展安全风险分析研判。",
        monitor,
        [command],
        [
            (quarter, f"2022年{q}", due)
            for q, due in (
                ("第一季度", D(2022, 3, 31)),
                ("第二季度", D(2022, 6, 30)),
                ("第三季度", D(2022, 9, 30)),
                ("第四季度", D(2022, 12, 31)),
            )
        ],
    )
    t3 = _task(
        plan,
        s2,
        3,
        "修订安全生产基础管理制度。",
        basics,
        [],
        [(deadline, "完成时限", D(2022, 12, 31))],
    )
    t4 = _task(
        plan,
        s2,
        4,
        "开展防汛防台风应急演练。",
        command,
        [],
        [(deadline, "完成时限", D(2022, 6, 15))],
    )

    q1, q2 = t2.milestones.order_by("due")[:2]
    report(t2, monitor, D(2022, 3, 25), 25, "完成一季度研判", milestone=q1)
    report(t2, monitor, D(2022, 6, 20), 50, "完成二季度研判", milestone=q2)
    report(t1, command, D(2022, 4, 10), 40, "平台招标完成")
    report(t1, monitor, D(2022, 6, 8), 0, "已提供监测数据接口")  # co-organiser → to the lead
    report(t3, basics, D(2022, 6, 15), 50, "制度初稿已完成")
    report(t4, command, D(2022, 6, 10), 100, "演练已完成")
    m1 = t1.milestones.get()
    notice = SupervisionNotice.objects.create(
        task=t1,
        milestone=m1,
        department=command,
        serial="督办〔2022〕1号",
        issued_at=services.at_noon(D(2022, 6, 2)),
        reason="第1项任务节点逾期",
        respond_by=D(2022, 6, 8),
    )
    return SimpleNamespace(
        plan=plan,
        sections=(s1, s2),
        tasks=(t1, t2, t3, t4),
        notice=notice,
        command=command,
        monitor=monitor,
        basics=basics,
        supervisor=_user("dc", Role.SUPERVISOR),
        command_staff=_user("zh", Role.DEPT_STAFF, command),
        monitor_staff=_user("jc", Role.DEPT_STAFF, monitor),
        duty=_user("zb", Role.DUTY_OFFICER, command),
    )


@pytest.fixture
def world(db):
    return build_world()


# ---------------------------------------------------------------- periods


def test_a_monthly_issue_is_dated_the_last_day_of_its_month():
    assert bulletins.period_as_of("monthly", 2022, 6) == D(2022, 6, 30)
    assert bulletins.period_as_of("monthly", 2022, 2) == D(2022, 2, 28)
    assert bulletins.period_label("monthly", JUNE) == "2022年6月"
    assert bulletins.period_bounds("monthly", D(2022, 6, 15)) == (D(2022, 6, 1), JUNE)


def test_a_quarterly_issue_is_dated_the_quarter_end():
    assert bulletins.period_as_of("quarterly", 2022, 2) == JUNE
    assert bulletins.period_as_of("quarterly", 2022, 4) == D(2022, 12, 31)
    assert bulletins.period_label("quarterly", D(2022, 5, 3)) == "2022年第二季度"
    assert bulletins.period_bounds("quarterly", D(2022, 5, 3)) == (D(2022, 4, 1), JUNE)


def test_an_unknown_period_is_refused_in_chinese():
    with pytest.raises(ValueError, match="月度"):
        bulletins.period_label("weekly", JUNE)


# ---------------------------------------------------------------- content


def test_the_late_task_is_in_the_overdue_list_with_its_working_days_late(world):
    data = bulletins.bulletin_data(world.plan, "monthly", JUNE)
    assert [o["number"] for o in data["overdue"]] == [1]
    late = data["overdue"][0]
    # Due Tue 31 May; June 2022 has 22 weekdays less 端午 (Fri 3 June): 21 working days.
    assert late["workdays_late"] == 21
    assert late["milestone"] == "完成时限" and late["due"] == "2022-05-31"
    assert late["lead"] == ["应急指挥中心"]
    assert late["notices"] == 1
    assert late["short"] == "完善城市安全风险监测预警平台"


def test_totals_sections_and_lead_departments_add_up(world):
    data = bulletins.bulletin_data(world.plan, "monthly", JUNE)
    assert data["title"] == "广州市应急管理局2022年工作要点落实情况通报(2022年6月)"
    assert data["label"] == "2022年6月"
    assert (data["start"], data["end"], data["as_of"]) == ("2022-06-01", "2022-06-30", "2022-06-30")
    assert data["plan"]["goals"] == ["生产安全事故起数和死亡人数双下降"]
    assert data["totals"]["count"] == 4
    assert data["totals"]["by_status"] == {
        "not_started": 0,
        "in_progress": 2,
        "late": 1,
        "done": 1,
        "paused": 0,
    }
    first, second = data["sections"]
    assert first["title"] == "一、防范化解重大安全风险"
    assert first["by_status"]["late"] == 1 and first["average_percent"] == 45.0
    assert second["by_status"]["done"] == 1 and second["average_percent"] == 75.0
    command = data["departments"][0]
    assert command == {
        **command,
        "department": "应急指挥中心",
        "led": 2,
        "done": 1,
        "late": 1,
        "average_percent": 70.0,
    }


def test_reports_and_notices_of_the_period_are_counted(world):
    data = bulletins.bulletin_data(world.plan, "monthly", JUNE)
    by_dept = {r["department"]: r for r in data["reports"]["by_department"]}
    # June: 监测处 two (Q2 to the office, one to the lead as co-organiser), 基础处 one,
    # 指挥中心 one; the March and April reports are outside the period.
    assert data["reports"]["count"] == 4
    assert by_dept["风险监测和综合减灾处"]["count"] == 2
    assert by_dept["风险监测和综合减灾处"]["to_lead"] == 1
    assert [n["serial"] for n in data["notices"]] == ["督办〔2022〕1号"]
    assert data["notices"][0]["responded_on"] is None


def test_scores_come_with_the_weights_used(world):
    data = bulletins.bulletin_data(world.plan, "monthly", JUNE)
    assert data["scores"]["weights"] == {"on_time": 0.5, "completeness": 0.3, "punctuality": 0.2}
    rows = {s["department"]: s for s in data["scores"]["rows"]}
    assert set(rows) == {"应急指挥中心", "风险监测和综合减灾处", "安全生产基础处"}
    assert rows["风险监测和综合减灾处"]["on_time"] == 1.0
    assert rows["应急指挥中心"]["score"] < rows["风险监测和综合减灾处"]["score"]
    assert data["scores"]["rows"][0]["rank"] == 1


def test_a_bulletin_as_of_an_earlier_date_ignores_later_reports(world):
    data = bulletins.bulletin_data(world.plan, "monthly", D(2022, 6, 5))
    # Task 4 was reported done on 10 June: on 5 June it was not.
    assert data["totals"]["by_status"]["done"] == 0
    assert data["reports"]["count"] == 0
    assert data["reports"]["silent_leads"] == [
        "应急指挥中心",
        "风险监测和综合减灾处",
        "安全生产基础处",
    ]
    assert data["overdue"][0]["workdays_late"] == 2  # 1 June, 2 June (3 June is 端午)


def test_regenerating_after_a_later_report_gives_identical_data(world):
    first = bulletins.generate(world.plan, "monthly", JUNE, user=world.supervisor)
    saved = Bulletin.objects.get(pk=first.pk).data
    t1 = world.tasks[0]
    report(t1, world.command, D(2022, 7, 5), 100, "平台已上线")  # completes the late milestone
    SupervisionNotice.objects.filter(pk=world.notice.pk).update(
        responded_at=services.at_noon(D(2022, 7, 4)), response="已整改"
    )
    again = bulletins.generate(world.plan, "monthly", JUNE, user=world.supervisor)
    assert again.pk == first.pk and Bulletin.objects.count() == 1
    assert Bulletin.objects.get(pk=first.pk).data == saved
    july = bulletins.bulletin_data(world.plan, "monthly", D(2022, 7, 31))
    assert july["overdue"] == [] and july["totals"]["by_status"]["done"] == 2


def test_the_data_is_plain_json(world):
    import json

    data = bulletins.bulletin_data(world.plan, "quarterly", JUNE)
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    # April (task 1) and the four June reports; the March one was in the first quarter.
    assert data["label"] == "2022年第二季度" and data["reports"]["count"] == 5


# ---------------------------------------------------------------- documents


def test_the_docx_opens_and_names_the_overdue_task(world):
    import docx
    from docx.oxml.ns import qn

    b = bulletins.generate(world.plan, "monthly", JUNE)
    doc = docx.Document(io.BytesIO(bulletins.render_docx(b)))
    texts = [p.text for p in doc.paragraphs]
    assert "广州市应急管理局2022年工作要点落实情况通报(2022年6月)" in texts
    assert "四、滞后任务" in texts and "七、部门评分" in texts
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "完善城市安全风险监测预警平台" in cells and "21" in cells
    fonts = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "仿宋"


def test_the_html_page_is_standalone_and_shows_the_score_table(world):
    b = bulletins.generate(world.plan, "monthly", JUNE)
    html = bulletins.render_html(b)
    assert html.startswith("<!doctype html>")
    # Standalone (also written to a file): it loads nothing, not even /favicon.ico.
    assert not re.findall(
        r'<link[^>]+href="(?!data:)|<script[^>]+src=|<img[^>]+src="(?!data:)', html
    )
    assert '<link rel="icon" href="data:,">' in html
    assert "落实情况通报(2022年6月)" in html
    assert 'id="scores-table"' in html and "风险监测和综合减灾处" in html
    assert "完善城市安全风险监测预警平台" in html


def test_the_command_generates_and_writes_both_files(world, tmp_path):
    out = io.StringIO()
    call_command(
        "bulletin",
        str(world.plan.pk),
        "--period",
        "quarterly",
        "--as-of",
        "2022-06-30",
        "--docx",
        str(tmp_path / "b.docx"),
        "--html",
        str(tmp_path / "b.html"),
        stdout=out,
    )
    assert "滞后 1 项" in out.getvalue()
    assert Bulletin.objects.get().label == "2022年第二季度"
    assert (tmp_path / "b.docx").read_bytes()[:2] == b"PK"
    assert "第二季度" in (tmp_path / "b.html").read_text(encoding="utf-8")


def test_who_may_generate(world):
    assert bulletins.may_generate(world.supervisor)
    assert not bulletins.may_generate(world.command_staff)
    assert not bulletins.may_generate(world.duty)  # reads everything, edits nothing
    assert ProgressReport.objects.count() == 6
