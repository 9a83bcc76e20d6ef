"""Shared machinery of the risk benchmarks (bench_risk_list.py, bench_risk_dashboard.py,
bench_risk_report.py, bench_risk_import.py): each measures one of the issue's speed
targets on SQLite and PostgreSQL side by side in one run.

Data (bench/_risk_data.py): full size 100,000 enterprises, 300,000 risk points,
1,000,000 hazards and 20,000 accidents over Guangzhou's streets; QUICK=1 a tenth.

Building the full-size data takes minutes per database, so it is built once per
size and data version and cached:
- SQLite: a database file in $YINGJI_BENCH_CACHE (default <tmp>/yingji-bench-cache),
  copied to a throw-away directory for each run;
- PostgreSQL: a template database `yingji_bench_risk_tpl_<size>_<key>` on the server,
  cloned (CREATE DATABASE … TEMPLATE) into `yingji_bench_risk_run_<pid>` for each run
  and dropped after it.
The key is a hash of _risk_data.py and DATA_VERSION; caches of other keys are removed
when a new one is built. Missing caches are built first, both databases at once
(full size: about 6 minutes; a tenth: about 30 s), then each run restores them. After restoring, each run applies any new migrations (and
ANALYZE). `BENCH_RISK_NO_CACHE=1` builds afresh (and caches nothing);
`bench_risk_x.py --prepare` only builds the caches.

Each database runs in its own subprocess (`bench_risk_x.py --worker`); the worker's
last stdout line is a JSON object of figures. The benchmark's last line is the
project's JSON result: figure = the worse of the two databases, both in extra keys.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import (
    PG_SERVER,
    pg_admin,
    pg_database,
    pg_problem,
    quick,
    report,
    run_worker,
    worker_env,
)

ROOT = Path(__file__).resolve().parents[1]
DATA_VERSION = "1"
CACHE_DIR = Path(
    os.environ.get("YINGJI_BENCH_CACHE") or Path(tempfile.gettempdir()) / "yingji-bench-cache"
)
TPL_PREFIX = "yingji_bench_risk_tpl_"


def size_name() -> str:
    return "tenth" if quick() else "full"


def data_key() -> str:
    digest = hashlib.sha256(DATA_VERSION.encode())
    digest.update((ROOT / "bench" / "_risk_data.py").read_bytes())
    return digest.hexdigest()[:12]


def _no_cache() -> bool:
    return os.environ.get("BENCH_RISK_NO_CACHE") == "1"


# ---------------------------------------------------------------- worker side


def _setup_django() -> None:
    import django

    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT / "bench"))
    django.setup()


def _build_worker() -> None:
    """Migrate and generate the data into the configured database."""
    _setup_django()
    import _risk_data
    from django.core.management import call_command
    from django.db import connection

    spec = _risk_data.tenth(_risk_data.Spec()) if quick() else _risk_data.Spec()
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    counts = _risk_data.build(spec)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        if connection.vendor == "sqlite":  # everything into the main file, which is copied
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    print(
        f"  [{connection.vendor}] data built in {time.perf_counter() - t0:.0f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
        flush=True,
    )


def _measure_worker(measure: Callable[[], dict]) -> None:
    _setup_django()
    from django.core.management import call_command
    from django.db import connection

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(
        f"  [{connection.vendor}] restored and migrated in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    result = measure()
    print(json.dumps({"vendor": connection.vendor, **result}), flush=True)


# ---------------------------------------------------------------- parent side


def _run(script: str, mode: str, tmp: str, database_url: str) -> dict | None:
    """Run a worker; echo its progress lines; return its last JSON line (or {} for a build)."""
    result = run_worker(
        script, worker_env(tmp, database_url), args=(mode,), cwd=tmp, label=f"worker {mode}"
    )
    if mode == "--build" or result is None:
        return None if result is None else {}
    return result or None


def _checkpoint(path: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _sqlite(script: str, *, measure: bool = True) -> dict | None:
    key = f"risk-{size_name()}-{data_key()}.sqlite3"
    cached = CACHE_DIR / key
    with tempfile.TemporaryDirectory(prefix="yingji-bench-risk-sqlite-") as tmp:
        target = Path(tmp) / "bench.sqlite3"
        if _no_cache() or not cached.exists():
            if _run(script, "--build", tmp, f"sqlite:///{target}") is None:
                return None
            _checkpoint(target)
            if not _no_cache():
                CACHE_DIR.mkdir(parents=True, exist_ok=True)
                for old in CACHE_DIR.glob(f"risk-{size_name()}-*.sqlite3"):
                    old.unlink()
                partial = cached.with_suffix(".partial")
                shutil.copyfile(target, partial)
                partial.rename(cached)
        elif measure:
            shutil.copyfile(cached, target)
        return _run(script, "--worker", tmp, f"sqlite:///{target}") if measure else {}


def _postgresql(script: str, *, measure: bool = True) -> dict | None:
    template = f"{TPL_PREFIX}{size_name()}_{data_key()}"
    run_db = f"yingji_bench_risk_run_{os.getpid()}"
    exists = bool(pg_admin(f"SELECT 1 FROM pg_database WHERE datname = '{template}'"))
    with tempfile.TemporaryDirectory(prefix="yingji-bench-risk-pg-") as tmp:
        if _no_cache() or not exists:
            with pg_database(run_db) as url:
                if _run(script, "--build", tmp, url) is None:
                    return None
                if not _no_cache():
                    for (old,) in pg_admin(
                        f"SELECT datname FROM pg_database WHERE datname LIKE "
                        f"'{TPL_PREFIX}{size_name()}_%'"
                    ):
                        pg_admin(f"DROP DATABASE IF EXISTS {old} WITH (FORCE)")
                    pg_admin(f"CREATE DATABASE {template} TEMPLATE {run_db}")
                return _run(script, "--worker", tmp, url) if measure else {}
        if not measure:
            return {}
        with pg_database(run_db, template=template) as url:
            return _run(script, "--worker", tmp, url)


def _cached() -> tuple[bool, bool]:
    sqlite = (CACHE_DIR / f"risk-{size_name()}-{data_key()}.sqlite3").exists()
    template = f"{TPL_PREFIX}{size_name()}_{data_key()}"
    pg = pg_problem() is not None or bool(
        pg_admin(f"SELECT 1 FROM pg_database WHERE datname = '{template}'")
    )
    return sqlite, pg


def _prepare(script: str) -> bool:
    """Build the missing caches, SQLite and PostgreSQL concurrently (one core each)."""
    from concurrent.futures import ThreadPoolExecutor

    sqlite_ok, pg_ok = _cached()
    with ThreadPoolExecutor(2) as pool:
        jobs = []
        if not sqlite_ok:
            jobs.append(pool.submit(_sqlite, script, measure=False))
        if not pg_ok:
            jobs.append(pool.submit(_postgresql, script, measure=False))
        return all(job.result() is not None for job in jobs)


def main(
    script: str,
    *,
    bench: str,
    title: str,
    measure: Callable[[], dict],
    figure_key: str,
    unit: str,
    target: float,
    keys: list[str],
) -> int:
    """Run `measure` on SQLite and PostgreSQL; print the table and the JSON result line.

    `measure()` runs in a worker with Django set up and returns a dict of figures;
    `figure_key` is the headline one (the worse of the two databases is the figure),
    `keys` the figures reported per database as extra keys."""
    if "--build" in sys.argv:
        _build_worker()
        return 0
    if "--worker" in sys.argv:
        _measure_worker(measure)
        return 0
    started = time.perf_counter()
    if "--prepare" in sys.argv:  # only build the cached data of this size
        return 0 if _prepare(script) else 1
    print(
        f"{bench}: {title} — {'a tenth of ' if quick() else ''}100,000 enterprises, 300,000 risk "
        f"points, 1,000,000 hazards, 20,000 accidents{' (QUICK)' if quick() else ''}",
        flush=True,
    )
    problem = pg_problem()
    if not _no_cache():
        _prepare(script)  # builds what is missing, both databases at once
    results: dict[str, dict | None] = {"sqlite": _sqlite(script)}
    if problem is None:
        results["postgresql"] = _postgresql(script)
    else:
        print(
            f"PostgreSQL UNREACHABLE at {PG_SERVER} ({problem}): reporting SQLite only", flush=True
        )
        results["postgresql"] = None
    print(f"{'figure':<22}{'target':>10}{'sqlite':>14}{'postgresql':>14}")
    for key in keys:
        cells = [
            f"{results[db][key]:>14}" if results.get(db) else f"{'—':>14}"
            for db in ("sqlite", "postgresql")
        ]
        print(f"{key:<22}{(target if key == figure_key else ''):>10}{''.join(cells)}")
    print(f"  ({time.perf_counter() - started:.0f} s in all)", flush=True)
    figures = [r[figure_key] for r in results.values() if r]
    report(
        bench,
        max(figures) if figures else None,
        unit=unit,
        target=target,
        **{f"{db}_{key}": res[key] if res else None for db, res in results.items() for key in keys},
    )
    failed = results["sqlite"] is None or (problem is None and results["postgresql"] is None)
    return 1 if failed or (problem is not None and os.environ.get("CI") == "true") else 0


def timed_get(client, url: str, query: dict) -> float:
    """One GET through the Django test client, in ms (a non-200 aborts the run)."""
    t = time.perf_counter()
    response = client.get(url, query)
    elapsed = (time.perf_counter() - t) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {url} {query} → {response.status_code}")
    return elapsed
