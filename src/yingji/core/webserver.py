"""The production web server's command line: gunicorn with the gthread worker on
yingji.wsgi (docs/deployment.md says why, with the measured figures).

No Django import: `yingji serve` builds the command line from here, and so can a
deployment helper that starts several web processes. Sizes come from the
environment (YINGJI_WEB_WORKERS, YINGJI_WEB_THREADS, YINGJI_WEB_TIMEOUT,
YINGJI_WEB_ACCESS_LOG) with defaults from the machine's CPU count.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

WSGI_APP = "yingji.wsgi:application"
# Threads per worker process: a page spends part of its time waiting for the
# database, which another thread of the same process uses meanwhile.
DEFAULT_THREADS = 4


class WebConfigError(ValueError):
    """A web server setting that is not usable (the message names it)."""


def cpu_count() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_workers(cpus: int | None = None) -> int:
    """One worker process per CPU, at least two (one busy with a slow page must
    not hold up the others)."""
    return max(2, cpus if cpus is not None else cpu_count())


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise WebConfigError(f"{name}={raw!r}:应为正整数") from None
    if value < 1:
        raise WebConfigError(f"{name}={raw!r}:应为正整数")
    return value


def sizes_from_env(env: Mapping[str, str] | None = None) -> tuple[int, int]:
    """(workers, threads) from YINGJI_WEB_WORKERS / YINGJI_WEB_THREADS, else the
    defaults; a bad value raises WebConfigError naming the variable."""
    env = os.environ if env is None else env
    return (
        _positive(env, "YINGJI_WEB_WORKERS", default_workers()),
        _positive(env, "YINGJI_WEB_THREADS", DEFAULT_THREADS),
    )


def gunicorn_argv(
    addr: str,
    workers: int | None = None,
    threads: int | None = None,
    *,
    python: str = sys.executable,
    env: Mapping[str, str] | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """The command that serves the platform on `addr` ("host:port" or
    "unix:/path") with gunicorn's gthread worker: `workers` processes of `threads`
    threads each (None: from the environment, see sizes_from_env).

    Stopping: SIGTERM lets requests under way finish for up to
    YINGJI_STOP_TIMEOUT seconds (gunicorn's graceful timeout); whoever started it
    sends SIGKILL after that."""
    env = os.environ if env is None else env
    if not addr or addr.startswith("-"):
        raise WebConfigError(f"监听地址 {addr!r} 无效(应为 host:port 或 unix:/path)")
    env_workers, env_threads = sizes_from_env(env)
    workers = env_workers if workers is None else workers
    threads = env_threads if threads is None else threads
    if workers < 1 or threads < 1:
        raise WebConfigError(f"进程数 {workers}、线程数 {threads}:应为正整数")
    stop = _positive(env, "YINGJI_STOP_TIMEOUT", 5)
    timeout = _positive(env, "YINGJI_WEB_TIMEOUT", 60)
    argv = [
        python,
        "-m",
        "gunicorn",
        WSGI_APP,
        "--bind",
        addr,
        "--worker-class",
        "gthread",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--timeout",
        str(timeout),
        "--graceful-timeout",
        str(stop),
        "--keep-alive",
        "5",
        "--error-logfile",
        "-",
        "--config",
        "python:yingji.core.gunicornconf",
    ]
    # Heartbeat files in memory, not on a disk that may stall under load.
    if os.path.isdir("/dev/shm"):
        argv += ["--worker-tmp-dir", "/dev/shm"]
    if env.get("YINGJI_WEB_ACCESS_LOG", "").strip().lower() in {"1", "true", "yes", "on"}:
        argv += ["--access-logfile", "-"]
    return [*argv, *extra]
