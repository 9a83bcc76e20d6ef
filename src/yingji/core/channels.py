"""Delivery channels: one base class, one subclass per way of reaching a person.

Protocol code only: no Django at import time. A channel takes `Message`s (what the
ledger's source wants to say), formats each its own way (`format`: an SMS is short,
a group robot gets markdown with a link, an e-mail gets the full text) and sends a
batch, yielding one `Result` per message; `core/outbox.py` (the one delivery
ledger) claims the rows and records the results. Adding a channel (WeCom app
message, DingTalk work notice, voice call, app push, 应急广播) is one subclass
here and one entry in `core/channelconfig.py`.

- SmppChannel: SMS over SMPP 3.4 to an SMSC. Windowed: up to `window` submit_sm
  outstanding before waiting for responses, throttled by a token bucket, with
  delivery receipts (registered_delivery=1) read on the same transceiver bind.
- EmailChannel: e-mail through Django's mail backend (SMTP in production, one
  connection per batch; the console or memory backend in development and tests).
- WebhookChannel: HTTP POST of a WeCom/DingTalk group-robot compatible JSON
  payload ({"msgtype": "markdown", "markdown": {...}}), errcode checked.
- DemoChannel: the demo's stand-in for any channel that is not configured:
  records each message as delivered to a local sink file (labelled 演示通道).
"""

from __future__ import annotations

import abc
import json
import re
import smtplib
import socket
import struct
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import make_msgid
from pathlib import Path

SENT, DELIVERED, FAILED, RETRY = "sent", "delivered", "failed", "retry"


@dataclass(frozen=True)
class Message:
    """What a source wants one person told, before a channel formats it."""

    key: int  # the ledger row's id: the idempotency key every channel passes on
    address: str
    subject: str
    text: str
    short: str = ""  # the SMS form, when the source has one (else subject:text)
    link: str = ""  # "details" link for channels that can carry one
    extra: dict = field(default_factory=dict)  # structured summary (webhook payload)


@dataclass(frozen=True)
class Outgoing:
    """One message to one address."""

    key: int
    address: str
    subject: str
    text: str
    payload: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Result:
    """What became of one message: sent (provider id), delivered (receipt),
    failed (permanent, with reason) or retry (temporary, with reason)."""

    key: int
    outcome: str
    provider_id: str = ""
    reason: str = ""
    receipt: str = ""


class TokenBucket:
    """Rate limit: at most `rate` messages a second on average, bursts of `burst`."""

    def __init__(
        self,
        rate: float,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.rate = float(rate)
        self.capacity = float(burst if burst is not None else max(1, int(rate)))
        self.tokens = self.capacity
        self.clock, self.sleep = clock, sleep
        self.updated = clock()

    def take(self, n: int = 1) -> None:
        """Block until n tokens are available, then spend them."""
        if self.rate <= 0:
            return
        while True:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= n - 1e-9:  # float rounding must not make it spin
                self.tokens = max(0.0, self.tokens - n)
                return
            self.sleep((n - self.tokens) / self.rate)


class Channel(abc.ABC):
    """One delivery channel: formats its own message, sends a batch."""

    name = ""
    label = ""
    demo = False  # True only for DemoChannel: pages label its rows 演示通道

    def __init__(self, rate: float = 0.0):
        self.limiter = TokenBucket(rate) if rate else None
        # Keys of the current batch already handed to the network: if the batch
        # breaks, these may have been sent and must not be sent again.
        self.attempted: set[int] = set()

    def format(self, message: Message) -> Outgoing:
        """The message as this channel sends it (default: subject, text, link)."""
        text = f"{message.text}\n\n{message.link}" if message.link else message.text
        return Outgoing(message.key, message.address, message.subject, text)

    def throttle(self) -> None:
        if self.limiter is not None:
            self.limiter.take()

    @abc.abstractmethod
    def send_batch(self, messages: Sequence[Outgoing]) -> Iterator[Result]:
        """Send the messages; yield a Result for each (raising only when nothing
        could be attempted, e.g. the server is down: all are then retried)."""

    def lookup(self, keys: Sequence[int]) -> dict[int, bool]:
        """Ask the provider about messages whose result was lost (a worker died
        between handing them over and recording the answer): True for a key it
        received, False for one it certainly did not; keys it cannot tell about
        are left out. The default knows nothing (SMTP and SMPP cannot be asked by
        our key); a gateway with a client reference (an SMS HTTP API's out-id
        query) or the demo sink can."""
        return {}


# ----------------------------------------------------------------------- e-mail


class EmailChannel(Channel):
    """E-mail through Django's mail backend: one connection per batch, each message
    sent on its own so one refused address fails that message only."""

    name, label = "email", "邮件"

    def __init__(self, *, sender: str, backend: str | None = None, rate: float = 0.0):
        super().__init__(rate)
        self.sender, self.backend = sender, backend

    def send_batch(self, messages: Sequence[Outgoing]) -> Iterator[Result]:
        from django.core.mail import EmailMessage, get_connection

        self.attempted = set()
        connection = get_connection(self.backend, fail_silently=False)
        connection.open()  # the server being down raises here: nothing attempted
        try:
            for m in messages:
                self.throttle()
                # The ledger id in Message-ID lets a receiving system drop a duplicate.
                msg = EmailMessage(
                    m.subject,
                    m.text,
                    self.sender,
                    [m.address],
                    connection=connection,
                    headers={
                        "Message-ID": make_msgid(idstring=f"yingji-delivery-{m.key}"),
                        "X-Yingji-Delivery": str(m.key),
                    },
                )
                self.attempted.add(m.key)
                try:
                    connection.send_messages([msg])
                except smtplib.SMTPRecipientsRefused as exc:
                    code, text = next(iter(exc.recipients.values()))
                    text = text.decode(errors="replace") if isinstance(text, bytes) else text
                    yield Result(
                        m.key, FAILED if 500 <= code < 600 else RETRY, reason=f"SMTP {code} {text}"
                    )
                    continue
                except smtplib.SMTPResponseException as exc:
                    outcome = FAILED if 500 <= exc.smtp_code < 600 else RETRY
                    yield Result(m.key, outcome, reason=f"SMTP {exc.smtp_code} {exc.smtp_error!r}")
                    continue
                yield Result(m.key, SENT, provider_id=msg.extra_headers["Message-ID"])
        finally:
            connection.close()


# ---------------------------------------------------------------------- webhook


def bot_payload(title: str, text: str, extra: dict | None = None) -> dict:
    """A group-robot message both WeCom (markdown.content) and DingTalk
    (markdown.title + markdown.text) accept; extra keys carry the CAP summary."""
    body = f"### {title}\n\n{text}"
    payload = {
        "msgtype": "markdown",
        "markdown": {"title": title[:64], "content": body, "text": body},
    }
    if extra:
        payload["yingji"] = extra
    return payload


class WebhookChannel(Channel):
    name, label = "webhook", "群机器人"

    def format(self, message: Message) -> Outgoing:
        text = f"{message.text}\n\n[详情]({message.link})" if message.link else message.text
        return Outgoing(
            message.key,
            message.address,
            message.subject,
            message.text,
            bot_payload(message.subject, text, extra=message.extra or None),
        )

    def __init__(self, *, timeout: float = 10.0, rate: float = 0.0):
        super().__init__(rate)
        self.timeout = timeout

    def send_batch(self, messages: Sequence[Outgoing]) -> Iterator[Result]:
        self.attempted = set()
        for m in messages:
            self.throttle()
            self.attempted.add(m.key)
            yield self._post(m)

    def _post(self, m: Outgoing) -> Result:
        data = json.dumps(m.payload or bot_payload(m.subject, m.text), ensure_ascii=False)
        request = urllib.request.Request(
            m.address,
            data=data.encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Idempotency-Key": f"yingji-delivery-{m.key}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(65536)
        except urllib.error.HTTPError as exc:
            outcome = RETRY if exc.code >= 500 or exc.code == 429 else FAILED
            return Result(m.key, outcome, reason=f"HTTP {exc.code}")
        except (urllib.error.URLError, OSError) as exc:
            return Result(m.key, RETRY, reason=f"连接失败:{getattr(exc, 'reason', exc)}")
        try:
            answer = json.loads(body or b"{}")
        except ValueError:
            answer = {}
        errcode = answer.get("errcode", 0) if isinstance(answer, dict) else 0
        if errcode:
            return Result(
                m.key,
                FAILED,
                reason=f"机器人返回 errcode={errcode} {answer.get('errmsg', '')}".strip(),
            )
        return Result(
            m.key,
            SENT,
            provider_id=str(answer.get("msgid", "")) if isinstance(answer, dict) else "",
        )


# ------------------------------------------------------------------------- SMS

_RECEIPT = re.compile(r"id:(?P<id>\S+).*?stat:(?P<stat>\w+)(?:.*?err:(?P<err>\w+))?", re.S)


def parse_receipt(text: str) -> tuple[str, str, str] | None:
    """An SMPP delivery receipt's (message id, stat, err), or None if not a receipt."""
    m = _RECEIPT.search(text)
    return (m.group("id"), m.group("stat"), m.group("err") or "") if m else None


class SmppChannel(Channel):
    """SMS over SMPP 3.4 (smpplib), windowed and throttled, with receipts."""

    name, label = "sms", "短信"

    def format(self, message: Message) -> Outgoing:
        # An SMS carries no link and is kept to 300 characters (five long-SMS parts).
        short = message.short or message.text
        return Outgoing(message.key, message.address, message.subject, short[:300])

    def __init__(
        self,
        host: str,
        port: int,
        *,
        system_id: str,
        password: str,
        source_addr: str = "12379",
        window: int = 50,
        rate: float = 0.0,
        receipt_wait: float = 2.0,
        timeout: float = 10.0,
    ):
        super().__init__(rate)
        self.host, self.port = host, port
        self.system_id, self.password, self.source_addr = system_id, password, source_addr
        self.window, self.receipt_wait, self.timeout = max(1, window), receipt_wait, timeout

    def send_batch(self, messages: Sequence[Outgoing]) -> Iterator[Result]:
        import smpplib.client
        import smpplib.consts
        import smpplib.gsm
        import smpplib.smpp

        self.attempted = set()
        client = smpplib.client.Client(
            self.host, self.port, timeout=self.timeout, allow_unknown_opt_params=True
        )
        by_sequence: dict[int, int] = {}  # submit_sm sequence -> delivery key
        parts_left: dict[int, int] = {}  # key -> submit_sm responses still awaited
        message_ids: dict[str, int] = {}  # SMSC message id -> key
        results: list[Result] = []
        finished: set[int] = set()

        def on_sent(sequence: int, status: int, msg_id: str) -> None:
            key = by_sequence.pop(sequence, None)
            if key is None:
                return
            if status != 0:
                if key not in finished:
                    finished.add(key)
                    retry = status in (
                        smpplib.consts.SMPP_ESME_RTHROTTLED,
                        smpplib.consts.SMPP_ESME_RMSGQFUL,
                    )
                    results.append(
                        Result(
                            key,
                            RETRY if retry else FAILED,
                            reason=f"SMSC 拒绝 submit_sm,状态 0x{status:08X}",
                        )
                    )
                return
            message_ids[msg_id] = key
            parts_left[key] -= 1
            if parts_left[key] == 0 and key not in finished:
                results.append(Result(key, SENT, provider_id=msg_id))

        receipts: dict[int, Result] = {}

        def on_received(text: str) -> None:
            parsed = parse_receipt(text)
            if parsed is None:
                return None
            msg_id, stat, err = parsed
            key = message_ids.get(msg_id)
            if key is None:
                return None
            receipt = f"stat:{stat} err:{err}" if err else f"stat:{stat}"
            if stat == "DELIVRD":
                receipts.setdefault(
                    key, Result(key, DELIVERED, provider_id=msg_id, receipt=receipt)
                )
            else:  # one failed part fails the message
                receipts[key] = Result(
                    key,
                    FAILED,
                    provider_id=msg_id,
                    receipt=receipt,
                    reason=f"回执:{stat} {err}".strip(),
                )
            return None

        client.connect()
        sock = client._socket
        # Without TCP_NODELAY each small PDU can wait for a delayed ACK (~40 ms).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        inbox = bytearray()
        outbox = bytearray()  # PDUs generated, written in one sendall per window turn

        def pump() -> None:
            """Read what the SMSC sent (blocking until something arrives) and act on
            every complete PDU: one recv for many PDUs, not two per PDU."""
            if outbox:
                sock.sendall(outbox)
                outbox.clear()
            data = sock.recv(1 << 16)
            if not data:
                raise ConnectionError("SMSC 关闭了连接")
            inbox.extend(data)
            while len(inbox) >= 16:
                length, command, status, sequence = _HEADER.unpack_from(inbox)
                if len(inbox) < length:
                    break
                body = bytes(inbox[16:length])
                del inbox[:length]
                if command in (SUBMIT_SM_RESP, GENERIC_NACK):
                    on_sent(sequence, status, body.split(b"\0", 1)[0].decode("ascii", "replace"))
                elif command == DELIVER_SM:
                    on_received(deliver_sm_text(body))
                    outbox.extend(_HEADER.pack(17, DELIVER_SM_RESP, 0, sequence) + b"\0")
                elif command == ENQUIRE_LINK:
                    outbox.extend(_HEADER.pack(16, ENQUIRE_LINK_RESP, 0, sequence))

        try:
            client.bind_transceiver(system_id=self.system_id, password=self.password)
            split: dict[str, tuple] = {}  # one alert's recipients share one text
            source = self.source_addr.encode("ascii")
            for m in messages:
                if m.text not in split:
                    split[m.text] = smpplib.gsm.make_parts(m.text)
                parts, coding, esm_class = split[m.text]
                parts_left[m.key] = len(parts)
                for part in parts:
                    self.throttle()
                    while len(by_sequence) >= self.window:
                        pump()
                    self.attempted.add(m.key)  # from here on a resend could duplicate it
                    sequence = client.next_sequence()
                    by_sequence[sequence] = m.key
                    outbox.extend(
                        submit_sm(
                            sequence,
                            source,
                            m.address.lstrip("+").encode("ascii"),
                            part,
                            coding,
                            esm_class,
                        )
                    )
                    if self.limiter is not None:  # throttled: do not hold PDUs back
                        sock.sendall(outbox)
                        outbox.clear()
                yield from _drain(results)
            while by_sequence:
                pump()
                yield from _drain(results)
            yield from _drain(results)
            sent_keys = {k for k in parts_left if k not in finished}
            deadline = time.monotonic() + self.receipt_wait
            sock.settimeout(0.2)
            while len(receipts) < len(sent_keys) and time.monotonic() < deadline:
                try:
                    pump()
                except TimeoutError:
                    continue
            if outbox:
                sock.sendall(outbox)
            yield from receipts.values()
            _unbind(client, self.timeout)
        finally:
            client.disconnect()


_HEADER = struct.Struct(">IIII")
SUBMIT_SM, SUBMIT_SM_RESP, DELIVER_SM, DELIVER_SM_RESP = 0x04, 0x80000004, 0x05, 0x80000005
ENQUIRE_LINK, ENQUIRE_LINK_RESP, GENERIC_NACK = 0x15, 0x80000015, 0x80000000
TON_INTERNATIONAL, NPI_ISDN, TON_ALPHANUMERIC = 1, 1, 5


def submit_sm(
    sequence: int,
    source: bytes,
    destination: bytes,
    short_message: bytes,
    data_coding: int,
    esm_class: int,
) -> bytes:
    """An SMPP 3.4 submit_sm PDU asking for a delivery receipt (section 4.4.1).
    Encoded here rather than through smpplib's generic PDU classes: a release
    sends the same text to many numbers, and this is the loop that counts."""
    body = b"".join(
        (
            b"\0",
            bytes((TON_ALPHANUMERIC, 0)),
            source,
            b"\0",
            bytes((TON_INTERNATIONAL, NPI_ISDN)),
            destination,
            b"\0",
            bytes((esm_class, 0, 0)),
            b"\0",
            b"\0",  # protocol, priority; no schedule, validity
            bytes((1, 0, data_coding, 0, len(short_message))),
            short_message,
        )
    )
    return _HEADER.pack(16 + len(body), SUBMIT_SM, 0, sequence) + body


def deliver_sm_text(body: bytes) -> str:
    """The short_message of a deliver_sm body (a receipt's text)."""
    pos = body.index(b"\0") + 3  # service_type, source TON/NPI
    pos = body.index(b"\0", pos) + 3  # source_addr, dest TON/NPI
    pos = body.index(b"\0", pos) + 4  # destination_addr, esm, protocol, priority
    pos = body.index(b"\0", pos) + 1  # schedule_delivery_time
    pos = body.index(b"\0", pos) + 1  # validity_period
    length = body[pos + 4]
    return body[pos + 5 : pos + 5 + length].decode("latin-1")


def listen_receipts(
    host: str, port: int, *, system_id: str, password: str, seconds: float, timeout: float = 10.0
) -> Iterator[tuple[str, str, str]]:
    """Bind as a receiver for `seconds` and yield (message id, stat, err) of every
    delivery receipt the SMSC hands over: the receipts that came after the
    sending session ended."""
    import smpplib.client

    client = smpplib.client.Client(host, port, timeout=timeout, allow_unknown_opt_params=True)
    client.connect()
    sock = client._socket
    inbox = bytearray()
    try:
        client.bind_receiver(system_id=system_id, password=password)
        deadline = time.monotonic() + seconds
        sock.settimeout(0.2)
        while time.monotonic() < deadline:
            try:
                data = sock.recv(1 << 16)
            except TimeoutError:
                continue
            if not data:
                break
            inbox.extend(data)
            while len(inbox) >= 16:
                length, command, _status, sequence = _HEADER.unpack_from(inbox)
                if len(inbox) < length:
                    break
                body = bytes(inbox[16:length])
                del inbox[:length]
                if command == DELIVER_SM:
                    sock.sendall(_HEADER.pack(17, DELIVER_SM_RESP, 0, sequence) + b"\0")
                    parsed = parse_receipt(deliver_sm_text(body))
                    if parsed is not None:
                        yield parsed
                elif command == ENQUIRE_LINK:
                    sock.sendall(_HEADER.pack(16, ENQUIRE_LINK_RESP, 0, sequence))
        _unbind(client, timeout)
    finally:
        client.disconnect()


def _unbind(client, timeout: float) -> None:
    """Unbind cleanly: late receipts may arrive before the unbind_resp."""
    import smpplib.smpp

    try:
        client._socket.settimeout(timeout)
        client.send_pdu(smpplib.smpp.make_pdu("unbind", client=client))
        for _ in range(1000):
            pdu = client.read_pdu()
            if pdu.command == "unbind_resp":
                return
            if pdu.command == "deliver_sm":  # acknowledge, or the SMSC resends it
                resp = smpplib.smpp.make_pdu("deliver_sm_resp", client=client)
                resp.sequence = pdu.sequence
                client.send_pdu(resp)
    except Exception:  # the messages are out; a failed unbind changes nothing
        pass


def _drain(results: list[Result]) -> Iterator[Result]:
    while results:
        yield results.pop(0)


# ------------------------------------------------------------------------- demo


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, 2)
        return f.read(1) == b"\n"


class DemoChannel(Channel):
    """Stands in for a channel that is not configured when the demo channel set is
    on (YINGJI_DEMO_CHANNELS=1, which `make demo` sets): each message is appended
    to `<sink>/<name>.jsonl` and recorded as delivered, so a newcomer sees the
    whole path. Never used unless asked for: in production an unconfigured
    channel fails its messages with the reason instead."""

    demo = True

    def __init__(self, name: str, label: str, sink: Path):
        super().__init__()
        self.name, self.label, self.sink = name, f"{label}(演示通道)", Path(sink)

    def format(self, message: Message) -> Outgoing:
        return Outgoing(
            message.key, message.address, message.subject, message.short or message.text
        )

    def lookup(self, keys: Sequence[int]) -> dict[int, bool]:
        """The sink is the provider's record: a key is in it or was never sent
        (each line is flushed before its result is recorded)."""
        wanted = set(keys)
        found: set[int] = set()
        path = self.sink / f"{self.name}.jsonl"
        if path.exists():
            with open(path, encoding="utf-8") as lines:
                for line in lines:
                    try:
                        key = json.loads(line).get("key")
                    except ValueError:
                        continue  # a line cut by the crash: that message never completed
                    if key in wanted:
                        found.add(key)
        return {k: k in found for k in wanted}

    def send_batch(self, messages: Sequence[Outgoing]) -> Iterator[Result]:
        self.attempted = set()
        self.sink.mkdir(parents=True, exist_ok=True)
        path = self.sink / f"{self.name}.jsonl"
        with open(path, "a", encoding="utf-8") as out:
            if out.tell() and not _ends_with_newline(path):
                out.write("\n")  # a line cut by a crash stays on its own
            for m in messages:
                self.attempted.add(m.key)
                out.write(
                    json.dumps(
                        {"key": m.key, "to": m.address, "subject": m.subject, "text": m.text},
                        ensure_ascii=False,
                    )
                    + "\n"
                )
                out.flush()  # recorded as delivered below: on disk first, as a server would
                yield Result(
                    m.key, DELIVERED, provider_id=f"demo-{m.key}", receipt="演示通道:已记录"
                )


class UnconfiguredChannel(Channel):
    """A channel with no server configured (and no demo set): every message fails
    at once with the reason, so the page says what is missing."""

    def __init__(self, name: str, label: str, missing: str):
        super().__init__()
        self.name, self.label, self.missing = name, label, missing

    def send_batch(self, messages: Sequence[Outgoing]) -> Iterator[Result]:
        self.attempted = set()
        for m in messages:
            yield Result(m.key, FAILED, reason=f"{self.label}渠道未配置({self.missing})")
