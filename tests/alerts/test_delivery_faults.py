"""The delivery system when things go wrong, with the real local SMSC: a channel
whose server is down, a channel nobody configured, the demo channel set, a warning
that reached nobody in time, and the administrators' channel page."""

import datetime as dt
import json
import socket

import pytest
from django.core import mail
from django.utils import timezone

from yingji.alerts import services
from yingji.alerts.models import Alert
from yingji.core import outbox
from yingji.core.models import ChannelState, Notification
from yingji.response.models import DeskItem

from .conftest import draft_spec, subscriber
from .smsc import Smsc


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _people_in_tianhe(n):
    return [
        subscriber(f"p{i}", lon=113.40, lat=23.10, phone=f"86139000001{i:02d}") for i in range(n)
    ]


def _publish(people, capture, channels=("sms",)):
    alert = services.create_draft(people["author"], draft_spec(channels=list(channels)))
    services.submit(alert, people["author"])
    with capture(execute=True):
        return services.approve(alert, people["leader"])


@pytest.fixture
def smsc_down(settings):
    """The SMSC's address is configured, but nothing answers there (yet)."""
    port = _free_port()
    settings.YINGJI_DELIVERY = {
        "SMPP_HOST": "127.0.0.1",
        "SMPP_PORT": port,
        "SMPP_PASSWORD": "secret",
        "SMPP_RECEIPT_WAIT": 1.0,
        "RATE_SMS": 0,
        "RETRY_BASE_SECONDS": 30,
        "MAX_ATTEMPTS": 5,
        "FAILING_AFTER": 3,
    }
    settings.YINGJI_DEMO_CHANNELS = False
    return port


def test_smsc_down_waits_shows_why_tells_the_desk_once_and_sends_once_when_back(
    smsc_down, people, city, client, django_capture_on_commit_callbacks
):
    _people_in_tianhe(5)
    alert = _publish(people, django_capture_on_commit_callbacks)
    rows = services.warning_rows(alert)
    assert rows.count() == 5 and set(rows.values_list("status", flat=True)) == {"queued"}
    progress = services.progress(alert)
    (sms,) = progress["rows"]
    assert sms["waiting"] == 5 and sms["next_retry"] is not None
    assert len(sms["reasons"]) == 1 and sms["reasons"][0]["count"] == 5
    assert "短信中心连接被拒绝" in sms["reasons"][0]["reason"]
    client.force_login(people["leader"])
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "短信:短信中心连接被拒绝" in page and "× 5" in page and "下次重试" in page

    # Five failures in a row (threshold 3): one item on the duty desk, not five.
    items = DeskItem.objects.filter(kind=DeskItem.Kind.CHANNEL)
    assert items.count() == 1 and "短信渠道持续发送失败" in items.get().title
    later = timezone.now() + dt.timedelta(seconds=31)
    outbox.flush(now=later)  # still down: the retry fails again, the desk stays at one
    assert items.count() == 1 and rows.filter(attempts=2).count() == 5
    client.force_login(people["duty"])
    desk = client.get("/response/").content.decode()
    assert "短信渠道持续发送失败" in desk

    # The SMS centre comes back where it was expected: everyone gets it, once.
    smsc = Smsc(port=smsc_down).start()
    try:
        outbox.flush(now=later + dt.timedelta(seconds=61))
        outbox.flush(now=later + dt.timedelta(seconds=200))  # a second sweep sends nothing
    finally:
        smsc.stop()
    destinations = [m.destination for m in smsc.messages]
    assert len(destinations) == len(set(destinations)) == 5
    assert set(rows.values_list("status", flat=True)) == {"delivered"}
    assert "已恢复" in items.get().title
    assert ChannelState.objects.get(name="sms").consecutive_failures == 0
    assert services.progress(alert)["finished"]


def test_a_refused_number_fails_alone_and_the_batch_goes_on(
    settings, people, city, django_capture_on_commit_callbacks
):
    smsc = Smsc(reject={"8613900000100"}).start()
    try:
        settings.YINGJI_DELIVERY = {
            "SMPP_HOST": "127.0.0.1",
            "SMPP_PORT": smsc.port,
            "SMPP_PASSWORD": "secret",
            "SMPP_RECEIPT_WAIT": 1.0,
            "RATE_SMS": 0,
        }
        _people_in_tianhe(4)
        alert = _publish(people, django_capture_on_commit_callbacks)
    finally:
        smsc.stop()
    states = dict(services.warning_rows(alert).values_list("address", "status"))
    assert states.pop("8613900000100") == "failed"
    assert set(states.values()) == {"delivered"} and len(states) == 3


def test_an_unconfigured_channel_fails_at_once_with_what_is_missing(
    settings, people, city, django_capture_on_commit_callbacks
):
    settings.YINGJI_DELIVERY = {}
    settings.YINGJI_DEMO_CHANNELS = False
    _people_in_tianhe(2)
    alert = _publish(people, django_capture_on_commit_callbacks)
    rows = services.warning_rows(alert)
    assert set(rows.values_list("status", flat=True)) == {"failed"}
    assert all(
        "短信渠道未配置" in e and "DELIVERY_SMPP_HOST" in e
        for e in rows.values_list("last_error", flat=True)
    )
    assert services.progress(alert)["nobody"]


def test_the_demo_channel_set_records_every_message_as_delivered(
    settings, people, city, client, django_capture_on_commit_callbacks
):
    settings.YINGJI_DELIVERY = {}
    settings.YINGJI_DEMO_CHANNELS = True
    _people_in_tianhe(3)
    alert = _publish(people, django_capture_on_commit_callbacks)
    rows = services.warning_rows(alert)
    assert rows.filter(status="delivered", via="demo").count() == 3
    sink = settings.VAR_DIR / "demo-sink" / "sms.jsonl"
    lines = [json.loads(line) for line in sink.read_text(encoding="utf-8").splitlines()]
    mine = [m for m in lines if m["key"] in set(rows.values_list("pk", flat=True))]
    assert len(mine) == 3 and all("暴雨红色预警" in m["text"] for m in mine)
    client.force_login(people["leader"])
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "短信(演示通道)" in page and "100%" in page and "发送完毕" in page


def test_a_warning_still_waiting_after_its_time_limit_is_shown_late_in_red(
    smsc_down, people, city, client, django_capture_on_commit_callbacks
):
    _people_in_tianhe(2)
    alert = _publish(people, django_capture_on_commit_callbacks)
    Alert.objects.filter(pk=alert.pk).update(sent=timezone.now() - dt.timedelta(minutes=31))
    alert.refresh_from_db()
    progress = services.progress(alert)
    assert progress["late"] and progress["nobody"]
    client.force_login(people["leader"])
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "未送达任何人" in page and "已超过发送时限" in page and "正在发送" not in page


def test_retry_now_puts_failed_messages_back_and_is_audited(
    smsc_down, people, city, client, django_capture_on_commit_callbacks, settings
):
    settings.YINGJI_DELIVERY = {**settings.YINGJI_DELIVERY, "MAX_ATTEMPTS": 1}
    _people_in_tianhe(2)
    alert = _publish(people, django_capture_on_commit_callbacks)
    rows = services.warning_rows(alert)
    assert set(rows.values_list("status", flat=True)) == {"failed"}
    smsc = Smsc(port=smsc_down).start()
    try:
        client.force_login(people["viewer"])
        client.post(f"/alerts/{alert.pk}/retry/")
        assert set(rows.values_list("status", flat=True)) == {"failed"}  # not theirs to do
        client.force_login(people["leader"])
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/alerts/{alert.pk}/retry/")
    finally:
        smsc.stop()
    assert set(rows.values_list("status", flat=True)) == {"delivered"}
    assert len(smsc.messages) == 2
    from yingji.core import audit

    assert any("deliveries_retried" in e.changed_fields for e in audit.history(alert))


def test_the_channel_page_is_for_administrators_and_sends_a_test_message(
    settings, people, client, django_capture_on_commit_callbacks
):
    settings.YINGJI_DELIVERY = {}
    settings.YINGJI_DEMO_CHANNELS = False
    client.force_login(people["leader"])
    assert client.get("/channels/").status_code == 403
    admin = people["viewer"]
    admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    page = client.get("/channels/").content.decode()
    assert "短信" in page and "未配置" in page and "DELIVERY_SMPP_HOST" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/channels/", {"channel": "email", "address": "ops@example.org"})
    assert [m.to for m in mail.outbox if "测试消息" in m.subject] == [["ops@example.org"]]
    note = Notification.objects.get(dedupe_key__startswith="channel-test:")
    assert note.status == "sent" and note.recipient == admin
    page = client.get("/channels/").content.decode()
    assert "ops@example.org" in page and "已发送" in page


def test_a_large_release_sends_its_first_chunk_at_once_and_queues_the_rest_after(
    settings, people, city, monkeypatch, django_capture_on_commit_callbacks
):
    settings.YINGJI_DELIVERY = {}
    settings.YINGJI_DEMO_CHANNELS = True
    monkeypatch.setattr(services, "FIRST_CHUNK", 2)
    _people_in_tianhe(5)
    alert = services.create_draft(people["author"], draft_spec(channels=["sms"]))
    services.submit(alert, people["author"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        alert = services.approve(alert, people["leader"])
    rows = services.warning_rows(alert)
    assert rows.count() == 2 and not Alert.objects.get(pk=alert.pk).recipients_queued
    # The worker died before the rest was queued: the sweep finishes the release.
    assert services.finish_unqueued(older_than=dt.timedelta(0)) == 3
    assert rows.count() == 5 and Alert.objects.get(pk=alert.pk).recipients_queued
    for callback in callbacks:  # the jobs after the commit change nothing now
        callback()
    assert rows.count() == 5
    assert services.queue_remaining(alert.pk) == 0
    assert rows.filter(status="delivered").count() == 5
