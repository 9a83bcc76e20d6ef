"""Daily supervision: reminders to the district, overdue escalation to the
supervising department and the district, late acceptance, 回头看 due; once only."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from yingji.core.models import Notification
from yingji.risk import services
from yingji.risk.supervise import supervise


@pytest.fixture
def assigned(chem, people):
    h = services.create_hazard(
        chem, description="消防通道堵塞", source="public_report", found_on=dt.date(2024, 3, 4)
    )
    return services.transition(
        h, "assign", people["weihua"], on=dt.date(2024, 3, 4), deadline=dt.date(2024, 3, 18)
    )


def addresses():
    return sorted(Notification.objects.values_list("address", flat=True))


def test_a_reminder_goes_to_the_district_before_the_deadline(assigned, people):
    result = supervise(dt.date(2024, 3, 14))  # 2 working days before
    assert (result.reminders, result.overdue) == (1, 0)
    assert addresses() == ["tianhe@example.org"]
    assert "即将到期" in Notification.objects.get().subject


def test_nothing_is_said_earlier(assigned, people):
    assert supervise(dt.date(2024, 3, 8)).reminders == 0
    assert not Notification.objects.exists()


def test_overdue_escalates_to_department_and_district_once(assigned, people):
    result = supervise(dt.date(2024, 3, 19))
    assert result.overdue == 1
    assert addresses() == ["tianhe@example.org", "weihua@example.org"]
    supervise(dt.date(2024, 3, 20))
    assert Notification.objects.count() == 2  # idempotent: no second message


def test_submitted_hazards_are_not_overdue_but_late_acceptance_is_escalated(assigned, people):
    services.transition(assigned, "start", people["tianhe"], on=dt.date(2024, 3, 5))
    services.transition(
        assigned, "submit", people["tianhe"], comment="已清理", on=dt.date(2024, 3, 15)
    )
    assert supervise(dt.date(2024, 3, 25)).overdue == 0
    assert not Notification.objects.exists()  # within 10 days of the deadline
    result = supervise(dt.date(2024, 3, 29))
    assert result.acceptance_late == 1 and addresses() == ["weihua@example.org"]


def test_recheck_due_is_announced(assigned, people):
    dept = people["weihua"]
    for action in ("start", "submit", "accept", "close"):
        services.transition(assigned, action, dept, comment="好", on=dt.date(2024, 3, 11))
    assert supervise(dt.date(2024, 4, 1)).rechecks_due == 0
    result = supervise(dt.date(2024, 4, 10))
    assert (
        result.rechecks_due == 1
        and "回头看" in Notification.objects.get(address="weihua@example.org").subject
    )


def test_the_command_runs_for_a_date(assigned, people):
    out = io.StringIO()
    call_command("risk", "supervise", "--date", "2024-03-19", stdout=out)
    assert "超期升级 1 条" in out.getvalue()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("risk", "supervise", "--date", "19/03/2024")
