"""Retention of raw readings on PostgreSQL, side by side in one run: partitions
dropped (the readings table partitioned by day, migration monitoring 0007) against
the row-by-row DELETE the plain table needs (the same database migrated back to
0006). Both go through `services.apply_retention`, on the same readings: 8 days of
one reading a minute from 400 sensors (up to 4.6 million rows; QUICK=1: 60 sensors,
0.7 million), the four oldest days past retention.

A DELETE leaves every removed row behind as a dead tuple until VACUUM: that VACUUM
is timed too (`delete_vacuum_s`), since a table that is deleted from daily needs
it; a dropped partition leaves nothing.

Runs in a subprocess on a throw-away PostgreSQL database bench_reading_retention
(BENCH_PG_SERVER, default postgres://postgres@127.0.0.1:5432/, dropped afterwards).

Last line: one JSON object; figure = seconds to drop, baseline = the DELETE,
ratio = figure / baseline (lower is better).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import pg_database, pg_problem, quick, report, run_worker, worker_env

ROOT = Path(__file__).resolve().parents[1]
QUICK = quick()
SENSORS = 60 if QUICK else 400
DAYS = 8
STEP_MS = 60_000
DAY = 86_400_000
PG_DATABASE = "bench_reading_retention"


def worker() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yingji.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from yingji.core import partitioning
    from yingji.monitoring import services, timeparts
    from yingji.monitoring.models import Sensor

    t = time.perf_counter()
    for app in ("contenttypes", "auth", "core", "monitoring"):
        call_command("migrate", app, verbosity=0, interactive=False)
    print(f"    migrated in {time.perf_counter() - t:.1f} s", flush=True)
    Sensor.objects.bulk_create(
        Sensor(code=f"B{i:04d}", name=f"站{i}", type="rain", unit="mm", lon=113.3, lat=23.1)
        for i in range(SENSORS)
    )
    now = services.now_ms()
    today = now // DAY * DAY
    first = today - (DAYS - 1) * DAY  # days 7 … 0 back, today's up to now
    # Retention as if it ran 27 days from now at 00:00 UTC: the cut (30 days kept)
    # falls at the start of the day 3 back, so the days 7 … 4 back go, whole.
    # (Off midnight, the straddling day would wait for the next run; the DELETE
    # would take its part the same night: the two would not remove the same rows.)
    at = services._dt(today + 27 * DAY)
    cut = today - 3 * DAY
    # The empty partitions of the window before the first day (made at migrate)
    # are gone as earlier nightly runs would have dropped them.
    services.apply_retention(services._dt(first + 30 * DAY))

    def load() -> int:
        t = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("TRUNCATE monitoring_reading")
            cur.execute(
                "INSERT INTO monitoring_reading (sensor_id, ts_ms, value) "
                "SELECT s.id, t, (t / 60000 %% 97) / 10.0 FROM monitoring_sensor s "
                "CROSS JOIN generate_series(%s::bigint, %s::bigint, %s::bigint) t",
                [first, now, STEP_MS],
            )
            n = cur.rowcount
            cur.execute("ANALYZE monitoring_reading")
        print(f"    loaded {n:,} readings in {time.perf_counter() - t:.1f} s", flush=True)
        return n

    def remaining() -> int:
        with connection.cursor() as cur:
            cur.execute("SELECT count(*), min(ts_ms) FROM monitoring_reading")
            n, low = cur.fetchone()
        assert low >= cut, (low, cut)
        return n

    # 1. partitioned (as migrated): whole days dropped
    assert partitioning.enabled(timeparts.READINGS)
    rows = load()
    t = time.perf_counter()
    done = services.apply_retention(at)
    drop_s = time.perf_counter() - t
    dropped = len(done["reading_partitions_dropped"])
    kept_partitioned = remaining()
    print(
        f"    DROP: {dropped} partitions ({done['readings']:,} rows deleted in DEFAULT) "
        f"in {drop_s:.3f} s; {kept_partitioned:,} kept",
        flush=True,
    )

    # 2. the plain table (migrated back): DELETE, then the VACUUM it leaves owing
    call_command("migrate", "monitoring", "0006", verbosity=0, interactive=False)
    assert not partitioning.enabled(timeparts.READINGS)
    assert load() == rows
    t = time.perf_counter()
    done = services.apply_retention(at)
    delete_s = time.perf_counter() - t
    deleted = done["readings"]
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("VACUUM monitoring_reading")
    vacuum_s = time.perf_counter() - t
    kept_plain = remaining()
    print(
        f"    DELETE: {deleted:,} rows in {delete_s:.3f} s, then VACUUM {vacuum_s:.2f} s; "
        f"{kept_plain:,} kept",
        flush=True,
    )
    assert kept_plain == kept_partitioned
    print(
        json.dumps(
            {
                "readings": rows,
                "removed": rows - kept_plain,
                "partitions_dropped": dropped,
                "drop_s": round(drop_s, 4),
                "delete_s": round(delete_s, 3),
                "delete_vacuum_s": round(vacuum_s, 3),
            }
        )
    )


def main() -> None:
    problem = pg_problem()
    if problem is not None:  # partitions exist on PostgreSQL only
        print(f"PostgreSQL unavailable ({problem})", file=sys.stderr)
        raise SystemExit(1)
    with tempfile.TemporaryDirectory(prefix="bench-reading-retention-") as var:
        with pg_database(PG_DATABASE) as url:
            result = run_worker(__file__, worker_env(var, url), timeout=1800)
    if not result:
        raise SystemExit(1)
    report(
        "reading_retention",
        result["drop_s"],
        unit="s",
        target="retention by partition drop, faster than the DELETE (and no VACUUM owed)",
        baseline="DELETE of the same readings from the plain table",
        ratio=round(result["drop_s"] / result["delete_s"], 4),
        baseline_s=result["delete_s"],
        delete_vacuum_s=result["delete_vacuum_s"],
        readings=result["readings"],
        removed=result["removed"],
        partitions_dropped=result["partitions_dropped"],
        database="postgresql",
    )


if __name__ == "__main__":
    worker() if "--worker" in sys.argv else main()
