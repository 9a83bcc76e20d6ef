"""Benchmark: the main pages under load, the production server (gunicorn, as
`yingji serve` runs it) against Django's development server (`yingji serve
--server runserver`), measured in the same run on PostgreSQL.

The issue's requirement: 50 concurrent users for 60 s over the main pages — the
plan board (挂图作战), the hazard list, the duty desk, the alert list and the
public warning page — at ≥ 200 requests/s with p95 < 300 ms on this 2-core
machine; and the public warning page alone, during a warning, for logged-out
visitors (served from its cached copy, core/publiccache.py) at ≥ 2,000 requests/s.

The data: the workbench benchmark's city (bench/_workbench_data.py: Guangzhou's
region pack, the department register, the monitoring demo network, two plans of
150 tasks with their reports, hazards, alarms, warnings in force and in review,
desk items, incidents, penalty cases), built once into a template database
(`yingji_bench_pages_tpl_<hash of the builders and the day>`, kept for the next
run of the same day and code) and copied for each run (CREATE DATABASE …
TEMPLATE), dropped afterwards. The users are logged in as the city-wide 局领导
through a real session cookie; each page is checked to answer 200 with the
leader's page before and after the load (not a redirect to the login).

The load: `wrk` (Debian package) with a Lua script rotating the five URLs over
50 connections in 2 threads, 60 s per server (QUICK=1: 12 s), after 10 s (3 s) of
warm-up; then the public page without a cookie, 30 s per server (QUICK=1: 5 s,
gunicorn only). Requests/s, p50/p95/p99 from wrk's histogram (wrk --timeout 30s:
a slow page counts, it is not dropped), errors, and the load average.

    .venv/bin/python bench/bench_pages_load.py           # 60 s per server
    QUICK=1 .venv/bin/python bench/bench_pages_load.py   # 12 s per server, 60–70 s in all
    BENCH_SERVERS=gunicorn …                              # one server only
    BENCH_WEB_WORKERS=3 BENCH_WEB_THREADS=8 …             # other gunicorn sizes

One JSON line per figure: the public page's first, the main figure
(gunicorn's requests/s over the main pages, p95 and the baseline beside it) last.
PostgreSQL or wrk missing: said, non-zero exit.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from _common import PG_SERVER, pg_admin, pg_problem, quick, report, run_worker, worker_env

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
TARGET_RPS = 200
TARGET_P95_MS = 300
TARGET_PUBLIC_RPS = 2000
CONNECTIONS = 50
TEMPLATE_PREFIX = "yingji_bench_pages_tpl_"
BUILD_VERSION = 1  # raise when build_worker() changes what it builds
RUN_DB = f"yingji_bench_pages_{os.getpid()}"
SESSIONS = 10  # the leader logged in on this many browsers, taking turns
# (core/pagecache.py keeps one copy per user; each session gets its own CSRF token)
MARKER = "局领导(基准测试)"  # the leader's name, on every page rendered for them


def _durations() -> dict[str, int]:
    if quick():
        return {"mix": 12, "public": 5, "warm": 3}
    return {"mix": 60, "public": 30, "warm": 10}


def _template_name() -> str:
    """The template database for this code and day (the data is relative to now)."""
    digest = hashlib.sha256()
    digest.update((BENCH / "_workbench_data.py").read_bytes())
    digest.update(str(BUILD_VERSION).encode())
    for migration in sorted((ROOT / "src" / "yingji").glob("*/migrations/*.py")):
        digest.update(migration.name.encode())
    digest.update(time.strftime("%Y-%m-%d").encode())
    return TEMPLATE_PREFIX + digest.hexdigest()[:10]


# ---------------------------------------------------------------- workers (Django)


def _setup():
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yingji.settings")
    import django

    django.setup()


def build_worker() -> None:
    """Into the (template) database: the schema from the models, the city, ANALYZE."""
    _setup()
    import _workbench_data as data
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    started = time.perf_counter()
    # As bench_workbench: the schema from the models (replaying the migrations
    # costs 30–60 s of Python); BENCH_MIGRATE=1 runs them.
    if os.environ.get("BENCH_MIGRATE") != "1":
        settings.MIGRATION_MODULES = {a.label: None for a in apps.get_app_configs()}
        call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    else:
        call_command("migrate", verbosity=0, interactive=False)
    city = data.build(timezone.localtime(), background=10)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(
        f"  template built in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in list(city.counts.items())[:8])
        + " …",
        flush=True,
    )
    print(json.dumps({"built": True}), flush=True)


def login_worker() -> None:
    """A session for the city-wide leader, and the pages' URLs."""
    _setup()
    import _workbench_data as data
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from yingji.workplan.models import Plan

    leader = get_user_model().objects.get(username=data.LEADER)
    cookies = []
    for _ in range(SESSIONS):  # browsers: a session and a CSRF cookie each
        client = Client()
        client.force_login(leader)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        csrf = get_random_string(32)
        cookies.append(
            f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf}"
        )
    plan = Plan.objects.filter(year=timezone.localdate().year).order_by("pk").first()
    pages = {
        "board": reverse("workplan:board", args=[plan.pk]),
        "hazards": reverse("risk:hazards"),
        "desk": reverse("response:desk"),
        "alerts": reverse("alerts:list"),
        "public": reverse("alerts:public"),
    }
    print(json.dumps({"cookies": cookies, "pages": pages}), flush=True)


def profile_worker() -> None:
    """BENCH_PROFILE=1: each page's time, queries and (BENCH_PROFILE_PAGE=name)
    where one page's time goes, through Django's test Client as the leader."""
    _setup()
    import cProfile
    import io
    import pstats
    import statistics

    import _workbench_data as data
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    pages = json.loads(os.environ["BENCH_PAGES"])
    client = Client()
    client.force_login(get_user_model().objects.get(username=data.LEADER))
    for name, path in pages.items():
        client.get(path)  # warm
        queries: list[str] = []

        def seen(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(seen):
            client.get(path)
        times, cpu = [], []
        for _ in range(10):
            t0, c0 = time.perf_counter(), time.process_time()
            client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        print(
            f"  profile {name:<8} {statistics.median(times):6.1f} ms "
            f"(cpu {statistics.median(cpu):6.1f} ms), {len(queries)} queries",
            flush=True,
        )
        if os.environ.get("BENCH_PROFILE_PAGE") == name:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(10):
                client.get(path)
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(45)
            for line in out.getvalue().splitlines():
                print(f"    {line}", flush=True)
    print(json.dumps({"profiled": True}), flush=True)


# ---------------------------------------------------------------- driver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, cookie: str | None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def _check_pages(base: str, pages: dict[str, str], cookie: str) -> None:
    for name, path in pages.items():
        status, body = _get(base + path, cookie)
        if status != 200 or MARKER not in body:
            raise SystemExit(f"GET {path} ({name}) as the leader → {status}, not the leader's page")
    status, body = _get(base + pages["public"], None)
    if status != 200 or "生效中的预警" not in body or "当前没有生效中的预警" in body:
        raise SystemExit(f"the public page → {status}, without a warning in force")


LUA = """
local paths = {%(paths)s}
local cookies = {%(cookies)s}
local n = 0
request = function()
  n = n + 1
  local headers = {}
  if #cookies > 0 then
    headers["Cookie"] = cookies[(math.floor(n / #paths) %% #cookies) + 1]
  end
  return wrk.format("GET", paths[(n %% #paths) + 1], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "max_us": %%d, "mean_us": %%d, "status_errors": %%d, "other_errors": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean, e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


def _lua(paths: list[str], cookies: list[str], directory: str) -> str:
    script = Path(directory) / f"load-{len(paths)}-{len(cookies)}.lua"
    script.write_text(
        LUA
        % {
            "paths": ", ".join(json.dumps(p) for p in paths),
            "cookies": ", ".join(json.dumps(c) for c in cookies),
        }
    )
    return str(script)


def _wrk(base: str, script: str, seconds: int, connections: int = CONNECTIONS) -> dict:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "-s",
            script,
            base + "/",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no result: {out.stdout}\n{out.stderr}")
    r = json.loads(line.removeprefix("RESULT "))
    seconds_run = r["duration_us"] / 1e6
    return {
        "rps": round(r["requests"] / seconds_run, 1),
        "requests": r["requests"],
        "p50_ms": round(r["p50_us"] / 1000, 1),
        "p95_ms": round(r["p95_us"] / 1000, 1),
        "p99_ms": round(r["p99_us"] / 1000, 1),
        "max_ms": round(r["max_us"] / 1000, 1),
        "errors": r["status_errors"] + r["other_errors"],
        "load": [round(x, 2) for x in os.getloadavg()],
    }


class Server:
    """`yingji serve` with one web server, nothing else (no worker, no ingest)."""

    def __init__(self, kind: str, env: dict, collect: bool) -> None:
        self.kind = kind
        if kind.endswith("-nocache"):  # every page rendered (core/pagecache.py off)
            env = {**env, "YINGJI_PAGE_CACHE_SECONDS": "0"}
            kind = kind.removesuffix("-nocache")
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "yingji.cli", "serve", f"127.0.0.1:{self.port}"]
        argv += ["--server", kind, "--no-worker", "--no-ingest"]
        if not collect:
            argv.append("--no-collectstatic")
        if kind == "gunicorn":
            for option, var in (
                ("--workers", "BENCH_WEB_WORKERS"),
                ("--threads", "BENCH_WEB_THREADS"),
            ):
                if os.environ.get(var):
                    argv += [option, os.environ[var]]
        self.proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.kind}: serve exited {self.proc.returncode}")
            try:
                if _get(self.base + "/accounts/login/", None)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"{self.kind}: not answering within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _ensure_template(tmp: str) -> str:
    name = _template_name()
    exists = pg_admin(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if exists:
        print(f"  template {name}: kept from an earlier run", flush=True)
        return name
    for (old,) in pg_admin(
        f"SELECT datname FROM pg_database WHERE datname LIKE '{TEMPLATE_PREFIX}%'"
    ):
        pg_admin(f"DROP DATABASE IF EXISTS {old} WITH (FORCE)")
    building = name + "_building"
    pg_admin(f"DROP DATABASE IF EXISTS {building} WITH (FORCE)")
    pg_admin(f"CREATE DATABASE {building}")
    env = worker_env(tmp, PG_SERVER + building)
    if run_worker(Path(__file__), env, args=("--build",), label="build") is None:
        pg_admin(f"DROP DATABASE IF EXISTS {building} WITH (FORCE)")
        raise SystemExit("building the template database failed")
    pg_admin(f"ALTER DATABASE {building} RENAME TO {name}")
    return name


def main() -> int:
    durations = _durations()
    default = "gunicorn,runserver" if quick() else "gunicorn,runserver,gunicorn-nocache"
    servers = [s for s in os.environ.get("BENCH_SERVERS", default).split(",") if s]
    print(
        f"pages_load: {CONNECTIONS} users over board, hazards, desk, alerts, public, "
        f"{durations['mix']} s per server ({', '.join(servers)}){' (QUICK)' if quick() else ''}; "
        f"load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    if (problem := pg_problem()) is not None:
        print(f"PostgreSQL UNREACHABLE at {PG_SERVER} ({problem})", file=sys.stderr)
        return 1
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 1
    started = time.perf_counter()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="yingji-bench-pages-") as tmp:
        template = _ensure_template(tmp)
        pg_admin(f"DROP DATABASE IF EXISTS {RUN_DB} WITH (FORCE)")
        pg_admin(f"CREATE DATABASE {RUN_DB} TEMPLATE {template}")
        try:
            env = worker_env(tmp, PG_SERVER + RUN_DB)
            login = run_worker(Path(__file__), env, args=("--login",), label="login")
            if not login:
                raise SystemExit("logging the leader in failed")
            cookies, pages = login["cookies"], login["pages"]
            if os.environ.get("BENCH_PROFILE") == "1":
                run_worker(
                    Path(__file__),
                    {**env, "BENCH_PAGES": json.dumps(pages), "YINGJI_PAGE_CACHE_SECONDS": "0"},
                    args=("--profile",),
                    label="profile",
                )
            mix = _lua(list(pages.values()), cookies, tmp)
            public = _lua([pages["public"]], [], tmp)
            for i, kind in enumerate(servers):
                server = Server(kind, env, collect=i == 0)
                try:
                    server.wait_ready()
                    _check_pages(server.base, pages, cookies[0])
                    _wrk(server.base, mix, durations["warm"])
                    results[kind] = {"mix": _wrk(server.base, mix, durations["mix"])}
                    print(f"  {kind:<10} main pages  {results[kind]['mix']}", flush=True)
                    if kind == "gunicorn" or not quick():
                        results[kind]["public"] = _wrk(server.base, public, durations["public"])
                        print(f"  {kind:<10} public page {results[kind]['public']}", flush=True)
                    _check_pages(server.base, pages, cookies[0])
                finally:
                    server.stop()
        finally:
            pg_admin(f"DROP DATABASE IF EXISTS {RUN_DB} WITH (FORCE)")
    print(f"  run {time.perf_counter() - started:.0f} s", flush=True)

    main_kind = servers[0]
    base_kind = next((s for s in servers if s == "runserver"), None)
    ours, base = results[main_kind], results.get(base_kind) if base_kind else None

    def ratio(a, b):
        return round(a / b, 2) if a and b else None

    pub, base_pub = ours.get("public"), (base or {}).get("public")
    report(
        "pages_load_public",
        pub["rps"] if pub else None,
        unit="req/s",
        target=TARGET_PUBLIC_RPS,
        baseline=base_kind if base_pub else None,
        ratio=ratio(pub and pub["rps"], base_pub and base_pub["rps"]),
        p95_ms=pub and pub["p95_ms"],
        errors=pub and pub["errors"],
        baseline_rps=base_pub and base_pub["rps"],
        loadavg=pub and pub["load"],
        server=main_kind,
    )
    m, b = ours["mix"], base and base["mix"]
    met = m["rps"] >= TARGET_RPS and m["p95_ms"] < TARGET_P95_MS and not m["errors"]
    print(
        f"{main_kind}: {m['rps']} req/s, p95 {m['p95_ms']} ms "
        f"({'meets' if met else 'MISSES'} ≥ {TARGET_RPS} req/s, p95 < {TARGET_P95_MS} ms)"
        + (f"; {base_kind}: {b['rps']} req/s, p95 {b['p95_ms']} ms" if b else ""),
        flush=True,
    )
    report(
        "pages_load",
        m["rps"],
        unit="req/s",
        target=TARGET_RPS,
        baseline=base_kind if b else None,
        ratio=ratio(m["rps"], b and b["rps"]),
        p50_ms=m["p50_ms"],
        p95_ms=m["p95_ms"],
        p99_ms=m["p99_ms"],
        p95_target_ms=TARGET_P95_MS,
        errors=m["errors"],
        baseline_rps=b and b["rps"],
        baseline_p95_ms=b and b["p95_ms"],
        loadavg=m["load"],
        server=main_kind,
        connections=CONNECTIONS,
        seconds=durations["mix"],
    )
    return 0 if m["errors"] == 0 else 1


if __name__ == "__main__":
    if "--build" in sys.argv:
        build_worker()
    elif "--login" in sys.argv:
        login_worker()
    elif "--profile" in sys.argv:
        profile_worker()
    else:
        sys.exit(main())
