"""/metrics: what Prometheus scrapes, and who may scrape it."""

import os
import subprocess
import sys

import pytest
from django.contrib.auth.models import User
from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from prometheus_client.parser import text_string_to_metric_families

from tests.monitoring.conftest import world  # noqa: F401 (fixture)
from yingji.core import outbox
from yingji.monitoring import services

pytestmark = pytest.mark.django_db
MIN = 60_000


def scrape(client, **headers) -> dict:
    """Every sample as {(name, sorted labels): value}."""
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    out = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_only_loopback_token_or_staff_may_scrape(client, settings):
    settings.YINGJI_METRICS_TOKEN = "scrape-secret-42"
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    # Through a proxy on the same machine: not loopback any more.
    proxied = client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert proxied.status_code == 403
    assert "令牌" in proxied.content.decode()
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    ok = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer scrape-secret-42"
    )
    assert ok.status_code == 200
    bad = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer nope")
    assert bad.status_code == 403
    client.force_login(User.objects.create_user("ops", password="x", is_staff=True))
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 200


def test_request_latency_is_labelled_by_route_name_not_path(client):
    before = scrape(client)
    client.get("/accounts/login/")
    client.get("/audit/core/department/12345/")  # an id in the path
    client.get("/no/such/page/")
    assert client.get("/static/yingji/favicon.svg").status_code == 200  # WhiteNoise
    after = scrape(client)
    name = "yingji_http_request_duration_seconds_count"
    assert (
        value(after, name, route="login", method="GET")
        == value(before, name, route="login", method="GET") + 1
    )
    assert value(after, name, route="object_history", method="GET") >= 1
    assert value(after, name, route="unmatched", method="GET") >= 1
    assert value(after, name, route="static", method="GET") >= 1
    assert not any("12345" in str(labels) for _, labels in after)
    assert (
        value(after, "yingji_http_requests_total", route="login", method="GET", status="200") >= 1
    )


def test_ingest_delivery_and_alarm_figures(
    client,
    world,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    settings.YINGJI_DEMO_CHANNELS = True
    before = scrape(client)
    t0 = services.now_ms() - 3 * 3600 * 1000
    ing = services.Ingestor()
    readings = [("RG-001", t0 + i * 5 * MIN, 4.0, "mm") for i in range(6)]
    ing.ingest(readings + [("RG-001", t0 + 30 * MIN, 30.0, "mm")], source="test")  # → orange
    with django_capture_on_commit_callbacks(execute=True):  # sent once committed
        outbox.enqueue(
            channel="sms", address="13800000000", subject="测试", body="测试", dedupe_key="m-1"
        )
    settings.YINGJI_DEMO_CHANNELS = False  # SMS unconfigured now: the message fails
    with django_capture_on_commit_callbacks(execute=True):
        outbox.enqueue(
            channel="sms", address="13800000001", subject="测试", body="测试", dedupe_key="m-2"
        )
    after = scrape(client)

    stored = value(after, "yingji_readings_stored_total", path="live") - value(
        before, "yingji_readings_stored_total", path="live"
    )
    assert stored == 7
    sent = "yingji_deliveries_total"
    assert (
        value(after, sent, channel="sms", outcome="sent")
        - value(before, sent, channel="sms", outcome="sent")
        >= 1
    )
    assert (
        value(after, sent, channel="sms", outcome="failed")
        - value(before, sent, channel="sms", outcome="failed")
        >= 1
    )
    assert value(after, "yingji_alarms_firing", level="orange") == 1
    assert ("yingji_queue_depth", ()) in after
    assert value(after, "yingji_deliveries_waiting", channel="email") == 0
    assert value(after, "yingji_channel_failing", channel="sms") == 0
    assert value(after, "yingji_deliveries_failed", channel="sms") == 1  # the unconfigured one


def test_several_processes_add_up_in_multiprocess_mode(tmp_path, monkeypatch, client):
    """Two processes count readings into PROMETHEUS_MULTIPROC_DIR; a scrape sums them."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    code = "from yingji.core import metrics; metrics.readings_stored(5, 'live')"
    for _ in range(2):
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(tmp_path))
    assert b'yingji_readings_stored_total{path="live"} 10.0' in generate_latest(registry)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    samples = scrape(client)
    assert value(samples, "yingji_readings_stored_total", path="live") == 10
    assert ("yingji_queue_depth", ()) in samples  # the database gauges too
