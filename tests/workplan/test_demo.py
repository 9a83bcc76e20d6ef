"""`yingji demo`: the real pipeline (regions, departments, demo users, the shipped
2022 plan, a simulated year) on the test database, run once for the module."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yingji.core import workcalendar as wc
from yingji.core.demo_users import demo_password
from yingji.core.management.commands.demo import reset_target
from yingji.core.models import AuditEntry, Notification
from yingji.workplan.demo import fragments
from yingji.workplan.models import (
    Assignment,
    Pause,
    Plan,
    ProgressReport,
    SupervisionNotice,
    Task,
)
from yingji.workplan.status import MilestoneFact, PauseFact, ReportFact, TaskFacts, derive

MID_YEAR, YEAR_END = dt.date(2022, 6, 30), dt.date(2022, 12, 31)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Run `yingji demo` once; everything it wrote is rolled back afterwards."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            out = io.StringIO()
            call_command("demo", stdout=out)
            yield out.getvalue()
            transaction.set_rollback(True)


@pytest.fixture
def plan(demo, db) -> Plan:
    return Plan.objects.get(year=2022)


@pytest.fixture
def supervisor_client(plan) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username="supervisor"))
    return client


def _board_statuses(client: Client, plan: Plan, day: dt.date) -> dict[int, str]:
    """Task id → status as the board page shows it (the cell each chip sits in)."""
    response = client.get(reverse("workplan:board", args=[plan.pk]), {"as_of": day.isoformat()})
    assert response.status_code == 200
    html = response.content.decode()
    task_url = re.escape(reverse("workplan:task", args=[0])).replace("0", r"(\d+)")
    statuses = {}
    for status, cell in re.findall(r'<td data-status="(\w+)">(.*?)</td>', html, re.S):
        for task_id in re.findall(task_url, cell):
            assert int(task_id) not in statuses, "a task shows twice on the board"
            statuses[int(task_id)] = status
    return statuses


def _recomputed(plan: Plan, day: dt.date) -> dict[int, str]:
    """Statuses derived again from every raw fact (all lead reports, not the
    services' latest-report subquery)."""
    cutoff = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
    out = {}
    for task in plan.tasks.prefetch_related("milestones", "pauses"):
        reports = [
            ReportFact(timezone.localtime(r.reported_at).date(), r.percent)
            for r in task.reports.filter(
                addressed_to=ProgressReport.AddressedTo.OFFICE, reported_at__lt=cutoff
            ).order_by("-reported_at")
        ]
        milestones = [
            MilestoneFact(
                m.pk,
                m.title,
                m.due,
                m.completed_on if m.completed_on and m.completed_on <= day else None,
            )
            for m in task.milestones.all()
        ]
        pauses = [
            PauseFact(
                timezone.localtime(p.decided_at).date(),
                timezone.localtime(p.lifted_at).date()
                if p.lifted_at and p.lifted_at < cutoff
                else None,
                p.reason,
            )
            for p in task.pauses.all()
            if p.state in (Pause.State.APPROVED, Pause.State.LIFTED) and p.decided_at < cutoff
        ]
        out[task.pk] = derive(
            TaskFacts(milestones, reports, pauses), day, wc.workdays_between
        ).status.value
    return out


def test_the_board_shows_all_61_tasks_each_with_a_lead(plan, supervisor_client):
    assert plan.tasks.count() == 61
    for task in plan.tasks.all():
        leads = task.assignments.filter(clause__isnull=True, role=Assignment.Role.LEAD)
        assert leads.count() == 1, f"任务 {task.number} 应有且只有一个牵头处室"
    shown = _board_statuses(supervisor_client, plan, YEAR_END)
    assert set(shown) == set(plan.tasks.values_list("pk", flat=True))


def test_board_changes_over_the_year_and_matches_a_recomputation(plan, supervisor_client):
    mid = _board_statuses(supervisor_client, plan, MID_YEAR)
    end = _board_statuses(supervisor_client, plan, YEAR_END)
    assert mid != end
    assert mid == _recomputed(plan, MID_YEAR)
    assert end == _recomputed(plan, YEAR_END)
    # A believable year: mostly in progress by mid-year, mostly done at the end,
    # something late at both dates, one task paused, a few still open.
    assert sum(s == "in_progress" for s in mid.values()) > 30
    assert sum(s == "late" for s in mid.values()) >= 1
    assert sum(s == "done" for s in end.values()) > 40
    assert 1 <= sum(s == "late" for s in end.values()) <= 3
    assert 2 <= sum(s == "in_progress" for s in end.values()) <= 6
    assert sum(s == "paused" for s in end.values()) == 1


def test_progress_reports_are_monthly_dated_2022_and_attributed(plan):
    reports = ProgressReport.objects.filter(task__plan=plan)
    assert reports.count() > 61 * 10
    for r in reports.select_related("department", "author__profile"):
        assert timezone.localtime(r.reported_at).year == 2022
        is_lead = r.task.assignments.filter(
            department=r.department, clause__isnull=True, role=Assignment.Role.LEAD
        ).exists()
        assert r.addressed_to == ("office" if is_lead else "lead")
        if r.author is not None:
            assert r.author.profile.department_id == r.department_id
    # The lead's percentage never goes down.
    for task in plan.tasks.all():
        percents = list(
            task.reports.filter(addressed_to="office")
            .order_by("reported_at")
            .values_list("percent", flat=True)
        )
        assert percents == sorted(percents), f"任务 {task.number} 的进度出现倒退"
    # Changes are the departments' own, in the audit log.
    zonghe = get_user_model().objects.get(username="zonghe")
    assert AuditEntry.objects.filter(content_type__model="progressreport", actor=zonghe).exists()


def test_late_tasks_get_supervision_notices_answered_or_escalated(plan):
    notices = list(SupervisionNotice.objects.filter(task__plan=plan))
    late_tasks = {n.task_id for n in notices}
    assert 6 <= len(late_tasks) <= 8
    for n in notices:
        issued = timezone.localtime(n.issued_at)
        assert wc.is_workday(issued.date()) and issued.time() == dt.time(9, 0)
        assert n.milestone.due < issued.date()
    on_time = [
        n
        for n in notices
        if n.responded_at and timezone.localtime(n.responded_at).date() <= n.respond_by
    ]
    escalated = [n for n in notices if n.escalated_at]
    assert len(on_time) >= len(notices) - 3
    assert 1 <= len(escalated) <= 3
    assert any(n.responded_at is None for n in escalated), "one department never answers"


def test_one_task_paused_on_request_with_the_leaders_approval(plan):
    pause = Pause.objects.get(task__plan=plan)
    assert pause.state == Pause.State.APPROVED
    assert pause.decided_by.username == "leader"
    assert (
        pause.requested_by.profile.department_id
        == Assignment.objects.get(
            task=pause.task, clause__isnull=True, role=Assignment.Role.LEAD
        ).department_id
    )
    assert "疫情" in pause.reason


def test_past_notifications_are_history_marked_sent_not_delivered(plan):
    # the work plan's own (other modules' demos keep their own history)
    notes = Notification.objects.filter(dedupe_key__startswith="workplan:")
    assert notes.exists()
    for note in notes:
        assert note.status == Notification.Status.SENT
        assert note.sent_at == note.created_at
        assert timezone.localtime(note.created_at).year == 2022
        assert note.attempts == 0  # never handed to a channel


def test_running_demo_again_creates_nothing(plan):
    models = [
        m
        for m in apps.get_models()
        if m._meta.app_label in {"core", "workplan", "auth", "contenttypes"}
    ]
    before = {m._meta.label: m.objects.count() for m in models}
    out = io.StringIO()
    call_command("demo", stdout=out)
    assert {m._meta.label: m.objects.count() for m in models} == before
    assert "已有进展记录" in out.getvalue()


def test_demo_prints_the_board_url_and_the_accounts(demo, plan):
    assert reverse("workplan:board", args=[plan.pk]) in demo
    assert demo_password() in demo and "leader" in demo and "zonghe(综合处)" in demo
    assert "yingji-demo" not in demo


def test_reset_only_deletes_a_sqlite_file(tmp_path):
    db = tmp_path / "yingji.sqlite3"
    files = reset_target({"ENGINE": "django.db.backends.sqlite3", "NAME": str(db)})
    assert files == [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
    with pytest.raises(CommandError, match="SQLite"):
        reset_target({"ENGINE": "django.db.backends.postgresql", "NAME": "yingji"})
    with pytest.raises(CommandError, match="内存"):
        reset_target(
            {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": "file:memorydb_default?mode=memory&cache=shared",
            }
        )


def test_progress_texts_are_built_from_the_task_text():
    text = (
        "坚持用大概率思维应对小概率事件,清单化、条目化、体系化排查治理全市安全风险隐患。"
        "定期组织召开季度风险分析会,加强节假日、寒暑期、汛期、特别防护期等重点时段、"
        "重大活动期间风险会商研判。"
    )
    parts = fragments(text)
    assert "定期组织召开季度风险分析会" in parts
    assert all(6 <= len(p) <= 34 for p in parts)


def test_every_task_is_visible_in_the_task_list(plan, supervisor_client):
    response = supervisor_client.get(
        reverse("workplan:tasks", args=[plan.pk]), {"as_of": YEAR_END.isoformat()}
    )
    assert response.status_code == 200
    assert (
        response.content.decode().count('href="/plans/tasks/')
        >= Task.objects.filter(plan=plan).count()
    )
