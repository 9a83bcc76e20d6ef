"""`yingji serve` starts the production web server (gunicorn) with the worker and
the ingest process, each in a process group of its own, serves hashed static
files cached for a year, and stops every child within a few seconds of a signal.

Robust on a busy machine: every wait is for a condition with a generous
deadline, and what is checked after the signal is that no process of any of the
children's groups is left."""

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from yingji.core import webserver
from yingji.core.management.commands.serve import broker_reachable, spawn, stop_children


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat(pid: int) -> list[str] | None:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent, process group, state) of every live process."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            out[int(entry.name)] = (int(stat[1]), int(stat[2]), stat[0])
    return out


def _in_groups(groups: set[int]) -> list[int]:
    """Live (not zombie) processes of these process groups."""
    return [
        pid for pid, (_, pgid, state) in _processes().items() if pgid in groups and state != "Z"
    ]


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _wait_for(condition, timeout: float, what: str, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(step)


def test_broker_reachable_tells_an_open_port_from_a_closed_one():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert broker_reachable("127.0.0.1", s.getsockname()[1])
    assert not broker_reachable("127.0.0.1", _free_port())


def test_gunicorn_argv_takes_sizes_from_the_environment_and_names_a_bad_one():
    argv = webserver.gunicorn_argv("127.0.0.1:9", env={}, python="py")
    assert argv[:4] == ["py", "-m", "gunicorn", "yingji.wsgi:application"]
    assert argv[argv.index("--worker-class") + 1] == "gthread"
    assert int(argv[argv.index("--workers") + 1]) == webserver.default_workers() >= 2
    env = {"YINGJI_WEB_WORKERS": "3", "YINGJI_WEB_THREADS": "8", "YINGJI_STOP_TIMEOUT": "2"}
    argv = webserver.gunicorn_argv("127.0.0.1:9", env=env)
    assert argv[argv.index("--workers") + 1] == "3" and argv[argv.index("--threads") + 1] == "8"
    assert argv[argv.index("--graceful-timeout") + 1] == "2"
    argv = webserver.gunicorn_argv("127.0.0.1:9", 1, 2, env=env)
    assert argv[argv.index("--workers") + 1] == "1" and argv[argv.index("--threads") + 1] == "2"
    with pytest.raises(webserver.WebConfigError, match="YINGJI_WEB_THREADS='many'"):
        webserver.gunicorn_argv("127.0.0.1:9", env={"YINGJI_WEB_THREADS": "many"})


def test_a_child_that_ignores_sigterm_is_killed_with_its_whole_group():
    # A child that ignores SIGTERM and has a grandchild that does too: both gone
    # within the stop timeout plus a little, not whenever they please.
    stubborn = textwrap.dedent(
        """
        import signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        subprocess.Popen([sys.executable, "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
        print("ready", flush=True)
        time.sleep(600)
        """
    )
    polite = spawn([sys.executable, "-c", "import time; time.sleep(600)"])
    child = spawn([sys.executable, "-c", stubborn], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        assert os.getpgid(child.pid) == child.pid != os.getpgid(0)
        _wait_for(lambda: len(_in_groups({child.pid})) == 2, 60, "the grandchild started")
        started = time.monotonic()
        stop_children([polite, child], timeout=1.0)
        assert time.monotonic() - started < 15
        assert polite.returncode == -signal.SIGTERM and child.returncode == -signal.SIGKILL
        assert _in_groups({polite.pid, child.pid}) == []
    finally:
        for proc in (polite, child):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_serve_runs_gunicorn_worker_and_ingest_serves_static_and_stops_them(tmp_path):
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
        "YINGJI_WEB_WORKERS": "2",
        "YINGJI_WEB_THREADS": "2",
        "YINGJI_STOP_TIMEOUT": "3",
    }
    env.pop("DATABASE_URL", None)
    cli = [sys.executable, "-m", "yingji.cli"]
    subprocess.run([*cli, "migrate", "-v0"], env=env, check=True)
    web_port = _free_port()
    log = (tmp_path / "serve.log").open("w+")
    serve = subprocess.Popen(
        [*cli, "serve", f"127.0.0.1:{web_port}", "--mqtt-port", str(mqtt_port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{web_port}"
    groups: set[int] = set()

    def login_page():
        if serve.poll() is not None:
            log.seek(0)
            raise AssertionError(f"serve exited {serve.returncode}:\n{log.read()}")
        try:
            with urllib.request.urlopen(f"{base}/accounts/login/", timeout=5) as r:
                return r.read().decode() if r.status == 200 else None
        except OSError:
            return None

    try:
        page = _wait_for(login_page, 90, "the login page answers")
        kids = [p for p, (parent, _, _) in _processes().items() if parent == serve.pid]
        commands = {p: _cmdline(p) for p in kids}
        joined = " | ".join(commands.values())
        assert "gunicorn" in joined and "run_huey" in joined and "ingest" in joined
        groups |= set(kids)
        for pid in kids:  # each child leads its own group, apart from serve's
            assert os.getpgid(pid) == pid != os.getpgid(serve.pid)
        gunicorn = next(p for p, c in commands.items() if "gunicorn" in c)
        workers = _wait_for(
            lambda: [p for p, (parent, _, _) in _processes().items() if parent == gunicorn],
            60,
            "gunicorn's two workers",
        )
        assert {os.getpgid(w) for w in workers} == {gunicorn}

        # Static files: the page names the hashed file, served cached for a year.
        css = re.search(r'href="(/static/yingji/app\.[0-9a-f]{12}\.css)"', page)
        assert css, "the page links the hashed stylesheet"
        with urllib.request.urlopen(base + css.group(1), timeout=10) as r:
            assert r.status == 200 and b"{" in r.read()
            cache_control = r.headers["Cache-Control"]
        assert "max-age=31536000" in cache_control and "immutable" in cache_control

        serve.send_signal(signal.SIGINT)
        serve.wait(60)
        _wait_for(lambda: not _in_groups(groups), 30, f"every child gone: {_in_groups(groups)}")
        with pytest.raises(OSError):
            urllib.request.urlopen(f"{base}/accounts/login/", timeout=5)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
        for pgid in groups:  # a failed test leaves nothing behind either
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        broker.terminate()
        broker.wait()
        log.close()
