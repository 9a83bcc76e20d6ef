"""The delivery system: one ledger (`Notification` rows) and one set of channels
(`core/channels.py`, configured in `core/channelconfig.py`) for every message to a
person or a department, from any module.

Queueing. `enqueue()` writes one row (idempotent by `dedupe_key`) and, once the
surrounding transaction commits, asks the job queue to send it; `batch()` queues
many and hands them over as one job. A module that queues thousands of rows in
SQL (the warning module's INSERT … SELECT) leaves the text blank and registers a
formatter (`register_formatter`) that renders the message at send time.

Sending. A batch is claimed by moving rows from queued to sending in one UPDATE
(two workers never take the same row), formatted by the channel, sent, and each
result written as it arrives. A row only leaves sent/delivered/failed forwards, so
a retried or restarted job never sends a message twice. Temporary failures wait
with exponential backoff (DELIVERY_RETRY_BASE_SECONDS, doubled each attempt) until
DELIVERY_MAX_ATTEMPTS; permanent ones (a refused number, a bounced address) fail
that message with the channel's reason and the batch goes on. A worker that dies
between the network send and recording the result leaves rows in `sending`:
`recover_stale` marks them failed with "result unknown" instead of sending again
(at most once: for warnings a silent duplicate is worse than a visible gap that
someone can resend by hand with `retry_now`). Only the rows that can have left
are marked so: a batch is sent in id order, so of a dead worker's batch only the
first `channelconfig.in_flight` rows still in `sending` (one, or the SMSC window)
may have been handed to the network; the rest never left the process and go back
to the queue, sent by the same sweep.

Health. Each channel's last success and last error are kept (`ChannelState`);
when a channel fails DELIVERY_FAILING_AFTER messages in a row with no success in
between, `channel_failing` is sent once (the duty desk shows one item), and
`channel_recovered` when it works again.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Min, Q, QuerySet
from django.dispatch import Signal
from django.utils import timezone

from yingji.core import channelconfig, channels, metrics
from yingji.core.models import ChannelState, Department, Notification  # noqa: F401 (Notification re-exported)

log = logging.getLogger(__name__)
Status = Notification.Status
DONE = (Status.SENT, Status.DELIVERED, Status.FAILED, Status.CANCELLED)

# kwargs: channel, label, reason, count, since
channel_failing = Signal()
# kwargs: channel, label
channel_recovered = Signal()

# "app_label.model" of a source → fn(source, rows) -> {row id: channels.Message}
Formatter = Callable[[Any, list[Notification]], dict[int, channels.Message]]
FORMATTERS: dict[str, Formatter] = {}


def register_formatter(model_label: str, formatter: Formatter) -> None:
    """Render the text of rows queued without one (blank subject and body) whose
    source is a `model_label` object ("alerts.alert")."""
    FORMATTERS[model_label.lower()] = formatter


# ----------------------------------------------------------------------- queueing

_held: contextvars.ContextVar[bool] = contextvars.ContextVar("yingji_outbox_held", default=False)
_batch: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "yingji_outbox_batch", default=None
)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Queue in this block without asking the worker to send (replaying history,
    e.g. the demo's 2022; the rows are then given their outcomes directly)."""
    token = _held.set(True)
    try:
        yield
    finally:
        _held.reset(token)


def is_held() -> bool:
    return _held.get()


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Queue many messages and hand them to the worker as ONE job on commit (e.g.
    the action cards of an activation to sixty departments). Whatever the job
    misses stays queued for the periodic sweep. Inside `held()` nothing is
    scheduled at all."""
    pks: list[int] = []
    token = _batch.set(pks)
    try:
        yield
    finally:
        _batch.reset(token)
    if pks and not _held.get():
        transaction.on_commit(lambda: _schedule(pks))


def _content_type(obj: Any) -> ContentType | None:
    return ContentType.objects.get_for_model(type(obj)) if obj is not None else None


def enqueue(
    *,
    address: str,
    subject: str,
    body: str,
    dedupe_key: str,
    channel: str = "email",
    recipient: Any = None,
    person: Any = None,
    department: Department | None = None,
    source: Any = None,
) -> Notification:
    """Queue one message. Calling again with the same dedupe_key returns the
    existing row and sends nothing twice."""
    if channel not in channelconfig.LABELS:
        raise ValueError(f"未知的投递渠道:{channel}")
    existing = Notification.objects.filter(dedupe_key=dedupe_key[:200]).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            note = Notification.objects.create(
                channel=channel,
                address=address[:500],
                subject=subject[:200],
                body=body,
                dedupe_key=dedupe_key[:200],
                recipient=recipient,
                department=department,
                person_type=_content_type(person),
                person_id=person.pk if person is not None else None,
                source_type=_content_type(source),
                source_id=source.pk if source is not None else None,
            )
    except IntegrityError:
        return Notification.objects.get(dedupe_key=dedupe_key[:200])
    collecting = _batch.get()
    if collecting is not None:
        collecting.append(note.pk)
    elif not _held.get():
        transaction.on_commit(lambda: _schedule([note.pk]))
    return note


def notify_department(
    department: Department, *, subject: str, body: str, dedupe_key: str, source: Any = None
) -> list[Notification]:
    """Queue a message to a department: its mailbox if set, and each member with
    an e-mail address. Returns the rows (possibly existing ones)."""
    notes = []
    if department.email:
        notes.append(
            enqueue(
                address=department.email,
                subject=subject,
                body=body,
                dedupe_key=f"{dedupe_key}:dept",
                department=department,
                source=source,
            )
        )
    for member in department.members.select_related("user"):
        if member.user.email:
            notes.append(
                enqueue(
                    address=member.user.email,
                    subject=subject,
                    body=body,
                    dedupe_key=f"{dedupe_key}:u{member.user_id}",
                    recipient=member.user,
                    department=department,
                    source=source,
                )
            )
    return notes


def notify_users(
    users, *, subject: str, body: str, dedupe_key: str, source: Any = None
) -> list[Notification]:
    return [
        enqueue(
            address=u.email,
            subject=subject,
            body=body,
            dedupe_key=f"{dedupe_key}:u{u.pk}",
            recipient=u,
            source=source,
        )
        for u in users
        if u.email
    ]


def _schedule(pks: list[int]) -> None:
    from yingji.core.tasks import send_deliveries

    send_deliveries(pks)


def schedule_source(source: Any) -> None:
    """Ask the worker to send a source's queued rows (e.g. a published warning)."""
    from yingji.core.tasks import send_source

    ct = _content_type(source)
    send_source(ct.pk, source.pk)


def for_source(source: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(source_type=_content_type(source), source_id=source.pk)


# ------------------------------------------------------------------------ sending


def claim(
    channel: str,
    limit: int,
    now: dt.datetime,
    *,
    ids: Iterable[int] | None = None,
    source: tuple[int, int] | None = None,
) -> list[Notification]:
    """Move up to `limit` due queued rows of one channel to sending; return the rows
    this call won."""
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    qs = Notification.objects.filter(due, status=Status.QUEUED, channel=channel)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    if source is not None:
        qs = qs.filter(source_type_id=source[0], source_id=source[1])
    pks = list(qs.order_by("id").values_list("id", flat=True)[:limit])
    if not pks:
        return []
    stamp = timezone.now()
    with transaction.atomic():
        # The status condition makes the claim exclusive: a row another worker
        # claimed in between is no longer queued and is not updated here.
        Notification.objects.filter(id__in=pks, status=Status.QUEUED).update(
            status=Status.SENDING, sent_at=stamp, attempts=F("attempts") + 1
        )
        # In id order: the batch is sent in this order, which recover_stale relies on.
        return list(
            Notification.objects.filter(id__in=pks, status=Status.SENDING, sent_at=stamp).order_by(
                "id"
            )
        )


def record(result: channels.Result, rows: dict[int, Notification], via: str = "") -> None:
    """Write one channel result to its row."""
    row = rows[result.key]
    now = timezone.now()
    fields: dict = {}
    if result.outcome == channels.SENT:
        fields = {
            "status": Status.SENT,
            "provider_id": result.provider_id[:200],
            "last_error": "",
            "next_attempt_at": None,
            "via": via,
        }
    elif result.outcome == channels.DELIVERED:
        fields = {
            "status": Status.DELIVERED,
            "delivered_at": now,
            "via": via,
            "receipt": result.receipt[:300],
            "last_error": "",
            "next_attempt_at": None,
        }
        if result.provider_id:
            fields["provider_id"] = result.provider_id[:200]
    elif result.outcome == channels.FAILED:
        fields = {
            "status": Status.FAILED,
            "last_error": result.reason[:500],
            "receipt": result.receipt[:300],
            "next_attempt_at": None,
        }
    else:  # retry with exponential backoff, until the attempts run out
        if row.attempts >= int(channelconfig.get("MAX_ATTEMPTS")):
            fields = {
                "status": Status.FAILED,
                "next_attempt_at": None,
                "last_error": f"重试 {row.attempts} 次仍失败:{result.reason}"[:500],
            }
        else:
            delay = int(channelconfig.get("RETRY_BASE_SECONDS")) * 2 ** max(0, row.attempts - 1)
            fields = {
                "status": Status.QUEUED,
                "last_error": result.reason[:500],
                "next_attempt_at": now + dt.timedelta(seconds=delay),
            }
    Notification.objects.filter(pk=row.pk).update(**fields)


def messages_for(rows: list[Notification]) -> dict[int, channels.Message]:
    """Each row's message: its own text, or what its source's formatter renders."""
    out: dict[int, channels.Message] = {}
    by_source: dict[tuple[int, int], list[Notification]] = defaultdict(list)
    for row in rows:
        if row.subject or row.body:
            out[row.pk] = channels.Message(row.pk, row.address, row.subject, row.body)
        elif row.source_type_id and row.source_id is not None:
            by_source[(row.source_type_id, row.source_id)].append(row)
    for (ct_id, source_id), group in by_source.items():
        ct = ContentType.objects.get_for_id(ct_id)
        formatter = FORMATTERS.get(f"{ct.app_label}.{ct.model}")
        model = ct.model_class()
        source = model._default_manager.filter(pk=source_id).first() if model else None
        if formatter is not None and source is not None:
            out.update(formatter(source, group))
    return out


def send_channel(
    name: str,
    *,
    ids: Iterable[int] | None = None,
    source: tuple[int, int] | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Send every due queued row of one channel (only `ids`, or one source's, when
    given); returns how many were tried."""
    sender = channelconfig.channel(name)
    via = "demo" if sender.demo else ""
    size = int(channelconfig.get("BATCH"))
    ids = list(ids) if ids is not None else None
    tried = 0
    while True:
        rows = claim(name, size, now or timezone.now(), ids=ids, source=source)
        if not rows:
            return tried
        by_id = {r.pk: r for r in rows}
        texts = messages_for(rows)
        outgoing = []
        for row in rows:
            if row.pk in texts:
                outgoing.append(sender.format(texts[row.pk]))
            else:
                record(
                    channels.Result(row.pk, channels.FAILED, reason="消息内容无法生成(来源已删除)"),
                    by_id,
                )
        ok = bad = 0
        reason = ""
        seen: set[int] = set()
        try:
            for result in sender.send_batch(outgoing):
                seen.add(result.key)
                record(result, by_id, via)
                if result.outcome in (channels.SENT, channels.DELIVERED):
                    ok += 1
                else:
                    bad, reason = bad + 1, result.reason
        except Exception as exc:  # the server is down or the session broke
            log.warning("%s batch failed: %s", name, exc)
            reason = describe(exc, name)
            for out in outgoing:
                if out.key in seen:
                    continue
                bad += 1
                if out.key in sender.attempted:
                    # Handed to the network, outcome unknown: never send it again.
                    record(
                        channels.Result(
                            out.key,
                            channels.FAILED,
                            reason=f"发送结果未知({reason}),为免重复未自动重发",
                        ),
                        by_id,
                    )
                else:  # never left this process: safe to try again later
                    record(channels.Result(out.key, channels.RETRY, reason=reason), by_id)
        _note_health(name, ok, bad, reason)
        tried += len(rows)


_PLAIN_ERRORS = (  # (exception type, words in its text, what a duty officer reads)
    (ConnectionRefusedError, "connection refused", "连接被拒绝"),
    (TimeoutError, "timed out", "连接超时"),
    (ConnectionResetError, "connection reset", "连接被重置"),
    (OSError, "name or service not known", "地址无法解析"),
)


def describe(exc: BaseException, channel: str = "") -> str:
    """A channel error in words a duty officer reads ("短信中心连接被拒绝"), with the
    technical text kept for whoever fixes it."""
    text = str(exc)
    server = channelconfig.SERVERS.get(channel, "")
    for kind, words, plain in _PLAIN_ERRORS:
        if isinstance(exc, kind) or words in text.lower():
            return f"{server}{plain}({type(exc).__name__}: {text})"[:400]
    return f"{type(exc).__name__}: {text}"[:400]


def _note_health(name: str, ok: int, bad: int, reason: str) -> None:
    metrics.deliveries(name, ok, bad)
    now = timezone.now()
    with transaction.atomic():
        state, _ = ChannelState.objects.select_for_update().get_or_create(name=name)
        recovered = failing = False
        if ok:
            state.last_success_at = now
            recovered = state.reported
            state.consecutive_failures, state.failing_since, state.reported = 0, None, False
        if bad:
            state.last_error, state.last_error_at = reason[:500], now
            if not ok:
                state.consecutive_failures += bad
                state.failing_since = state.failing_since or now
                if not state.reported and state.consecutive_failures >= int(
                    channelconfig.get("FAILING_AFTER")
                ):
                    state.reported = failing = True
        state.save()
    if failing:
        channel_failing.send(
            sender=ChannelState,
            channel=name,
            label=channelconfig.LABELS[name],
            reason=reason,
            count=state.consecutive_failures,
            since=state.failing_since,
        )
    if recovered:
        channel_recovered.send(sender=ChannelState, channel=name, label=channelconfig.LABELS[name])


def send(ids: Iterable[int]) -> int:
    """Send these rows (a job scheduled by `enqueue`/`batch`); returns how many were tried."""
    ids = list(ids)
    names = set(
        Notification.objects.filter(pk__in=ids, status=Status.QUEUED).values_list(
            "channel", flat=True
        )
    )
    return sum(send_channel(n, ids=ids) for n in channelconfig.NAMES if n in names)


def send_source(source_type_id: int, source_id: int) -> dict[str, int]:
    """Send every due row of one source, per channel; returns tried counts."""
    names = set(
        Notification.objects.filter(
            source_type_id=source_type_id, source_id=source_id, status=Status.QUEUED
        )
        .values_list("channel", flat=True)
        .distinct()
    )
    done = {}
    for name in channelconfig.NAMES:
        if name in names:
            tried = send_channel(name, source=(source_type_id, source_id))
            if tried:
                done[name] = tried
    return done


def flush(now: dt.datetime | None = None) -> int:
    """Send everything due now, every channel (the periodic sweep and the CLI);
    returns how many rows were tried (counted as they are sent: no pass over the
    ledger, which may hold millions of rows)."""
    now = now or timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    names = set(
        Notification.objects.filter(due, status=Status.QUEUED)
        .values_list("channel", flat=True)
        .distinct()
    )
    return sum(send_channel(name, now=now) for name in channelconfig.NAMES if name in names)


def stale_after() -> dt.timedelta:
    return dt.timedelta(seconds=float(channelconfig.get("STALE_SECONDS")))


def recover_stale(now: dt.datetime | None = None) -> int:
    """Rows left in `sending` by a worker that died (claimed DELIVERY_STALE_SECONDS
    ago and still not recorded). A claim stamps its batch with one `sent_at`, and
    the batch goes to the channel in id order with each result recorded as it
    comes, so of one batch's rows still in `sending` only the first
    `in_flight(channel)` can have been handed to the network: those are marked
    failed, result unknown, never resent; the others never left the worker and
    are queued again. Returns how many were marked failed."""
    cutoff = (now or timezone.now()) - stale_after()
    stale = Notification.objects.filter(status=Status.SENDING, sent_at__lt=cutoff)
    batches: dict[tuple[str, dt.datetime], list[int]] = defaultdict(list)
    for pk, channel, stamp in stale.order_by("id").values_list("id", "channel", "sent_at"):
        batches[(channel, stamp)].append(pk)
    unknown: list[int] = []
    untouched: list[int] = []
    for (channel, _), pks in batches.items():
        window = channelconfig.in_flight(channel)
        unknown += pks[:window]
        untouched += pks[window:]
    unknown = _ask_channels(unknown)
    failed = Notification.objects.filter(pk__in=unknown, status=Status.SENDING).update(
        status=Status.FAILED, last_error="发送过程中断,结果未知;为免重复未自动重发,可人工重发"
    )
    if untouched:
        # Never handed to the channel: the attempt did not happen.
        Notification.objects.filter(pk__in=untouched, status=Status.SENDING).update(
            status=Status.QUEUED, next_attempt_at=None, attempts=F("attempts") - 1
        )
        log.warning("%d rows of a dead worker's batches queued again", len(untouched))
    return failed


def _ask_channels(pks: list[int]) -> list[int]:
    """Of rows whose result was lost, settle those their channel can tell about
    (channels.Channel.lookup): received → delivered, never received → queued
    again. Returns the rows still unknown."""
    if not pks:
        return pks
    by_channel: dict[str, list[int]] = defaultdict(list)
    for pk, channel in Notification.objects.filter(pk__in=pks).values_list("id", "channel"):
        by_channel[channel].append(pk)
    still: list[int] = []
    for name, keys in by_channel.items():
        try:
            answers = channelconfig.channel(name).lookup(keys)
        except Exception as exc:  # noqa: BLE001 - asking must never stop recovery
            log.warning("asking channel %s about %d lost results failed: %s", name, len(keys), exc)
            answers = {}
        got = [k for k in keys if answers.get(k) is True]
        never = [k for k in keys if answers.get(k) is False]
        still += [k for k in keys if k not in answers]
        if got:
            Notification.objects.filter(pk__in=got, status=Status.SENDING).update(
                status=Status.DELIVERED,
                delivered_at=timezone.now(),
                last_error="",
                receipt="发送中断后向通道核实:已收到",
            )
        if never:
            Notification.objects.filter(pk__in=never, status=Status.SENDING).update(
                status=Status.QUEUED, next_attempt_at=None, attempts=F("attempts") - 1
            )
        if got or never:
            log.warning(
                "channel %s settled %d lost results (%d received, %d queued again)",
                name,
                len(got) + len(never),
                len(got),
                len(never),
            )
    return still


def retry_now(rows: QuerySet[Notification]) -> int:
    """A person's "retry now": failed rows and rows waiting for their backoff go
    back to the queue, due at once (a "result unknown" row may then arrive twice:
    the person pressing the button has decided that a duplicate beats a gap)."""
    changed = rows.filter(Q(status=Status.FAILED) | Q(status=Status.QUEUED)).update(
        status=Status.QUEUED, next_attempt_at=None, attempts=0
    )
    return changed


def cancel(rows: QuerySet[Notification], reason: str) -> int:
    """Rows not yet handed to a channel are cancelled (e.g. the warning was withdrawn)."""
    return rows.filter(status=Status.QUEUED).update(
        status=Status.CANCELLED, last_error=reason[:500]
    )


def collect_late_receipts(seconds: float = 20.0) -> int:
    """Bind to the SMSC as a receiver and record receipts that arrived after their
    sending session ended (matched by the SMSC's message id). Returns rows changed."""
    if channelconfig.missing("sms"):
        return 0
    changed = 0
    now = timezone.now()
    for msg_id, stat, err in channels.listen_receipts(
        channelconfig.get("SMPP_HOST"),
        int(channelconfig.get("SMPP_PORT")),
        system_id=channelconfig.get("SMPP_SYSTEM_ID"),
        password=channelconfig.get("SMPP_PASSWORD"),
        seconds=seconds,
    ):
        receipt = f"stat:{stat} err:{err}" if err else f"stat:{stat}"
        rows = Notification.objects.filter(channel="sms", provider_id=msg_id, status=Status.SENT)
        if stat == "DELIVRD":
            changed += rows.update(status=Status.DELIVERED, delivered_at=now, receipt=receipt)
        else:
            changed += rows.update(
                status=Status.FAILED, receipt=receipt, last_error=f"回执:{stat} {err}".strip()
            )
    return changed


# ------------------------------------------------------------------ what pages show


def summary(
    rows: QuerySet[Notification],
    *,
    deadline: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Delivered / failed / waiting per channel with the reasons grouped, the next
    retry time and whether any went through the demo channel; `late` when rows are
    still waiting after `deadline` (the page then says so in red)."""
    now = now or timezone.now()
    table: dict[str, dict[str, int]] = {}
    for channel, status, n in (
        rows.values_list("channel", "status").annotate(n=Count("id")).order_by()
    ):
        table.setdefault(channel, {s: 0 for s in Status.values})[status] = n
    reasons: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for channel, error, n in (
        rows.exclude(last_error="")
        .filter(status__in=(Status.FAILED, Status.QUEUED))
        .values_list("channel", "last_error")
        .annotate(n=Count("id"))
        .order_by("channel", "-n")[:200]
    ):
        reasons[channel].append((error, n))
    waits = dict(
        rows.filter(status=Status.QUEUED)
        .exclude(next_attempt_at=None)
        .values_list("channel")
        .annotate(m=Min("next_attempt_at"))
        .order_by()
    )
    demo = set(rows.filter(via="demo").values_list("channel", flat=True).distinct())
    out = []
    for channel in channelconfig.NAMES:
        if channel not in table:
            continue
        counts = table[channel]
        total = sum(counts.values())
        reached = counts["sent"] + counts["delivered"]
        waiting = counts["queued"] + counts["sending"]
        out.append(
            {
                "channel": channel,
                "label": channelconfig.LABELS[channel] + ("(演示通道)" if channel in demo else ""),
                "demo": channel in demo,
                "counts": counts,
                "total": total,
                "reached": reached,
                "failed": counts["failed"],
                "waiting": waiting,
                "percent": round(100 * reached / total) if total else 100,
                "done_percent": round(100 * (total - waiting) / total) if total else 100,
                "reasons": [{"reason": r, "count": n} for r, n in reasons.get(channel, [])][:10],
                "next_retry": waits.get(channel),
            }
        )
    total = sum(r["total"] for r in out)
    waiting = sum(r["waiting"] for r in out)
    reached = sum(r["reached"] for r in out)
    return {
        "rows": out,
        "total": total,
        "pending": waiting,
        "finished": waiting == 0,
        "reached": reached,
        "failed": sum(r["failed"] for r in out),
        "late": bool(waiting and deadline is not None and now > deadline),
        "nobody": bool(
            total and reached == 0 and (waiting == 0 or (deadline is not None and now > deadline))
        ),
    }


def health(now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Each channel for the administrators' page: configured or not (and what is
    missing), demo, last success, last error, queue depth, sends per minute."""
    now = now or timezone.now()
    states = {s.name: s for s in ChannelState.objects.all()}
    depth = dict(
        Notification.objects.filter(status__in=(Status.QUEUED, Status.SENDING))
        .values_list("channel")
        .annotate(n=Count("id"))
        .order_by()
    )
    recent = dict(
        Notification.objects.filter(
            status__in=(Status.SENT, Status.DELIVERED), sent_at__gte=now - dt.timedelta(minutes=5)
        )
        .values_list("channel")
        .annotate(n=Count("id"))
        .order_by()
    )
    last_sent = dict(
        Notification.objects.filter(status__in=(Status.SENT, Status.DELIVERED))
        .values_list("channel")
        .annotate(m=Max("sent_at"))
        .order_by()
    )
    out = []
    for name in channelconfig.NAMES:
        state = states.get(name)
        lack = channelconfig.missing(name)
        out.append(
            {
                "name": name,
                "label": channelconfig.LABELS[name],
                "missing": lack,
                "configured": not lack,
                "demo": bool(lack) and channelconfig.demo_enabled(),
                "last_success_at": (state.last_success_at if state else None)
                or last_sent.get(name),
                "last_error": state.last_error if state else "",
                "last_error_at": state.last_error_at if state else None,
                "failing": bool(state and state.reported),
                "consecutive_failures": state.consecutive_failures if state else 0,
                "queue": depth.get(name, 0),
                "per_minute": round(recent.get(name, 0) / 5, 1),
            }
        )
    return out
