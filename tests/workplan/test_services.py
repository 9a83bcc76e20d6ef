import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yingji.core.audit import acting_as
from yingji.core.models import AuditEntry, Notification, Role
from yingji.workplan import services
from yingji.workplan.models import SupervisionNotice
from yingji.workplan.services import at_noon
from yingji.workplan.status import Status

from .factories import plan_with_tasks, user

D = dt.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    w = plan_with_tasks()
    w["zonghe_user"] = user("zonghe", department=w["zonghe"])
    w["weihua_user"] = user("weihua", department=w["weihua"])
    w["leader"] = user("leader", role=Role.LEADER)
    w["supervisor"] = user("supervisor", role=Role.SUPERVISOR)
    return w


def status_of(task, day):
    return services.task_state(task, day).derived


def test_lead_report_goes_to_office_and_co_report_to_lead(world):
    lead = services.file_report(world["t1"], world["zonghe_user"], percent=20, text="已部署")
    co = services.file_report(world["t1"], world["weihua_user"], percent=10, text="已配合")
    assert lead.addressed_to == "office" and co.addressed_to == "lead"


def test_co_organiser_report_does_not_move_the_status(world):
    services.file_report(
        world["t1"],
        world["weihua_user"],
        percent=90,
        text="配合完成",
        reported_at=at_noon(D(2022, 2, 1)),
    )
    assert status_of(world["t1"], D(2022, 2, 2)).status is Status.NOT_STARTED


def test_other_department_cannot_report(world):
    with pytest.raises(PermissionDenied):
        services.file_report(world["t3"], world["weihua_user"], percent=10, text="x")


def test_report_is_validated(world):
    with pytest.raises(ValidationError) as err:
        services.file_report(world["t3"], world["zonghe_user"], percent=120, text=" ")
    assert set(err.value.message_dict) == {"percent", "text"}


def test_milestone_completion_changes_status_only_from_its_date(world):
    t1 = world["t1"]
    q1 = t1.milestones.get(title="第1季度")
    services.file_report(
        t1,
        world["zonghe_user"],
        percent=25,
        text="召开一季度分析会",
        milestone=q1,
        reported_at=at_noon(D(2022, 4, 8)),
    )
    assert status_of(t1, D(2022, 4, 7)).status is Status.LATE
    assert status_of(t1, D(2022, 4, 8)).status is Status.IN_PROGRESS


def test_hundred_percent_completes_the_task(world):
    services.file_report(
        world["t2"],
        world["weihua_user"],
        percent=100,
        text="评估完成",
        reported_at=at_noon(D(2022, 6, 1)),
    )
    assert status_of(world["t2"], D(2022, 6, 2)).status is Status.DONE
    assert status_of(world["t2"], D(2022, 5, 31)).status is Status.NOT_STARTED


def test_report_is_audited_with_its_author(world):
    with acting_as(world["zonghe_user"]):
        r = services.file_report(world["t3"], world["zonghe_user"], percent=40, text="起草中")
    entry = AuditEntry.objects.get(object_pk=str(r.pk), content_type__model="progressreport")
    assert entry.actor == world["zonghe_user"] and entry.after["percent"] == 40


def test_pause_needs_reason_and_another_persons_approval(world):
    t3 = world["t3"]
    with pytest.raises(ValidationError):
        services.request_pause(t3, world["zonghe_user"], "")
    with pytest.raises(PermissionDenied):
        services.request_pause(t3, world["weihua_user"], "不是牵头处室")
    pause = services.request_pause(
        t3, world["zonghe_user"], "疫情防控,活动延期", at=at_noon(D(2022, 5, 1))
    )
    assert status_of(t3, D(2022, 5, 10)).status is not Status.PAUSED  # not yet approved
    with pytest.raises(PermissionDenied):
        services.decide_pause(pause, world["zonghe_user"], True)
    services.decide_pause(pause, world["leader"], True, at=at_noon(D(2022, 5, 11)))
    got = status_of(t3, D(2022, 5, 12))
    assert got.status is Status.PAUSED and "疫情防控" in got.reason
    services.lift_pause(pause, world["leader"], at=at_noon(D(2022, 8, 1)))
    assert status_of(t3, D(2022, 8, 2)).status is not Status.PAUSED
    assert status_of(t3, D(2022, 7, 1)).status is Status.PAUSED


def test_supervision_reminds_then_issues_notice_then_escalates(world):
    t2 = world["t2"]  # 危化处, due Thu 2022-06-30
    # 3 working days before: a reminder to the lead department's members
    r = services.supervise(D(2022, 6, 27))
    assert r.reminders >= 1
    assert (
        Notification.objects.filter(
            address="weihua@example.org", subject__contains="到期提醒"
        ).count()
        == 1
    )
    services.supervise(D(2022, 6, 27))  # idempotent
    assert (
        Notification.objects.filter(
            subject__contains="到期提醒", address="weihua@example.org"
        ).count()
        == 1
    )
    # first working day after the due date: a supervision notice
    r = services.supervise(D(2022, 7, 1), now=at_noon(D(2022, 7, 1)))
    notices = [n for n in r.notices if n.task_id == t2.pk]
    assert len(notices) == 1
    notice = notices[0]
    assert notice.department == world["weihua"]
    assert notice.serial.startswith("督办〔2022〕")
    assert notice.respond_by == D(2022, 7, 6)  # 3 working days later
    assert Notification.objects.filter(
        subject__contains=notice.serial, address="weihua@example.org"
    ).exists()
    services.supervise(D(2022, 7, 4), now=at_noon(D(2022, 7, 4)))
    assert SupervisionNotice.objects.filter(task=t2).count() == 1
    # not answered by the reply date: escalated to leader and supervisor
    r = services.supervise(D(2022, 7, 7), now=at_noon(D(2022, 7, 7)))
    assert r.escalations >= 1
    notice.refresh_from_db()
    assert notice.escalated_at is not None
    escalated_to = set(
        Notification.objects.filter(subject__contains="督办升级").values_list("address", flat=True)
    )
    assert {"leader@example.org", "supervisor@example.org"} <= escalated_to


def test_answered_notice_is_not_escalated(world):
    r = services.supervise(D(2022, 7, 1), now=at_noon(D(2022, 7, 1)))
    notice = next(n for n in r.notices if n.task_id == world["t2"].pk)
    with pytest.raises(PermissionDenied):
        services.respond_notice(notice, world["zonghe_user"], "不是我部门")
    services.respond_notice(
        notice, world["weihua_user"], "7月15日前完成评估", at=at_noon(D(2022, 7, 4))
    )
    services.supervise(D(2022, 7, 7), now=at_noon(D(2022, 7, 7)))
    notice.refresh_from_db()
    assert notice.escalated_at is None


def test_board_as_of_a_date_and_filters(world):
    services.file_report(
        world["t2"],
        world["weihua_user"],
        percent=100,
        text="完成",
        reported_at=at_noon(D(2022, 6, 1)),
    )
    b = services.board(world["plan"], D(2022, 7, 15))
    totals = dict(b["totals"])
    assert totals[Status.DONE] == 1 and totals[Status.LATE] == 1  # t1 missed Q2
    only_weihua = services.board(world["plan"], D(2022, 7, 15), department="危化处")
    assert {r.task.number for r in only_weihua["rows"]} == {1, 2}
    late = services.board(world["plan"], D(2022, 7, 15), status="late")
    assert [r.task.number for r in late["rows"]] == [1]


def test_department_user_sees_only_own_tasks(world):
    b = services.board(world["plan"], D(2022, 7, 15), user=world["zonghe_user"])
    assert {r.task.number for r in b["rows"]} == {1, 3}
    b = services.board(world["plan"], D(2022, 7, 15), user=world["supervisor"])
    assert b["count"] == 3


def test_scores_reward_the_punctual_department(world):
    t1, t2 = world["t1"], world["t2"]
    for month in range(1, 7):
        services.file_report(
            t1,
            world["zonghe_user"],
            percent=month * 8,
            text=f"{month}月进展",
            reported_at=at_noon(D(2022, month, 25)),
        )
    services.file_report(
        t1,
        world["zonghe_user"],
        percent=50,
        text="Q1",
        reported_at=at_noon(D(2022, 3, 30)),
        milestone=t1.milestones.get(title="第1季度"),
    )
    services.file_report(
        t2, world["weihua_user"], percent=10, text="启动", reported_at=at_noon(D(2022, 5, 3))
    )
    scores = {s.department: s for s in services.department_scores(world["plan"], D(2022, 7, 31))}
    assert scores["综合处"].score > scores["危化处"].score
    assert scores["危化处"].on_time == 0.0


def test_lead_sets_a_stage_milestone_that_is_supervised(world):
    t3 = world["t3"]
    with pytest.raises(PermissionDenied):
        services.add_milestone(t3, world["weihua_user"], title="初稿", due=D(2022, 5, 31))
    with pytest.raises(ValidationError):
        services.add_milestone(t3, world["zonghe_user"], title="初稿", due=D(2030, 5, 31))
    services.add_milestone(t3, world["zonghe_user"], title="完成初稿", due=D(2022, 5, 31))
    got = status_of(t3, D(2022, 6, 2))
    assert got.status is Status.LATE and "完成初稿" in got.reason
