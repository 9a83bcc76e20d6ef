"""`yingji replay FILE --history`: a past day's readings on their own clock, alarms
marked 回放, nobody told unless --notify."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse

from yingji.core.models import Notification
from yingji.monitoring import services
from yingji.monitoring.models import Alarm, AlarmEvent, Event, Reading, RegionalLevel

pytestmark = pytest.mark.django_db(transaction=True)  # events and outbox run on commit
MIN = 60_000
# A past day, 08:00 Beijing time, a month ago (older than the live ingest accepts).
DAY = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(
    days=30
)
T0 = int(DAY.timestamp() * 1000)


def write_day(tmp_path, rows):
    path = tmp_path / "day.csv"
    path.write_text(
        "sensor,ts,value,unit\n" + "".join(f"{c},{t},{v},{u}\n" for c, t, v, u in rows),
        encoding="utf-8",
    )
    return path


def storm(tmp_path):
    """RG-001: 6 mm a minute for 10 minutes (60 mm: orange in the hour), then dry
    for two hours (the hour's sum falls back: resolved); RG-002 light rain."""
    rows = [("RG-001", T0 + i * MIN, 6, "mm") for i in range(10)]
    rows += [("RG-001", T0 + i * MIN, 0, "mm") for i in range(10, 130, 5)]
    rows += [("RG-002", T0 + i * MIN, 0.1, "") for i in range(0, 130, 10)]
    return write_day(tmp_path, rows)


def test_history_replay_raises_and_resolves_on_the_datas_clock_telling_nobody(
    world, tmp_path, capsys
):
    call_command("replay", str(storm(tmp_path)), "--history")
    out = capsys.readouterr().out
    assert "报警 1 条,其中数据内解除 1 条" in out and "未通知任何人" in out

    alarm = Alarm.objects.get()
    assert alarm.replayed and alarm.state == "resolved" and alarm.max_level == "orange"
    # The alarm's times are the day's, not the wall clock's.
    assert alarm.started_at.date() == DAY.date()
    assert alarm.fired_at - DAY < dt.timedelta(minutes=10)
    assert alarm.resolved_at - alarm.fired_at < dt.timedelta(hours=2)
    # 60+ data minutes unacknowledged, yet no escalation and no reminder: nobody told.
    assert alarm.escalated_at is None and alarm.reminders == 0 and alarm.last_notified_at is None
    assert not Notification.objects.exists()
    assert not AlarmEvent.objects.filter(note__contains="升级").exists()
    # Not on today's map, and its event is a replayed one, closed.
    assert not RegionalLevel.objects.exclude(level="").exists()
    event = Event.objects.get()
    assert event.replayed and event.state == "closed"
    # The readings are stored (the sensor's history), in mm.
    assert Reading.objects.filter(sensor__code="RG-001").count() == 34


def test_a_replay_does_not_disturb_a_live_alarm_of_the_same_sensor(world, tmp_path):
    t = services.now_ms() - 30 * MIN
    services.Ingestor().ingest([("RG-001", t + i * MIN, 6.0, "mm") for i in range(6)], source="t")
    live = Alarm.objects.get()
    call_command("replay", str(storm(tmp_path)), "--history")
    live.refresh_from_db()
    assert (live.state, live.replayed, live.level) == ("firing", False, "yellow")
    assert Alarm.objects.filter(replayed=True).count() == 1
    # The live pipeline does not pick up the replayed alarm either.
    services.run_pipeline()
    assert not Notification.objects.filter(subject__contains="回放").exists()


def test_with_notify_people_are_told_on_the_datas_clock(world, tmp_path, capsys):
    # Rain that stays: the alarm is still firing 40 data minutes later.
    rows = [("RG-001", T0 + i * MIN, 6, "mm") for i in range(10)]
    rows += [("RG-001", T0 + i * MIN, 0.5, "mm") for i in range(10, 45)]
    call_command("replay", str(write_day(tmp_path, rows)), "--history", "--notify")
    alarm = Alarm.objects.get()
    subjects = list(Notification.objects.values_list("subject", flat=True))
    assert subjects and all(s.startswith("【回放】") for s in subjects), subjects
    assert any("监测报警" in s for s in subjects)
    # Escalated after 30 minutes of the data, not at once when the replay began.
    assert alarm.escalated_at is not None
    assert (
        dt.timedelta(minutes=30) <= alarm.escalated_at - alarm.fired_at < dt.timedelta(minutes=32)
    )
    # The data ended with the alarm still firing: the replay resolves it there.
    assert alarm.state == "resolved" and "数据截止时仍在报警 1 条" in capsys.readouterr().out
    assert alarm.events.filter(note=services.REPLAY_END_NOTE).exists()


def test_bad_units_and_unknown_sensors_of_the_file_are_dead_letters(world, tmp_path, capsys):
    rows = [("RG-001", T0, 1, "mm/h"), ("NOPE", T0, 1, ""), ("RG-001", T0 + MIN, 1, "cm")]
    call_command("replay", str(write_day(tmp_path, rows)), "--history")
    assert "拒收 2" in capsys.readouterr().out
    assert list(Reading.objects.values_list("value", flat=True)) == [10.0]  # 1 cm of rain


def test_the_live_board_marks_replayed_alarms(world, tmp_path, client):
    call_command("replay", str(storm(tmp_path)), "--history")
    client.force_login(world["duty"])
    html = client.get(reverse("monitoring:live") + "?state=resolved").content.decode()
    assert "回放" in html and "1小时雨量" in html


def test_notify_without_history_is_refused(world, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--notify 只用于历史回放"):
        call_command("replay", str(storm(tmp_path)), "--notify", "--direct")
