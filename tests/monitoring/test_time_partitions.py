"""Readings and minute rollups in time partitions (PostgreSQL): retention drops
whole days, a replay or import of past days gets its own partitions (rows that
waited in DEFAULT move in), `yingji partitions` and the hourly job create ahead.
On SQLite the same calls keep the plain table: the rows assertions hold there too."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import connection

from yingji.core import partitioning, partitionplan
from yingji.monitoring import sensorimport, services, timeparts
from yingji.monitoring.models import Reading, Rollup

DAY = 86_400_000
PG = connection.vendor == "postgresql"


def _midday(days_ago: int) -> int:
    """12:00 UTC of the day `days_ago` before today (well inside its partition)."""
    today = services.now_ms() // DAY * DAY
    return today - days_ago * DAY + DAY // 2


def _name(ts: int, table: str = timeparts.READINGS) -> str:
    d = dt.datetime.fromtimestamp(ts / 1000, dt.UTC).date()
    period = partitionplan.DAY if table == timeparts.READINGS else partitionplan.MONTH
    return partitionplan.name_for(table, d, period)


def _partitions(table: str = timeparts.READINGS) -> set[str]:
    return {e.name for e in partitioning.existing(table)} if PG else set()


def _homes(table: str = "monitoring_reading", column: str = "ts_ms") -> dict[int, str]:
    """Each stored row's key → the partition holding it (PostgreSQL)."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT {column}, tableoid::regclass::text FROM {table}")
        return dict(cur.fetchall())


def _drop(ts: int) -> None:
    """Take a day's partition away, as if the hourly job had not made it yet."""
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE {_name(ts)}")


def test_the_window_of_partitions_exists_after_migrating(db):
    if not PG:
        assert not partitioning.enabled(timeparts.READINGS)
        return
    now = services.now_ms()
    parts = _partitions()
    assert {_name(now), _name(now + 7 * DAY), _name(now - 29 * DAY)} <= parts
    assert "monitoring_reading_default" in parts
    assert _name(now, timeparts.MINUTE_ROLLUPS) in _partitions(timeparts.MINUTE_ROLLUPS)


def test_retention_drops_whole_days_and_deletes_only_in_default(world):
    s = world["s1"].pk
    ages = [40, 29, 26, 1, 0]  # days; 40 is older than any partition: it waits in DEFAULT
    services.store_readings([(s, _midday(d), float(d)) for d in ages])
    before = _partitions()
    if PG:
        homes = _homes()
        assert homes[_midday(40)] == "monitoring_reading_default"
        assert homes[_midday(29)] == _name(_midday(29))
    # two days on, the 30 days kept end at 12:00+ of the day 28 days back
    done = services.apply_retention(services._dt(services.now_ms() + 2 * DAY))
    kept = sorted(Reading.objects.values_list("value", flat=True))
    assert kept == [0.0, 1.0, 26.0]
    if PG:
        after = _partitions()
        gone = {_name(_midday(30)), _name(_midday(29))}
        assert before - after == gone and set(done["reading_partitions_dropped"]) == gone
        assert _name(_midday(28)) in after  # straddles the cut: kept whole for now
        assert done["readings"] == 1  # the one row in DEFAULT, deleted row by row
    else:
        assert done["readings"] == 2


def test_minute_rollups_go_by_month_hour_rollups_stay(world):
    s = world["s1"]
    old, recent = _midday(150), _midday(5)
    for period, start in (("minute", old), ("minute", recent), ("hour", old)):
        Rollup.objects.create(
            sensor=s, period=period, start_ms=start, count=1, total=1, minimum=1, maximum=1
        )
    if PG:
        assert _homes("monitoring_rollup_minute", "start_ms")[old] == _name(
            old, timeparts.MINUTE_ROLLUPS
        )
        assert set(_homes("monitoring_rollup_hour", "start_ms")) == {old}
    later = services._dt(services.now_ms() + 60 * DAY)  # 150 + 60 days: past 180
    done = services.apply_retention(later)
    left = set(Rollup.objects.values_list("period", "start_ms"))
    assert left == {("minute", recent), ("hour", old)}
    if PG:
        assert _name(old, timeparts.MINUTE_ROLLUPS) in done["minute_partitions_dropped"]


def test_a_replay_of_a_past_day_gets_its_partition_and_default_rows_move_in(world, tmp_path):
    s = world["s1"]
    t = _midday(10)
    if PG:
        _drop(t)
    services.store_readings([(s.pk, t, 1.0)])  # arrives while the day has no partition
    if PG:
        assert _homes()[t] == "monitoring_reading_default"
    rows = [("RG-001", t + i * 60_000, 0.5, "mm") for i in range(1, 6)]
    stats = services.replay_history(rows)
    assert stats.stored == 5 and Reading.objects.count() == 6
    if PG:
        homes = _homes()
        assert set(homes.values()) == {_name(t)}  # the early row moved in, none in DEFAULT
        assert _name(t) in _partitions()


def test_an_import_across_days_without_partitions_keeps_streaming(world, tmp_path, monkeypatch):
    """Batches of 2, chunks of 4: a batch reaching a day with no partition ends the
    COPY, the partition is made and a new COPY goes on; a chunk meeting a duplicate
    falls back to staging and its days are covered there too."""
    monkeypatch.setattr(sensorimport, "BATCH", 2)
    days = [6, 5, 4]
    if PG:
        for d in days[1:]:
            _drop(_midday(d))
    times = [_midday(d) + i * 60_000 for d in days for i in range(3)]
    lines = [f"RG-001,{t},1.0,mm\n" for t in times] + [f"RG-001,{times[4]},1.0,mm\n"]
    path = tmp_path / "r.csv"
    path.write_text("sensor,ts,value,unit\n" + "".join(lines), encoding="utf-8")
    r = sensorimport.import_readings(path, chunk=4)
    assert (r.stored, r.duplicates) == (9, 1)
    assert sorted(Reading.objects.values_list("ts_ms", flat=True)) == times
    if PG:
        homes = _homes()
        assert {homes[t] for t in times} == {_name(_midday(d)) for d in days}


def test_the_command_and_the_hourly_job_create_ahead(db):
    out = io.StringIO()
    if not PG:
        call_command("partitions", stdout=out)
        assert "不是 PostgreSQL" in out.getvalue()
        return
    ahead = _midday(-3)
    _drop(ahead)
    call_command("partitions", "--dry-run", stdout=out)
    assert f"将创建 {_name(ahead)}" in out.getvalue() and _name(ahead) not in _partitions()
    assert "monitoring_reading_default" in out.getvalue()
    from yingji.core import tasks

    tasks.create_partitions.call_local()
    assert _name(ahead) in _partitions()
    out = io.StringIO()
    call_command("partitions", "--ahead", "9", stdout=out)
    assert f"已创建 {_name(_midday(-9))}" in out.getvalue()
    assert f"{_name(_midday(-10))}" not in out.getvalue()
    with pytest.raises(Exception, match="--ahead 不能为负"):
        call_command("partitions", "--ahead", "-1")


def test_a_partition_another_process_made_meanwhile_is_no_error(db):
    """Two queue consumers both run the hourly job: the second finds it made."""
    if not PG:
        assert partitioning.maintain() == []
        return
    spec = partitioning.spec(timeparts.READINGS)
    now = services.now_ms()
    stale = [e for e in partitioning.existing(spec.table) if e.name != _name(now)]
    assert partitioning.create(spec, partitionplan.ranges(spec, now, now), stale) == []
    assert _name(now) in _partitions()


def test_the_job_gives_way_to_a_long_writer_and_makes_the_partition_next_run(db):
    """A waiting ACCESS EXCLUSIVE request would queue every writer behind it: the
    job waits LOCK_TIMEOUT_MS, skips, and makes the partition when it runs again."""
    if not PG:
        assert partitioning.maintain() == []
        return
    import time

    import psycopg

    beyond = _midday(-8)  # one day past the window: the job is asked for it below
    params = {
        k: v
        for k, v in connection.get_connection_params().items()
        if k in ("dbname", "user", "host", "port", "password")
    }
    with psycopg.connect(**params) as other:  # a long import's transaction
        other.execute("LOCK TABLE monitoring_reading IN ROW EXCLUSIVE MODE")
        started = time.monotonic()
        partitioning.maintain(ahead=8)
        assert time.monotonic() - started < 30
        assert _name(beyond) not in _partitions()
        other.rollback()
    partitioning.maintain(ahead=8)
    assert _name(beyond) in _partitions()
