"""`yingji serve` starts the web server with the worker and the ingest process,
and stops them with it."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from yingji.core.management.commands.serve import broker_reachable


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                out.append(int(entry.name))
    return out


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_broker_reachable_tells_an_open_port_from_a_closed_one():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert broker_reachable("127.0.0.1", s.getsockname()[1])
    assert not broker_reachable("127.0.0.1", _free_port())


def test_serve_runs_web_worker_and_ingest_and_stops_them(tmp_path):
    mqtt_port = _free_port()
    broker = subprocess.Popen(
        ["/usr/sbin/mosquitto", "-p", str(mqtt_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env = {
        **os.environ,
        "YINGJI_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "yingji.settings",
    }
    env.pop("DATABASE_URL", None)
    cli = [sys.executable, "-m", "yingji.cli"]
    subprocess.run([*cli, "migrate", "-v0"], env=env, check=True)
    web_port = _free_port()
    serve = subprocess.Popen(
        [*cli, "serve", f"127.0.0.1:{web_port}", "--mqtt-port", str(mqtt_port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{web_port}/accounts/login/", timeout=2
                ) as r:
                    assert r.status == 200
                    break
            except OSError:
                if time.time() > deadline or serve.poll() is not None:
                    raise
                time.sleep(0.5)
        kids = " | ".join(_cmdline(p) for p in _children_of(serve.pid))
        assert "run_huey" in kids and "ingest" in kids
        children = _children_of(serve.pid)
        serve.send_signal(signal.SIGINT)
        serve.wait(30)
        time.sleep(0.5)
        assert not [
            p
            for p in children
            if Path(f"/proc/{p}").exists()
            and "zombie" not in (Path(f"/proc/{p}/status").read_text())
        ]
    finally:
        if serve.poll() is None:
            serve.kill()
        broker.terminate()
        broker.wait()
