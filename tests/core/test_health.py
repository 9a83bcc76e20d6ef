"""/healthz: a verdict for anyone, the checks for staff or a token holder."""

import socket
import time

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError

from yingji.core import health
from yingji.core.models import ChannelState

pytestmark = pytest.mark.django_db
TOKEN = "probe-token-0123456789"


@pytest.fixture(autouse=True)
def fresh(settings):
    settings.YINGJI_HEALTH_TOKEN = TOKEN
    settings.YINGJI_DEMO_CHANNELS = True  # every channel usable (the demo's set)
    settings.YINGJI_MQTT_HOST = ""
    settings.REDIS_URL = ""
    health.clear_cache()
    yield
    health.clear_cache()


def details(client):
    response = client.get("/healthz", HTTP_X_HEALTH_TOKEN=TOKEN)
    body = response.json()
    return response.status_code, body["status"], {c["name"]: c for c in body["checks"]}


def test_public_caller_gets_only_the_verdict(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    # A wrong token is a public caller.
    assert client.get("/healthz", HTTP_X_HEALTH_TOKEN="wrong").json() == {"status": "ok"}


def test_token_or_staff_sees_every_check_with_latency_and_chinese_message(client):
    status, verdict, checks = details(client)
    assert (status, verdict) == (200, "ok")
    assert {"database", "queue", "channel:sms", "channel:email", "channel:webhook"} <= set(checks)
    for check in checks.values():
        assert check["ok"] is True and check["latency_ms"] >= 0
    assert "数据库正常" in checks["database"]["message"]
    assert "待处理" in checks["queue"]["message"]
    assert "演示通道" in checks["channel:sms"]["message"]
    bearer = client.get("/healthz", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").json()
    assert "checks" in bearer

    staff = User.objects.create_user("ops", password="x", is_staff=True)
    client.force_login(staff)
    assert "checks" in client.get("/healthz").json()


def test_a_failing_channel_is_degraded_not_down(client):
    ChannelState.objects.create(
        name="sms", reported=True, consecutive_failures=25, last_error="短信中心连接被拒绝"
    )
    assert client.get("/healthz").status_code == 200
    assert client.get("/healthz").json() == {"status": "degraded"}
    status, verdict, checks = details(client)
    assert (status, verdict) == (200, "degraded")
    assert checks["channel:sms"]["ok"] is False
    assert "持续失败 25 条" in checks["channel:sms"]["message"]
    assert "短信中心连接被拒绝" in checks["channel:sms"]["message"]
    assert checks["channel:email"]["ok"] is True


def test_an_unconfigured_channel_without_demo_is_degraded(client, settings):
    settings.YINGJI_DEMO_CHANNELS = False
    status, verdict, checks = details(client)
    assert verdict == "degraded"
    assert "DELIVERY_SMPP_HOST" in checks["channel:sms"]["message"]


def test_a_dead_database_is_down_with_503(client, monkeypatch):
    def refuse(*a, **k):
        raise OperationalError("connection refused")

    monkeypatch.setattr(health.connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "down"}
    status, verdict, checks = details(client)
    assert (status, verdict) == (503, "down")
    assert "数据库无法访问" in checks["database"]["message"]


def test_queue_on_redis(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    _, verdict, checks = details(client)
    assert checks["queue"]["ok"], checks["queue"]
    assert "Redis" in checks["queue"]["message"]
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{free}/0"
    _, verdict, checks = details(client)
    assert verdict == "degraded"
    assert "任务队列(Redis)无法访问" in checks["queue"]["message"]


def test_broker_checked_when_configured(client, settings):
    settings.YINGJI_MQTT_HOST, settings.YINGJI_MQTT_PORT = "127.0.0.1", 1883
    _, verdict, checks = details(client)
    assert checks["broker"]["ok"], checks["broker"]
    assert "在线" in checks["broker"]["message"]


def test_a_broker_that_never_answers_is_cut_off_by_the_timeout(client, settings):
    """A socket that accepts and says nothing: the check gives up at its timeout."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    settings.YINGJI_MQTT_HOST, settings.YINGJI_MQTT_PORT = "127.0.0.1", silent.getsockname()[1]
    settings.YINGJI_HEALTH_TIMEOUT_SECONDS = 0.3
    try:
        start = time.monotonic()
        _, verdict, checks = details(client)
        elapsed = time.monotonic() - start
    finally:
        silent.close()
    assert verdict == "degraded"
    assert checks["broker"]["ok"] is False and "无法连接" in checks["broker"]["message"]
    assert elapsed < 10  # bounded by the 0.3 s timeout, not hung


def test_result_is_cached_so_a_probe_storm_runs_the_checks_once(client, settings, monkeypatch):
    settings.YINGJI_HEALTH_CACHE_SECONDS = 60
    runs = []
    real = health.run_checks
    monkeypatch.setattr(health, "run_checks", lambda: runs.append(1) or real())
    for _ in range(20):
        assert client.get("/healthz").json() == {"status": "ok"}
    ChannelState.objects.create(name="sms", reported=True, consecutive_failures=30)
    assert client.get("/healthz").json() == {"status": "ok"}  # still the cached verdict
    assert len(runs) == 1
    health.clear_cache()
    assert client.get("/healthz").json() == {"status": "degraded"}


def test_probes_over_plain_http_are_not_redirected_in_production(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/").status_code == 301  # every page goes to https://
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/metrics").status_code == 200
