"""Benchmark: the workbench (工作台, GET /) of a 局领导 with 500 items waiting across
six modules, on SQLite and on PostgreSQL (target p95 < 150 ms).

The city (bench/_workbench_data.py): Guangzhou's region pack (boundaries
included — no source may read them: every query of a request is checked) and
the department register, the monitoring demo network, and data relative to the
moment of the run. One leader waits for 500 items of eleven sources — pauses to
approve and escalated notices (workplan), listed hazards (risk), firing alarms
(monitoring), warnings to approve and own drafts (alerts), desk items,
incidents awaiting a plan and drills (response), cases to decide and look-backs
to close (enforcement) — verified with `workbench.collect(ctx)` per source
before timing, and on the page itself. Beside them, 10 times as many rows of
the same tables wait for nobody (decided, answered, closed, someone else's), and
the year's progress reports, accidents and events the leader's figures count.

Each database runs in its own subprocess (`--worker`: its own DATABASE_URL and
YINGJI_VAR_DIR): SQLite in a temporary file, PostgreSQL in a throw-away
database of the run's own (`yingji_bench_workbench_<pid>` on BENCH_PG_SERVER,
dropped afterwards). The schema is created from the models (as pytest's
--nomigrations: replaying the migrations costs 30–60 s of Python per database on
a 2-core machine, more than QUICK's whole budget); BENCH_MIGRATE=1 runs the
migrations instead. The leader GETs `/` N times with Django's test Client (full
middleware, context processors and template rendering; warmed once), then the
menu's badges `/workbench/badges/` and the leader's figures `/workbench/figures/`
(both htmx fragments, loaded after the page) N times each. `BENCH_PROFILE=1` adds
where one page's time goes (`BENCH_SORT=tottime` for functions by their own time)
and the page's slowest queries.

    .venv/bin/python bench/bench_workbench.py           # N=200 per page and database
    QUICK=1 .venv/bin/python bench/bench_workbench.py   # N=25 (same data), under 60 s
    BENCH_PROFILE=1 …                                    # + where one page's time goes

PostgreSQL unreachable: said, and only SQLite is reported (an error under
CI=true). The last line is one JSON object; its figure is the worse p95 of `/`
over the two databases, with p50, the badges' p95, the queries of one request,
the items and the load average beside it.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

from _common import on_both_databases, percentile, quick, report

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 150
PG_DATABASE = f"yingji_bench_workbench_{os.getpid()}"
BACKGROUND = 10  # rows waiting for nobody, per waiting item


def _requests() -> int:
    return 25 if quick() else 200


# ---------------------------------------------------------------- worker (one database)


def _schema() -> None:
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command

    if os.environ.get("BENCH_MIGRATE") == "1":
        call_command("migrate", verbosity=0, interactive=False)
        return
    settings.MIGRATION_MODULES = {a.label: None for a in apps.get_app_configs()}
    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)


class _Queries:
    """The SQL of what runs inside (the test Client resets connection.queries)."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.sql.append(sql)
        return execute(sql, params, many, context)


def _profile(get, n: int = 20) -> None:
    """Where the time of `n` pages goes: the top functions by cumulative time."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        get("/")
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats(
        os.environ.get("BENCH_SORT", "cumulative")
    )
    stats.print_stats(
        *([] if os.environ.get("BENCH_SORT") else [r"yingji|django/(template|db/models/sql)"]), 40
    )
    for line in out.getvalue().splitlines():
        print(f"    {line}", flush=True)


def _slowest_queries(get, connection, n: int = 10) -> None:
    """The page's queries by their time (median of 10 pages), slowest first."""
    per_sql: dict[str, list[float]] = {}

    def timed(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            per_sql.setdefault(sql, []).append((time.perf_counter() - t0) * 1000)

    with connection.execute_wrapper(timed):
        for _ in range(n):
            get("/")
    ranked = sorted(per_sql.items(), key=lambda kv: -statistics.median(kv[1]))
    total = sum(statistics.median(t) for t in per_sql.values())
    print(f"    queries of one page: {total:.1f} ms in the database driver", flush=True)
    for sql, times in ranked[:12]:
        print(f"    {statistics.median(times):7.2f} ms  {sql[:160]}", flush=True)


def worker() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yingji.settings")
    import django

    django.setup()
    import _workbench_data as data
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from yingji.core import workbench
    from yingji.core.scope import scope_for

    started = time.perf_counter()
    _schema()
    schema_s = time.perf_counter() - started
    started = time.perf_counter()
    city = data.build(timezone.localtime(), background=BACKGROUND)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    built_s = time.perf_counter() - started
    print(
        f"  [{connection.vendor}] schema {schema_s:.1f} s, data {built_s:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in city.counts.items()),
        flush=True,
    )

    leader = city.leader
    ctx = workbench.Context(
        user=leader, scope=scope_for(leader), now=timezone.localtime(), profile=leader.profile
    )
    collected = workbench.collect(ctx)
    if collected.errors:
        raise SystemExit(f"workbench sources failed: {collected.errors}")
    counts = {k: n for k, n in collected.counts.items() if n}
    if counts != data.WAITING:
        raise SystemExit(f"the leader waits for {counts}, not {data.WAITING}")
    modules = sorted({k.split(".")[0] for k in counts})
    items = collected.total

    client = Client()
    client.force_login(leader)

    def get(url: str):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} → {response.status_code}")
        return response

    page = get("/").content.decode()  # warm: templates, URL resolver, connection
    shown = re.search(r'待办事项 <span class="count">(\d+)</span>', page)
    if not shown or int(shown.group(1)) != items:
        raise SystemExit(f"the page does not say {items} items waiting")
    badges = get("/workbench/badges/").content.decode()
    badge_total = sum(int(n) for n in re.findall(r'id="badge-[a-z]+"[^>]*>(\d+)<', badges))
    if badge_total != items:
        raise SystemExit(f"the badges add up to {badge_total}, not {items}")

    shown_figures = get("/workbench/figures/").content.decode()
    if "任务完成" not in shown_figures or 'hx-get="/workbench/figures/"' not in page:
        raise SystemExit("the page does not load the leader's figures")

    urls = (("page", "/"), ("badges", "/workbench/badges/"), ("figures", "/workbench/figures/"))
    queries = {}
    for name, url in urls:
        seen = _Queries()
        with connection.execute_wrapper(seen):
            get(url)
        boundary = [q for q in seen.sql if "boundary" in q]
        if boundary:
            raise SystemExit(f"GET {url} reads region boundaries: {boundary[0][:300]}")
        queries[name] = len(seen.sql)

    n = _requests()
    timings, cpu = {}, []
    for name, url in urls:
        times = []
        for _ in range(n):
            t0, c0 = time.perf_counter(), time.process_time()
            get(url)
            times.append((time.perf_counter() - t0) * 1000)
            if name == "page":
                cpu.append((time.process_time() - c0) * 1000)
        timings[name] = times
    if os.environ.get("BENCH_PROFILE") == "1":
        print(f"  [{connection.vendor}] profile of 20 pages:", flush=True)
        _profile(get)
        _slowest_queries(get, connection)

    page_t, badge_t, figure_t = timings["page"], timings["badges"], timings["figures"]
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "n": n,
                "p50": round(statistics.median(page_t), 1),
                "p95": round(percentile(page_t, 95), 1),
                "max": round(max(page_t), 1),
                # this process's CPU time per page: all of it on SQLite, the
                # database's own excluded on PostgreSQL; less sensitive to the
                # other processes of a shared machine than the wall clock
                "cpu_p50": round(statistics.median(cpu), 1),
                "cpu_p95": round(percentile(cpu, 95), 1),
                "badges_p50": round(statistics.median(badge_t), 1),
                "badges_p95": round(percentile(badge_t, 95), 1),
                "queries": queries["page"],
                "badges_queries": queries["badges"],
                "figures_p50": round(statistics.median(figure_t), 1),
                "figures_p95": round(percentile(figure_t, 95), 1),
                "figures_queries": queries["figures"],
                "items": items,
                "modules": modules,
                "page_kib": len(page.encode()) // 1024,
                "build_seconds": round(schema_s + built_s, 1),
            }
        ),
        flush=True,
    )


# ---------------------------------------------------------------- driver


def main() -> int:
    started = time.perf_counter()
    n = _requests()
    print(
        f"workbench: a 局领导 with 500 waiting items, {BACKGROUND}× background, "
        f"N={n} per page and database{' (QUICK)' if quick() else ''}",
        flush=True,
    )
    results = on_both_databases(__file__, PG_DATABASE, timeout=1800)
    load = os.getloadavg()
    print()
    print(
        f"{'database':<12}{'page p50':>10}{'page p95':>10}{'max':>9}{'cpu p95':>9}"
        f"{'queries':>9}{'badges p95':>12}{'queries':>9}{'figures p95':>13}{'queries':>9}"
    )
    for db, r in results.items():
        print(
            f"{db:<12}{r['p50']:>10.1f}{r['p95']:>10.1f}{r['max']:>9.1f}{r['cpu_p95']:>9.1f}"
            f"{r['queries']:>9}{r['badges_p95']:>12.1f}{r['badges_queries']:>9}"
            f"{r['figures_p95']:>13.1f}{r['figures_queries']:>9}"
        )
    worst_db = max(results, key=lambda db: results[db]["p95"])
    worst = results[worst_db]
    verdict = "meets" if worst["p95"] < TARGET_MS else "MISSES"
    print(
        f"worst p95 {worst['p95']:.1f} ms ({worst_db}) {verdict} the {TARGET_MS} ms target; "
        f"{worst['items']} items from {', '.join(worst['modules'])}; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores; "
        f"{time.perf_counter() - started:.0f} s in all",
        flush=True,
    )
    report(
        "workbench",
        worst["p95"],
        unit="ms",
        target=TARGET_MS,
        p50=worst["p50"],
        badges_p95=max(r["badges_p95"] for r in results.values()),
        items=worst["items"],
        queries=worst["queries"],
        badges_queries=worst["badges_queries"],
        figures_p95=max(r["figures_p95"] for r in results.values()),
        database=worst_db,
        **{f"{db}_p95": r["p95"] for db, r in results.items()},
        **{f"{db}_cpu_p95": r["cpu_p95"] for db, r in results.items()},
        **{f"{db}_badges_p95": r["badges_p95"] for db, r in results.items()},
        **{f"{db}_figures_p95": r["figures_p95"] for db, r in results.items()},
        load_average=round(load[0], 2),
    )
    return 0


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker()
    else:
        sys.exit(main())
