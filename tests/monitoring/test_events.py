"""One rain cell, one event: the several windows of one gauge and the street's
waterlogging point fold into one monitoring event, which drafts one warning and puts
one item on the duty desk; the event closes when all is quiet, and a later reading
opens a new one."""

import datetime as dt

import pytest
from django.utils import timezone

from yingji.alerts.models import Alert
from yingji.monitoring import eventrules, folding, services
from yingji.monitoring.models import Alarm, AlarmRule, Event
from yingji.response.models import DeskItem

MIN = 60_000


def test_pure_folding_rules():
    events = [
        eventrules.OpenEvent(1, "rainstorm", "440106"),
        eventrules.OpenEvent(2, "gas", "440106"),
    ]
    assert eventrules.event_for(events, "rainstorm", "440106") == 1
    assert eventrules.event_for(events, "rainstorm", "440105") is None
    assert eventrules.family("waterlogging") == "rainstorm"
    level, areas = eventrules.summary(
        [
            eventrules.ActiveAlarm("orange", "440106", "440106001"),
            eventrules.ActiveAlarm("red", "440106", "440106002"),
            eventrules.ActiveAlarm("yellow", "440106"),
        ]
    )
    assert level == "red" and areas == ["440106001", "440106002", "440106"]
    assert eventrules.summary([]) == ("", [])
    # Near each other, across a district line: one event; far apart: two.
    shipai, wushan = (113.335, 23.135), (113.350, 23.160)  # ~3 km, different streets
    conghua = (113.586, 23.548)  # ~50 km north
    near = [eventrules.OpenEvent(1, "rainstorm", "440106", (shipai,))]
    assert eventrules.event_for(near, "rainstorm", "440104", wushan) == 1
    assert eventrules.event_for(near, "rainstorm", "440117", conghua) is None
    assert eventrules.event_for(near, "rainstorm", "440106", conghua) == 1  # its district
    assert 2.5 < eventrules.distance_km(shipai, wushan) < 3.5
    lon0, lon1, lat0, lat1 = eventrules.near_box(shipai)
    assert lon0 < 113.335 - 0.19 and lat1 > 23.135 + 0.17
    now = dt.datetime(2026, 6, 1, 12, 0)
    assert eventrules.closes(now - dt.timedelta(minutes=30), now)
    assert not eventrules.closes(now - dt.timedelta(minutes=29), now)
    assert not eventrules.closes(None, now)


@pytest.mark.django_db(transaction=True)
def test_one_rain_cell_is_one_event_one_draft_one_desk_item(world):
    AlarmRule.objects.create(
        name="3小时雨量",
        sensor_type="rain",
        metric="sum",
        window_s=3 * 3600,
        blue=30,
        yellow=50,
        orange=80,
        red=150,
    )
    t0 = services.now_ms() - 5 * 3600 * 1000
    ing = services.Ingestor()
    readings = [("RG-001", t0 + i * 5 * MIN, 12.0, "mm") for i in range(6)]  # 72 mm in 30 min
    ing.ingest(readings + [("WL-001", t0, 25.0, "cm")], source="test")
    ing.ingest([("WL-001", t0 + 3 * MIN, 26.0, "cm")], source="test")  # 25 cm for 3 min
    alarms = Alarm.objects.filter(state="firing")
    assert alarms.count() == 3  # 1 h window, 3 h window, the waterlogging point
    event = Event.objects.get()
    assert set(alarms.values_list("event", flat=True)) == {event.pk}
    assert (event.hazard, event.district_id, event.level) == ("rainstorm", "440106", "orange")
    assert event.area_codes == ["440106001"]
    draft = Alert.objects.get()
    assert draft.monitoring_event == event.pk and draft.colour == "orange"
    assert "天河区五山街道" in draft.headline
    item = DeskItem.objects.get()
    assert item.source == "event" and item.source_ref == str(event.pk) and item.level == "orange"

    ing.ingest([("RG-001", t0 + 35 * MIN, 40.0, "mm")], source="test")  # 112 mm → red
    event.refresh_from_db()
    assert event.level == "red" and Event.objects.count() == 1
    assert Alert.objects.get().colour == "red" and DeskItem.objects.get().level == "red"

    # The rain passes, the water drains: all quiet, then the event ends.
    ing.ingest(
        [("RG-001", t0 + 240 * MIN, 0.0, "mm"), ("WL-001", t0 + 240 * MIN, 0.0, "cm")],
        source="test",
    )
    event.refresh_from_db()
    assert not Alarm.objects.filter(state__in=["firing", "acknowledged", "silenced"]).exists()
    assert event.state == "open" and event.quiet_since is not None and event.level == ""
    assert folding.close_quiet_events(timezone.now() + dt.timedelta(minutes=31)) == 1
    event.refresh_from_db()
    assert event.state == "closed" and event.max_level == "red"
    assert "报警已全部解除" in DeskItem.objects.get().title

    # A new reading after the end opens a new event, never the closed one.
    ing.ingest([("RG-001", services.now_ms() - 10 * MIN, 35.0, "mm")], source="test")
    assert Event.objects.count() == 2
    newer = Event.objects.exclude(pk=event.pk).get()
    assert newer.state == "open"
    assert set(Alarm.objects.filter(state="firing").values_list("event", flat=True)) == {newer.pk}
    assert Alert.objects.filter(monitoring_event=newer.pk).count() == 1
    assert DeskItem.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_reading_after_the_stand_down_opens_a_new_event(world):
    from yingji.response import plans
    from yingji.response import services as response

    plan, _ = plans.load_red_rainstorm()
    ing = services.Ingestor()
    ing.ingest([("RG-001", services.now_ms() - 20 * MIN, 60.0, "mm")], source="test")
    event = Event.objects.get()
    item = DeskItem.objects.get(source="event")
    incident = response.accept_desk_item(item, user=world["duty"], incident_type="暴雨")
    activation = response.activate(plan, incident, "IV", user=world["duty"])
    response.stand_down(activation, user=world["duty"])
    event.refresh_from_db()
    assert event.state == "closed" and event.close_reason == "响应终止"
    ing.ingest([("RG-001", services.now_ms() - 5 * MIN, 50.0, "mm")], source="test")  # → red
    assert Event.objects.count() == 2 and Event.objects.filter(state="open").exclude(pk=event.pk)
