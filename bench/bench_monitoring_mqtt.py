"""End to end through Mosquitto on loopback: readings published at QoS 1 (compact
batches of 100) → `yingji ingest` workers (real processes, shared subscription) →
database → rule engine → alarms. Measured side by side in one run:

- a bare subscriber that only counts messages (the broker's ceiling here);
- 1 ingest worker;
- 2 ingest workers as partitions 0/2 and 1/2 (each receives every message and
  stores and evaluates its own sensors, so rolling sums stay exact: the
  deployment for several workers, and the headline figure);
- 2 ingest workers sharing one subscription round robin (for comparison: each
  message handled once, but a sensor's rolling sums split between workers).

For each: readings/s from the first publish until the last reading is stored,
loss (published − stored: must be 0), and p99 latency from publishing a reading
over threshold to its alarm being in the database (trigger readings on fresh
sensors, every 0.25 s, polled every 10 ms).

The offered load is 10 % above the target (22,000 readings/s for 60 s), so that
a system that keeps up shows a figure above 20,000/s (a run offered exactly the
target could only ever show a little less, the last batch's drain included).

The broker runs with the shipped configuration (data/mosquitto.conf), on a free
port; the database is PostgreSQL when it answers (a database of the run's own),
else a fresh SQLite file (WAL). QUICK=1: 7.5 s of publishing instead of 60 s, on
2,000 sensors instead of 10,000.

The figure is the partitioned 2-worker run's readings/s; its p99 is beside it,
with the other runs.

Last line: one JSON object (bench, figure, unit, target, baseline, ratio, quick).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from _common import quick, report

QUICK = quick()
TARGET = 20_000
P99_TARGET_MS = 1000
RATE = float(os.environ.get("RATE", TARGET * 1.1))  # offered load, readings/s
SECONDS = 7.5 if QUICK else 60.0
TOTAL = int(RATE * SECONDS) // 100 * 100
N_SENSORS = 2_000 if QUICK else 10_000
CHUNK = 100

VAR = Path(tempfile.mkdtemp(prefix="yingji-bench-mqtt-"))
os.environ["YINGJI_VAR_DIR"] = str(VAR)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yingji.settings")
PG_SERVER = os.environ.get("TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/").rstrip("/") + "/"
PG_DB = f"bench_monitoring_{os.getpid()}"


def _pg(sql: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_SERVER + "postgres", autocommit=True, connect_timeout=3) as c:
            c.execute(sql)
        return True
    except Exception:  # unreachable: fall back to SQLite
        return False


# Several workers write at once: PostgreSQL when it answers (a database of our own,
# dropped afterwards), else SQLite under VAR (writers then take turns).
USE_PG = os.environ.get("BENCH_DB", "postgresql") != "sqlite" and _pg(f"CREATE DATABASE {PG_DB}")
if USE_PG:
    os.environ["DATABASE_URL"] = PG_SERVER + PG_DB
else:
    os.environ.pop("DATABASE_URL", None)

import django  # noqa: E402

django.setup()

import paho.mqtt.client as mqtt  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from yingji.core import audit  # noqa: E402
from yingji.monitoring import payloads  # noqa: E402
from yingji.monitoring.broker import Broker  # noqa: E402
from yingji.monitoring.models import Alarm, AlarmRule, Reading, Sensor  # noqa: E402

YINGJI = str(Path(sys.executable).parent / "yingji")


def setup_data() -> None:
    call_command("migrate", "monitoring", verbosity=0, interactive=False)
    call_command("migrate", verbosity=0, interactive=False)
    with audit.suspended():
        Sensor.objects.bulk_create(
            [
                Sensor(
                    code=f"B{i:05d}",
                    name=f"雨量{i}",
                    type="rain",
                    unit="mm",
                    lon=113.0 + (i % 100) * 0.007,
                    lat=23.0 + (i // 100) * 0.007,
                )
                for i in range(N_SENSORS)
            ]
        )
        Sensor.objects.bulk_create(
            [
                Sensor(
                    code=f"T{i:04d}", name=f"触发{i}", type="gas", unit="%LEL", lon=113.3, lat=23.1
                )
                for i in range(2400)
            ]
        )
        AlarmRule.objects.create(
            name="雨量阈值",
            sensor_type="rain",
            metric="value",
            blue=50,
            yellow=80,
            orange=120,
            red=200,
            hysteresis=1,
        )
        AlarmRule.objects.create(
            name="1小时雨量",
            sensor_type="rain",
            metric="sum",
            window_s=3600,
            blue=20,
            yellow=30,
            orange=50,
            red=80,
        )
        AlarmRule.objects.create(
            name="24小时雨量",
            sensor_type="rain",
            metric="sum",
            window_s=24 * 3600,
            blue=50,
            yellow=100,
            orange=250,
        )
        AlarmRule.objects.create(
            name="燃气浓度", sensor_type="gas", metric="value", yellow=20, red=50
        )


def reset() -> None:
    with connection.cursor() as cur:
        for table in (
            "monitoring_alarmevent",
            "monitoring_alarm",
            "monitoring_reading",
            "monitoring_regionallevel",
            "monitoring_deadletter",
            "core_auditentry",
        ):
            cur.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)


def publisher(port: int) -> mqtt.Client:
    c = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"bench-pub-{uuid.uuid4().hex[:6]}",
        protocol=mqtt.MQTTv5,
    )
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def publish_stream(
    client: mqtt.Client,
    run: int,
    triggers: list[tuple[str, float]],
    trigger_codes: list[str],
    rate: float | None = RATE,
) -> float:
    """Publish TOTAL readings at `rate` readings/s (None: as fast as the publisher
    goes), plus a trigger every 0.25 s; returns the first publish time."""
    base = int(time.time() * 1000) - 3_600_000 - run * 10_000_000  # unique per run
    infos = []
    first = time.perf_counter()
    next_trigger, k = first, 0
    for start in range(0, TOTAL, CHUNK):
        rows = [
            (f"B{i % N_SENSORS:05d}", base + i, 0.01 * (i % 7))
            for i in range(start, min(TOTAL, start + CHUNK))
        ]
        infos.append(client.publish(payloads.BATCH_TOPIC, payloads.encode_batch(rows), qos=1))
        now = time.perf_counter()
        if rate:
            ahead = first + (start + CHUNK) / rate - now
            if ahead > 0:
                time.sleep(ahead)
                now = time.perf_counter()
        if now >= next_trigger and k < len(trigger_codes):
            code = trigger_codes[k]
            k += 1
            triggers.append((code, time.perf_counter()))
            infos.append(
                client.publish(
                    payloads.READINGS_TOPIC + code,
                    payloads.encode_reading(int(time.time() * 1000), 60.0),
                    qos=1,
                )
            )
            next_trigger = now + 0.25
        if len(infos) > 5000:
            for info in infos:
                info.wait_for_publish(timeout=60)
            infos.clear()
    for info in infos:
        info.wait_for_publish(timeout=60)
    return first


def watch_alarms(codes: set[str], seen: dict[str, float], stop: threading.Event) -> None:
    while not stop.is_set():
        for code in Alarm.objects.filter(sensor__code__in=codes - set(seen)).values_list(
            "sensor__code", flat=True
        ):
            seen.setdefault(code, time.perf_counter())
        time.sleep(0.01)
    connection.close()


def wait_stored(expected: int, timeout: float) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if Reading.objects.count() >= expected:
            return time.perf_counter()
        time.sleep(0.2)
    return float("nan")


def run_workers(broker: Broker, n_workers: int, run: int, partitioned: bool = False) -> dict:
    reset()
    group = f"bench{run}"
    procs = [
        subprocess.Popen(
            [
                YINGJI,
                "ingest",
                "--port",
                str(broker.port),
                "--group",
                group,
                "--client-id",
                f"bench-{run}-{w}",
            ]
            + (["--partition", f"{w}/{n_workers}"] if partitioned else []),
            stdout=open(VAR / f"worker-{run}-{w}.log", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            env=os.environ,
        )
        for w in range(n_workers)
    ]
    # Wait until every worker has subscribed (messages before that reach nobody).
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline and not all(
        "已订阅" in (VAR / f"worker-{run}-{w}.log").read_text(encoding="utf-8")
        for w in range(n_workers)
    ):
        time.sleep(0.2)
    trigger_codes = [f"T{i:04d}" for i in range(run * 600, run * 600 + 600)]
    triggers: list[tuple[str, float]] = []
    seen: dict[str, float] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=watch_alarms, args=(set(trigger_codes), seen, stop))
    watcher.start()
    pub = publisher(broker.port)
    first = publish_stream(pub, run, triggers, trigger_codes)
    published_s = time.perf_counter() - first
    expected = TOTAL + len(triggers)
    done = wait_stored(expected, timeout=120 if QUICK else 600)
    if done != done:  # NaN: not all stored within the timeout
        done = time.perf_counter()
    time.sleep(1.0)
    stop.set()
    watcher.join()
    stored = Reading.objects.count()
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=30)
    pub.disconnect()
    lat = sorted(seen[c] - t for c, t in triggers if c in seen)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")
    return {
        "workers": n_workers,
        "partitioned": partitioned,
        "offered_per_s": RATE,
        "readings_per_s": round(expected / (done - first)),
        "publish_s": round(published_s, 1),
        "total_s": round(done - first, 1),
        "lost": expected - stored,
        "alarms_seen": f"{len(lat)}/{len(triggers)}",
        "p99_alarm_ms": round(p99 * 1000, 1),
        "p50_alarm_ms": round(lat[len(lat) // 2] * 1000, 1) if lat else None,
    }


def run_bare(broker: Broker) -> dict:
    got = {"n": 0, "last": 0.0}

    def on_message(client, userdata, msg):
        got["n"] += 1
        got["last"] = time.perf_counter()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=mqtt.MQTTv5)
    sub.on_message = on_message
    sub.connect("127.0.0.1", broker.port)
    sub.subscribe("$share/bare/yingji/v1/#", qos=1)
    sub.loop_start()
    time.sleep(0.5)
    pub = publisher(broker.port)
    first = publish_stream(pub, 9, [], [], rate=None)
    messages = (TOTAL + CHUNK - 1) // CHUNK
    deadline = time.perf_counter() + 300
    while got["n"] < messages and time.perf_counter() < deadline:
        time.sleep(0.05)
    sub.disconnect()
    pub.disconnect()
    return {
        "readings_per_s": round(TOTAL / (got["last"] - first)),
        "messages": got["n"],
        "lost_messages": messages - got["n"],
    }


def main() -> None:
    try:
        _main()
    finally:
        connection.close()
        if USE_PG:
            _pg(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


def _main() -> None:
    started = time.perf_counter()
    setup_data()
    with Broker() as broker:
        print(f"var: {VAR}", flush=True)
        bare = run_bare(broker)
        print(f"bare subscriber: {bare}", flush=True)
        one = run_workers(broker, 1, 1)
        print(f"1 worker: {one}", flush=True)
        two = run_workers(broker, 2, 2, partitioned=True)
        print(f"2 workers, partitions 0/2 and 1/2: {two}", flush=True)
        shared = run_workers(broker, 2, 3)
        print(f"2 workers, one shared subscription (round robin): {shared}", flush=True)
    load = os.getloadavg()[0]
    print(
        f"database {connection.vendor}, readings per run {TOTAL:,}, sensors {N_SENSORS:,}, "
        f"load average {load:.1f}, "
        f"{time.perf_counter() - started:.0f} s"
    )
    report(
        "monitoring_mqtt_end_to_end",
        two["readings_per_s"],
        unit="readings/s",
        target=TARGET,
        baseline="bare_mqtt_subscriber",
        ratio=round(two["readings_per_s"] / bare["readings_per_s"], 3),
        p99_alarm_ms=two["p99_alarm_ms"],
        p99_target_ms=P99_TARGET_MS,
        lost=two["lost"],
        load_average=round(load, 1),
        workers_1=one,
        workers_2_partitioned=two,
        workers_2_round_robin=shared,
        bare=bare,
    )


if __name__ == "__main__":
    main()
