"""Hostile input to monitoring ingest: one poison message in a batch, a corpus of
hostile payloads and generated ones (hypothesis), through a real Mosquitto and the
real ingest worker, and through the HTTP endpoint. The worker keeps running, every
bad message is dead-lettered with its reason and acknowledged, and every valid
reading is stored.

The broker is a Mosquitto of the test's own, started with the shipped configuration
on a free port (as the other MQTT tests): the machine's broker at 127.0.0.1:1883 is
shared, and a poison message published there would reach every other subscriber of
``yingji/v1/#`` on it."""

import json
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from yingji.monitoring import payloads, services
from yingji.monitoring.broker import Broker
from yingji.monitoring.ingest import Worker
from yingji.monitoring.models import DeadLetter, Reading

pytestmark = pytest.mark.django_db(transaction=True)
MIN = 60_000
POISON = b"[" * 100_000 + b"]" * 100_000  # 200 KB of nested brackets


@pytest.fixture
def broker():
    b = Broker().start()
    yield b
    b.stop(kill=True)


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
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def start(worker):
    subscribed = threading.Event()
    worker.on_subscribed = subscribed.set
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    assert subscribed.wait(15), "worker did not subscribe"
    return thread


def stop(worker, thread):
    worker.stop()
    thread.join(15)
    assert not thread.is_alive(), "worker did not stop"


def reading(code, ts, value=1.0):
    return (payloads.READINGS_TOPIC + code, payloads.encode_reading(ts, value))


def test_poison_message_in_a_batch_is_dead_lettered_and_the_rest_stored(world, broker):
    """The issue's finding: 200 KB of nested brackets on yingji/v1/readings/… in a
    batch with 23 other messages, valid readings among them. The worker stored the
    valid ones, dead-lettered the poison with its reason and acknowledged the whole
    batch (a restarted worker with the same session gets nothing again)."""
    cid, group = uid("ingest"), uid("g")
    first = Worker(port=broker.port, client_id=cid, group=group)
    stop(first, start(first))  # the persistent session now queues for this worker
    t = services.now_ms() - 30 * MIN
    valid = [reading("RG-001", t + i * 1000) for i in range(10)]
    valid += [reading("RG-002", t + i * 1000) for i in range(8)]
    valid.append(
        (
            payloads.BATCH_TOPIC,
            payloads.encode_batch([("WL-001", t, 3.0), ("RG-002", t + 9000, 0.5)]),
        )
    )
    bad = [
        (payloads.READINGS_TOPIC + "RG-001", b"{not json"),
        (payloads.READINGS_TOPIC + "RG-001", b'{"ts": 1, "value": NaN}'),
        (payloads.READINGS_TOPIC + "NOPE", payloads.encode_reading(t, 1.0)),
        (payloads.BATCH_TOPIC, b'[["RG-001", 1, Infinity]]'),
    ]
    messages = valid[:9] + [(payloads.READINGS_TOPIC + "RG-001", POISON)] + bad + valid[9:]
    assert len(messages) == 24
    pub = publisher(broker)
    publish_all(pub, messages)  # queued at the broker, delivered at once on connect

    second = Worker(port=broker.port, client_id=cid, group=group, batch_wait=0.5)
    thread = start(second)
    assert wait_for(lambda: second.messages == 24), f"handled {second.messages} of 24"
    assert thread.is_alive()
    assert Reading.objects.count() == 20  # 10 + 8 + the batch's 2
    poison = DeadLetter.objects.get(reason__contains="嵌套")
    # In a batch of several messages, each dead letter names its topic first.
    assert poison.source == "mqtt" and poison.reason == "JSON 嵌套超过 16 层"
    assert poison.payload.startswith("[yingji/v1/readings/RG-001] [[[[")
    assert DeadLetter.objects.count() == 5  # the poison and the four bad ones
    # Still running: a later reading is stored.
    publish_all(pub, [reading("RG-001", t + 60_000)])
    assert wait_for(lambda: Reading.objects.count() == 21)
    stop(second, thread)

    # Acknowledged: the same session gets none of the batch again.
    third = Worker(port=broker.port, client_id=cid, group=group)
    thread = start(third)
    publish_all(pub, [reading("RG-002", t + 60_000)])
    assert wait_for(lambda: Reading.objects.count() == 22)
    assert third.messages == 1 and DeadLetter.objects.count() == 5
    stop(third, thread)
    pub.disconnect()


def test_poison_body_on_the_http_endpoint_is_refused_with_422(client, world, monkeypatch):
    monkeypatch.setattr(services, "_shared", None)
    token = services.issue_token("测试网关")
    r = client.post(
        "/api/v1/monitoring/ingest",
        POISON,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 422, r.content[:300]
    assert "嵌套" in r.json()["detail"]
    assert DeadLetter.objects.filter(source="http", reason__contains="嵌套").count() == 1
    # The endpoint still works.
    t = services.now_ms() - 10 * MIN
    body = json.dumps([{"sensor": "RG-002", "ts": t, "value": 1.5}])
    r = client.post(
        "/api/v1/monitoring/ingest",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 200 and r.json()["stored"] == 1
