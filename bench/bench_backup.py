"""Backup and restore of a grown database, and the cost of /healthz and /metrics,
on SQLite and on PostgreSQL side by side (docs/operations.md).

The database: migrated, 200 sensors and 1,000,000 readings (QUICK=1: 100,000)
plus a thousand audited rows. Timed: `yingji backup` (pg_dump -Fc on one snapshot
with every table counted, or SQLite's online backup), the archive's size, and
`yingji restore` into an empty database (checksums first, counts after); then
/healthz uncached (every check run) and cached (the 1 s cache: a probe storm),
and one /metrics scrape (the gauges read from the database), through Django's
test client in the worker's process.

Last line: one JSON object; figure = the slower database's backup + restore
seconds.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from _common import on_both_databases, percentile, quick, report

ROOT = Path(__file__).resolve().parents[1]
QUICK = quick()
READINGS = 100_000 if QUICK else 1_000_000
SENSORS = 200
PG_DATABASE = "bench_backup"


def worker() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yingji.settings")
    os.environ["YINGJI_DEMO_CHANNELS"] = "1"
    import django

    django.setup()
    import json

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import override_settings

    from yingji.core import backup, health
    from yingji.core.models import Department
    from yingji.monitoring import services
    from yingji.monitoring.models import Sensor

    call_command("migrate", verbosity=0, interactive=False)
    for i in range(1000):
        Department.objects.create(name=f"测试处{i:04d}")
    Sensor.objects.bulk_create(
        Sensor(code=f"B-{i:04d}", name=f"站{i}", type="rain", unit="mm", lon=113.3, lat=23.1)
        for i in range(SENSORS)
    )
    ids = list(Sensor.objects.values_list("pk", flat=True))
    t0 = services.now_ms() - 24 * 3600 * 1000
    chunk = 50_000
    for start in range(0, READINGS, chunk):
        rows = [
            (ids[n % SENSORS], t0 + (n // SENSORS) * 1000, float(n % 97))
            for n in range(start, min(READINGS, start + chunk))
        ]
        with transaction.atomic():
            services.store_readings(rows)
    vendor = connection.vendor
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as tmp:
        tmp = Path(tmp)
        began = time.perf_counter()
        result = backup.create(tmp / "backups", say=lambda s: None)
        backup_s = time.perf_counter() - began
        size_mb = result.path.stat().st_size / 1e6
        if vendor == "postgresql":
            import psycopg

            db = connection.settings_dict
            target_name = f"{db['NAME']}_restored"
            with psycopg.connect(
                dbname="postgres", host=db["HOST"], port=db["PORT"], user=db["USER"],
                autocommit=True,
            ) as admin:  # fmt: skip
                admin.execute(f'DROP DATABASE IF EXISTS "{target_name}"')
                admin.execute(f'CREATE DATABASE "{target_name}"')
            target = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{target_name}"
        else:
            target = f"sqlite:///{tmp / 'restored.sqlite3'}"
        began = time.perf_counter()
        restored = backup.restore(result.path, target_url=target, files=False, say=lambda s: None)
        restore_s = time.perf_counter() - began
        assert not restored.problems, restored.problems
        if vendor == "postgresql":
            with psycopg.connect(
                dbname="postgres", host=db["HOST"], port=db["PORT"], user=db["USER"],
                autocommit=True,
            ) as admin:  # fmt: skip
                admin.execute(f'DROP DATABASE IF EXISTS "{target_name}" WITH (FORCE)')

    client = Client()
    with override_settings(YINGJI_HEALTH_CACHE_SECONDS=0):
        uncached = []
        for _ in range(200):
            began = time.perf_counter()
            assert client.get("/healthz").status_code == 200
            uncached.append((time.perf_counter() - began) * 1000)
    health.clear_cache()
    with override_settings(YINGJI_HEALTH_CACHE_SECONDS=1):
        n, began = 0, time.perf_counter()
        while time.perf_counter() - began < 2.0:
            client.get("/healthz")
            n += 1
        cached_rps = n / (time.perf_counter() - began)
    scrapes = []
    for _ in range(30):
        began = time.perf_counter()
        assert client.get("/metrics").status_code == 200
        scrapes.append((time.perf_counter() - began) * 1000)
    print(
        json.dumps(
            {
                "backup_s": round(backup_s, 2),
                "restore_s": round(restore_s, 2),
                "archive_mb": round(size_mb, 1),
                "readings": READINGS,
                "healthz_uncached_p50_ms": round(percentile(uncached, 50), 2),
                "healthz_cached_rps": round(cached_rps),
                "metrics_scrape_p50_ms": round(percentile(scrapes, 50), 2),
            }
        ),
        flush=True,
    )


def main() -> None:
    results = on_both_databases(__file__, PG_DATABASE, timeout=1800)
    total = {engine: round(r["backup_s"] + r["restore_s"], 2) for engine, r in results.items()}
    report(
        "bench_backup",
        max(total.values()),
        unit=f"s to back up and restore {READINGS:,} readings (the slower database)",
        target=None,
        load_average=round(os.getloadavg()[0], 2),
        **{f"{engine}_{k}": v for engine, r in results.items() for k, v in r.items()},
    )


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker()
    else:
        main()
