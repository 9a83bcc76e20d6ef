"""Alarms and alerts reach the duty desk through the event contracts."""

import datetime as dt

import pytest
from django.utils import timezone

from yingji.alerts.events import alert_published
from yingji.monitoring.events import event_changed
from yingji.response import services
from yingji.response.models import DeskItem, DutyShift, Incident

pytestmark = pytest.mark.django_db


def publish_red_rainstorm(exercise=False):
    alert_published.send(
        sender=None,
        alert_id=7,
        identifier="GZ-2024-0610-001",
        status="Exercise" if exercise else "Actual",
        msg_type="Alert",
        event="暴雨红色预警信号",
        level="red",
        severity="Extreme",
        area_codes=["440106"],
        exercise=exercise,
        at=timezone.now(),
    )


def test_published_alert_proposes_the_rainstorm_plan_at_level_two(red_plan):
    publish_red_rainstorm()
    item = DeskItem.objects.get()
    assert item.source == "alert" and item.hazard == "暴雨"
    assert item.proposals == [
        {
            "plan_id": red_plan.pk,
            "plan": red_plan.title,
            "level": "II",
            "why": "预警信息暴雨达到红色",
        }
    ]
    publish_red_rainstorm()  # the same alert again: nothing new
    assert DeskItem.objects.count() == 1


def test_exercise_alerts_are_marked(red_plan):
    publish_red_rainstorm(exercise=True)
    item = DeskItem.objects.get()
    assert item.is_exercise and item.title.startswith("【演练】")


def test_cancel_messages_and_resolved_alarms_do_not_propose():
    alert_published.send(
        sender=None,
        alert_id=8,
        identifier="x",
        status="Actual",
        msg_type="Cancel",
        event="暴雨",
        level="red",
        severity="Extreme",
        area_codes=[],
        exercise=False,
        at=timezone.now(),
    )
    assert not DeskItem.objects.exists()


def _event(level, areas=("440106001",), state="open", max_level=None):
    event_changed.send(
        sender=None,
        event_id=41,
        hazard="rainstorm",
        level=level,
        previous=None,
        max_level=max_level or level,
        district_code="440106",
        area_codes=list(areas),
        alarm_ids=[1, 2],
        state=state,
        at=timezone.now(),
    )


def test_a_monitoring_event_is_one_desk_item_updated_in_place(red_plan):
    _event("orange")
    item = DeskItem.objects.get()
    assert item.source == "event" and item.proposals[0]["level"] == "III"
    _event("red", areas=("440106001", "440106002"))  # rises and grows: the same item
    item = DeskItem.objects.get()
    assert item.level == "red" and item.proposals[0]["level"] == "II"
    assert item.region_codes == ["440106001", "440106002"]
    alert_published.send(
        sender=None,
        alert_id=9,
        identifier="GZ-1",
        status="Actual",
        msg_type="Alert",
        event="暴雨红色预警",
        level="red",
        severity="Extreme",
        area_codes=["440106001"],
        exercise=False,
        at=timezone.now(),
        monitoring_event=41,
    )
    item = DeskItem.objects.get()  # the event's warning is out: still one item
    assert "已发布暴雨红色预警" in item.title and item.level == "red"
    _event(None, state="closed", max_level="red")
    item = DeskItem.objects.get()
    assert "报警已全部解除" in item.title and item.level == "red"


def test_accepting_a_desk_item_registers_the_incident_with_its_proposals(tianhe, people, red_plan):
    publish_red_rainstorm()
    item = DeskItem.objects.get()
    incident = services.accept_desk_item(item, user=people["duty"])
    assert incident.source == Incident.Source.ALERT and incident.district.name == "天河区"
    assert incident.level == "IV"
    # the incident alone calls for level IV; the red alert behind it for level II
    assert services.incident_proposals(incident)[0]["level"] == "II"
    item.refresh_from_db()
    assert item.status == DeskItem.Status.ACCEPTED


def test_an_incident_registered_from_an_event_keeps_its_plan_proposal(tianhe, people, red_plan):
    _event("red")
    item = DeskItem.objects.get()
    incident = services.accept_desk_item(item, user=people["duty"])
    got = services.incident_proposals(incident)
    assert got and got[0]["plan_id"] == red_plan.pk and got[0]["level"] == "II"
    assert got[0]["why"].startswith("监测事件")


def test_duty_desk_shows_what_needs_attention(incident, red_plan, people, at):
    act = services.activate(red_plan, incident, "IV", user=people["duty"], at=at)
    publish_red_rainstorm()
    early = services.duty_desk(at + dt.timedelta(minutes=5))
    assert early["counts"]["unacknowledged"] == act.cards.count() == len(early["unacknowledged"])
    assert early["overdue"] == []
    desk = services.duty_desk(at + dt.timedelta(minutes=20))
    assert desk["counts"]["unacknowledged"] == act.cards.count() and desk["unacknowledged"] == []
    assert {c.pk for c in desk["overdue"]} == set(act.cards.values_list("pk", flat=True))
    assert len(desk["desk_items"]) == 1 and incident in desk["responding"]


def test_roster_puts_joint_duty_on_holidays(people):
    from yingji.core.models import Department

    depts = list(Department.objects.filter(name__in=["三防处", "指挥处"]))
    shifts = services.build_roster(
        dt.date(2024, 9, 30), 3, [people["duty"]], [people["leader"]], depts
    )
    by_day = {timezone.localtime(s.starts_at).date(): s for s in shifts}
    assert by_day[dt.date(2024, 9, 30)].period == ""
    national_day = by_day[dt.date(2024, 10, 1)]
    assert national_day.period == "国庆" and national_day.departments.count() == 2
    assert timezone.localtime(national_day.starts_at).hour == 8
    assert services.current_shift(national_day.starts_at + dt.timedelta(hours=23)) == national_day
    again = services.build_roster(dt.date(2024, 9, 30), 3, [people["duty"]], [], depts)
    assert again == [] and DutyShift.objects.count() == 3


def test_a_hazard_that_is_no_incident_type_needs_a_type_chosen(tianhe, people, red_plan, client):
    from django.core.exceptions import ValidationError

    item = services.record_desk_item(
        source="alarm",
        source_ref="99",
        hazard="structure",
        level="red",
        region_codes=["440106"],
        title="边坡位移报警",
    )
    assert item.hazard == "建筑施工事故"  # monitoring's hazard group, in the plans' words
    other = services.record_desk_item(
        source="alarm",
        source_ref="100",
        hazard="边坡位移",
        level="red",
        region_codes=["440106"],
        title="边坡位移报警",
    )
    with pytest.raises(ValidationError, match="请选择事件类型"):
        services.accept_desk_item(other, user=people["duty"])
    client.force_login(people["duty"])
    assert 'name="incident_type"' in client.get("/response/").content.decode()
    incident = services.accept_desk_item(other, user=people["duty"], incident_type="地质灾害")
    assert incident.category == "自然灾害"
