"""Helpers of the MQTT tests: a publisher, waiting for a condition, ingest workers
in threads (every one started is stopped at the end of its test, by the
autouse fixture in conftest.py, even when the test fails)."""

from __future__ import annotations

import threading
import time
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from yingji.monitoring import payloads

RUNNING: list[tuple[object, threading.Thread]] = []


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def publisher(broker):
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=uid("pub"), protocol=mqtt.MQTTv5)
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    return c


def publish_all(client, messages):
    infos = [client.publish(topic, body, qos=1) for topic, body in messages]
    for info in infos:
        info.wait_for_publish(timeout=30)
    assert all(info.is_published() for info in infos)


def wait_for(predicate, timeout=30.0):
    """Poll `predicate` until it holds or `timeout` passes. A predicate reading the
    database while a worker writes may meet SQLite's in-memory test database
    locked (shared cache: table locks, no busy wait): that counts as "not yet"."""
    from django.db import OperationalError

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OperationalError:
            pass
        time.sleep(0.05)
    return False


def start(worker):
    subscribed = threading.Event()
    worker.on_subscribed = subscribed.set
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    RUNNING.append((worker, thread))
    assert subscribed.wait(15), "worker did not subscribe"
    return thread


def stop(worker, thread):
    worker.stop()
    thread.join(15)
    assert not thread.is_alive(), "worker did not stop"


def stop_all() -> None:
    while RUNNING:
        worker, thread = RUNNING.pop()
        worker.stop()
        thread.join(15)


def reading(code, ts, value=1.0):
    return (payloads.READINGS_TOPIC + code, payloads.encode_reading(ts, value))
