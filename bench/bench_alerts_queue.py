"""Queueing an alert's deliveries: 1,000,000 rows of the delivery ledger (one per recipient per
channel, idempotent) for 500,000 subscribers on two channels, on SQLite and on
PostgreSQL side by side (QUICK=1: 100,000 rows). Each database runs in its own
subprocess with a throw-away database (SQLite file in a temporary directory;
PostgreSQL database bench_alerts_queue on BENCH_PG_SERVER, default
postgres://postgres@127.0.0.1:5432/, dropped afterwards). Queueing again is
timed too: it must add nothing.

Last line: one JSON object; figure = the slower database's seconds for all rows.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from _common import on_both_databases, quick, report

ROOT = Path(__file__).resolve().parents[1]
QUICK = quick()
ROWS = 100_000 if QUICK else 1_000_000
PG_DATABASE = "bench_alerts_queue"


def worker() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yingji.settings")
    import django

    django.setup()
    import numpy as np
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from yingji.alerts import services
    from yingji.alerts.models import Alert, Subscriber
    from yingji.core import audit

    call_command("migrate", "alerts", verbosity=0, interactive=False)  # and what it needs
    people = ROWS // 2
    now = timezone.now()
    with connection.cursor() as cursor:  # raw inserts: the set-up is not what is measured
        cursor.executemany(
            "INSERT INTO alerts_subscriber (external_id, name, phone, email, webhook_url, "
            "language, channels, opted_out, updated_at) VALUES (%s,%s,%s,%s,'','zh-CN','[]',"
            "%s,%s)",
            [
                (f"Q{i:07d}", f"订阅人{i}", f"86139{i:08d}", f"p{i}@example.org", False, now)
                for i in range(people)
            ],
        )
    with audit.suspended():
        alert = Alert.objects.create(
            identifier="BENCH-1",
            sender="bench",
            hazard="rainstorm",
            colour="red",
            event="暴雨红色预警",
            headline="暴雨红色预警",
            description="bench",
            channels=["sms", "email"],
            state="published",
        )
    ids = np.fromiter(Subscriber.objects.values_list("id", flat=True), dtype=np.int64)
    started = time.perf_counter()
    created = services.queue_deliveries(alert, ids)
    first = time.perf_counter() - started
    count = alert.deliveries.count()
    started = time.perf_counter()
    services.queue_deliveries(alert, ids)
    again = time.perf_counter() - started
    assert alert.deliveries.count() == count == ROWS, (count, created)
    print(json.dumps({"rows": count, "seconds": round(first, 2), "again_seconds": round(again, 2)}))


def main() -> None:
    results = on_both_databases(__file__, PG_DATABASE, timeout=1800)
    worst = max(r["seconds"] for r in results.values())
    report(
        "alerts_queue_deliveries",
        worst,
        unit="s",
        target=f"< 60 s for {ROWS:,} deliveries",
        **{db: r["seconds"] for db, r in results.items()},
    )


if __name__ == "__main__":
    worker() if "--worker" in sys.argv else main()
