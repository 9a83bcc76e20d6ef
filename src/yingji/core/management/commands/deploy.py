"""`yingji deploy`: the whole multi-process deployment on this machine, on loopback
ports — Mosquitto, haproxy in front of N gunicorn web processes, Q Huey consumers on
Redis, I ingest workers on partitions — kept running by a supervisor loop.

Each child runs in its own process group with its log in DIR/logs/NAME.log; one
that dies is started again after a back-off (deployplan.BACKOFF_S). DIR/state.json
lists every child's pid, restarts and readiness, rewritten when anything changes.
SIGINT or SIGTERM stops everything within a few seconds: the children first (TERM,
SIGINT for the queue consumers so a job in hand finishes, KILL after a timeout),
the broker last. Several machines: the same processes as systemd units (deploy/).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from yingji.core import deployplan
from yingji.core.deployplan import Process

STOP_TIMEOUT_S = 6.0
POLL_S = 0.2
HAPROXY = "/usr/sbin/haproxy"


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


class Child:
    """One supervised process."""

    # What a child's log says once it is ready (beside a port that answers).
    READY_WORDS = {"ingest": "已订阅", "queue": "consumer started"}

    def __init__(self, spec: Process, log: Path, env: dict[str, str]):
        self.spec, self.log_path, self.env = spec, log, env
        self.proc: subprocess.Popen | None = None
        self.restarts = 0
        self.in_a_row = 0
        self.started_at = 0.0
        self.restart_at: float | None = None
        self.log_offset = 0
        self.ready = False

    @property
    def name(self) -> str:
        return self.spec.name

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.log_offset = log.tell()
            log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} 启动 {self.name}\n".encode())
            log.flush()
            # Its own process group (start_new_session): stopping it stops what it
            # started (gunicorn's workers), and a Ctrl-C at the terminal reaches only
            # the supervisor, which stops the children in order.
            self.proc = subprocess.Popen(
                self.spec.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )
        self.started_at = time.monotonic()
        self.restart_at = None
        self.ready = False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_ready(self) -> bool:
        if self.ready or not self.alive():
            return self.ready
        if self.spec.port is not None:
            self.ready = answers(self.spec.port)
        elif self.spec.group in self.READY_WORDS:
            try:
                with open(self.log_path, "rb") as f:
                    f.seek(self.log_offset)
                    text = f.read().decode("utf-8", "replace")
            except OSError:
                text = ""
            self.ready = self.READY_WORDS[self.spec.group] in text.lower()
        else:
            self.ready = time.monotonic() - self.started_at > 1.0
        return self.ready

    def signal(self, sig: int) -> None:
        if self.alive():
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def kill_leftovers(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def state(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "group": self.spec.group,
            "pid": self.proc.pid if self.alive() else None,
            "alive": self.alive(),
            "ready": self.ready,
            "restarts": self.restarts,
            "port": self.spec.port,
            "log": str(self.log_path),
        }


class Command(BaseCommand):
    help = (
        "在本机启动多进程部署:Mosquitto、haproxy + N 个网页进程(gunicorn)、"
        "Q 个队列消费进程(Huey on Redis)、I 个接入进程(分区),进程退出时自动重启"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--web", type=int, default=2, help="网页进程数(默认 2)")
        parser.add_argument("--queue", type=int, default=2, help="队列消费进程数(默认 2)")
        parser.add_argument("--ingest", type=int, default=2, help="监测接入进程数(默认 2)")
        parser.add_argument("--port", type=int, default=8100, help="反向代理端口(默认 8100)")
        parser.add_argument("--mqtt-port", type=int, default=18830, help="MQTT 代理端口")
        parser.add_argument("--web-workers", type=int, default=2, help="每个网页进程的工作进程数")
        parser.add_argument("--web-threads", type=int, default=4, help="每个工作进程的线程数")
        parser.add_argument(
            "--dir", default=None, help="日志、state.json 和代理配置的目录(默认 var/deploy)"
        )
        parser.add_argument(
            "--no-setup", action="store_true", help="不运行 migrate 和 collectstatic(已运行过时)"
        )

    # ----------------------------------------------------------------- checks
    def check_engines(self) -> None:
        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine:
            raise CommandError(
                "yingji deploy 需要 PostgreSQL:多个网页、队列和接入进程同时写入数据库,"
                "SQLite 同一时刻只允许一个写入者。请设置 DATABASE_URL=postgres://用户@主机:5432/库名"
                f"(当前数据库引擎:{engine.rsplit('.', 1)[-1]})"
            )
        if not settings.REDIS_URL:
            raise CommandError(
                "yingji deploy 需要 Redis:多个队列消费进程须共享同一个任务队列(Huey on Redis),"
                "SQLite 上的队列只供单进程使用。请设置 REDIS_URL=redis://127.0.0.1:6379/0"
            )

    def haproxy_binary(self) -> str:
        found = shutil.which("haproxy") or HAPROXY
        if Path(found).exists():
            return found
        self.stdout.write("未找到 haproxy,正在安装(apt-get install -y haproxy)…")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        done = subprocess.run(["apt-get", "install", "-y", "-qq", "haproxy"], env=env)
        if done.returncode != 0 or not Path(HAPROXY).exists():
            raise CommandError("未找到 haproxy 且安装失败:请以 root 运行 apt-get install haproxy")
        return HAPROXY

    # ------------------------------------------------------------------ plan
    def handle(self, *args: Any, **o: Any) -> None:
        self.check_engines()
        directory = Path(o["dir"] or Path(settings.VAR_DIR) / "deploy").resolve()
        try:
            lay = deployplan.layout(
                directory, web=o["web"], port=o["port"], mqtt_port=o["mqtt_port"]
            )
            specs = deployplan.processes(
                lay,
                web=o["web"],
                queue=o["queue"],
                ingest=o["ingest"],
                web_workers=o["web_workers"],
                web_threads=o["web_threads"],
            )
        except deployplan.PlanError as exc:
            raise CommandError(str(exc)) from exc
        busy = [p for p in (lay.port, lay.mqtt_port, *lay.web_ports) if not port_free(p)]
        if busy:
            raise CommandError(
                f"端口已被占用:{', '.join(map(str, busy))}(另一个部署在运行?换 --port / --mqtt-port)"
            )
        haproxy = self.haproxy_binary()
        from yingji.monitoring.broker import Broker, mosquitto_binary

        try:
            mosquitto = mosquitto_binary()
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc

        if not o["no_setup"]:
            self.stdout.write("数据库迁移(migrate)…")
            call_command("migrate", interactive=False, verbosity=0)
            self.stdout.write("收集静态文件(collectstatic)…")
            call_command("collectstatic", interactive=False, verbosity=0)

        lay.logs.mkdir(parents=True, exist_ok=True)
        metrics_dir = lay.dir / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        lay.broker_dir.mkdir(parents=True, exist_ok=True)
        broker_conf = Broker(port=lay.mqtt_port, workdir=lay.broker_dir).config()
        lay.haproxy_cfg.write_text(deployplan.haproxy_config(lay), encoding="utf-8")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "yingji.settings"),
            "PYTHONUNBUFFERED": "1",
            "YINGJI_MQTT_HOST": "127.0.0.1",
            "YINGJI_MQTT_PORT": str(lay.mqtt_port),
            # One /metrics over every process (docs/operations.md): emptied at start.
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        }
        broker = Child(
            Process("mosquitto", [mosquitto, "-c", str(broker_conf)], "broker", port=lay.mqtt_port),
            lay.logs / "mosquitto.log",
            env,
        )
        proxy = Child(
            Process(
                "haproxy", [haproxy, "-db", "-f", str(lay.haproxy_cfg)], "proxy", port=lay.port
            ),
            lay.logs / "haproxy.log",
            env,
        )
        children = [Child(s, lay.logs / f"{s.name}.log", env) for s in specs]
        self.run(lay, broker, children, proxy)

    # ------------------------------------------------------------ supervisor
    def run(self, lay: deployplan.Layout, broker: Child, children: list[Child], proxy: Child):
        stopping: list[int] = []

        def on_signal(signum, frame):  # noqa: ARG001
            stopping.append(signum)

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        everyone = [broker, *children, proxy]
        last_state = ""

        def write_state() -> None:
            nonlocal last_state
            state = {
                "pid": os.getpid(),
                "ready": all(c.ready for c in everyone),
                "stopping": bool(stopping),
                "port": lay.port,
                "mqtt_port": lay.mqtt_port,
                "processes": [c.state() for c in everyone],
            }
            text = json.dumps(state, ensure_ascii=False, indent=1)
            if text != last_state:
                tmp = lay.state_file.with_suffix(".tmp")
                tmp.write_text(text, encoding="utf-8")
                tmp.replace(lay.state_file)
                last_state = text

        announced = False
        try:
            broker.start()
            deadline = time.monotonic() + 15
            while not broker.check_ready():
                if not broker.alive() or time.monotonic() > deadline or stopping:
                    raise CommandError(f"MQTT 代理未能启动,见 {broker.log_path}")
                time.sleep(0.05)
            for c in [*children, proxy]:
                c.start()
            self.stdout.write(
                f"部署已启动:代理 http://127.0.0.1:{lay.port}/ → 网页进程 "
                f"{', '.join(str(p) for p in lay.web_ports)};MQTT 127.0.0.1:{lay.mqtt_port};"
                f"日志 {lay.logs};状态 {lay.state_file}"
            )
            self.stdout.flush()
            while not stopping:
                now = time.monotonic()
                for c in everyone:
                    if c.alive():
                        c.check_ready()
                        if c.in_a_row and now - c.started_at > deployplan.RESET_AFTER_S:
                            c.in_a_row = 0
                        continue
                    if c.restart_at is None:  # just died
                        code = c.proc.returncode if c.proc else None
                        c.kill_leftovers()  # e.g. gunicorn workers of a killed master
                        c.in_a_row += 1
                        delay = deployplan.backoff(c.in_a_row)
                        c.restart_at = now + delay
                        c.ready = False
                        self.stderr.write(f"{c.name} 已退出(返回码 {code}),{delay:g} 秒后重启")
                    elif now >= c.restart_at:
                        c.restarts += 1
                        c.start()
                        self.stdout.write(f"{c.name} 已重启(第 {c.restarts} 次)")
                write_state()
                if not announced and all(c.ready for c in everyone):
                    announced = True
                    self.stdout.write("全部进程就绪")
                    self.stdout.flush()
                time.sleep(POLL_S)
        finally:
            self.stdout.write("正在停止部署…")
            write_state()
            self.stop([proxy, *children], broker)
            for c in everyone:
                c.ready = False
            write_state()
            self.stdout.write("部署已停止")

    @staticmethod
    def stop(children: list[Child], broker: Child) -> None:
        """Children first (they flush to the broker and the database), the broker last."""
        for c in children:
            # Huey: SIGINT is its graceful stop (the job in hand finishes, bounded by
            # --shutdown-timeout); everyone else stops on SIGTERM.
            c.signal(signal.SIGINT if c.spec.group == "queue" else signal.SIGTERM)
        Command._wait(children, STOP_TIMEOUT_S)
        broker.signal(signal.SIGTERM)
        Command._wait([broker], 3.0)

    @staticmethod
    def _wait(children: list[Child], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for c in children:
            if c.proc is None:
                continue
            try:
                c.proc.wait(max(0.05, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for c in children:
            if c.alive():
                c.signal(signal.SIGKILL)
                c.proc.wait(5)
            else:  # the leader exited; nothing of its group outlives it
                c.kill_leftovers()
