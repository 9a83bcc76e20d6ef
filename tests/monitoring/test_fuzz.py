"""Generated hostile input (hypothesis): payloads of any bytes, any JSON (NaN and
Infinity included), deep nesting, reading-shaped objects with any field values,
on any topic, mixed with valid readings. The pure parser never raises; through a
real Mosquitto the worker handles every message, keeps running and stores every
valid reading; through HTTP the answer is never a 500."""

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yingji.monitoring import payloads, services, units
from yingji.monitoring.ingest import Worker
from yingji.monitoring.models import Reading

from .mqtthelpers import publish_all, publisher, start, stop, uid, wait_for
from .test_hostile import MIN

pytestmark = pytest.mark.django_db(transaction=True)
KNOWN = ("RG-001", "RG-002", "WL-001")

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)
reading_like = st.fixed_dictionaries(
    {"ts": json_values, "value": json_values},
    optional={"unit": json_values, "sensor": json_values},
)


def dumps(value) -> bytes:
    # allow_nan: NaN and Infinity reach the wire as a careless device sends them.
    return json.dumps(value, allow_nan=True, ensure_ascii=False).encode("utf-8", "surrogatepass")


hostile_bodies = st.one_of(
    st.binary(max_size=2000),
    json_values.map(dumps),
    reading_like.map(dumps),
    st.lists(reading_like, max_size=5).map(dumps),
    st.lists(st.tuples(st.text(max_size=8), json_values, json_values), max_size=5).map(dumps),
    st.integers(min_value=1, max_value=60_000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(min_value=1, max_value=60_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
)
topics = st.one_of(
    st.just(payloads.BATCH_TOPIC),
    st.sampled_from(KNOWN).map(lambda c: payloads.READINGS_TOPIC + c),
    # Any text a broker takes in a topic (Mosquitto disconnects a client that
    # publishes control characters or non-characters; wildcards are not for PUBLISH).
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cs", "Cc", "Cn", "Co"), blacklist_characters="+#/"
        ),
        min_size=1,
        max_size=30,
    ).map(lambda c: payloads.READINGS_TOPIC + c),
    st.just("yingji/v1/other"),
)
messages = st.lists(st.tuples(topics, hostile_bodies), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(topic=topics, body=hostile_bodies)
def test_the_parser_never_raises_and_keeps_only_sound_readings(topic, body):
    records, problems = payloads.parse_mqtt(topic, body)
    for code, ts, value, unit in records:
        assert isinstance(code, str) and code
        assert payloads.TS_MIN <= ts <= payloads.TS_MAX
        assert isinstance(value, float) and value - value == 0
        assert unit is None or (isinstance(unit, str) and len(unit) <= 16)
    for reason, fragment in problems:
        assert reason and len(reason) <= 300 and len(fragment) <= payloads.FRAGMENT


def accepted(topic: str, body: bytes, lo: int, hi: int) -> set[tuple[str, int]]:
    """What ingest must store of a message (known sensor, time in the window,
    a unit it converts): the oracle for a generated message that happens to be valid."""
    records, _ = payloads.parse_mqtt(topic, body)
    types = {"RG-001": "rain", "RG-002": "rain", "WL-001": "waterlogging"}
    return {
        (code, ts)
        for code, ts, value, unit in records
        if code in types and lo <= ts <= hi and convertible(value, unit, types[code])
    }


def convertible(value: float, unit: str | None, stype: str) -> bool:
    try:
        units.to_canonical(value, unit, stype)
    except units.UnitError:
        return False
    return True


def test_generated_messages_through_the_broker_never_stop_the_worker(world, broker):
    w = Worker(port=broker.port, client_id=uid("ingest"), group=uid("g"))
    thread = start(w)
    pub = publisher(broker)
    base = services.now_ms() - 60 * MIN
    clock = itertools.count()
    expected: set[tuple[str, int]] = set()
    sent = [0]

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(batch=messages)
    def run(batch):
        now = services.now_ms()
        lo = now - services.MAX_AGE.total_seconds() * 1000
        hi = now + services.MAX_AHEAD.total_seconds() * 1000
        out = []
        for topic, body in batch:
            out.append((topic, body))
            expected.update(accepted(topic, body, lo, hi))
            ts = base + next(clock) * 1000  # a valid reading after each
            out.append((payloads.READINGS_TOPIC + "RG-002", payloads.encode_reading(ts, 0.5)))
            expected.add(("RG-002", ts))
        publish_all(pub, out)
        sent[0] += len(out)
        assert wait_for(lambda: w.messages == sent[0], timeout=60), (w.messages, sent[0])
        assert thread.is_alive()

    run()
    stored = set(Reading.objects.values_list("sensor__code", "ts_ms"))
    assert stored == expected  # every valid reading, nothing else
    stop(w, thread)
    pub.disconnect()


def test_generated_bodies_through_http_never_give_a_500(client, world, monkeypatch):
    monkeypatch.setattr(services, "_shared", None)
    token = services.issue_token("测试网关")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    base = services.now_ms() - 60 * MIN
    clock = itertools.count()

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        body=hostile_bodies,
        content_type=st.sampled_from(["application/json", "application/x-ndjson", "text/plain"]),
    )
    def run(body, content_type):
        r = client.post("/api/v1/monitoring/ingest", body, content_type=content_type, **auth)
        assert r.status_code in (200, 413, 422), r.status_code
        assert r.json()
        ts = base + next(clock) * 1000
        good = json.dumps([{"sensor": "RG-001", "ts": ts, "value": 0.5}])
        r = client.post("/api/v1/monitoring/ingest", good, content_type="application/json", **auth)
        assert r.status_code == 200 and r.json()["stored"] == 1

    run()
    assert Reading.objects.filter(sensor__code="RG-001", value=0.5).count() == next(clock)
