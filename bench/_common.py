"""What the benchmarks share: QUICK, percentiles, a worker subprocess with its
own DATABASE_URL and YINGJI_VAR_DIR, a throw-away PostgreSQL database, and the
final JSON line every bench prints last:

    {"bench": name, "figure": value, "unit": ..., "target": ..., "baseline": name or null,
     "ratio": figure/baseline or null, "quick": bool, ...extra figures}

Import it from a bench as `import _common` (the bench's own directory is on
sys.path when it runs as a script).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Benchmarks are installs on one machine, not production: a generated secret key
# under their var/, plain HTTP (settings.py refuses a production start without
# SECRET_KEY and ALLOWED_HOSTS). Every bench imports this module first.
os.environ.setdefault("YINGJI_DEMO", "1")
# The server only (the database name is appended); BENCH_PG_SERVER overrides it.
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432/")


def quick() -> bool:
    """QUICK=1: the smaller run (each bench says what it shrinks)."""
    return os.environ.get("QUICK") == "1"


def percentile(values: Sequence[float], p: int) -> float:
    """The p-th percentile (1–99) of `values`, interpolated between the two
    nearest ranks (statistics.quantiles, inclusive method); p=50 is the median."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


# ---------------------------------------------------------------- workers


def worker_env(var_dir: str, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a worker: this one's, with Django's settings, the
    repository's src/ and bench/ on PYTHONPATH, its own YINGJI_VAR_DIR and (when
    given) DATABASE_URL; `extra` on top."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "yingji.settings",
        "YINGJI_VAR_DIR": var_dir,
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "src"), str(ROOT / "bench"), os.environ.get("PYTHONPATH")])
        ),
    }
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return {**env, **extra}


def run_worker(
    script: str | Path,
    env: dict[str, str],
    timeout: float | None = None,
    *,
    args: Sequence[str] = ("--worker",),
    cwd: str | None = None,
    label: str = "worker",
) -> dict | None:
    """Run `python script *args` with `env`; echo its progress lines as they
    come; return its last stdout line that is a JSON object, parsed ({} when it
    printed none). None, with a line on stderr, when it fails or outlives
    `timeout` seconds (then it is killed)."""
    proc = subprocess.Popen(
        [sys.executable, str(script), *args], env=env, cwd=cwd, stdout=subprocess.PIPE, text=True
    )
    timer = threading.Timer(timeout, proc.kill) if timeout else None
    if timer:
        timer.start()
    last = None
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("{"):
                last = line
            else:
                print(line, flush=True)
        code = proc.wait()
    finally:
        if timer:
            timer.cancel()
    if code != 0:
        print(f"{label} failed (exit {code})", file=sys.stderr, flush=True)
        return None
    return json.loads(last) if last else {}


# ---------------------------------------------------------------- PostgreSQL


def pg_admin(sql: str) -> list:
    """Run one statement on the server's `postgres` database (autocommit); its rows."""
    import psycopg

    with psycopg.connect(PG_SERVER + "postgres", autocommit=True, connect_timeout=3) as conn:
        cur = conn.execute(sql)
        return cur.fetchall() if cur.description else []


def pg_problem() -> str | None:
    """None when PostgreSQL accepts connections, else the reason (one line)."""
    try:
        pg_admin("SELECT 1")
    except Exception as exc:  # any failure: unreachable for this benchmark
        return str(exc).strip().splitlines()[0]
    return None


@contextmanager
def pg_database(name: str, *, template: str | None = None) -> Iterator[str]:
    """A throw-away database `name` (a copy of `template` when given), created
    afresh and dropped afterwards, whatever happens; yields its DATABASE_URL."""
    pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    pg_admin(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    try:
        yield PG_SERVER + name
    finally:
        pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def on_both_databases(
    script: str | Path, pg_name: str, *, timeout: float = 3600, **extra_env: str
) -> dict[str, dict]:
    """Run `script --worker` on a throw-away SQLite file and then on a throw-away
    PostgreSQL database `pg_name`; their result lines as {"sqlite": …, "postgresql": …}.
    PostgreSQL unreachable: said on stderr and left out (an error under CI=true)."""
    import tempfile

    def run(url: str, var_dir: str) -> dict:
        env = {**os.environ, "DATABASE_URL": url, "YINGJI_VAR_DIR": var_dir, **extra_env}
        result = run_worker(script, env, timeout=timeout)
        if not result:
            raise RuntimeError(f"worker on {url} failed (its errors are above)")
        return result

    results = {}
    with tempfile.TemporaryDirectory(prefix=f"{pg_name}-") as tmp:
        results["sqlite"] = run(f"sqlite:///{tmp}/bench.sqlite3", tmp)
        print(f"SQLite: {results['sqlite']}", file=sys.stderr)
        try:
            with pg_database(pg_name) as url:
                results["postgresql"] = run(url, tmp)
                print(f"PostgreSQL: {results['postgresql']}", file=sys.stderr)
        except Exception as exc:  # PostgreSQL unreachable: say so, report SQLite
            print(f"PostgreSQL unavailable: {exc}", file=sys.stderr)
            if os.environ.get("CI") == "true":
                raise
    return results


# ---------------------------------------------------------------- the result


def report(
    bench: str,
    figure,
    *,
    unit: str,
    target,
    baseline: str | None = None,
    ratio: float | None = None,
    quick: bool | None = None,
    **extra,
) -> dict:
    """Print the final JSON line (the last line of every bench) and return it.
    `quick` defaults to QUICK; `extra` are further figures beside the headline."""
    line = {
        "bench": bench,
        "figure": figure,
        "unit": unit,
        "target": target,
        "baseline": baseline,
        "ratio": ratio,
        "quick": os.environ.get("QUICK") == "1" if quick is None else quick,
        **extra,
    }
    print(json.dumps(line, ensure_ascii=False), flush=True)
    return line
