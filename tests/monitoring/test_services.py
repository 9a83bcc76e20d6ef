"""Ingest → store → rules → alarms → regional levels → events → outbox."""

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yingji.core.models import AuditEntry, Notification
from yingji.monitoring import events, lifecycle, services
from yingji.monitoring.models import Alarm, DeadLetter, Reading, RegionalLevel, Rollup, Silence

# Tests that need commits (events and outbox delivery run on commit) ask for them.
pytestmark = pytest.mark.django_db
committed = pytest.mark.django_db(transaction=True)

MIN = 60_000


@pytest.fixture
def t0():
    return services.now_ms() - 3 * 3600 * 1000


@pytest.fixture
def captured():
    got = {"alarm": [], "region": []}

    def on_alarm(sender, **kw):
        got["alarm"].append(kw)

    def on_region(sender, **kw):
        got["region"].append(kw)

    events.alarm_state_changed.connect(on_alarm)
    events.regional_level_changed.connect(on_region)
    yield got
    events.alarm_state_changed.disconnect(on_alarm)
    events.regional_level_changed.disconnect(on_region)


def rain(code, t, v):
    return (code, t, float(v), "mm")


@committed
def test_rain_raises_alarm_regional_level_and_events(world, t0, captured):
    ing = services.Ingestor()
    stats = ing.ingest([rain("RG-001", t0 + i * 5 * MIN, 4) for i in range(6)], source="test")
    assert stats.stored == 6 and stats.alarm_changes == 1  # 24 mm in the hour → blue
    alarm = Alarm.objects.get()
    assert (alarm.state, alarm.level, alarm.street_code) == ("firing", "blue", "440106001")
    ing.ingest([rain("RG-001", t0 + 30 * MIN, 30)], source="test")  # 54 mm → orange
    alarm.refresh_from_db()
    assert alarm.level == "orange" and alarm.max_level == "orange"
    lv = RegionalLevel.objects.get(region_id="440106", hazard="rainstorm")
    assert lv.level == "orange" and lv.alarm_ids == [alarm.pk]
    assert [e["state"] for e in captured["alarm"]] == ["firing"]
    assert [(e["region_code"], e["level"], e["previous"]) for e in captured["region"]][-2:] == [
        ("440106", "orange", "blue"),
        ("440106001", "orange", "blue"),
    ]
    # Rain leaves the window: resolved, the region clears.
    ing.ingest([rain("RG-001", t0 + 150 * MIN, 0)], source="test")
    alarm.refresh_from_db()
    assert alarm.state == "resolved" and alarm.active_key is None
    assert RegionalLevel.objects.get(region_id="440106", hazard="rainstorm").level == ""
    assert captured["region"][-1]["level"] is None
    # A new storm makes a new alarm: one active per (sensor, rule), history kept.
    ing.ingest([rain("RG-001", t0 + 160 * MIN, 25)], source="test")
    assert Alarm.objects.count() == 2 and Alarm.objects.filter(state="firing").count() == 1


def test_duplicates_are_stored_once_and_not_counted_twice(world, t0):
    ing = services.Ingestor()
    batch = [rain("RG-001", t0, 15), rain("RG-001", t0, 15)]
    s = ing.ingest(batch, source="test")
    assert (s.stored, s.duplicates) == (1, 1)
    s = ing.ingest([rain("RG-001", t0, 15)], source="test")  # redelivered later
    assert (s.stored, s.duplicates) == (0, 1)
    assert Reading.objects.count() == 1
    assert ing.engine.window_sum(world["s1"].pk, 3600) == pytest.approx(15)
    assert not Alarm.objects.exists()  # 15 mm, not 45


def test_bad_readings_go_to_dead_letters_with_reasons(world, t0):
    ing = services.Ingestor()
    now = services.now_ms()
    s = ing.ingest(
        [
            ("NOPE", t0, 1.0, None),
            ("RG-001", t0, 1.0, "mm/h"),
            ("RG-001", now + 3600 * 1000, 1.0, None),
            ("RG-001", now - 30 * 86400 * 1000, 1.0, None),
            ("RG-001", t0, 2.0, None),
        ],
        [("JSON 无法解析:x", "{bad")],
        source="mqtt",
        topic="yingji/v1/batch",
    )
    assert (s.stored, s.rejected) == (1, 5)
    reasons = sorted(DeadLetter.objects.values_list("reason", flat=True))
    assert any("未知传感器「NOPE」" in r for r in reasons)
    assert any("单位不符" in r and "mm/h" in r and "RG-001" in r for r in reasons)
    assert any("时间在未来" in r for r in reasons) and any("时间过早" in r for r in reasons)
    assert DeadLetter.objects.filter(topic="yingji/v1/batch").count() == 5


def test_readings_are_not_audited_row_by_row(world, t0):
    before = AuditEntry.objects.count()
    services.Ingestor().ingest([rain("RG-001", t0 + i * MIN, 0.1) for i in range(50)], source="t")
    assert AuditEntry.objects.count() == before


def test_duration_rule_pending_then_firing(world, t0):
    ing = services.Ingestor()
    ing.ingest([("WL-001", t0, 25.0, "cm")], source="t")
    assert Alarm.objects.get().state == "pending"
    ing.ingest([("WL-001", t0 + 3 * MIN, 26.0, "cm")], source="t")
    a = Alarm.objects.get()
    assert (a.state, a.level) == ("firing", "yellow")
    assert [e.state for e in a.events.all()] == ["pending", "firing"]


@committed
def test_pipeline_groups_waits_escalates_and_reminds(world, t0):
    ing = services.Ingestor()
    ing.ingest([rain("RG-001", t0, 35)], source="t")
    alarm = Alarm.objects.get()
    fired = alarm.fired_at
    mail.outbox.clear()
    # Within group_wait nothing goes out; after it one grouped message.
    assert services.run_pipeline(fired + dt.timedelta(seconds=10)) == 0
    assert services.run_pipeline(fired + dt.timedelta(seconds=40)) >= 1
    subjects = [m.subject for m in mail.outbox]
    assert any("天河区" in s and "暴雨" in s for s in subjects)
    assert {a for m in mail.outbox for a in m.to} >= {"sanfang@example.org"}
    mail.outbox.clear()
    # 30 minutes unacknowledged: escalated to 指挥中心, once.
    services.run_pipeline(fired + dt.timedelta(minutes=31))
    assert any("报警升级" in m.subject and "zhihui@example.org" in m.to for m in mail.outbox)
    mail.outbox.clear()
    services.run_pipeline(fired + dt.timedelta(minutes=32))
    assert not any("报警升级" in m.subject for m in mail.outbox)
    # Reminders every hour until acknowledged.
    services.run_pipeline(fired + dt.timedelta(minutes=61))
    assert any("报警提醒(第 1 次)" in m.subject for m in mail.outbox)
    services.acknowledge(alarm, world["duty"])
    mail.outbox.clear()
    services.run_pipeline(fired + dt.timedelta(minutes=130))
    assert not any("提醒" in m.subject for m in mail.outbox)
    # one reminder, to the mailbox and the member: nothing after acknowledgement
    assert Notification.objects.filter(subject__contains="报警提醒").count() == 2


@committed
def test_notified_alarm_that_resolves_is_told_once_to_those_told_it_fired(world, t0):
    ing = services.Ingestor()
    ing.ingest([rain("RG-001", t0, 35)], source="t")
    fired = Alarm.objects.get().fired_at
    services.run_pipeline(fired + dt.timedelta(seconds=40))  # grouped firing notice
    services.run_pipeline(fired + dt.timedelta(minutes=31))  # escalated to 指挥中心
    ing.ingest([rain("RG-001", t0 + 70 * MIN, 0)], source="t")  # the hour's sum is 0
    alarm = Alarm.objects.get()
    assert alarm.state == "resolved"
    mail.outbox.clear()
    services.run_pipeline(alarm.resolved_at + dt.timedelta(seconds=10))  # group wait
    assert not any("已恢复" in m.subject for m in mail.outbox)
    services.run_pipeline(alarm.resolved_at + dt.timedelta(seconds=40))
    told = [m for m in mail.outbox if "已恢复" in m.subject]
    assert {a for m in told for a in m.to} == {  # mailboxes and members of both
        "sanfang@example.org",
        "sanfang_staff@example.org",
        "zhihui@example.org",
        "other@example.org",
    }
    assert "天河区暴雨 1 条" in told[0].subject
    assert "五山雨量站" in told[0].body and "最高黄色" in told[0].body
    mail.outbox.clear()
    services.run_pipeline(alarm.resolved_at + dt.timedelta(minutes=10))
    assert mail.outbox == []
    assert Notification.objects.filter(subject__contains="已恢复").count() == 4


@committed
def test_silence_window_suppresses_notifications(world, t0):
    ing = services.Ingestor()
    ing.ingest([rain("RG-001", t0, 35)], source="t")
    fired = Alarm.objects.get().fired_at
    Silence.objects.create(
        region_code="440106",
        starts_at=fired - dt.timedelta(hours=1),
        ends_at=fired + dt.timedelta(hours=5),
        reason="设备检修",
        maintenance=True,
    )
    mail.outbox.clear()
    assert services.run_pipeline(fired + dt.timedelta(minutes=45)) == 0
    assert mail.outbox == []


def test_acknowledged_alarm_fires_again_when_level_rises(world, t0):
    ing = services.Ingestor()
    ing.ingest([rain("RG-001", t0, 25)], source="t")
    alarm = services.acknowledge(Alarm.objects.get(), world["duty"])
    assert alarm.state == "acknowledged" and alarm.acknowledged_by == world["duty"]
    ing.ingest([rain("RG-001", t0 + MIN, 30)], source="t")  # 55 mm → orange
    alarm.refresh_from_db()
    assert (alarm.state, alarm.level, alarm.acknowledged_at) == ("firing", "orange", None)


def test_silenced_alarm_returns_to_firing_when_silence_ends(world, t0):
    ing = services.Ingestor()
    ing.ingest([rain("RG-001", t0, 25)], source="t")
    alarm = services.silence(Alarm.objects.get(), world["duty"], 10, "已知,现场处置中")
    assert alarm.state == "silenced"
    assert RegionalLevel.objects.get(region_id="440106").level == "blue"  # still counts
    services.run_pipeline(alarm.silenced_until + dt.timedelta(seconds=1))
    alarm.refresh_from_db()
    assert alarm.state == "firing"
    with pytest.raises(services.MonitoringError, match="原因"):
        services.silence(alarm, world["duty"], 10, " ")


def test_transition_table_refuses_the_rest():
    with pytest.raises(lifecycle.TransitionError, match="已解除"):
        lifecycle.check("resolved", "firing")
    with pytest.raises(lifecycle.TransitionError):
        lifecycle.check("pending", "acknowledged")
    assert Alarm.State.choices == lifecycle.MACHINE.choices()


def test_resolved_notice_waits_for_the_earliest_resolution_only():
    t = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
    policy = lifecycle.GroupPolicy()
    assert not lifecycle.resolved_due(t, [], policy)
    assert not lifecycle.resolved_due(t, [t - dt.timedelta(seconds=20)], policy)
    # a later resolution joins the message but does not hold it back
    assert lifecycle.resolved_due(t, [t - dt.timedelta(seconds=31), t], policy)


def test_no_data_rule_marks_sensor_offline_and_back(world, t0):
    from yingji.monitoring.models import AlarmRule

    AlarmRule.objects.create(name="离线", sensor_type="waterlogging", metric="no_data", blue=600)
    ing = services.Ingestor()
    ing.ingest([("WL-001", t0, 1.0, "cm")], source="t")
    ing.tick(timezone.now() + dt.timedelta(minutes=20))  # silence counts from arrival
    world["w1"].refresh_from_db()
    assert world["w1"].status == "offline"
    assert Alarm.objects.filter(rule__name="离线", state="firing").exists()
    ing.ingest([("WL-001", t0 + 21 * MIN, 1.0, "cm")], source="t")
    world["w1"].refresh_from_db()
    assert world["w1"].status == "online"
    assert Alarm.objects.get(rule__name="离线").state == "resolved"


def test_deferred_latest_reading_is_written_on_flush_and_never_goes_back(world, t0):
    ing = services.Ingestor(touch_interval=None)  # as the MQTT worker: flushed by its thread
    ing.ingest([("WL-001", t0 + MIN, 7.0, "cm"), ("WL-001", t0, 3.0, "cm")], source="t")
    world["w1"].refresh_from_db()
    assert world["w1"].last_value is None  # not yet: a display cache, written in bulk
    assert ing.flush_latest() == 1
    world["w1"].refresh_from_db()
    assert (world["w1"].last_seen_ms, world["w1"].last_value) == (t0 + MIN, 7.0)
    ing.ingest([("WL-001", t0 + 30_000, 5.0, "cm")], source="t")  # late, older reading
    ing.flush_latest()
    world["w1"].refresh_from_db()
    assert world["w1"].last_value == 7.0


def test_running_ingest_picks_up_an_edited_rule_and_keeps_its_sums(world, t0):
    from yingji.monitoring.models import AlarmRule

    ing = services.Ingestor(touch_interval=None)
    ing.ingest([rain("RG-001", services.now_ms() - 20 * MIN, 15)], source="t")
    assert not Alarm.objects.exists()  # 15 mm < 20 mm (blue)
    Reading.objects.all().delete()  # the edit must not need a replay of stored readings
    AlarmRule.objects.filter(name="1小时雨量").update(blue=10)
    assert not ing.reload_if_changed(every_s=3600)  # checked at most every interval
    assert ing.reload_if_changed(every_s=0)
    assert ing.engine.window_sum(world["s1"].pk, 3600) == pytest.approx(15)
    ing.ingest([rain("RG-001", services.now_ms() - 10 * MIN, 1)], source="t")
    assert Alarm.objects.get().level == "blue"  # 16 mm ≥ the edited 10 mm
    assert not ing.reload_if_changed(every_s=0)  # nothing changed since


def test_a_sensor_registered_while_ingest_runs_is_picked_up(world, monkeypatch):
    from yingji.monitoring.models import Sensor

    monkeypatch.setattr(services, "UNKNOWN_CHECK_S", 0.0)
    ing = services.Ingestor(touch_interval=None)
    t = services.now_ms() - 10 * MIN
    first = ing.ingest([("RG-NEW", t, 30.0, "mm")], source="t")
    assert first.rejected == 1 and "未知传感器「RG-NEW」" in first.reasons[0]
    Sensor.objects.create(
        code="RG-NEW",
        name="新雨量站",
        type="rain",
        unit="mm",
        lon=113.31,
        lat=23.11,
        street=world["street"],
        district=world["tianhe"],
    )
    again = ing.ingest([("RG-NEW", t, 30.0, "mm")], source="t")
    assert again.stored == 1  # 30 mm in the hour: the 1-hour rule fires for it
    assert Alarm.objects.filter(sensor__code="RG-NEW", level="yellow").exists()


def test_restart_keeps_rolling_sums_and_active_alarms(world):
    t0 = services.now_ms() - 10 * MIN
    services.Ingestor().ingest([rain("RG-001", t0, 25)], source="t")
    again = services.Ingestor()  # a new worker process
    assert again.engine.window_sum(world["s1"].pk, 3600) == pytest.approx(25)
    again.ingest([rain("RG-001", t0 + MIN, 10)], source="t")
    a = Alarm.objects.get()
    assert (a.state, a.level) == ("firing", "yellow")


def test_rollups_and_retention(world, t0):
    # start one minute past a whole hour, so the six readings fall in one hour
    # whatever time the test runs
    t0 = t0 - t0 % 3_600_000 + 60_000
    services.Ingestor().ingest([rain("RG-001", t0 + i * 20_000, 1) for i in range(6)], source="t")
    services.rollup(t0, t0 + 3 * MIN)
    minutes = list(
        Rollup.objects.filter(period="minute").order_by("start_ms").values_list("count", "total")
    )
    assert sum(c for c, _ in minutes) == 6 and sum(t for _, t in minutes) == pytest.approx(6)
    assert Rollup.objects.get(period="hour").count == 6
    later = services._dt(t0) + dt.timedelta(days=31)
    done = services.apply_retention(later)
    assert Reading.objects.count() == 0
    # PostgreSQL drops the day's partition whole (rows not counted); SQLite deletes
    assert done["readings"] == 6 or len(done["reading_partitions_dropped"]) >= 1
    assert Rollup.objects.filter(period="hour").count() == 1


def test_batch_uses_one_bulk_write(world, t0):
    ing = services.Ingestor()
    with CaptureQueriesContext(connection) as ctx:
        ing.ingest([rain("RG-002", t0 + i * 1000, 0.0) for i in range(500)], source="t")
    inserts = [
        q
        for q in ctx.captured_queries
        if "monitoring_reading" in q["sql"] and q["sql"].startswith("INSERT")
    ]
    assert len(inserts) == 1
