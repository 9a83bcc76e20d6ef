"""Benchmark: the hazard ledger's first page under any combination of filters,
1,000,000 hazards, SQLite and PostgreSQL side by side (target p95 < 200 ms).

Each request draws district, industry (section, division or class), state (or
"open") and overdue, each on with probability ½, so every combination appears;
the page is fetched through the web view as the supervisor (who sees everything).
200 requests per database after 5 warm-ups (QUICK=1: a tenth of the data, 60).
Data and caching: see bench/_risk_bench.py.

    .venv/bin/python bench/bench_risk_list.py
    QUICK=1 .venv/bin/python bench/bench_risk_list.py

The last line is one JSON object: figure = the worse p95 of the two databases.
"""

from __future__ import annotations

import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _risk_bench  # noqa: E402
from _common import percentile  # noqa: E402

DISTRICTS = [
    "440103",
    "440104",
    "440105",
    "440106",
    "440111",
    "440112",
    "440113",
    "440114",
    "440115",
    "440117",
    "440118",
]
INDUSTRIES = ["C", "E", "F", "G", "26", "47", "2614", "5265"]
STATES = [
    "reported",
    "assigned",
    "rectifying",
    "submitted",
    "rejected",
    "accepted",
    "closed",
    "open",
]


def measure() -> dict:
    import _risk_data
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="supervisor"))
    rng = random.Random(2026)
    requests = 60 if _risk_bench.quick() else 200

    def params() -> dict:
        q = {}
        if rng.random() < 0.5:
            q["district"] = rng.choice(DISTRICTS)
        if rng.random() < 0.5:
            q["industry"] = rng.choice(INDUSTRIES)
        if rng.random() < 0.5:
            q["state"] = rng.choice(STATES)
        if rng.random() < 0.5:
            q["overdue"] = "1"
            q["as_of"] = _risk_data.AS_OF.isoformat()
        return q

    times = [
        _risk_bench.timed_get(client, "/risk/hazards/", params()) for _ in range(requests + 5)
    ][5:]
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "requests": requests,
    }


if __name__ == "__main__":
    sys.exit(
        _risk_bench.main(
            __file__,
            bench="risk_hazard_list",
            title="hazard list, first page, any filters",
            measure=measure,
            figure_key="p95_ms",
            unit="ms",
            target=200,
            keys=["p50_ms", "p95_ms"],
        )
    )
