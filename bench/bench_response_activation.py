"""Benchmark: activating a plan that sends action cards to 60 departments —
from the click to every message queued (target < 1 s).

SQLite in a temporary directory with the real settings: `services.activate`
creates the activation and 60 cards, audits them, writes the outbox rows (each
department's mailbox and its member: 120 notifications) and, on commit, puts one
delivery job per notification on the Huey queue. Each run uses a new incident.

    .venv/bin/python bench/bench_response_activation.py          # 20 activations
    QUICK=1 .venv/bin/python bench/bench_response_activation.py  # 5 activations
"""

from __future__ import annotations

import statistics
import time

from _common import quick, report
from _response_setup import departments_with_people, duty_officer, plan_with_cards, setup_django

TARGET_S = 1.0
DEPARTMENTS = 60


def main() -> None:
    runs = 5 if quick() else 20
    setup_django()
    from django.utils import timezone

    from yingji.core.models import Notification
    from yingji.response import services

    depts = departments_with_people(DEPARTMENTS)
    plan = plan_with_cards(depts)
    duty = duty_officer()
    times = []
    for i in range(runs):
        incident = services.register_incident(
            services.IncidentInput(
                title=f"基准事件{i}", incident_type="暴雨", occurred_at=timezone.now()
            ),
            user=duty,
        )
        before = Notification.objects.count()
        t0 = time.perf_counter()
        act = services.activate(plan, incident, "II", user=duty)
        times.append(time.perf_counter() - t0)
        queued = Notification.objects.count() - before
        if act.cards.count() != DEPARTMENTS or queued != 2 * DEPARTMENTS:
            raise SystemExit(f"run {i}: {act.cards.count()} cards, {queued} notifications")
    worst = max(times)
    print(f"{runs} activations × {DEPARTMENTS} departments ({2 * DEPARTMENTS} notifications each)")
    print(
        f"median {statistics.median(times) * 1000:.0f} ms, max {worst * 1000:.0f} ms (target {TARGET_S * 1000:.0f} ms)"
    )
    report("response_activation_60_departments", round(worst, 4), unit="s", target=TARGET_S)


if __name__ == "__main__":
    main()
