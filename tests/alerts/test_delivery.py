"""Delivery over real channels against real local servers: an SMPP 3.4 SMSC
(tests/alerts/smsc.py), an SMTP server (aiosmtpd) and a webhook receiver. An
approved alert reaches exactly the right recipients, receipts are recorded,
failures keep their reasons, retries back off, and a restart sends nothing twice."""

import datetime as dt
import http.server
import json
import re
import socket
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from django.contrib.contenttypes.models import ContentType
from django.test import override_settings
from django.utils import timezone

from yingji.alerts import services
from yingji.alerts.models import Alert, Subscriber
from yingji.core import channels, outbox
from yingji.core.models import Notification

from .conftest import draft_spec, subscriber
from .smsc import Smsc


class _Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("bounce"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((envelope.rcpt_tos[:], envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp():
    box = _Mailbox()
    with socket.socket() as probe:  # aiosmtpd checks its own port, so it needs a real one
        probe.bind(("127.0.0.1", 0))
        box.port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list = []
    fail_first: dict = {}

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        path = self.path
        if self.fail_first.get(path, 0) > 0:
            self.fail_first[path] -= 1
            self.send_response(503)
            self.end_headers()
            return
        if path.startswith("/gone"):
            self.send_response(404)
            self.end_headers()
            return
        type(self).received.append((path, self.headers["Idempotency-Key"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        answer = (
            {"errcode": 93000, "errmsg": "invalid webhook url"}
            if path == "/bad-key"
            else {"errcode": 0, "errmsg": "ok"}
        )
        self.wfile.write(json.dumps(answer).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    _Hook.received, _Hook.fail_first = [], {}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.base = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()


@pytest.fixture
def smsc():
    server = Smsc(undeliverable={"8613800000009"}, reject={"8613800000008"}).start()
    yield server
    server.stop()


@pytest.fixture
def wired(smsc, smtp, settings):
    settings.YINGJI_DELIVERY = {
        "SMPP_HOST": "127.0.0.1",
        "SMPP_PORT": smsc.port,
        "SMPP_SYSTEM_ID": "yingji",
        "SMPP_PASSWORD": "secret",
        "SMPP_RECEIPT_WAIT": 2.0,
        "RATE_SMS": 0,
        "RATE_EMAIL": 0,
        "RATE_WEBHOOK": 0,
        "RETRY_BASE_SECONDS": 30,
        "MAX_ATTEMPTS": 3,
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
    settings.DEFAULT_FROM_EMAIL = "alerts@yingji.example.org"
    return settings


def _source(alert):
    return ContentType.objects.get_for_model(Alert).pk, alert.pk


def _send(alert):
    return outbox.send_source(*_source(alert))


def _by_person(alert, *fields):
    """external id → the row's fields (or the row), for the alert's rows."""
    names = dict(Subscriber.objects.values_list("pk", "external_id"))
    if fields:
        return {
            names[r[0]]: r[1:] if len(r) > 2 else r[1]
            for r in services.warning_rows(alert).values_list("person_id", *fields)
        }
    return {names[r.person_id]: r for r in services.warning_rows(alert).all()}


def _publish(people, capture, **spec):
    alert = services.create_draft(
        people["author"], draft_spec(channels=["sms", "email", "webhook"], **spec)
    )
    services.submit(alert, people["author"])
    with capture(execute=True):
        return services.approve(alert, people["leader"])


def test_an_approved_alert_reaches_exactly_the_right_recipients(
    wired, smsc, smtp, webhook, people, subscribers, django_capture_on_commit_callbacks
):
    hook = subscriber("a-hook", lon=113.36, lat=23.08, webhook=f"{webhook.base}/wecom")
    subscriber("b-hook", lon=113.25, lat=23.08, webhook=f"{webhook.base}/elsewhere")
    only_email = subscriber(
        "a-email-only",
        lon=113.37,
        lat=23.09,
        phone="8613800000077",
        email="only@example.org",
        channels=["email"],
    )
    alert = _publish(people, django_capture_on_commit_callbacks, groups_anywhere=["sanfang"])
    # 天河区 by location or home, plus 三防责任人 anywhere; never the opted-out one.
    assert sorted(m.destination for m in smsc.messages) == [
        "8613800000001",
        "8613800000002",
        "8613800000005",
        "8613800000006",
    ]
    assert all("暴雨红色预警" in m.text for m in smsc.messages)
    # The approvers' "awaiting review" notices went through the same ledger and
    # mail server; the warning's own messages carry its ledger ids.
    keys = set(services.warning_rows(alert).values_list("pk", flat=True))
    assert sorted(
        r
        for rcpts, body in smtp.messages
        for r in rcpts
        if int(re.search(r"X-Yingji-Delivery: (\d+)", body)[1]) in keys
    ) == [
        "a1@example.org",
        "a2@example.org",
        "b5@example.org",
        "c7@example.org",
        "only@example.org",
    ]
    assert [(path, body["msgtype"]) for path, _, body in _Hook.received] == [("/wecom", "markdown")]
    _, key, body = _Hook.received[0]
    assert "暴雨红色预警" in body["markdown"]["content"] and body["markdown"]["title"]
    assert key == f"yingji-delivery-{services.warning_rows(alert).get(person_id=hook.pk).pk}"
    sms = services.warning_rows(alert).filter(channel="sms")
    assert set(sms.values_list("status", flat=True)) == {"delivered"}
    assert all(d.receipt.startswith("stat:DELIVRD") and d.provider_id for d in sms)
    assert not services.warning_rows(alert).filter(person_id=only_email.pk, channel="sms").exists()
    assert alert.population_estimate == 7


def test_failures_keep_their_reasons(
    wired, smsc, smtp, webhook, people, city, django_capture_on_commit_callbacks
):
    subscriber("rejected", lon=113.4, lat=23.1, phone="8613800000008")
    subscriber("undeliverable", lon=113.4, lat=23.1, phone="8613800000009")
    subscriber("bounce", lon=113.4, lat=23.1, email="bounce@example.org")
    subscriber("bad-key", lon=113.4, lat=23.1, webhook=f"{webhook.base}/bad-key")
    subscriber("gone", lon=113.4, lat=23.1, webhook=f"{webhook.base}/gone")
    alert = _publish(people, django_capture_on_commit_callbacks)
    reasons = _by_person(alert, "status", "last_error", "receipt")
    assert reasons["rejected"][0] == "failed" and "0x0000000B" in reasons["rejected"][1]
    assert reasons["undeliverable"] == ("failed", "回执:UNDELIV 001", "stat:UNDELIV err:001")
    assert reasons["bounce"][0] == "failed" and "550" in reasons["bounce"][1]
    assert reasons["bad-key"][0] == "failed" and "93000" in reasons["bad-key"][1]
    assert reasons["gone"][0] == "failed" and "HTTP 404" in reasons["gone"][1]


def test_temporary_failures_retry_with_backoff(
    wired, webhook, people, city, django_capture_on_commit_callbacks
):
    subscriber("flaky", lon=113.4, lat=23.1, webhook=f"{webhook.base}/flaky")
    _Hook.fail_first = {"/flaky": 2}
    alert = _publish(people, django_capture_on_commit_callbacks)
    row = services.warning_rows(alert).get()
    assert row.status == "queued" and row.attempts == 1 and "503" in row.last_error
    first_wait = row.next_attempt_at - timezone.now()
    assert dt.timedelta(seconds=25) < first_wait <= dt.timedelta(seconds=30)
    assert _send(alert) == {}  # not due yet: nothing is sent
    later = timezone.now() + dt.timedelta(seconds=31)
    outbox.send_channel("webhook", source=_source(alert), now=later)
    row.refresh_from_db()
    assert row.attempts == 2
    assert row.next_attempt_at - timezone.now() > dt.timedelta(seconds=55)  # doubled
    outbox.send_channel("webhook", source=_source(alert), now=later + dt.timedelta(seconds=61))
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 3 and len(_Hook.received) == 1


def test_a_restarted_job_sends_nothing_twice(
    wired, smsc, people, city, monkeypatch, django_capture_on_commit_callbacks
):
    for n in range(10):
        subscriber(f"p{n}", lon=113.4, lat=23.1, phone=f"86139000000{n:02d}")
    real = channels.SmppChannel.send_batch
    calls = {"n": 0}

    def dies_after_four(self, messages):
        # The worker is killed after four results, with more messages in the window.
        for result in real(self, messages):
            calls["n"] += 1
            yield result
            if calls["n"] == 4:
                raise ConnectionResetError("worker killed")

    monkeypatch.setattr(channels.SmppChannel, "send_batch", dies_after_four)
    settings_batch = {
        **wired.YINGJI_DELIVERY,
        "BATCH": 10,
        "SMPP_WINDOW": 2,
        "SMPP_RECEIPT_WAIT": 0.2,
    }
    with override_settings(YINGJI_DELIVERY=settings_batch):
        alert = _publish(people, django_capture_on_commit_callbacks)
        monkeypatch.setattr(channels.SmppChannel, "send_batch", real)
        statuses = _by_person(alert, "status")
        unknown = {k for k, v in statuses.items() if v == "failed"}
        retried = {k for k, v in statuses.items() if v == "queued"}
        assert len(statuses) - len(unknown) - len(retried) == 4
        assert unknown and retried  # in flight when killed / never handed over
        # Restart: the retry job runs again (twice, as a second worker would).
        later = timezone.now() + dt.timedelta(minutes=5)
        outbox.send_channel("sms", source=_source(alert), now=later)
        outbox.send_channel("sms", source=_source(alert), now=later)
        _send(alert)
    destinations = [m.destination for m in smsc.messages]
    assert len(destinations) == len(set(destinations))  # nobody got it twice
    assert len(destinations) == smsc.submits <= 10
    got = {d for d in destinations}
    for row in services.warning_rows(alert).all():
        if row.status != "failed":
            assert row.address in got  # everyone not marked unknown got it once
        else:
            assert "结果未知" in row.last_error
    assert services.queue_deliveries(alert) == 0 and services.warning_rows(alert).count() == 10


def test_rows_left_half_sent_are_not_resent(
    wired, smsc, people, city, django_capture_on_commit_callbacks
):
    subscriber("p1", lon=113.4, lat=23.1, phone="8613900000001")
    alert = services.create_draft(people["author"], draft_spec(channels=["sms"]))
    services.submit(alert, people["author"])
    services.approve(alert, people["leader"])  # on_commit not run: the worker never started
    row = services.warning_rows(alert).get()
    Notification.objects.filter(pk=row.pk).update(
        status="sending", sent_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert outbox.recover_stale() == 1
    _send(alert)
    row.refresh_from_db()
    assert row.status == "failed" and "结果未知" in row.last_error
    assert smsc.messages == []


def test_a_dead_workers_batch_resends_only_what_never_left_it(
    wired, smsc, people, city, django_capture_on_commit_callbacks
):
    """A worker killed inside a batch of 5 with the SMSC window at 2: the first two
    rows still in `sending` (id order, the order they were sent in) may have
    reached the SMSC and are marked unknown; the other three never left the worker
    and are sent by the same sweep, once each."""
    wired.YINGJI_DELIVERY = {**wired.YINGJI_DELIVERY, "SMPP_WINDOW": 2}
    for i in range(6):
        subscriber(f"p{i}", lon=113.4, lat=23.1, phone=f"861390000001{i}")
    alert = services.create_draft(people["author"], draft_spec(channels=["sms"]))
    services.submit(alert, people["author"])
    services.approve(alert, people["leader"])  # on_commit not run: the worker never started
    rows = list(services.warning_rows(alert).order_by("id"))
    claimed = timezone.now() - dt.timedelta(hours=1)
    Notification.objects.filter(pk=rows[0].pk).update(
        status="delivered", sent_at=claimed, attempts=1
    )
    Notification.objects.filter(pk__in=[r.pk for r in rows[1:]]).update(
        status="sending", sent_at=claimed, attempts=1
    )
    assert outbox.recover_stale() == 2
    outbox.flush()
    by_pk = {r.pk: r for r in services.warning_rows(alert)}
    unknown = [r.pk for r in rows[1:3]]
    assert all(by_pk[pk].status == "failed" for pk in unknown)
    assert all("结果未知" in by_pk[pk].last_error for pk in unknown)
    resent = [by_pk[r.pk] for r in rows[3:]]
    assert all(r.status in ("sent", "delivered") and r.attempts == 1 for r in resent)
    destinations = [m.destination for m in smsc.messages]
    assert sorted(destinations) == sorted(r.address for r in resent)  # once each, no others


def test_queueing_is_idempotent_one_delivery_per_person_and_channel(people, subscribers):
    alert = services.create_draft(people["author"], draft_spec(channels=["sms", "email"]))
    services.submit(alert, people["author"])
    services.approve(alert, people["leader"])
    first = services.warning_rows(alert).count()
    services.queue_deliveries(alert)
    services.queue_deliveries(alert)
    assert (
        services.warning_rows(alert).count() == first == 5
    )  # a-public×2, a-school×2, c-home-tianhe sms


def test_rate_limit_spaces_messages(webhook):
    hook = channels.WebhookChannel(rate=5)
    hook.limiter = channels.TokenBucket(5, burst=1)
    started = time.monotonic()
    out = list(
        hook.send_batch([channels.Outgoing(i, f"{webhook.base}/r", "t", "x") for i in range(6)])
    )
    assert [r.outcome for r in out] == ["sent"] * 6
    assert time.monotonic() - started >= 0.95  # 5 waits of 0.2 s


def test_token_bucket_with_a_fake_clock():
    now = [0.0]
    waits = []

    def sleep(s):
        waits.append(s)
        now[0] += s

    bucket = channels.TokenBucket(100, burst=10, clock=lambda: now[0], sleep=sleep)
    for _ in range(30):
        bucket.take()
    assert now[0] == pytest.approx(0.2, abs=1e-6)


def test_smsc_windowing_keeps_responses_matched(smsc):
    sms = channels.SmppChannel(
        "127.0.0.1", smsc.port, system_id="yingji", password="secret", window=8, receipt_wait=1.0
    )
    out = list(
        sms.send_batch([channels.Outgoing(i, f"86137{i:08d}", "t", f"消息{i}") for i in range(40)])
    )
    delivered = {r.key for r in out if r.outcome == "delivered"}
    assert delivered == set(range(40))
    assert sorted(m.text for m in smsc.messages) == sorted(f"消息{i}" for i in range(40))


def test_long_chinese_sms_is_split_and_reassembled(smsc):
    sms = channels.SmppChannel(
        "127.0.0.1", smsc.port, system_id="yingji", password="secret", receipt_wait=1.0
    )
    text = "广州市应急管理局发布暴雨红色预警:" + "请立即转移到安全地带。" * 12
    out = list(sms.send_batch([channels.Outgoing(1, "8613700000001", "t", text)]))
    assert out[0].outcome == "sent" and out[-1].outcome == "delivered"
    assert smsc.submits > 1 and [m.text for m in smsc.messages] == [text]


def test_wrong_smsc_password_fails_the_whole_batch_for_retry(smsc):
    sms = channels.SmppChannel("127.0.0.1", smsc.port, system_id="yingji", password="wrong")
    with pytest.raises(Exception, match="0x0000000E|RINVPASWD|14"):
        list(sms.send_batch([channels.Outgoing(1, "8613700000001", "t", "x")]))


def test_a_staff_sms_goes_through_the_same_ledger_and_channel(wired, smsc, db):
    with outbox.held():
        note = outbox.enqueue(
            address="8613700000042",
            subject="值班提醒",
            body="请于20:00到岗",
            dedupe_key="test:sms:1",
            channel="sms",
        )
    assert outbox.send([note.pk]) == 1
    assert outbox.send([note.pk]) == 0  # delivered once only
    note.refresh_from_db()
    assert note.status in ("sent", "delivered") and note.provider_id
    assert [(m.destination, m.text) for m in smsc.messages] == [("8613700000042", "请于20:00到岗")]


def test_receipts_arriving_after_the_session_are_collected(
    people, city, settings, django_capture_on_commit_callbacks
):
    late = Smsc(late_receipts=True, undeliverable={"8613900000002"}).start()
    try:
        settings.YINGJI_DELIVERY = {
            "SMPP_HOST": "127.0.0.1",
            "SMPP_PORT": late.port,
            "SMPP_PASSWORD": "secret",
            "SMPP_RECEIPT_WAIT": 0.3,
            "RATE_SMS": 0,
        }
        subscriber("p1", lon=113.4, lat=23.1, phone="8613900000001")
        subscriber("p2", lon=113.4, lat=23.1, phone="8613900000002")
        alert = services.create_draft(people["author"], draft_spec(channels=["sms"]))
        services.submit(alert, people["author"])
        with django_capture_on_commit_callbacks(execute=True):
            services.approve(alert, people["leader"])
        assert set(services.warning_rows(alert).values_list("status", flat=True)) == {"sent"}
        assert outbox.collect_late_receipts(seconds=1.0) == 2
    finally:
        late.stop()
    states = dict(services.warning_rows(alert).values_list("address", "status"))
    assert states == {"8613900000001": "delivered", "8613900000002": "failed"}
    assert (
        services.warning_rows(alert).get(address="8613900000002").receipt == "stat:UNDELIV err:001"
    )
