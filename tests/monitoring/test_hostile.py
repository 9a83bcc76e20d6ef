"""Hostile input to monitoring ingest: one poison message in a batch, a corpus of
hostile payloads and generated ones (hypothesis), through a real Mosquitto and the
real ingest worker, and through the HTTP endpoint. The worker keeps running, every
bad message is dead-lettered with its reason and acknowledged, and every valid
reading is stored.

The broker (the `broker` fixture of conftest.py) is a Mosquitto of the test's own,
started with the shipped configuration on a free port: the machine's broker at 127.0.0.1:1883 is
shared, and a poison message published there would reach every other subscriber of
``yingji/v1/#`` on it."""

import json

import pytest

from yingji.monitoring import payloads, services
from yingji.monitoring.ingest import Worker
from yingji.monitoring.models import DeadLetter, Reading

from .mqtthelpers import publish_all, publisher, reading, start, stop, uid, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
MIN = 60_000
POISON = b"[" * 100_000 + b"]" * 100_000  # 200 KB of nested brackets


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


# ------------------------------------------------------------------ the corpus

NOW = services.now_ms()
BIG = "x" * 1_000_000  # a 1 MB string
R = payloads.READINGS_TOPIC + "RG-001"
B = payloads.BATCH_TOPIC


def j(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


# (what, topic, payload, the dead letter's reason contains)
CORPUS = [
    ("200 KB of nested arrays", R, POISON, "嵌套超过 16 层"),
    ("nested objects", R, b'{"a":' * 30_000 + b"1" + b"}" * 30_000, "嵌套超过 16 层"),
    ("17 levels", R, b"[" * 17 + b"]" * 17, "嵌套超过 16 层"),
    ("a nested batch row", B, b"[" + b"[" * 20 + b"]" * 20 + b"]", "嵌套超过 16 层"),
    ("NaN value", R, b'{"ts": 1, "value": NaN}', "有限数值"),
    ("Infinity value", R, b'{"ts": 1, "value": Infinity}', "有限数值"),
    ("NaN time", R, b'{"ts": NaN, "value": 1}', "有限数值"),
    ("-Infinity in a batch", B, b'[["RG-001", 1, -Infinity]]', "有限数值"),
    ("1e999", R, b'{"ts": %d, "value": 1e999}' % NOW, "读数不是有限数值"),
    ("a 400-digit value", R, j({"ts": NOW, "value": 10**400}), "读数超出范围"),
    ("a 5,000-digit value", R, b'{"ts": 1, "value": ' + b"1" * 5000 + b"}", "整数位数过多"),
    ("a time beyond 64 bits", R, j({"ts": 10**30, "value": 1}), "时间超出范围"),
    ("a negative time", R, j({"ts": -1, "value": 1}), "时间超出范围"),
    ("a float time of 1e300", R, b'{"ts": 1e300, "value": 1}', "时间超出范围"),
    ("a batch time beyond 64 bits", B, j([["RG-001", 10**30, 1.0]]), "时间超出范围"),
    ("a batch value of 400 digits", B, j([["RG-001", NOW, 10**400]]), "读数超出范围"),
    ("a boolean time", R, b'{"ts": true, "value": 1}', "时间不能是布尔值"),
    ("binary", R, bytes(range(256)) * 16, "不是 UTF-8"),
    ("NUL bytes", R, b"\x00" * 1000, "JSON 无法解析"),
    ("UTF-16", R, '{"ts": 1, "value": 1}'.encode("utf-16"), "不是 UTF-8"),
    ("GBK", R, '{"ts": 1, "value": 1, "unit": "毫米"}'.encode("gbk"), "不是 UTF-8"),
    ("a UTF-8 BOM", R, b"\xef\xbb\xbf" + j({"ts": NOW, "value": 1}), "JSON 无法解析"),
    ("empty", R, b"", "JSON 无法解析"),
    ("1 MB string as value", R, j({"ts": NOW, "value": BIG}), "读数不是数值"),
    ("1 MB string as unit", R, j({"ts": NOW, "value": 1, "unit": BIG}), "单位过长"),
    ("1 MB string as time", R, j({"ts": BIG, "value": 1}), "时间格式无法识别"),
    ("1 MB string as key", R, j({BIG: 1}), "时间缺失或类型不对"),
    ("1 MB sensor code in a batch", B, j([[BIG, NOW, 1.0]]), "未知传感器"),
    (
        "a 1,000-character code",
        payloads.READINGS_TOPIC + "C" * 1000,
        j({"ts": NOW, "value": 1}),
        "传感器编号过长",
    ),
    ("2 MB message", R, j([{"ts": NOW, "value": 1, "pad": "y" * 2_000_000}]), "报文过大"),
    (
        "a lone surrogate unit",
        R,
        b'{"ts": %d, "value": 1, "unit": "\\ud800"}' % NOW,
        "无法识别的单位",
    ),
    ("NUL in a code", B, b'[["RG\\u0000", %d, 1]]' % NOW, "未知传感器"),
    ("a lone surrogate code", B, b'[["\\udfff", %d, 1]]' % NOW, "未知传感器"),
    ("null", R, b"null", "读数报文应为对象"),
    ("a string", R, b'"just a string"', "读数报文应为对象"),
    ("an object on the batch topic", B, b'{"a": 1}', "批量报文应为数组"),
    ("scalars in a batch", B, b'[1, "x", null]', "批量报文的每项应为"),
    ("an unknown topic", "yingji/v1/other", j({"ts": NOW, "value": 1}), "未知主题"),
    (
        "an unknown sensor",
        payloads.READINGS_TOPIC + "NOPE",
        j({"ts": NOW, "value": 1}),
        "未知传感器「NOPE」",
    ),
    ("a time a day ahead", R, j({"ts": NOW + 86_400_000, "value": 1}), "时间在未来"),
    ("a number array as value", R, j({"ts": NOW, "value": [[[[[[1]]]]]]}), "读数不是数值"),
]


def test_the_corpus_is_refused_by_the_parser_or_the_ingestor_never_raised(world):
    """Each hostile payload, straight into the pure parser and the ingestor: a
    reason for each, no exception, no reading stored."""
    ing = services.Ingestor()
    for what, topic, body, reason in CORPUS:
        records, problems = payloads.parse_mqtt(topic, body, services.limits())
        stats = ing.ingest(records, problems, source="mqtt", topic=topic)
        assert stats.stored == 0 and stats.rejected >= 1, what
        assert any(reason in r for r in stats.reasons), (what, stats.reasons)
        assert all(len(r) <= 300 for r in stats.reasons), what
    assert Reading.objects.count() == 0
    assert all(len(d.payload) <= payloads.FRAGMENT for d in DeadLetter.objects.all())


def test_the_corpus_through_the_broker_with_valid_readings_between(world, broker):
    w = Worker(port=broker.port, client_id=uid("ingest"), group=uid("g"))
    thread = start(w)
    pub = publisher(broker)
    t = services.now_ms() - 30 * MIN
    messages, valid = [], 0
    for i, (_, topic, body, _) in enumerate(CORPUS):
        messages.append((topic, body))
        messages.append(reading("RG-001" if i % 2 else "RG-002", t + i * 1000, 0.5))
        valid += 1
    publish_all(pub, messages)
    assert wait_for(lambda: w.messages == len(messages), timeout=60), (
        f"handled {w.messages} of {len(messages)}"
    )
    assert thread.is_alive()
    assert Reading.objects.count() == valid  # every valid reading
    reasons = list(DeadLetter.objects.values_list("reason", flat=True))
    for what, _, _, reason in CORPUS:
        assert any(reason in r for r in reasons), (what, reason)
    # Every bad message was foreseen: none fell to the catch-all.
    assert not [r for r in reasons if r.startswith(("报文无法解析", "处理失败"))]
    # Still running after all of it.
    publish_all(pub, [reading("RG-001", t + 999_000)])
    assert wait_for(lambda: Reading.objects.count() == valid + 1)
    stop(w, thread)
    pub.disconnect()


def test_the_corpus_through_http_never_gives_a_500(client, world, monkeypatch, settings):
    """As a JSON body and as NDJSON: 200 with the reasons, 413 too large or 422
    unreadable as a whole, each answer naming the reason; valid readings sent
    between them are all stored."""
    settings.YINGJI_MONITORING_HTTP_MAX_BYTES = 1_048_576
    monkeypatch.setattr(services, "_shared", None)
    token = services.issue_token("测试网关")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    t = services.now_ms() - 30 * MIN
    seen, valid = set(), 0
    for i, (what, _, body, _) in enumerate(CORPUS):
        for content_type in ("application/json", "application/x-ndjson"):
            r = client.post("/api/v1/monitoring/ingest", body, content_type=content_type, **auth)
            assert r.status_code in (200, 413, 422), (what, r.status_code)
            answer = r.json()
            if r.status_code == 200:
                assert answer["stored"] == 0 and answer["rejected"] >= 1, (what, answer)
            else:
                assert answer["detail"], what
            seen.add(r.status_code)
        good = j([{"sensor": "RG-002", "ts": t + i * 1000, "value": 0.5}])
        r = client.post("/api/v1/monitoring/ingest", good, content_type="application/json", **auth)
        assert r.status_code == 200 and r.json()["stored"] == 1
        valid += 1
    assert seen == {200, 413, 422}
    assert Reading.objects.count() == valid
    assert DeadLetter.objects.filter(source="http").count() >= 2 * len(CORPUS)


def test_a_body_announced_larger_than_the_limit_is_refused_unread(client, world, settings):
    settings.YINGJI_MONITORING_HTTP_MAX_BYTES = 1000
    token = services.issue_token("测试网关")
    r = client.post(
        "/api/v1/monitoring/ingest",
        b"[" + b" " * 5000 + b"]",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 413
    assert r.json()["detail"] == "报文过大:5,002 字节,上限 1,000 字节"
    assert DeadLetter.objects.get().reason == "报文过大:5,002 字节,上限 1,000 字节"


def test_a_failure_no_parser_foresaw_is_a_dead_letter_of_its_message(world, broker, monkeypatch):
    """The safety net: whatever a parser raises for one message (here a
    MemoryError, as a body that exhausts memory would) is that message's dead
    letter; the rest of the batch is stored and the worker goes on."""
    real = payloads.parse_mqtt

    def exhausted(topic, payload, limits=payloads.DEFAULT_LIMITS):
        if payload == b'{"boom": true}':
            raise MemoryError
        return real(topic, payload, limits)

    monkeypatch.setattr(payloads, "parse_mqtt", exhausted)
    w = Worker(port=broker.port, client_id=uid("ingest"), group=uid("g"), batch_wait=0.5)
    thread = start(w)
    pub = publisher(broker)
    t = services.now_ms() - 30 * MIN
    publish_all(
        pub,
        [
            reading("RG-001", t),
            (R, b'{"boom": true}'),
            reading("RG-002", t),
            reading("RG-001", t + 1),
        ],
    )
    assert wait_for(lambda: w.messages == 4)
    assert Reading.objects.count() == 3 and thread.is_alive()
    letter = DeadLetter.objects.get()
    assert letter.reason == "报文无法解析:MemoryError" and '{"boom": true}' in letter.payload
    stop(w, thread)
    pub.disconnect()
