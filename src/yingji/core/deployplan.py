"""The multi-process deployment on one machine (`yingji deploy`), as data: which
processes run, on which loopback ports, with which arguments, the reverse proxy's
configuration and the restart back-off. Pure (no Django): the command turns this
plan into processes, the tests check it without a database.

    haproxy :port ──► web-0 :port+1 … web-N :port+N   (gunicorn, gthread)
    queue-0 … queue-Q      (`yingji run_huey`; only queue-0 enqueues periodic jobs)
    ingest-0 … ingest-I    (`yingji ingest --partition i/I`, stable client ids)
    mosquitto :mqtt_port   (the shipped configuration, its own persistence folder)

Several machines run the same processes from systemd units (deploy/).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from yingji.core import webserver

# What the proxy asks each web process to tell it is alive: a page that answers
# 200 without a login and without touching anything but the application itself.
HEALTH_PATH = "/accounts/login/"
# Restart delays after a child dies, in seconds, by how many times it died in a row;
# a child that ran RESET_AFTER_S seconds before dying starts again at the first.
BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
RESET_AFTER_S = 60.0
GROUPS = ("broker", "web", "queue", "ingest", "proxy")


class PlanError(ValueError):
    pass


@dataclass(frozen=True)
class Process:
    name: str
    argv: list[str]
    group: str  # one of GROUPS
    env: dict[str, str] = field(default_factory=dict)
    port: int | None = None  # the loopback port it listens on, if any


@dataclass(frozen=True)
class Layout:
    dir: Path
    port: int  # the proxy's
    mqtt_port: int
    web_ports: tuple[int, ...]

    @property
    def logs(self) -> Path:
        return self.dir / "logs"

    @property
    def state_file(self) -> Path:
        return self.dir / "state.json"

    @property
    def haproxy_cfg(self) -> Path:
        return self.dir / "haproxy.cfg"

    @property
    def broker_dir(self) -> Path:
        return self.dir / "mosquitto"


def layout(dir: str | Path, *, web: int = 2, port: int = 8100, mqtt_port: int = 18830) -> Layout:
    """Web processes listen on the ports right after the proxy's."""
    check_counts(web=web, queue=1, ingest=1)
    ports = tuple(port + 1 + i for i in range(web))
    for p in (port, mqtt_port, *ports):
        if not 1 <= p <= 65535:
            raise PlanError(f"端口 {p} 超出范围 1–65535(--port {port},--web {web})")
    if mqtt_port in (port, *ports):
        raise PlanError(f"--mqtt-port {mqtt_port} 与网页端口 {port}–{port + web} 冲突")
    return Layout(Path(dir), port, mqtt_port, ports)


def check_counts(*, web: int, queue: int, ingest: int) -> None:
    for name, n in (("--web", web), ("--queue", queue), ("--ingest", ingest)):
        if not 1 <= n <= 64:
            raise PlanError(f"{name} {n} 无效:每种进程 1–64 个")


def processes(
    lay: Layout,
    *,
    web: int = 2,
    queue: int = 2,
    ingest: int = 2,
    web_workers: int = 2,
    web_threads: int = 4,
    python: str = sys.executable,
) -> list[Process]:
    """Every child but the broker and the proxy (the command starts those itself),
    in start order."""
    check_counts(web=web, queue=queue, ingest=ingest)
    if web_workers < 1 or web_threads < 1:
        raise PlanError(f"--web-workers {web_workers} / --web-threads {web_threads}:至少 1")
    if len(lay.web_ports) != web:
        raise PlanError(f"布局有 {len(lay.web_ports)} 个网页端口,--web 为 {web}")
    cli = [python, "-m", "yingji.cli"]
    out: list[Process] = []
    for i, p in enumerate(lay.web_ports):
        argv = webserver.gunicorn_argv(
            f"127.0.0.1:{p}",
            web_workers,
            web_threads,
            python=python,
            env={"YINGJI_STOP_TIMEOUT": "3"},
            extra=["--access-logfile", "-", "--name", f"yingji-web-{i}"],
        )
        out.append(Process(f"web-{i}", argv, "web", port=p))
    for i in range(queue):
        # Every consumer takes jobs; one only puts the periodic ones on the queue
        # (else each minute's sweep would be queued once per consumer).
        argv = [*cli, "run_huey", "--workers", "2", "--worker-type", "thread"]
        argv += ["--shutdown-timeout", "3"]  # a graceful stop waits at most 3 s for a job
        if i:
            argv.append("--no-periodic")
        out.append(Process(f"queue-{i}", argv, "queue"))
    for i in range(ingest):
        out.append(
            Process(
                f"ingest-{i}",
                [
                    *cli,
                    "ingest",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(lay.mqtt_port),
                    "--partition",
                    f"{i}/{ingest}",
                    # Stable across restarts: the broker keeps the session and hands
                    # back what the dead process had not acknowledged.
                    "--client-id",
                    f"yingji-ingest-{i}of{ingest}",
                ],
                "ingest",
            )
        )
    return out


def haproxy_config(
    lay: Layout,
    *,
    health_path: str = HEALTH_PATH,
    maxconn: int = 2000,
    pidfile: Path | None = None,
) -> str:
    """haproxy.cfg for the proxy in front of the web processes. A process that stops
    answering is taken out after one failed check (every 2 s), and a request whose
    connection is refused or gets no answer is tried again on another process, so a
    web process dying costs no page view (and no form post is ever sent twice)."""
    servers = "\n".join(
        f"    server web-{i} 127.0.0.1:{p} check inter 2s fall 1 rise 1 maxconn {maxconn}"
        for i, p in enumerate(lay.web_ports)
    )
    pid = f"    pidfile {pidfile}\n" if pidfile else ""
    return f"""# Written by `yingji deploy`; deploy/haproxy.cfg is the annotated example.
global
    maxconn {maxconn * 2}
{pid}    log stdout format raw local0 info

defaults
    mode http
    log global
    option httplog
    option dontlognull
    option forwardfor
    option redispatch
    retries 3
    retry-on conn-failure empty-response
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout check 5s
    timeout http-request 10s

frontend yingji
    bind 127.0.0.1:{lay.port}
    # A request that may have changed something is never sent twice: only a
    # refused connection (the request never left) is retried for POST and others.
    http-request disable-l7-retry unless METH_GET
    default_backend web

backend web
    balance leastconn
    option httpchk GET {health_path}
    http-check expect status 200
    default-server on-marked-down shutdown-sessions
{servers}
"""


def backoff(failures_in_a_row: int) -> float:
    """Seconds to wait before restarting a child that died `failures_in_a_row`
    times in a row (1 for the first death)."""
    if failures_in_a_row < 1:
        return 0.0
    return BACKOFF_S[min(failures_in_a_row, len(BACKOFF_S)) - 1]
