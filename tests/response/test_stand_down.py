"""When the warning behind a response ends: a CAP Cancel (or an Update lowering
the colour) proposes on the duty desk to stand down or lower the activations the
alert triggered; the duty officer confirms with one action."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from yingji.alerts import services as alerts
from yingji.alerts.events import alert_published
from yingji.alerts.models import Alert
from yingji.core import regions
from yingji.core.models import Notification
from yingji.response import cards, services, standdown
from yingji.response.models import Activation, DeskItem

pytestmark = pytest.mark.django_db


# ----------------------------------------------------------------- pure rules


def test_a_lower_colour_or_none_lowers_an_update():
    assert standdown.lowers("red", "orange") and standdown.lowers("red", None)
    assert not standdown.lowers("orange", "red") and not standdown.lowers("red", "red")


def test_proposals_keep_what_other_grounds_still_justify():
    running = [
        standdown.Running(1, 9, 100, "暴雨预案", "II"),
        standdown.Running(2, 9, 200, "内涝预案", "III"),
        standdown.Running(3, 9, 300, "地灾预案", "IV"),
    ]
    got = {
        a.activation_id: a.to_level
        for a in standdown.actions(running, {200: ["IV"], 300: ["IV", "III"]})
    }
    assert got == {1: None, 2: "IV"}  # 3 is still called for at IV or above: left alone


def test_cap_references_give_the_identifiers():
    refs = "gz@example.org,44010041600000_20240610140000,2024-06-10T14:00:00+08:00 x,A_1,2024-06-10T15:00:00+08:00"
    assert standdown.reference_identifiers(refs) == ["44010041600000_20240610140000", "A_1"]


# ----------------------------------------------------------------- with the database


def send(identifier, msg_type="Alert", level="red", alert_id=0, exercise=False, **extra):
    alert_published.send(
        sender=None,
        alert_id=alert_id,
        identifier=identifier,
        status="Exercise" if exercise else "Actual",
        msg_type=msg_type,
        event="暴雨红色预警信号",
        level=level,
        severity="Extreme",
        area_codes=["440106"],
        exercise=exercise,
        at=timezone.now(),
        **extra,
    )


def respond(people, red_plan, identifier, at, exercise=False):
    """The desk accepts the alert's item and activates the plan at the proposed level II."""
    item = DeskItem.objects.get(source_ref=identifier)
    incident = services.accept_desk_item(item, user=people["duty"], at=at)
    return services.activate(red_plan, incident, "II", user=people["duty"], at=at)


def test_published_cancel_proposes_stand_down_and_one_confirmation_does_it(
    tianhe, people, red_plan, at, django_capture_on_commit_callbacks
):
    regions.invalidate_index()
    alerts.ensure_groups()
    spec = alerts.DraftSpec(
        hazard="rainstorm",
        colour="red",
        description="天河区3小时雨量超100毫米。",
        areas=[alerts.AreaSpec(region_code="440106")],
        channels=[],
    )
    with django_capture_on_commit_callbacks(execute=True):
        alert = alerts.approve(
            alerts.submit(alerts.create_draft(people["duty"], spec), people["duty"]),
            people["leader"],
        )
    act = respond(people, red_plan, alert.identifier, at)
    done = act.cards.get(title="停课")
    services.complete(
        done, result="已停课", user=people["jiaoyu"], at=at + dt.timedelta(minutes=20)
    )
    with django_capture_on_commit_callbacks(execute=True):
        cancel = alerts.approve(alerts.cancel(alert, people["duty"]), people["leader"])
    item = DeskItem.objects.get(kind=DeskItem.Kind.STAND_DOWN)
    assert item.source_ref == cancel.identifier and item.status == DeskItem.Status.OPEN
    assert item.actions[0]["to"] is None and "终止" in item.title and "二级响应" in item.title
    act.refresh_from_db()
    assert act.status == Activation.Status.ACTIVE  # nothing happens before the officer confirms
    assert "待值班员确认" in act.incident.timeline.get(kind="stand_down_proposed").text
    services.confirm_stand_down(item, user=people["duty"])
    act.refresh_from_db()
    item.refresh_from_db()
    assert act.status == Activation.Status.STOOD_DOWN and item.status == DeskItem.Status.CONFIRMED
    assert set(act.cards.exclude(pk=done.pk).values_list("state", flat=True)) == {cards.CANCELLED}
    note = Notification.objects.get(
        recipient=people["jiaotong"], subject__startswith="【行动卡撤销】"
    )
    assert "响应终止" in note.body
    assert not Notification.objects.filter(
        recipient=people["jiaoyu"], subject__startswith="【行动卡撤销】"
    )


def test_an_update_lowering_the_colour_proposes_the_lower_level(tianhe, people, red_plan, at):
    first = Alert.objects.create(
        identifier="A0",
        sender="gz",
        hazard="rainstorm",
        colour="red",
        event="暴雨红色预警信号",
        headline="红",
        description="-",
    )
    update = Alert.objects.create(
        identifier="A1",
        sender="gz",
        hazard="rainstorm",
        colour="orange",
        event="暴雨橙色预警信号",
        headline="橙",
        description="-",
        msg_type="Update",
        references=first,
    )
    send("A0", alert_id=first.pk)
    act = respond(people, red_plan, "A0", at)
    send("A1", msg_type="Update", level="orange", alert_id=update.pk)
    item = DeskItem.objects.get(status=DeskItem.Status.OPEN)  # no new activation proposal beside it
    assert item.kind == DeskItem.Kind.STAND_DOWN and item.actions[0]["to"] == "III"
    assert "降为三级响应" in item.title
    services.confirm_stand_down(item, user=people["duty"])
    act.refresh_from_db()
    assert act.status == Activation.Status.ACTIVE and act.level == "III"
    assert set(act.cards.filter(level="II").values_list("state", flat=True)) == {cards.CANCELLED}
    assert act.cards.filter(level="III", state=cards.ISSUED).exists()


def test_exercise_messages_only_touch_exercise_activations(tianhe, people, red_plan, at):
    send("REAL")
    send("DRILL", exercise=True)
    real = respond(people, red_plan, "REAL", at)
    drill = respond(people, red_plan, "DRILL", at)
    send(
        "DRILL-C",
        msg_type="Cancel",
        exercise=True,
        references=["gz,DRILL,2024-06-10T14:00:00+08:00"],
    )
    send(
        "FAKE-C", msg_type="Cancel", references=["gz,DRILL,2024-06-10T14:00:00+08:00"]
    )  # real cancel, drill ref
    item = DeskItem.objects.get(kind=DeskItem.Kind.STAND_DOWN)
    assert item.is_exercise and item.title.startswith("【演练】")
    assert [a["activation_id"] for a in item.actions] == [drill.pk]
    services.confirm_stand_down(item, user=people["duty"])
    real.refresh_from_db()
    drill.refresh_from_db()
    assert drill.status == Activation.Status.STOOD_DOWN and real.status == Activation.Status.ACTIVE


def test_the_same_cancel_twice_proposes_and_acts_once(tianhe, people, red_plan, at):
    send("B0")
    act = respond(people, red_plan, "B0", at)
    for _ in range(2):
        send("B1", msg_type="Cancel", references="gz,B0,2024-06-10T14:00:00+08:00")
    item = DeskItem.objects.get(kind=DeskItem.Kind.STAND_DOWN)
    services.confirm_stand_down(item, user=people["duty"])
    notices = Notification.objects.filter(subject__startswith="【行动卡撤销】").count()
    assert notices > 0
    with pytest.raises(ValidationError, match="已处理"):
        services.confirm_stand_down(item, user=people["duty"])
    assert Notification.objects.filter(subject__startswith="【行动卡撤销】").count() == notices
    assert act.incident.timeline.filter(kind="stood_down").count() == 1


def test_an_incident_grave_in_its_own_right_is_only_lowered(tianhe, people, red_plan, at):
    send("C0")
    act = respond(people, red_plan, "C0", at)
    services.add_report(
        act.incident,
        text="3人死亡",
        deaths=3,
        missing=0,
        injured=0,
        economic_loss=0,
        evacuated=0,
        user=people["duty"],
    )  # 较大 (III) on its own
    send("C1", msg_type="Cancel", references=["gz,C0,2024-06-10T14:00:00+08:00"])
    item = DeskItem.objects.get(kind=DeskItem.Kind.STAND_DOWN)
    assert item.actions[0]["to"] == "III"


def test_the_desk_shows_the_proposal_and_confirms_it_in_one_click(
    tianhe, people, red_plan, at, client
):
    send("D0")
    act = respond(people, red_plan, "D0", at)
    send("D1", msg_type="Cancel", references=["gz,D0,2024-06-10T14:00:00+08:00"])
    item = DeskItem.objects.get(kind=DeskItem.Kind.STAND_DOWN)
    client.force_login(people["duty"])
    page = client.get("/response/").content.decode()
    assert "建议降级或终止响应" in page and f"/response/desk/{item.pk}/stand-down/" in page
    response = client.post(f"/response/desk/{item.pk}/stand-down/")
    assert response.status_code == 302 and response.url.endswith(
        f"/response/incidents/{act.incident_id}/"
    )
    act.refresh_from_db()
    assert act.status == Activation.Status.STOOD_DOWN
