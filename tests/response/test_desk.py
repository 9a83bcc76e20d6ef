"""Alarms and alerts reach the duty desk through the event contracts."""

import datetime as dt

import pytest
from django.utils import timezone

from yingji.alerts.events import alert_published
from yingji.monitoring.events import alarm_state_changed, regional_level_changed
from yingji.response import services
from yingji.response.models import DeskItem, DutyShift, Incident

pytestmark = pytest.mark.django_db


def publish_red_rainstorm(exercise=False):
    alert_published.send(
        sender=None, alert_id=7, identifier="GZ-2024-0610-001", status="Exercise" if exercise else "Actual",
        msg_type="Alert", event="暴雨红色预警信号", level="red", severity="Extreme",
        area_codes=["440106"], exercise=exercise, at=timezone.now())


def test_published_alert_proposes_the_rainstorm_plan_at_level_two(red_plan):
    publish_red_rainstorm()
    item = DeskItem.objects.get()
    assert item.source == "alert" and item.hazard == "暴雨"
    assert item.proposals == [{"plan_id": red_plan.pk, "plan": red_plan.title, "level": "II",
                               "why": "预警信息暴雨达到红色"}]
    publish_red_rainstorm()  # the same alert again: nothing new
    assert DeskItem.objects.count() == 1


def test_exercise_alerts_are_marked(red_plan):
    publish_red_rainstorm(exercise=True)
    item = DeskItem.objects.get()
    assert item.is_exercise and item.title.startswith("【演练】")


def test_cancel_messages_and_resolved_alarms_do_not_propose():
    alert_published.send(sender=None, alert_id=8, identifier="x", status="Actual", msg_type="Cancel",
                         event="暴雨", level="red", severity="Extreme", area_codes=[], exercise=False,
                         at=timezone.now())
    alarm_state_changed.send(sender=None, alarm_id=1, state="resolved", previous="firing", level="red",
                             rule="暴雨", sensor_id=None, region_codes=[], at=timezone.now())
    assert not DeskItem.objects.exists()


def test_firing_alarm_and_regional_level_land_on_the_desk(red_plan):
    alarm_state_changed.send(sender=None, alarm_id=41, state="firing", previous="pending", level="red",
                             rule="rainstorm", sensor_id=3, region_codes=["440106001"], at=timezone.now())
    regional_level_changed.send(sender=None, region_code="440106", region_level="district", level="orange",
                                previous=None, hazard="rainstorm", alarm_ids=[41], at=timezone.now())
    items = {i.source_ref: i for i in DeskItem.objects.all()}
    assert items["41"].proposals[0]["level"] == "II"
    regional = next(i for ref, i in items.items() if ref.startswith("440106:"))
    assert regional.proposals[0]["level"] == "III"


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
    shifts = services.build_roster(dt.date(2024, 9, 30), 3, [people["duty"]], [people["leader"]], depts)
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

    item = services.record_desk_item(source="alarm", source_ref="99", hazard="structure", level="red",
                                     region_codes=["440106"], title="边坡位移报警")
    assert item.hazard == "建筑施工事故"  # monitoring's hazard group, in the plans' words
    other = services.record_desk_item(source="alarm", source_ref="100", hazard="边坡位移", level="red",
                                      region_codes=["440106"], title="边坡位移报警")
    with pytest.raises(ValidationError, match="请选择事件类型"):
        services.accept_desk_item(other, user=people["duty"])
    client.force_login(people["duty"])
    assert 'name="incident_type"' in client.get("/response/").content.decode()
    incident = services.accept_desk_item(other, user=people["duty"], incident_type="地质灾害")
    assert incident.category == "自然灾害"
