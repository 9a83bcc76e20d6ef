"""Run a local Mosquitto with the shipped configuration (data/mosquitto.conf) on a
given port: used by the tests, the benchmark and the demo."""

from __future__ import annotations

import getpass
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

CONF = Path(__file__).resolve().parent / "data" / "mosquitto.conf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(found).exists():
        raise RuntimeError("未找到 mosquitto(Debian: apt-get install mosquitto)")
    return found


class Broker:
    """A mosquitto process on 127.0.0.1:`port` with its own persistence folder."""

    def __init__(self, port: int | None = None, workdir: str | Path | None = None):
        self.port = port or free_port()
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="yingji-mosquitto-"))
        self.proc: subprocess.Popen | None = None

    def config(self) -> Path:
        text = CONF.read_text(encoding="utf-8")
        text = re.sub(r"^listener .*$", f"listener {self.port} 127.0.0.1", text, flags=re.M)
        text = re.sub(
            r"^persistence_location .*$", f"persistence_location {self.dir}/", text, flags=re.M
        )
        # Started as root, mosquitto drops to the "mosquitto" user and could not write
        # its persistence file here: stay the user who owns the folder.
        text += f"\nuser {getpass.getuser()}\n"
        path = self.dir / "mosquitto.conf"
        path.write_text(text, encoding="utf-8")
        return path

    def start(self, timeout: float = 10.0) -> Broker:
        conf = self.config()
        self.log = open(self.dir / "mosquitto.log", "ab")  # noqa: SIM115 (kept open while running)
        self.proc = subprocess.Popen(
            [mosquitto_binary(), "-c", str(conf)], stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto 启动失败:{(self.dir / 'mosquitto.log').read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto 未在 {timeout} 秒内监听端口 {self.port}")

    def stop(self, kill: bool = False) -> None:
        """SIGTERM (the broker saves its persistence file) or SIGKILL."""
        if self.proc and self.proc.poll() is None:
            (self.proc.kill if kill else self.proc.terminate)()
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> Broker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
