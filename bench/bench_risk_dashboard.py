"""Benchmark: the risk dashboard (grades, hazard states, overdue, 双下降 by
district, industry and month), 1,000,000 hazards and 20,000 accidents, SQLite
and PostgreSQL side by side (target p95 < 500 ms).

`/risk/` is fetched as the supervisor with `as_of` drawn over the 300 days before
the data's "today", 40 requests per database after 3 warm-ups (QUICK=1: a tenth
of the data, 15). Data and caching: see bench/_risk_bench.py.

    .venv/bin/python bench/bench_risk_dashboard.py
    QUICK=1 .venv/bin/python bench/bench_risk_dashboard.py

The last line is one JSON object: figure = the worse p95 of the two databases.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _risk_bench  # noqa: E402
from _common import percentile  # noqa: E402


def measure() -> dict:
    import _risk_data
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="supervisor"))
    rng = random.Random(2026)
    requests = 15 if _risk_bench.quick() else 40

    def params() -> dict:
        return {"as_of": (_risk_data.AS_OF - dt.timedelta(days=rng.randrange(300))).isoformat()}

    times = [_risk_bench.timed_get(client, "/risk/", params()) for _ in range(requests + 3)][3:]
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "requests": requests,
    }


if __name__ == "__main__":
    sys.exit(
        _risk_bench.main(
            __file__,
            bench="risk_dashboard",
            title="dashboard and 双下降 figures",
            measure=measure,
            figure_key="p95_ms",
            unit="ms",
            target=500,
            keys=["p50_ms", "p95_ms"],
        )
    )
