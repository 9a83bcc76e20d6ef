"""Benchmark: the plan board (挂图作战) and the task list, rendered on SQLite and
on PostgreSQL, side by side.

The issue's requirement: with 20 plans × 100 tasks and 50,000 progress reports,
both pages render with p95 under 150 ms on SQLite and on PostgreSQL.

Each database runs in its own subprocess (settings `yingji.settings`, its own
DATABASE_URL and a throw-away YINGJI_VAR_DIR) so the two configurations never mix:
SQLite in a file under a temporary directory, PostgreSQL in the database
`yingji_bench` on postgres://postgres@127.0.0.1:5432/ (BENCH_PG_SERVER to change;
dropped and created for the run, dropped afterwards). The worker migrates, builds the data set (bench/_data.py,
bulk_create with the audit log suspended), logs a supervisor in with Django's test
Client and GETs each page N times for random plans, random as_of dates in 2022 and
random department / status filters.

    .venv/bin/python bench/bench_board.py           # N=200, 20 plans, 50,000 reports
    QUICK=1 .venv/bin/python bench/bench_board.py   # N=50, 5 plans, 10,000 reports

PostgreSQL unreachable: said clearly, only SQLite is reported, and the exit status
is non-zero when CI=true. The last line is one JSON object; its figure is the
worst p95 over both pages and both databases.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    PG_SERVER,
    percentile,
    pg_database,
    pg_problem,
    quick,
    report,
    run_worker,
    worker_env,
)

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 150
PG_DATABASE = "yingji_bench"
PAGES = ("board", "tasks")


def _sizes(quick: bool) -> dict:
    if quick:
        return {"plans": 5, "reports": 10_000, "requests": 50}
    return {"plans": 20, "reports": 50_000, "requests": 200}


# ---------------------------------------------------------------- worker (one DB)


def worker() -> None:
    """Runs inside the subprocess: migrate, build, render, print one JSON line."""
    import django

    sys.path.insert(0, str(ROOT / "src"))
    django.setup()
    import _data  # bench/_data.py: the script's directory is on sys.path
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from yingji.workplan.models import Plan
    from yingji.workplan.status import Status

    sizes = _sizes(quick())
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrated = time.perf_counter() - started
    started = time.perf_counter()
    counts = _data.build(_data.Spec(plans=sizes["plans"], reports=sizes["reports"]))
    built = time.perf_counter() - started
    print(
        f"  [{connection.vendor}] migrate {migrated:.1f} s, data {built:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
        flush=True,
    )

    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username="supervisor"))
    plan_ids = list(Plan.objects.filter(source_name="synthetic").values_list("pk", flat=True))
    rng = random.Random(20221016)
    statuses = [s.value for s in Status]

    def params() -> dict:
        day = dt.date(_data.YEAR, 1, 1) + dt.timedelta(days=rng.randrange(365))
        q = {"as_of": day.isoformat()}
        if rng.random() < 0.3:
            q["department"] = rng.choice(_data.DEPARTMENTS)
        if rng.random() < 0.2:
            q["status"] = rng.choice(statuses)
        return q

    def get(page: str, plan_id: int, query: dict) -> float:
        url = reverse(f"workplan:{page}", args=[plan_id])
        t0 = time.perf_counter()
        response = client.get(url, query)
        elapsed = (time.perf_counter() - t0) * 1000
        if response.status_code != 200:
            raise SystemExit(f"GET {url} {query} → {response.status_code}")
        return elapsed

    def count_queries(page: str, plan_id: int) -> int:
        """Queries of one request (the test Client resets connection.queries at
        each request, so they are counted with an execute wrapper)."""
        executed = []

        def wrapper(execute, sql, params, many, context):
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(wrapper):
            get(page, plan_id, {"as_of": f"{_data.YEAR}-12-31"})
        return len(executed)

    for page in PAGES:  # warm up: templates, URL resolver, connection
        for _ in range(5):
            get(page, rng.choice(plan_ids), params())

    results = {}
    for page in PAGES:
        queries = count_queries(page, plan_ids[0])
        times = [get(page, rng.choice(plan_ids), params()) for _ in range(sizes["requests"])]
        results[page] = {
            "n": len(times),
            "p50": round(statistics.median(times), 1),
            "p95": round(percentile(times, 95), 1),
            "max": round(max(times), 1),
            "queries": queries,
        }
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "pages": results,
                "counts": counts,
                "build_seconds": round(built, 1),
            }
        ),
        flush=True,
    )


# ---------------------------------------------------------------- driver


def _run_worker(label: str, database_url: str) -> dict | None:
    """The worker on one database ("{tmp}" in the URL: its throw-away directory)."""
    with tempfile.TemporaryDirectory(prefix=f"yingji-bench-{label}-") as tmp:
        env = worker_env(tmp, database_url.replace("{tmp}", tmp))
        return run_worker(Path(__file__).resolve(), env, cwd=tmp, label=f"{label}: worker") or None


def main() -> int:
    sizes = _sizes(quick())
    print(
        f"board_render: {sizes['plans']} plans × 100 tasks, {sizes['reports']:,} reports, "
        f"N={sizes['requests']} per page and database{' (QUICK)' if quick() else ''}",
        flush=True,
    )
    results: dict[str, dict | None] = {}

    started = time.perf_counter()
    results["sqlite"] = _run_worker("sqlite", "sqlite:///{tmp}/bench.sqlite3")
    print(f"  SQLite run: {time.perf_counter() - started:.1f} s", flush=True)

    problem = pg_problem()
    if problem is None:
        started = time.perf_counter()
        with pg_database(PG_DATABASE) as url:
            results["postgresql"] = _run_worker("postgresql", url)
        print(f"  PostgreSQL run: {time.perf_counter() - started:.1f} s", flush=True)
    else:
        print(
            f"PostgreSQL UNREACHABLE at {PG_SERVER} ({problem}): reporting SQLite only", flush=True
        )
        results["postgresql"] = None

    print()
    print(
        f"{'page':<8}{'database':<12}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'queries':>9}"
    )
    worst: dict[str, float | None] = {}
    for db in ("sqlite", "postgresql"):
        res = results.get(db)
        worst[db] = max(res["pages"][p]["p95"] for p in PAGES) if res else None
        for page in PAGES:
            if res is None:
                print(f"{page:<8}{db:<12}{'—':>5}")
                continue
            r = res["pages"][page]
            print(
                f"{page:<8}{db:<12}{r['n']:>5}{r['p50']:>9.1f}{r['p95']:>9.1f}"
                f"{r['max']:>9.1f}{r['queries']:>9}"
            )
    figures = [v for v in worst.values() if v is not None]
    figure = max(figures) if figures else None
    if figure is not None:
        verdict = "meets" if figure < TARGET_MS else "MISSES"
        print(f"worst p95 {figure:.1f} ms {verdict} the {TARGET_MS} ms target")

    failed = results["sqlite"] is None or (problem is None and results["postgresql"] is None)
    report(
        "board_render",
        figure,
        unit="ms",
        target=TARGET_MS,
        sqlite_p95_ms=worst["sqlite"],
        postgresql_p95_ms=worst["postgresql"],
    )
    if failed:
        return 1
    if problem is not None and os.environ.get("CI") == "true":
        return 1
    return 0


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker()
    else:
        sys.exit(main())
