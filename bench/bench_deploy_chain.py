"""Benchmark: the monitoring chain through the multi-process deployment (issue 15).

The requirement: 20,000 readings/s offered through the deployment's broker with
p99 reading → alarm under 1 s, as the single worker does.

The same stream as bench_monitoring_mqtt.py (its data, publisher and alarm watcher
are reused: 10,000 rain gauges, compact batches of 100 at QoS 1, 10 % above the
target, a gas reading over its red line every 0.25 s on a fresh sensor, alarms
polled every 10 ms), measured side by side in one run on one PostgreSQL database
of the run's own:

1. the baseline: one `yingji ingest` process on a broker of its own (the single
   worker's figure);
2. the deployment: `yingji deploy --web 2 --queue 2 --ingest 2` (haproxy, 2 web,
   2 Huey consumers on Redis, 2 ingest partitions, its own Mosquitto), the stream
   published to the deployment's broker.

For each: readings/s from the first publish until the last reading is stored,
readings lost (must be 0), p99 and p50 from publishing a trigger to its alarm in
the database. QUICK=1: 7.5 s of publishing on 2,000 sensors.

    .venv/bin/python bench/bench_deploy_chain.py
    QUICK=1 .venv/bin/python bench/bench_deploy_chain.py

The figure is the deployment's readings/s; its p99 is beside it. Needs PostgreSQL
and Redis (REDIS_URL, default redis://127.0.0.1:6379/0).
Last line: one JSON object (bench, figure, unit, target, baseline, ratio, quick).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import bench_monitoring_mqtt as mm  # sets up Django on a PostgreSQL database of its own
from _common import report

from yingji.monitoring.broker import Broker, free_port
from yingji.monitoring.models import Reading

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def start_deployment() -> tuple[subprocess.Popen, int, dict]:
    port = free_port()
    while any(not _free(p) for p in (port + 1, port + 2)):
        port = free_port()
    mqtt_port = free_port()
    directory = mm.VAR / "deploy"
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "HUEY_NAME": f"yingji-bench-{uuid.uuid4().hex[:8]}",
        "YINGJI_DEMO": "1",
        "YINGJI_DEMO_CHANNELS": "1",
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "yingji.cli", "deploy", "--no-setup", "--dir", str(directory)]
        + ["--web", "2", "--queue", "2", "--ingest", "2"]
        + ["--port", str(port), "--mqtt-port", str(mqtt_port)],
        env=env,
        stdout=open(mm.VAR / "deploy.out", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 180
    state: dict = {}
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"yingji deploy exited: {(mm.VAR / 'deploy.out').read_text()}")
        try:
            state = json.loads((directory / "state.json").read_text())
        except (OSError, ValueError):
            state = {}
        if state.get("ready"):
            return proc, mqtt_port, state
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the deployment did not become ready in 180 s")


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def run_deployment(run: int) -> dict:
    mm.reset()
    proc, mqtt_port, _ = start_deployment()
    try:
        trigger_codes = [f"T{i:04d}" for i in range(run * 600, run * 600 + 600)]
        triggers: list[tuple[str, float]] = []
        seen: dict[str, float] = {}
        stop = threading.Event()
        watcher = threading.Thread(target=mm.watch_alarms, args=(set(trigger_codes), seen, stop))
        watcher.start()
        pub = mm.publisher(mqtt_port)
        first = mm.publish_stream(pub, run, triggers, trigger_codes)
        published_s = time.perf_counter() - first
        expected = mm.TOTAL + len(triggers)
        done = mm.wait_stored(expected, timeout=120 if mm.QUICK else 600)
        if done != done:  # NaN: not all stored in time
            done = time.perf_counter()
        time.sleep(1.0)
        stop.set()
        watcher.join()
        stored = Reading.objects.count()
        pub.disconnect()
    finally:
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        stopped_s = time.monotonic() - began
    lat = sorted(seen[c] - t for c, t in triggers if c in seen)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")
    return {
        "deployment": "2 web, 2 queue, 2 ingest partitions",
        "offered_per_s": mm.RATE,
        "readings_per_s": round(expected / (done - first)),
        "publish_s": round(published_s, 1),
        "total_s": round(done - first, 1),
        "lost": expected - stored,
        "alarms_seen": f"{len(lat)}/{len(triggers)}",
        "p99_alarm_ms": round(p99 * 1000, 1),
        "p50_alarm_ms": round(lat[len(lat) // 2] * 1000, 1) if lat else None,
        "stopped_in_s": round(stopped_s, 1),
    }


def _main() -> None:
    if not mm.USE_PG:
        raise SystemExit("bench_deploy_chain needs PostgreSQL (TEST_PG_URL)")
    started = time.perf_counter()
    mm.setup_data()
    with Broker() as broker:
        one = mm.run_workers(broker, 1, 1)
    print(f"1 worker (baseline): {one}", flush=True)
    deployed = run_deployment(2)
    print(f"deployment: {deployed}", flush=True)
    load = os.getloadavg()[0]
    print(
        f"readings per run {mm.TOTAL:,}, sensors {mm.N_SENSORS:,}, load average {load:.1f}, "
        f"{time.perf_counter() - started:.0f} s"
    )
    report(
        "deploy_chain",
        deployed["readings_per_s"],
        unit="readings/s",
        target=mm.TARGET,
        baseline="single_ingest_worker",
        ratio=round(deployed["readings_per_s"] / one["readings_per_s"], 3),
        p99_alarm_ms=deployed["p99_alarm_ms"],
        p99_target_ms=mm.P99_TARGET_MS,
        lost=deployed["lost"],
        load_average=round(load, 1),
        deployment=deployed,
        single_worker=one,
    )


if __name__ == "__main__":
    try:
        _main()
    finally:
        mm.connection.close()
        mm._pg(f"DROP DATABASE IF EXISTS {mm.PG_DB} WITH (FORCE)")
