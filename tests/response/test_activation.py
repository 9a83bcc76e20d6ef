"""Plan activation: cards to departments through the outbox, acknowledgement,
completion, escalation of overdue cards, level up/down and stand-down."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yingji.core.models import Notification
from yingji.response import cards, services
from yingji.response.models import ActionCard, Activation, EmergencyPlan, Incident

pytestmark = pytest.mark.django_db


def minutes(at, n):
    return at + dt.timedelta(minutes=n)


def test_shipped_plan_has_the_five_stops_at_level_two(red_plan):
    titles = set(
        red_plan.card_templates.filter(response_level="II").values_list("title", flat=True)
    )
    assert {"停工", "停产", "停业", "停运", "停课"} <= titles
    assert red_plan.status == EmergencyPlan.Status.ACTIVE
    assert red_plan.groups.filter(name="市三防指挥部").exists()


def test_activation_sends_cards_of_the_level_and_below_through_the_outbox(
    incident, red_plan, people, at
):
    act = services.activate(red_plan, incident, "II", user=people["duty"], at=at)
    levels_sent = set(act.cards.values_list("level", flat=True))
    assert levels_sent == {"IV", "III", "II"}  # a higher response includes the lower measures
    stop_classes = act.cards.get(title="停课")
    assert stop_classes.department.name == "市教育局" and stop_classes.limit_minutes == 30
    note = Notification.objects.get(recipient=people["jiaoyu"])
    assert "停课" in note.subject and "10 分钟内" in note.body
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESPONDING
    assert "二级响应" in incident.timeline.get(kind="activated").text


def test_same_plan_cannot_be_activated_twice(incident, red_plan, people, at):
    services.activate(red_plan, incident, "IV", user=people["duty"], at=at)
    with pytest.raises(ValidationError, match="升级或降级"):
        services.activate(red_plan, incident, "III", user=people["duty"], at=at)


def test_draft_plans_cannot_be_activated(incident, red_plan, people):
    red_plan.status = EmergencyPlan.Status.DRAFT
    red_plan.save()
    with pytest.raises(ValidationError, match="现行有效"):
        services.activate(red_plan, incident, "IV", user=people["duty"])


def test_department_acknowledges_and_completes_its_card(incident, red_plan, people, at):
    act = services.activate(red_plan, incident, "II", user=people["duty"], at=at)
    card = act.cards.get(title="停课")
    with pytest.raises(PermissionDenied):
        services.acknowledge(card, user=people["jiaotong"], at=minutes(at, 3))
    services.acknowledge(card, user=people["jiaoyu"], at=minutes(at, 4))
    services.complete(card, result="全市中小学停课", user=people["jiaoyu"], at=minutes(at, 25))
    card.refresh_from_db()
    assert card.state == cards.COMPLETED
    with pytest.raises(cards.TransitionError):
        services.acknowledge(card, user=people["jiaoyu"])
    texts = list(
        incident.timeline.filter(kind__in=["card_ack", "card_done"]).values_list("text", flat=True)
    )
    assert "用时 4 分钟,时限 10 分钟" in texts[0] and "全市中小学停课" in texts[1]


def test_overdue_cards_escalate_once_per_step(incident, red_plan, people, at):
    act = services.activate(red_plan, incident, "II", user=people["duty"], at=at)
    card = act.cards.get(title="停课")
    services.acknowledge(act.cards.get(title="停运"), user=people["jiaotong"], at=minutes(at, 2))
    assert services.escalate_overdue(minutes(at, 5)) == 0
    made = services.escalate_overdue(minutes(at, 11))
    assert made >= 1
    card.refresh_from_db()
    assert card.escalation_level == 1
    assert act.cards.get(title="停运").escalation_level == 0  # acknowledged in time
    duty_note = Notification.objects.get(recipient=people["duty"], subject__contains="停课")
    assert "未签收" in duty_note.subject
    assert services.escalate_overdue(minutes(at, 12)) == 0  # nothing new: each step once
    services.escalate_overdue(minutes(at, 21))
    card.refresh_from_db()
    assert card.escalation_level == 2
    assert Notification.objects.filter(
        recipient=people["leader"], subject__contains="停课"
    ).exists()
    assert incident.timeline.filter(kind="card_overdue", data__card=card.pk).count() == 2


def test_level_up_adds_cards_level_down_cancels_them(incident, red_plan, people, at):
    act = services.activate(red_plan, incident, "III", user=people["duty"], at=at)
    before = act.cards.count()
    services.change_level(act, "II", user=people["duty"], at=minutes(at, 30))
    added = act.cards.filter(level="II")
    assert added.count() > 0 and act.cards.count() == before + added.count()
    assert all(c.issued_at == minutes(at, 30) for c in added)
    services.change_level(act, "III", user=people["duty"], at=minutes(at, 90))
    assert set(act.cards.filter(level="II").values_list("state", flat=True)) == {cards.CANCELLED}
    assert act.cards.filter(level="III", state=cards.ISSUED).exists()
    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert kinds[-2:] == ["level_up", "level_down"]


def test_stand_down_cancels_open_cards_and_stands_the_incident_down(incident, red_plan, people, at):
    act = services.activate(red_plan, incident, "IV", user=people["duty"], at=at)
    services.stand_down(act, user=people["leader"], at=minutes(at, 120))
    act.refresh_from_db()
    incident.refresh_from_db()
    assert act.status == Activation.Status.STOOD_DOWN
    assert incident.status == Incident.Status.STOOD_DOWN
    assert not ActionCard.objects.filter(activation=act, state__in=cards.OPEN_STATES).exists()
    assert services.escalate_overdue(minutes(at, 600)) == 0  # nothing escalates after stand-down
    with pytest.raises(ValidationError):
        services.change_level(act, "III", user=people["duty"])
    services.close_incident(incident, user=people["duty"])
    incident.refresh_from_db()
    assert incident.status == Incident.Status.CLOSED


def test_activation_is_audited(incident, red_plan, people, at):
    from yingji.core import audit

    act = services.activate(red_plan, incident, "IV", user=people["duty"], at=at)
    assert audit.history(act.cards.first()).exists()


def test_cards_are_delivered_by_one_job_once_the_activation_commits(
    incident, red_plan, people, at, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.activate(red_plan, incident, "II", user=people["duty"], at=at)
    # One delivery job for the whole batch (the other callback publishes the
    # activation_started event, response/events.py).
    jobs = [c for c in callbacks if "batch" in c.__qualname__]
    assert len(jobs) == 1 and len(callbacks) == 2
    note = Notification.objects.get(recipient=people["jiaoyu"])
    assert note.status == Notification.Status.SENT
    assert any("停课" in m.subject and m.to == ["jiaoyu@example.org"] for m in mailoutbox)
