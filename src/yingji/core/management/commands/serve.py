"""`yingji serve`: the platform on one machine — the production web server
(gunicorn, core/webserver.py; `--server runserver` for Django's development
server), the background worker (Huey: outbox delivery, supervision, periodic
jobs) and the monitoring ingest worker when an MQTT broker answers; optionally a
simulation. Static files are collected into VAR_DIR first and served by the
application (WhiteNoise, hashed names cached for a year).

Each child runs in its own process group. On SIGINT or SIGTERM every group gets
SIGTERM, then SIGKILL after YINGJI_STOP_TIMEOUT seconds (default 5) for whatever
is still running, so the command ends within a few seconds under any load.

A deployment over several machines runs these as separate services; see
docs/deployment.md.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from yingji.core import webserver

CLI = [sys.executable, "-m", "yingji.cli"]
SERVERS = ("gunicorn", "runserver")


def broker_reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def stop_timeout() -> float:
    """YINGJI_STOP_TIMEOUT: seconds a child has after SIGTERM before SIGKILL."""
    raw = os.environ.get("YINGJI_STOP_TIMEOUT", "").strip()
    if not raw:
        return 5.0
    try:
        value = float(raw)
    except ValueError:
        raise CommandError(f"YINGJI_STOP_TIMEOUT={raw!r}:应为秒数") from None
    if value < 0:
        raise CommandError(f"YINGJI_STOP_TIMEOUT={raw!r}:应为非负秒数")
    return value


def spawn(argv: Sequence[str], **kwargs: Any) -> subprocess.Popen:
    """Start a child in a process group of its own (its pid is the group id): a
    terminal's Ctrl-C reaches only this command, which stops the groups itself,
    and whatever the child starts (gunicorn's workers) is stopped with it."""
    return subprocess.Popen(list(argv), process_group=0, **kwargs)


def _group_alive(pgid: int) -> bool:
    """Whether a process of group `pgid` still runs. A member that has ended but
    is not yet reaped (a gunicorn worker whose master was killed waits for init)
    does not count: it holds nothing any more."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_children(children: Sequence[subprocess.Popen], timeout: float | None = None) -> None:
    """SIGTERM to each child's process group, wait up to `timeout` seconds
    (YINGJI_STOP_TIMEOUT) for every member of every group to end, then SIGKILL the
    groups still there. Returns once every child is reaped and every group empty
    (or after a last second of grace past the SIGKILL)."""
    timeout = stop_timeout() if timeout is None else timeout
    groups = [child.pid for child in children]
    for pgid in groups:
        _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    pending = set(groups)
    while pending and time.monotonic() < deadline:
        for child in children:
            child.poll()  # reap the leader; the group lives on while members do
        pending = {g for g in pending if _group_alive(g)}
        if pending:
            time.sleep(0.05)
    for pgid in pending:
        _signal_group(pgid, signal.SIGKILL)
    for child in children:
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not refused
            pass
    end = time.monotonic() + 1.0
    while any(_group_alive(g) for g in pending) and time.monotonic() < end:
        time.sleep(0.02)


def web_argv(server: str, addr: str, workers: int | None, threads: int | None) -> list[str]:
    if server == "runserver":
        return [*CLI, "runserver", addr, "--noreload"]
    try:
        return webserver.gunicorn_argv(addr, workers, threads)
    except webserver.WebConfigError as exc:
        raise CommandError(str(exc)) from None


def start_children(
    *,
    worker: bool,
    ingest: bool,
    simulate: str | None,
    mqtt_host: str,
    mqtt_port: int,
    say: Callable[[str], Any] = print,
) -> list[subprocess.Popen]:
    """Start the helper processes; returns them (the caller stops them)."""
    children: list[subprocess.Popen] = []
    if worker:
        children.append(spawn([*CLI, "run_huey"]))
        say("后台任务:已启动 Huey 工作进程(通知发送、督办、定时任务)")
    broker = (ingest or simulate) and broker_reachable(mqtt_host, mqtt_port)
    if ingest or simulate:
        if broker:
            if ingest:
                children.append(
                    spawn([*CLI, "ingest", "--host", mqtt_host, "--port", str(mqtt_port)])
                )
                say(f"监测接入:已启动 MQTT 接入进程({mqtt_host}:{mqtt_port})")
        else:
            say(
                f"监测接入:MQTT 代理 {mqtt_host}:{mqtt_port} 不可达,未启动接入进程"
                "(模拟数据将直接入库)"
            )
    if simulate:
        if broker and ingest:
            time.sleep(1.5)  # let the ingest worker subscribe before readings flow
        extra = [] if broker else ["--direct"]
        children.append(spawn([*CLI, "simulate", simulate, *extra]))
        say(f"模拟:{simulate} 已开始")
    return children


class Command(BaseCommand):
    help = "启动平台:网页服务(gunicorn)+ 后台任务进程 + 监测接入进程(MQTT 可达时),可选模拟"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addr", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--server",
            choices=SERVERS,
            default="gunicorn",
            help="网页服务:gunicorn(默认,生产所用)或 runserver(Django 开发服务器)",
        )
        parser.add_argument(
            "--workers", type=int, help="gunicorn 进程数(默认 YINGJI_WEB_WORKERS 或 CPU 数)"
        )
        parser.add_argument(
            "--threads", type=int, help="每个 gunicorn 进程的线程数(默认 YINGJI_WEB_THREADS 或 4)"
        )
        parser.add_argument("--no-collectstatic", action="store_true", help="启动前不收集静态文件")
        parser.add_argument("--no-worker", action="store_true", help="不启动 Huey 后台任务进程")
        parser.add_argument("--no-ingest", action="store_true", help="不启动 MQTT 接入进程")
        parser.add_argument(
            "--simulate", choices=["rainstorm", "typhoon"], help="同时运行暴雨或台风(山竹)模拟"
        )
        parser.add_argument("--mqtt-host", default=os.environ.get("YINGJI_MQTT_HOST", "127.0.0.1"))
        parser.add_argument(
            "--mqtt-port", type=int, default=int(os.environ.get("YINGJI_MQTT_PORT", "1883"))
        )

    def handle(self, *args: Any, **options: Any) -> None:
        timeout = stop_timeout()
        argv = web_argv(options["server"], options["addr"], options["workers"], options["threads"])
        if not options["no_collectstatic"]:
            started = time.perf_counter()
            call_command("collectstatic", interactive=False, verbosity=0)
            self.stdout.write(f"静态文件:已收集({time.perf_counter() - started:.1f} 秒)")

        stop_requested: list[int] = []

        def request_stop(signum: int, _frame: Any) -> None:
            stop_requested.append(signum)

        previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
        children: list[subprocess.Popen] = []
        try:
            web = spawn(argv)
            children.append(web)
            self.stdout.write(f"网页服务:{options['server']} http://{options['addr']}/")
            children += start_children(
                worker=not options["no_worker"],
                ingest=not options["no_ingest"],
                simulate=options["simulate"],
                mqtt_host=options["mqtt_host"],
                mqtt_port=options["mqtt_port"],
                say=self.stdout.write,
            )
            reported: set[int] = set()
            while not stop_requested:
                if web.poll() is not None:
                    raise CommandError(f"网页服务已退出(退出码 {web.returncode}),平台停止")
                for child in children[1:]:
                    if child.poll() is not None and child.pid not in reported:
                        reported.add(child.pid)
                        self.stderr.write(
                            f"子进程已退出(退出码 {child.returncode}):{' '.join(child.args[2:4])}"
                        )
                time.sleep(0.2)
            self.stdout.write("正在停止……")
        finally:
            stop_children(children, timeout)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("已停止")
        # Everything is stopped: leave now. The interpreter's own teardown of a
        # fully loaded platform (every app, numpy, pyproj, matplotlib) takes 2–3 s
        # more on a busy machine, and "stopped within a few seconds" is the promise.
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(0)
