"""Benchmark: the duty desk page with 1,000 open items (target p95 < 200 ms).

SQLite in a temporary directory with the real settings. Open items: 100 newly
registered incidents, 100 open desk items from alarms and alerts, and 50
responding incidents whose activations left 16 open action cards each (800,
half of them overdue) — 1,000 in all. A duty officer GETs /response/ N times
with Django's test client (full middleware, template rendering).

    .venv/bin/python bench/bench_response_desk.py          # N=200
    QUICK=1 .venv/bin/python bench/bench_response_desk.py  # N=40
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

from _common import percentile, quick, report
from _response_setup import departments_with_people, duty_officer, plan_with_cards, setup_django

TARGET_MS = 200.0


def main() -> None:
    n = 40 if quick() else 200
    setup_django()
    from django.test import Client
    from django.utils import timezone

    from yingji.core import audit, outbox
    from yingji.response import services
    from yingji.response.models import DeskItem, Incident

    depts = departments_with_people(16)
    plan = plan_with_cards(depts)
    duty = duty_officer()
    now = timezone.now()
    with audit.suspended(), outbox.held():
        for i in range(100):
            services.register_incident(
                services.IncidentInput(title=f"新接报{i}", incident_type="火灾", occurred_at=now),
                user=duty,
            )
        DeskItem.objects.bulk_create(
            [
                DeskItem(
                    source="alarm" if i % 2 else "alert",
                    source_ref=str(i),
                    hazard="暴雨",
                    level="red",
                    title=f"报警{i}",
                    proposals=[{"plan_id": plan.pk, "plan": plan.title, "level": "II", "why": ""}],
                )
                for i in range(100)
            ]
        )
        for i in range(50):
            inc = services.register_incident(
                services.IncidentInput(title=f"响应中{i}", incident_type="暴雨", occurred_at=now),
                user=duty,
            )
            # half issued long ago (overdue), half just now
            at = now - dt.timedelta(hours=2) if i % 2 else now
            services.activate(plan, inc, "II", user=duty, at=at)
    items = (
        Incident.objects.filter(status="registered").count()
        + DeskItem.objects.filter(status="open").count()
        + services.duty_desk()["counts"]["unacknowledged"]
    )
    client = Client()
    client.force_login(duty)
    client.get("/response/")  # warm caches (templates, content types)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get("/response/")
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200
    p95 = percentile(times, 95)
    print(f"open items {items}, requests {n}, page {len(r.content) // 1024} KiB")
    print(f"p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms (target {TARGET_MS:.0f} ms)")
    report("response_duty_desk_1000_open", round(p95, 2), unit="ms", target=TARGET_MS)


if __name__ == "__main__":
    main()
