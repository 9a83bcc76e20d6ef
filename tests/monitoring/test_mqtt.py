"""The MQTT ingest worker against a real Mosquitto started with the shipped
configuration on a free port: shared subscriptions, QoS 1 persistent sessions,
dead letters, a worker crash and a broker restart."""

import itertools
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from yingji.monitoring import payloads, services
from yingji.monitoring.broker import Broker
from yingji.monitoring.ingest import Worker
from yingji.monitoring.models import Alarm, DeadLetter, Reading, Sensor
from yingji.monitoring.partitions import Partition

pytestmark = pytest.mark.django_db(transaction=True)
_ids = itertools.count()


@pytest.fixture
def broker():
    b = Broker().start()
    yield b
    b.stop(kill=True)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}-{next(_ids)}"


def publisher(broker):
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=uid("pub"), protocol=mqtt.MQTTv5)
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    return c


def publish_all(client, messages):
    infos = [client.publish(topic, body, qos=1) for topic, body in messages]
    for info in infos:
        info.wait_for_publish(timeout=10)
    assert all(info.is_published() for info in infos)


def start(worker):
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    assert worker.connected.wait(10), "worker did not connect"
    time.sleep(0.2)  # the subscription is in place
    return thread


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def readings(n, code="RG-002", start_ms=None):
    t = start_ms or services.now_ms() - 3600_000
    return [
        (payloads.READINGS_TOPIC + code, payloads.encode_reading(t + i * 1000, 0.0))
        for i in range(n)
    ]


def test_worker_stores_alarms_and_dead_letters_bad_messages(world, broker):
    w = Worker(port=broker.port, client_id=uid("ingest"), group=uid("g"))
    thread = start(w)
    pub = publisher(broker)
    t = services.now_ms() - 600_000
    publish_all(
        pub,
        [
            ("yingji/v1/readings/RG-001", payloads.encode_reading(t, 12.0, "mm")),
            ("yingji/v1/readings/RG-001", b"{not json"),
            ("yingji/v1/readings/RG-001", b'{"ts": 1, "value": NaN}'),
            ("yingji/v1/readings/NOPE", payloads.encode_reading(t, 1.0)),
            (
                payloads.BATCH_TOPIC,
                payloads.encode_batch([("RG-001", t + 60_000, 13.0), ("RG-002", t, 1.0)]),
            ),
        ],
    )
    assert wait_for(lambda: w.messages == 5)
    alarm = Alarm.objects.get()  # 25 mm in the hour → blue
    assert (alarm.sensor.code, alarm.state, alarm.level) == ("RG-001", "firing", "blue")
    # The sensor list shows the latest reading within a second or so (written off the
    # alarm path by the worker's own thread).
    assert wait_for(
        lambda: Sensor.objects.filter(
            code="RG-001", last_seen_ms=t + 60_000, last_value=13.0
        ).exists(),
        timeout=5,
    )
    reasons = " ".join(DeadLetter.objects.values_list("reason", flat=True))
    assert "JSON 无法解析" in reasons and "有限数值" in reasons and "未知传感器「NOPE」" in reasons
    # The worker is still alive after the bad messages.
    publish_all(pub, readings(1))
    assert wait_for(lambda: w.messages == 6)
    w.stop()
    thread.join(10)
    assert Reading.objects.count() == 4 and DeadLetter.objects.count() == 3
    pub.disconnect()


def test_two_workers_split_one_shared_subscription(world, broker):
    group = uid("g")
    a = Worker(port=broker.port, client_id=uid("a"), group=group)
    b = Worker(port=broker.port, client_id=uid("b"), group=group)
    ta, tb = start(a), start(b)
    pub = publisher(broker)
    publish_all(pub, readings(400))
    assert wait_for(lambda: a.messages + b.messages == 400)
    for w, t in ((a, ta), (b, tb)):
        w.stop()
        t.join(10)
    assert a.messages > 0 and b.messages > 0
    assert Reading.objects.count() == 400 and not DeadLetter.objects.exists()
    pub.disconnect()


def test_partitioned_workers_each_sum_their_own_sensors_exactly(world, broker):
    """Two partitions (0/2, 1/2) both receive every message; each sensor's readings
    are stored and summed by one worker, so a 1-hour sum split over many messages
    fires as it would with one worker (round robin would give each worker half)."""
    halves = [Partition(0, 2), Partition(1, 2)]
    # RG-001's street is in one partition; a sensor without an area (keyed by its
    # code) is placed in the other.
    first = next(p for p in halves if p.owns(world["street"].code))
    other = halves[1 - halves.index(first)]
    code = next(f"RG-{i}" for i in range(100, 200) if other.owns(f"RG-{i}"))
    Sensor.objects.create(
        code=code, name="无街道雨量站", type="rain", unit="mm", lon=113.9, lat=23.9
    )
    group = uid("g")
    workers = [
        Worker(port=broker.port, client_id=uid(f"p{p.index}"), group=group, partition=p)
        for p in halves
    ]
    threads = [start(w) for w in workers]
    pub = publisher(broker)
    t = services.now_ms() - 600_000
    msgs = [
        (payloads.READINGS_TOPIC + c, payloads.encode_reading(t + i * 60_000, 7.0))
        for i in range(4)
        for c in ("RG-001", code)
    ]
    msgs += [
        (payloads.READINGS_TOPIC + "RG-001", b"{not json"),
        (payloads.READINGS_TOPIC + "NOPE", payloads.encode_reading(t, 1.0)),
    ]
    publish_all(pub, msgs)
    assert wait_for(lambda: all(w.messages == len(msgs) for w in workers))
    for w, th in zip(workers, threads, strict=True):
        w.stop()
        th.join(10)
    assert Reading.objects.count() == 8  # each reading once, by its owner
    assert sorted(w.stats.stored for w in workers) == [4, 4]
    fired = dict(Alarm.objects.values_list("sensor__code", "level"))
    assert fired == {"RG-001": "blue", code: "blue"}  # 4 × 7 mm = 28 mm in the hour
    reasons = sorted(DeadLetter.objects.values_list("reason", flat=True))
    assert len(reasons) == 2 and "JSON 无法解析" in reasons[0] + reasons[1]
    pub.disconnect()


def test_worker_killed_mid_stream_and_restarted_stores_every_reading_once(world, broker):
    cid, group = uid("ingest"), uid("g")
    first = Worker(port=broker.port, client_id=cid, group=group, batch_max=50)
    thread = start(first)
    pub = publisher(broker)
    msgs = readings(3000)
    sender = threading.Thread(target=publish_all, args=(pub, msgs))
    sender.start()
    assert wait_for(lambda: first.messages >= 200)
    first.crash()  # as if killed: unacknowledged messages stay with the broker
    thread.join(10)
    sender.join(30)
    assert first.stats.stored < 3000
    second = Worker(port=broker.port, client_id=cid, group=group)
    thread = start(second)
    assert wait_for(lambda: first.stats.stored + second.stats.stored == 3000, timeout=30)
    time.sleep(0.5)
    second.stop()
    thread.join(10)
    assert Reading.objects.count() == 3000  # every reading, once
    assert first.stats.stored + second.stats.stored == 3000
    pub.disconnect()


def test_broker_restart_keeps_messages_queued_for_a_stopped_worker(world, broker):
    cid, group = uid("ingest"), uid("g")
    w = Worker(port=broker.port, client_id=cid, group=group)
    thread = start(w)
    w.stop()  # clean stop: the persistent session stays on the broker
    thread.join(10)
    pub = publisher(broker)
    publish_all(pub, readings(500))
    pub.disconnect()
    broker.restart()  # SIGTERM: the broker saves queued messages and reloads them
    w2 = Worker(port=broker.port, client_id=cid, group=group)
    thread = start(w2)
    assert wait_for(lambda: w2.stats.stored == 500, timeout=30)
    w2.stop()
    thread.join(10)
    assert Reading.objects.count() == 500


def test_shipped_config_raises_the_queue_limits():
    from yingji.monitoring.broker import CONF

    text = CONF.read_text()
    assert "max_queued_messages 5000000" in text and "max_inflight_messages 2000" in text
