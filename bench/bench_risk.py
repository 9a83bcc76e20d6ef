"""Benchmark: the risk registers at city scale, SQLite and PostgreSQL side by side.

The issue's targets, with 100,000 enterprises, 300,000 risk points, 1,000,000
hazards and 20,000 accidents over Guangzhou's streets:
- hazard list with any combination of district, industry, status and overdue
  filters, first page: p95 under 200 ms (the headline figure of this benchmark);
- dashboard and double-decrease figures: under 500 ms;
- quarterly report .docx: under 10 s;
- Excel import of 100,000 hazard rows: under 60 s, with progress shown.

Each database runs in its own subprocess with a throw-away YINGJI_VAR_DIR (SQLite
file there; PostgreSQL database `yingji_bench_risk`, dropped before and after).
QUICK=1 uses a tenth of the data (and 10,000 import rows).

    .venv/bin/python bench/bench_risk.py
    QUICK=1 .venv/bin/python bench/bench_risk.py

The last line is one JSON object: figure = worst hazard-list p95 over both
databases; the other three figures are in it as extra keys per database.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432/")
PG_DATABASE = "yingji_bench_risk"
TARGETS = {"list_p95_ms": 200, "dashboard_p95_ms": 500, "report_s": 10, "import_s": 60}


def _quick() -> bool:
    return os.environ.get("QUICK") == "1"


def _percentile(values: list[float], p: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def worker() -> None:
    import django

    sys.path.insert(0, str(ROOT / "src"))
    django.setup()
    import _risk_data
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from openpyxl import Workbook

    from yingji.risk import ledger, reports
    from yingji.risk.models import Enterprise

    quick = _quick()
    spec = _risk_data.tenth(_risk_data.Spec()) if quick else _risk_data.Spec()
    import_rows = 10_000 if quick else 100_000
    requests = 60 if quick else 200
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    counts = _risk_data.build(spec)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"  [{connection.vendor}] data built in {time.perf_counter() - t0:.0f} s: "
          + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)

    client = Client()
    client.force_login(get_user_model().objects.get(username="supervisor"))
    rng = random.Random(2026)
    districts = ["440103", "440104", "440105", "440106", "440111", "440112", "440113", "440114",
                 "440115", "440117", "440118"]
    industries = ["C", "E", "F", "G", "26", "47", "2614", "5265"]
    states = ["reported", "assigned", "rectifying", "submitted", "rejected", "accepted", "closed", "open"]

    def params() -> dict:
        q = {}
        # Every combination of the four filters appears (each on with probability ½).
        if rng.random() < 0.5:
            q["district"] = rng.choice(districts)
        if rng.random() < 0.5:
            q["industry"] = rng.choice(industries)
        if rng.random() < 0.5:
            q["state"] = rng.choice(states)
        if rng.random() < 0.5:
            q["overdue"] = "1"
            q["as_of"] = _risk_data.AS_OF.isoformat()
        return q

    def timed_get(url: str, query: dict) -> float:
        t = time.perf_counter()
        response = client.get(url, query)
        elapsed = (time.perf_counter() - t) * 1000
        if response.status_code != 200:
            raise SystemExit(f"GET {url} {query} → {response.status_code}")
        return elapsed

    for _ in range(5):
        timed_get("/risk/hazards/", params())
    list_times = [timed_get("/risk/hazards/", params()) for _ in range(requests)]
    dash_times = [timed_get("/risk/", {"as_of": (_risk_data.AS_OF - dt.timedelta(days=rng.randrange(300))
                                                 ).isoformat()}) for _ in range(max(10, requests // 10))]

    report_times = []
    for quarter in (1, 2, 3):
        t = time.perf_counter()
        body = reports.quarterly_docx(reports.quarterly_data(2026, quarter))
        report_times.append(time.perf_counter() - t)
        assert body[:2] == b"PK"

    codes = list(Enterprise.objects.values_list("credit_code", flat=True)[:5000])
    book = Workbook(write_only=True)
    sheet = book.create_sheet("隐患台账")
    sheet.append(["隐患编号", "统一社会信用代码", "隐患等级", "来源", "类别", "隐患描述", "发现日期",
                  "整改期限", "状态"])
    for i in range(import_rows):
        sheet.append([f"IM{i:08d}", rng.choice(codes), "一般隐患", "企业自查", "消防安全",
                      "导入基准:灭火器过期", "2026-03-02", "2026-03-20", "整改中"])
    buf = io.BytesIO()
    book.save(buf)
    shown = []

    def progress(done: int, total: int) -> None:
        if not shown or done - shown[-1] >= total // 4 or done == total:
            shown.append(done)
            print(f"    import progress {done:,}/{total:,}", flush=True)

    t = time.perf_counter()
    report = ledger.import_ledger("hazards", buf.getvalue(), filename="bench.xlsx", progress=progress)
    import_s = time.perf_counter() - t
    assert report.written and report.created == import_rows, report.summary()
    t = time.perf_counter()
    again = ledger.import_ledger("hazards", buf.getvalue(), filename="bench.xlsx")
    reimport_s = time.perf_counter() - t
    assert again.unchanged == import_rows

    print(json.dumps({
        "vendor": connection.vendor, "counts": counts,
        "list_p50_ms": round(statistics.median(list_times), 1),
        "list_p95_ms": round(_percentile(list_times, 95), 1),
        "dashboard_p95_ms": round(_percentile(dash_times, 95), 1),
        "report_s": round(max(report_times), 2),
        "import_s": round(import_s, 1), "reimport_s": round(reimport_s, 1), "import_rows": import_rows,
    }), flush=True)


def _run_worker(label: str, env_extra: dict) -> dict | None:
    with tempfile.TemporaryDirectory(prefix=f"yingji-bench-risk-{label}-") as tmp:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "yingji.settings", "YINGJI_VAR_DIR": tmp,
               "LOG_LEVEL": "WARNING",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
               **{k: v.replace("{tmp}", tmp) for k, v in env_extra.items()}}
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker"], env=env,
                                stdout=subprocess.PIPE, text=True, cwd=tmp)
        last = None
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("{"):
                last = line
            else:
                print(line, flush=True)
        if proc.wait() != 0 or last is None:
            print(f"{label}: worker failed (exit {proc.returncode})", file=sys.stderr)
            return None
        return json.loads(last)


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_SERVER + "postgres", autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql)


def _pg_problem() -> str | None:
    try:
        _pg_admin("SELECT 1")
    except Exception as exc:  # any failure: unreachable for this benchmark
        return str(exc).strip().splitlines()[0]
    return None


def main() -> int:
    quick = _quick()
    print(f"risk: {'a tenth of ' if quick else ''}100,000 enterprises, 300,000 risk points, "
          f"1,000,000 hazards, 20,000 accidents{' (QUICK)' if quick else ''}", flush=True)
    results: dict[str, dict | None] = {}
    results["sqlite"] = _run_worker("sqlite", {"DATABASE_URL": "sqlite:///{tmp}/bench.sqlite3"})
    problem = _pg_problem()
    if problem is None:
        _pg_admin(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        _pg_admin(f"CREATE DATABASE {PG_DATABASE}")
        try:
            results["postgresql"] = _run_worker("postgresql", {"DATABASE_URL": PG_SERVER + PG_DATABASE})
        finally:
            _pg_admin(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
    else:
        print(f"PostgreSQL UNREACHABLE at {PG_SERVER} ({problem}): reporting SQLite only", flush=True)
        results["postgresql"] = None

    print()
    print(f"{'figure':<20}{'target':>10}{'sqlite':>12}{'postgresql':>12}")
    for key, target in TARGETS.items():
        cells = [f"{results[db][key]:>12}" if results.get(db) else f"{'—':>12}"
                 for db in ("sqlite", "postgresql")]
        print(f"{key:<20}{target:>10}{''.join(cells)}")
    lists = [r["list_p95_ms"] for r in results.values() if r]
    figure = max(lists) if lists else None
    out = {"bench": "risk_hazard_list", "figure": figure, "unit": "ms",
           "target": TARGETS["list_p95_ms"], "baseline": None, "ratio": None, "quick": quick}
    for db, res in results.items():
        for key in ("list_p95_ms", "dashboard_p95_ms", "report_s", "import_s", "reimport_s"):
            out[f"{db}_{key}"] = res[key] if res else None
    print(json.dumps(out))
    failed = results["sqlite"] is None or (problem is None and results["postgresql"] is None)
    return 1 if failed or (problem is not None and os.environ.get("CI") == "true") else 0


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker()
    else:
        sys.exit(main())
