"""Sending an alert's queued deliveries, channel by channel.

Each Delivery row is its own idempotency record: a batch is claimed by moving
rows from queued to sending in one UPDATE (so two workers never take the same
row), sent, and each result is written as it arrives. A row only ever leaves
`sent`/`delivered`/`failed` forwards, so a retried or restarted job never sends
a message twice. A worker that dies between the network send and recording the
result leaves rows in `sending`: `recover_stale` marks them failed with the
reason "result unknown" instead of sending again (at most once: for warnings a
silent duplicate is worse than a visible gap someone can resend by hand).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from yingji.alerts import channels, config
from yingji.alerts.models import Alert, Delivery

log = logging.getLogger(__name__)
STALE_AFTER = dt.timedelta(minutes=10)


def message_for(alert: Alert, delivery: Delivery, language: str = "zh-CN") -> channels.Outgoing:
    """The text each channel sends for this alert."""
    english = language.startswith("en") and alert.headline_en
    headline = alert.headline_en if english else alert.headline
    description = (alert.description_en or alert.headline_en) if english else alert.description
    instruction = alert.instruction_en if english else alert.instruction
    link = f"{config.get('PUBLIC_URL')}/alerts/public/{alert.pk}/"
    prefix = "[EXERCISE] " if alert.cap_status == "Exercise" else (
        "[TEST] " if alert.cap_status == "Test" else "")
    text = f"{prefix}{headline}\n{description}"
    if instruction:
        text += f"\n{instruction}"
    if delivery.channel == "sms":
        short = f"{prefix}{headline}:{description}"
        return channels.Outgoing(delivery.pk, delivery.address, headline, short[:300])
    payload = {}
    if delivery.channel == "webhook":
        payload = channels.bot_payload(
            f"{prefix}{headline}", f"{description}\n\n{instruction}\n\n[详情]({link})".strip(),
            extra={"identifier": alert.identifier, "msgType": alert.msg_type,
                   "status": alert.cap_status, "level": alert.colour,
                   "severity": alert.severity, "event": alert.event})
    return channels.Outgoing(delivery.pk, delivery.address, f"{prefix}{headline}",
                             f"{text}\n\n{link}", payload)


def claim(alert_id: int, channel: str, limit: int, now: dt.datetime) -> list[Delivery]:
    """Move up to `limit` due queued rows to sending; return the rows this call won."""
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    ids = list(Delivery.objects.filter(due, alert_id=alert_id, channel=channel,
                                       status=Delivery.Status.QUEUED)
               .order_by("id").values_list("id", flat=True)[:limit])
    if not ids:
        return []
    stamp = timezone.now()
    with transaction.atomic():
        # The status condition makes the claim exclusive: a row another worker
        # claimed in between is no longer queued and is not updated here.
        Delivery.objects.filter(id__in=ids, status=Delivery.Status.QUEUED).update(
            status=Delivery.Status.SENDING, sent_at=stamp, attempts=F("attempts") + 1)
        won = list(Delivery.objects.filter(id__in=ids, status=Delivery.Status.SENDING,
                                           sent_at=stamp).select_related("subscriber"))
    return won


def record(result: channels.Result, rows: dict[int, Delivery]) -> None:
    """Write one channel result to its Delivery row."""
    row = rows[result.key]
    now = timezone.now()
    fields: dict = {}
    if result.outcome == channels.SENT:
        fields = {"status": Delivery.Status.SENT, "provider_id": result.provider_id[:200],
                  "last_error": ""}
    elif result.outcome == channels.DELIVERED:
        fields = {"status": Delivery.Status.DELIVERED, "delivered_at": now,
                  "receipt": result.receipt[:300]}
        if result.provider_id:
            fields["provider_id"] = result.provider_id[:200]
    elif result.outcome == channels.FAILED:
        fields = {"status": Delivery.Status.FAILED, "last_error": result.reason[:500],
                  "receipt": result.receipt[:300]}
    else:  # retry with exponential backoff, until the attempts run out
        if row.attempts >= int(config.get("MAX_ATTEMPTS")):
            fields = {"status": Delivery.Status.FAILED,
                      "last_error": f"重试 {row.attempts} 次仍失败:{result.reason}"[:500]}
        else:
            delay = int(config.get("RETRY_BASE_SECONDS")) * 2 ** (row.attempts - 1)
            fields = {"status": Delivery.Status.QUEUED, "last_error": result.reason[:500],
                      "next_attempt_at": now + dt.timedelta(seconds=delay)}
    Delivery.objects.filter(pk=row.pk).update(**fields)


def send_channel(alert: Alert, channel_name: str, *, batch: int | None = None,
                 now: dt.datetime | None = None) -> int:
    """Send every due queued delivery of one channel; returns how many were tried."""
    sender = config.channel(channel_name)
    batch = batch or int(config.get("BATCH"))
    tried = 0
    while True:
        rows = claim(alert.pk, channel_name, batch, now or timezone.now())
        if not rows:
            return tried
        by_id = {r.pk: r for r in rows}
        messages = [message_for(alert, r, r.subscriber.language) for r in rows]
        seen: set[int] = set()
        try:
            for result in sender.send_batch(messages):
                seen.add(result.key)
                record(result, by_id)
        except Exception as exc:  # the server is down or the session broke
            log.warning("alert %s %s batch failed: %s", alert.pk, channel_name, exc)
            reason = f"{type(exc).__name__}: {exc}"
            for row in rows:
                if row.pk in seen:
                    continue
                if row.pk in sender.attempted:
                    # Handed to the network, outcome unknown: never send it again.
                    record(channels.Result(row.pk, channels.FAILED,
                                           reason=f"发送结果未知({reason}),为免重复未自动重发"),
                           by_id)
                else:  # never left this process: safe to try again later
                    record(channels.Result(row.pk, channels.RETRY, reason=reason), by_id)
        tried += len(rows)


def deliver(alert_id: int) -> dict[str, int]:
    """Send all due deliveries of an alert, per channel; returns tried counts."""
    alert = Alert.objects.get(pk=alert_id)
    done = {}
    for name in config.CHANNEL_NAMES:
        if Delivery.objects.filter(alert_id=alert_id, channel=name,
                                   status=Delivery.Status.QUEUED).exists():
            tried = send_channel(alert, name)
            if tried:
                done[name] = tried
    return done


def recover_stale(now: dt.datetime | None = None) -> int:
    """Rows left in `sending` by a worker that died: mark them failed, not resent."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    return Delivery.objects.filter(status=Delivery.Status.SENDING, sent_at__lt=cutoff).update(
        status=Delivery.Status.FAILED,
        last_error="发送过程中断,结果未知;为免重复未自动重发,可人工重发")


def due_alert_ids(now: dt.datetime | None = None) -> list[int]:
    """Alerts with deliveries waiting (new, or due for a retry)."""
    now = now or timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return sorted(set(Delivery.objects.filter(due, status=Delivery.Status.QUEUED)
                      .values_list("alert_id", flat=True).distinct()))


def collect_late_receipts(seconds: float = 20.0) -> int:
    """Bind as a receiver and record receipts that arrived after their sending
    session ended (matched by the SMSC's message id). Returns rows changed."""
    changed = 0
    now = timezone.now()
    for msg_id, stat, err in channels.listen_receipts(
            config.get("SMPP_HOST"), int(config.get("SMPP_PORT")),
            system_id=config.get("SMPP_SYSTEM_ID"), password=config.get("SMPP_PASSWORD"),
            seconds=seconds):
        receipt = f"stat:{stat} err:{err}" if err else f"stat:{stat}"
        rows = Delivery.objects.filter(channel="sms", provider_id=msg_id,
                                       status=Delivery.Status.SENT)
        if stat == "DELIVRD":
            changed += rows.update(status=Delivery.Status.DELIVERED, delivered_at=now,
                                   receipt=receipt)
        else:
            changed += rows.update(status=Delivery.Status.FAILED, receipt=receipt,
                                   last_error=f"回执:{stat} {err}".strip())
    return changed
