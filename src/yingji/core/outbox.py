"""The notification outbox: the one place every module queues messages to people.

`enqueue()` writes a Notification row (idempotent by `dedupe_key`) and, once the
surrounding transaction commits, asks the job queue to deliver it. Delivery picks
the channel class by name; each channel is one class with one job (`send`).
Later modules register more channels (SMS over SMPP, webhooks) in CHANNELS.
"""

from __future__ import annotations

import abc
import contextlib
import contextvars
import logging
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone

from yingji.core.models import Department, Notification

log = logging.getLogger(__name__)


class Channel(abc.ABC):
    """One delivery channel: one class, one job."""

    name = ""

    @abc.abstractmethod
    def send(self, notification: Notification) -> None:
        """Deliver the message or raise; the outbox records the error and retries."""


class EmailChannel(Channel):
    """SMTP through Django's mail backend (EMAIL_HOST etc. in settings)."""

    name = "email"

    def send(self, notification: Notification) -> None:
        EmailMessage(
            subject=notification.subject,
            body=notification.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.address],
            headers={"X-Yingji-Notification": str(notification.pk)},
        ).send(fail_silently=False)


CHANNELS: dict[str, Channel] = {"email": EmailChannel()}

_held: contextvars.ContextVar[bool] = contextvars.ContextVar("yingji_outbox_held", default=False)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Queue notifications in this block without asking the worker to send them
    (replaying history, e.g. the demo's 2022; the rows are then marked as sent)."""
    token = _held.set(True)
    try:
        yield
    finally:
        _held.reset(token)


def register_channel(channel: Channel) -> None:
    CHANNELS[channel.name] = channel


_batch: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "yingji_outbox_batch", default=None)


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Queue many notifications and hand them to the worker as ONE job on commit
    (e.g. the action cards of an activation to sixty departments): one queue write
    instead of one per message. Whatever the job misses stays queued for the
    periodic flush. Inside `held()` nothing is scheduled at all."""
    pks: list[int] = []
    token = _batch.set(pks)
    try:
        yield
    finally:
        _batch.reset(token)
    if pks and not _held.get():
        transaction.on_commit(lambda: _schedule_batch(pks))


def enqueue(*, address: str, subject: str, body: str, dedupe_key: str,
            channel: str = "email", recipient: Any = None,
            department: Department | None = None, source: Any = None) -> Notification:
    """Queue one message. Calling again with the same dedupe_key returns the
    existing notification and sends nothing twice."""
    if channel not in CHANNELS:
        raise ValueError(f"未知的通知渠道:{channel}")
    existing = Notification.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            note = Notification.objects.create(
                channel=channel, address=address, subject=subject[:200], body=body,
                dedupe_key=dedupe_key[:200], recipient=recipient, department=department,
                source_type=ContentType.objects.get_for_model(type(source)) if source else None,
                source_pk=str(source.pk) if source is not None else "",
            )
    except IntegrityError:
        return Notification.objects.get(dedupe_key=dedupe_key)
    collecting = _batch.get()
    if collecting is not None:
        collecting.append(note.pk)
    elif not _held.get():
        transaction.on_commit(lambda: _schedule(note.pk))
    return note


def notify_department(department: Department, *, subject: str, body: str, dedupe_key: str,
                      source: Any = None) -> list[Notification]:
    """Queue a message to a department: its mailbox if set, and each member with
    an e-mail address. Returns the notifications (possibly existing ones)."""
    notes = []
    if department.email:
        notes.append(enqueue(address=department.email, subject=subject, body=body,
                             dedupe_key=f"{dedupe_key}:dept", department=department,
                             source=source))
    for member in department.members.select_related("user"):
        if member.user.email:
            notes.append(enqueue(address=member.user.email, subject=subject, body=body,
                                 dedupe_key=f"{dedupe_key}:u{member.user_id}",
                                 recipient=member.user, department=department, source=source))
    return notes


def notify_users(users, *, subject: str, body: str, dedupe_key: str,
                 source: Any = None) -> list[Notification]:
    return [
        enqueue(address=u.email, subject=subject, body=body, dedupe_key=f"{dedupe_key}:u{u.pk}",
                recipient=u, source=source)
        for u in users if u.email
    ]


def _schedule_batch(pks: list[int]) -> None:
    from yingji.core.tasks import deliver_notifications

    deliver_notifications(pks)


def _schedule(pk: int) -> None:
    from yingji.core.tasks import deliver_notification

    deliver_notification(pk)


def deliver(pk: int) -> Notification:
    """Send one queued notification. Safe to call twice: a sent one is left alone.
    The row is claimed under a lock so two workers never send the same message."""
    with transaction.atomic():
        note = Notification.objects.select_for_update().get(pk=pk)
        if note.status == Notification.Status.SENT:
            return note
        note.attempts += 1
        try:
            CHANNELS[note.channel].send(note)
        except Exception as exc:  # channel errors are data: kept, retried, shown
            log.warning("notification %s failed: %s", pk, exc)
            note.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if note.attempts >= settings.YINGJI_OUTBOX_MAX_ATTEMPTS:
                note.status = Notification.Status.FAILED
            note.save(update_fields=["attempts", "last_error", "status"])
            return note
        note.status = Notification.Status.SENT
        note.sent_at = timezone.now()
        note.last_error = ""
        note.save(update_fields=["attempts", "status", "sent_at", "last_error"])
        return note


def flush(limit: int = 1000) -> int:
    """Deliver queued notifications now (used by the periodic job and the CLI)."""
    sent = 0
    for pk in Notification.objects.filter(status=Notification.Status.QUEUED).values_list(
            "pk", flat=True)[:limit]:
        if deliver(pk).status == Notification.Status.SENT:
            sent += 1
    return sent
