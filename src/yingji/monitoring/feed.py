"""Feeding readings in: sinks (MQTT, HTTP, in-process) and the two drivers that use
them — CSV replay with a speed factor and the weather simulation.

Time: a replayed file or a simulation is shifted so that its *last* reading
falls at the moment the run started, keeping the original spacing; readings are
then sent in time order, `speed` times faster than they were recorded. Stored
times are never in the future, so the ingest accepts them, and rolling windows
see the true spacing.
"""

from __future__ import annotations

import csv
import json
import socket
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from yingji.monitoring import payloads

Row = tuple[str, int, float]  # code, ts_ms, value


class Sink:
    """Where readings go; `send` takes one batch."""

    name = ""

    def send(self, rows: list[Row]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Flush and release."""


class MqttSink(Sink):
    """Publish compact batches to yingji/v1/batch at QoS 1."""

    name = "MQTT"

    def __init__(self, host: str, port: int, client_id: str | None = None, chunk: int = 500):
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            protocol=mqtt.MQTTv5,
            client_id=client_id or f"yingji-feed-{time.time_ns()}",
        )
        self.client.max_inflight_messages_set(200)
        self.client.max_queued_messages_set(0)
        self.client.connect(host, port)
        self.client.loop_start()
        self.chunk = chunk
        self.pending: list[mqtt.MQTTMessageInfo] = []

    def send(self, rows: list[Row]) -> None:
        for i in range(0, len(rows), self.chunk):
            self.pending.append(
                self.client.publish(
                    payloads.BATCH_TOPIC, payloads.encode_batch(rows[i : i + self.chunk]), qos=1
                )
            )
        if len(self.pending) > 1000:
            self._wait()

    def _wait(self) -> None:
        for info in self.pending:
            info.wait_for_publish(timeout=30)
        self.pending.clear()

    def close(self) -> None:
        self._wait()
        self.client.disconnect()
        self.client.loop_stop()


class HttpSink(Sink):
    """POST NDJSON to the bulk endpoint with a token."""

    name = "HTTP"

    def __init__(self, url: str, token: str):
        self.url, self.token = url, token

    def send(self, rows: list[Row]) -> None:
        body = "\n".join(json.dumps({"sensor": c, "ts": t, "value": v}) for c, t, v in rows)
        req = urllib.request.Request(
            self.url,
            data=body.encode(),
            method="POST",
            headers={
                "Content-Type": "application/x-ndjson",
                "Authorization": f"Bearer {self.token}",
            },
        )
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 (configured URL)
            resp.read()


class DirectSink(Sink):
    """In process, straight into the ingest path (no broker, no server)."""

    name = "本进程直接入库"

    def __init__(self) -> None:
        from yingji.monitoring import services

        self.ingestor = services.Ingestor()
        self.stats = services.IngestStats()

    def send(self, rows: list[Row]) -> None:
        self.stats.add(self.ingestor.ingest([(c, t, v, None) for c, t, v in rows], source="feed"))
        self.ingestor.tick()


def broker_reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def read_csv(path: str | Path) -> list[tuple[str, int, float, str | None]]:
    """A replay file: sensor,ts,value[,unit] (ts in ms or ISO 8601 with offset).
    Every bad line is reported with its number before anything is sent."""
    path = Path(path)
    rows, problems = [], []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"sensor", "ts", "value"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(
                f"{path.name}:缺少列 {', '.join(sorted(missing))}(应为 sensor,ts,value[,unit])"
            )
        for n, r in enumerate(reader, 2):
            try:
                ts = r["ts"].strip()
                rows.append(
                    (
                        r["sensor"].strip(),
                        payloads.parse_ts(int(ts) if ts.isdigit() else ts),
                        payloads.parse_value(float(r["value"])),
                        (r.get("unit") or "").strip() or None,
                    )
                )
            except (ValueError, TypeError) as exc:
                problems.append(f"{path.name} 第 {n} 行:{exc}")
    if problems:
        raise ValueError("回放未执行:\n" + "\n".join(problems[:50]))
    return sorted(rows, key=lambda r: r[1])


def paced(
    frames: Iterable[tuple[int, list[Row]]],
    sink: Sink,
    speed: float,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Send (ts_ms, rows) frames in order, `speed` times faster than their spacing."""
    sent, first, t_start = 0, None, time.monotonic()
    for ts, rows in frames:
        if first is None:
            first = ts
        due = (ts - first) / 1000 / speed
        wait = due - (time.monotonic() - t_start)
        if wait > 0:
            sleep(wait)
        sink.send(rows)
        sent += len(rows)
        if progress:
            progress(ts, sent)
    sink.close()
    return sent


def replay_frames(
    rows: list[tuple[str, int, float, str | None]], now_ms: int
) -> Iterator[tuple[int, list[Row]]]:
    """Group a replay file by timestamp, shifted so its last reading is at `now_ms`."""
    if not rows:
        return
    shift = now_ms - rows[-1][1]
    batch: list[Row] = []
    current = rows[0][1]
    for code, ts, value, _unit in rows:
        if ts != current and batch:
            yield current + shift, batch
            batch = []
        current = ts
        batch.append((code, ts + shift, value))
    if batch:
        yield current + shift, batch
