"""Monitoring on the command screen: an open event where its sensors in alarm
are, at its level; each sensor in alarm once at its highest level; the latest
readings; figures and the timeline; all through the user's scope."""

import datetime as dt

import pytest
from django.utils import timezone

from yingji.core import command, scope
from yingji.monitoring import command as feeds
from yingji.monitoring.models import Alarm, Event, Reading

pytestmark = pytest.mark.django_db


def ctx(user, now=None):
    return command.Context(user=user, scope=scope.scope_for(user), now=now or timezone.now())


def alarm(world, sensor, level, rule=None, event=None, state="firing", value=90.0, at=None):
    return Alarm.objects.create(
        rule=rule or world["rain"],
        sensor=sensor,
        district_code=sensor.district_id,
        street_code=sensor.street_id or "",
        hazard="rainstorm",
        state=state,
        level=level,
        max_level=level,
        value=value,
        active_key=None if state == "resolved" else f"{sensor.code}:{level}:{state}",
        started_at=at or timezone.now(),
        event=event,
    )


@pytest.fixture
def storm(world):
    """An open rainstorm event in 天河区: RG-001 red (and yellow on another
    window), WL-001 orange, and a resolved alarm on RG-002 in 海珠区."""
    now = timezone.now()
    event = Event.objects.create(
        hazard="rainstorm",
        district=world["tianhe"],
        area_codes=["440106001"],
        level="red",
        max_level="red",
        started_at=now - dt.timedelta(minutes=20),
        changed_at=now,
    )
    alarm(world, world["s1"], "red", event=event, value=125.0)
    alarm(world, world["s1"], "yellow", rule=world["water"], event=event, value=35.0)
    alarm(world, world["w1"], "orange", rule=world["water"], event=event, value=38.0)
    alarm(world, world["s2"], "blue", state="resolved")
    now_ms = int(now.timestamp() * 1000)
    for i, value in enumerate([5.0, 10.0, 25.0, 25.0]):
        Reading.objects.create(sensor=world["s1"], ts_ms=now_ms - (3 - i) * 600_000, value=value)
    world["s1"].last_seen_ms, world["s1"].last_value = now_ms, 25.0
    world["s1"].save()
    return event


def test_an_open_event_is_a_ring_where_its_sensors_in_alarm_are(world, storm):
    [mark] = feeds.event_marks(ctx(world["duty"]))
    assert mark["id"] == storm.pk and mark["lv"] == "red" and mark["n"] == 2
    assert mark["pt"] == [113.315, 23.115]  # between RG-001 and WL-001
    assert mark["tx"] == "天河区暴雨"
    storm.state = Event.State.CLOSED
    storm.save()
    assert feeds.event_marks(ctx(world["duty"])) == []


def test_each_sensor_in_alarm_is_one_dot_at_its_highest_level(world, storm, monkeypatch):
    got = feeds.sensor_marks(ctx(world["duty"]))
    assert [(m["id"], m["lv"]) for m in got["items"]] == [
        (world["s1"].pk, "red"),
        (world["w1"].pk, "orange"),
    ]
    assert got["more"] == 0  # the resolved alarm in 海珠区 is not in alarm
    monkeypatch.setattr(feeds, "MAX_SENSOR_MARKS", 1)
    got = feeds.sensor_marks(ctx(world["duty"]))
    assert [m["id"] for m in got["items"]] == [world["s1"].pk] and got["more"] == 1


def test_the_readings_panel_shows_the_latest_readings_of_the_most_severe(world, storm):
    panel = feeds.readings_panel(ctx(world["duty"]))
    first = panel["rows"][0]
    assert first["t"] == "五山雨量站" and first["v"] == "25 mm" and first["l"] == "red"
    assert "五山街道" in first["d"] and "1小时雨量 125 mm" in first["d"] and "红色" in first["d"]
    assert first["s"] == [5.0, 10.0, 25.0, 25.0]  # oldest first: the sparkline
    assert panel["rows"][1]["t"] == "五山积水点" and panel["more"] == 0


def test_figures_and_the_timeline_tell_the_room_what_is_happening(world, storm):
    c = ctx(world["duty"])
    figures = {f["t"]: f for f in feeds.figures(c)}
    assert figures["监测事件(红色 1)"]["v"] == 1 and figures["监测事件(红色 1)"]["tone"] == "bad"
    assert figures["报警传感器"]["v"] == 2
    [entry] = feeds.timeline(c)
    assert entry["t"] == "天河区暴雨监测事件开始,现为红色" and entry["k"] == "监测"
    assert entry["at"] == int(storm.started_at.timestamp())
    tomorrow = ctx(world["duty"], timezone.now() + dt.timedelta(days=2))
    assert feeds.timeline(tomorrow) == []


def test_the_feeds_read_through_the_scope(world, storm):
    # 指挥中心's staff own no sensor and no region: nothing; 三防处 owns them all.
    assert feeds.sensor_marks(ctx(world["other"]))["items"] == []
    assert feeds.readings_panel(ctx(world["other"]))["rows"] == []
    assert len(feeds.sensor_marks(ctx(world["staff"]))["items"]) == 2


def test_monitoring_is_not_on_a_drills_screen(world):
    drill = command.Context(user=world["duty"], scope=None, now=timezone.now(), drill=1)
    keys = {f.key for f in command.feeds(drill.mode)}
    assert not keys & {"events", "sensors", "readings", "monitoring.figures"}
    assert {"events", "sensors", "readings"} <= {f.key for f in command.feeds(command.NORMAL)}


def test_a_moved_sensor_is_drawn_where_it_now_is(world, storm):
    before = {m["id"]: m["pt"] for m in feeds.sensor_marks(ctx(world["duty"]))["items"]}
    assert before[world["w1"].pk] == [113.32, 23.12]
    world["w1"].lon = 113.33
    world["w1"].save()  # the positions this process knows are forgotten
    after = {m["id"]: m["pt"] for m in feeds.sensor_marks(ctx(world["duty"]))["items"]}
    assert after[world["w1"].pk] == [113.33, 23.12]
