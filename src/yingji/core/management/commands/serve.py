"""`yingji serve`: the platform on one machine — the web server, the background
worker (Huey: outbox delivery, supervision, periodic jobs) and the monitoring
ingest worker when an MQTT broker answers; optionally a simulation.

Production runs these as separate services (a WSGI server on yingji.wsgi,
`yingji run_huey`, N × `yingji ingest`); this command is the embedded default.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

CLI = [sys.executable, "-m", "yingji.cli"]


def broker_reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def start_children(
    *, worker: bool, ingest: bool, simulate: str | None, mqtt_host: str, mqtt_port: int, say=print
) -> list[subprocess.Popen]:
    """Start the helper processes; returns them (the caller stops them)."""
    children: list[subprocess.Popen] = []
    if worker:
        children.append(subprocess.Popen([*CLI, "run_huey"]))
        say("后台任务:已启动 Huey 工作进程(通知发送、督办、定时任务)")
    if ingest or simulate:
        if broker_reachable(mqtt_host, mqtt_port):
            if ingest:
                children.append(
                    subprocess.Popen(
                        [*CLI, "ingest", "--host", mqtt_host, "--port", str(mqtt_port)]
                    )
                )
                say(f"监测接入:已启动 MQTT 接入进程({mqtt_host}:{mqtt_port})")
        else:
            say(
                f"监测接入:MQTT 代理 {mqtt_host}:{mqtt_port} 不可达,未启动接入进程"
                "(模拟数据将直接入库)"
            )
    if simulate:
        time.sleep(1.5)  # let the ingest worker subscribe before readings flow
        extra = [] if broker_reachable(mqtt_host, mqtt_port) else ["--direct"]
        children.append(subprocess.Popen([*CLI, "simulate", simulate, *extra]))
        say(f"模拟:{simulate} 已开始")
    return children


def stop_children(children: list[subprocess.Popen], timeout: float = 10.0) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


class Command(BaseCommand):
    help = "启动平台:网页服务 + 后台任务进程 + 监测接入进程(MQTT 可达时),可选模拟"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addr", nargs="?", default="127.0.0.1:8000")
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
        children = start_children(
            worker=not options["no_worker"],
            ingest=not options["no_ingest"],
            simulate=options["simulate"],
            mqtt_host=options["mqtt_host"],
            mqtt_port=options["mqtt_port"],
            say=self.stdout.write,
        )
        try:
            call_command("runserver", options["addr"], use_reloader=False)
        finally:
            stop_children(children)
