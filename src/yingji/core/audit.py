"""The one audit mechanism: every save and delete of every yingji model (and of
users) is recorded with who, when, and the field values before and after.

The actor comes from a context variable set by `AuditActorMiddleware` for web and
API requests and by `acting_as()` for commands and jobs. Bulk operations
(`bulk_create`, `QuerySet.update`) bypass Django's signals; services that use them
for speed (demo data, benchmarks) call `record()` themselves where it matters.

Account events (logins, logouts, failed logins, lock-outs, unlocks, session
timeouts, second factors) are entries too (`record_event`, from core/accounts.py).
Every entry is written through `write()`, which chains it to the previous entry by
hash (core/auditchain.py; `yingji audit verify` checks the chain).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
import uuid
from collections.abc import Iterator
from typing import Any

from django.db.models.fields.files import FieldFile
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone

from yingji.core import auditchain

_actor: contextvars.ContextVar[tuple[Any, str] | None] = contextvars.ContextVar(
    "yingji_audit_actor", default=None
)
_suspended: contextvars.ContextVar[bool] = contextvars.ContextVar("yingji_audit_off", default=False)

AUDITED_APP_PREFIX = "yingji."
# Models whose changes are the audit trail or pure machinery, not business data.
SKIPPED = {
    "core.auditentry",
    "core.notification",
    "core.channelstate",
    "sessions.session",
    "admin.logentry",
    "core.accountsecurity",  # password age and session key: machinery of the account
}


@contextlib.contextmanager
def acting_as(user: Any = None, label: str | None = None) -> Iterator[None]:
    """Attribute changes in this block to `user` (or to a system label)."""
    token = _actor.set((user, label or (user.get_username() if user else "系统")))
    try:
        yield
    finally:
        _actor.reset(token)


@contextlib.contextmanager
def suspended() -> Iterator[None]:
    """Turn auditing off in this block (only for generated data such as benchmarks)."""
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)


def current_actor() -> tuple[Any, str]:
    value = _actor.get()
    return value if value else (None, "系统")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, FieldFile):  # an empty one raises on .url: test the type
        return value.name or None
    return value


def snapshot(instance: Any) -> dict[str, Any]:
    """Concrete field values, foreign keys as their ids."""
    data = {}
    for field in instance._meta.concrete_fields:
        if field.name == "password":
            data[field.attname] = "***"
            continue
        data[field.attname] = _jsonable(getattr(instance, field.attname))
    return data


def _audited(sender: Any) -> bool:
    if _suspended.get():
        return False
    meta = sender._meta
    label = meta.label_lower
    if label in SKIPPED:
        return False
    return sender.__module__.startswith(AUDITED_APP_PREFIX) or label == "auth.user"


def _on_pre_save(sender, instance, raw=False, **kwargs):
    if raw or not _audited(sender):
        return
    instance._audit_before = None
    if instance.pk is not None and not instance._state.adding:
        old = sender._default_manager.filter(pk=instance.pk).first()
        instance._audit_before = snapshot(old) if old is not None else None


def _on_post_save(sender, instance, created, raw=False, **kwargs):
    if raw or not _audited(sender):
        return
    before = None if created else getattr(instance, "_audit_before", None)
    after = snapshot(instance)
    if before is not None:
        changed = sorted(k for k in after if before.get(k) != after.get(k))
        if not changed:
            return
        if changed == ["last_login"] and sender._meta.label_lower == "auth.user":
            return  # a login: recorded as the login event (record_event)
    else:
        changed = sorted(after)
    record(instance, "create" if created else "update", before, after, changed)


def _on_post_delete(sender, instance, **kwargs):
    if not _audited(sender):
        return
    record(instance, "delete", snapshot(instance), None, [])


def record(
    instance: Any, action: str, before: dict | None, after: dict | None, changed: list[str]
) -> None:
    from django.contrib.contenttypes.models import ContentType

    from yingji.core.models import AuditEntry

    user, label = current_actor()
    write(
        [
            AuditEntry(
                content_type=ContentType.objects.get_for_model(type(instance)),
                object_pk=str(instance.pk),
                object_repr=str(instance)[:200],
                action=action,
                actor=user if (user is not None and getattr(user, "pk", None)) else None,
                actor_label=label[:64],
                at=timezone.now(),
                before=before,
                after=after,
                changed_fields=changed,
            )
        ]
    )


def record_event(
    action: str,
    *,
    user: Any = None,
    username: str = "",
    detail: dict | None = None,
    actor: Any = None,
) -> None:
    """An account event (login, logout, a failed login, a lock-out, an unlock, a
    session timeout, a second factor bound or removed) on the account `user` (or,
    for an unknown name, `username`). The actor is `actor`, else the account itself
    for its own events, else the current actor."""
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType

    from yingji.core.models import AuditEntry

    if _suspended.get():
        return
    name = user.get_username() if user is not None else username
    if actor is None and user is not None and action in SELF_EVENTS:
        actor, label = user, name
    elif actor is not None:
        label = actor.get_username()
    else:
        actor, label = current_actor()
    write(
        [
            AuditEntry(
                content_type=ContentType.objects.get_for_model(get_user_model()),
                object_pk=str(user.pk) if user is not None else "",
                object_repr=(name or "(未填写账号)")[:200],
                action=action,
                actor=actor if (actor is not None and getattr(actor, "pk", None)) else None,
                actor_label=(label or "匿名")[:64],
                at=timezone.now(),
                before=None,
                after=detail or {},
                changed_fields=[],
            )
        ]
    )


# Events an account does itself (the actor is the account).
SELF_EVENTS = {"login", "logout", "failed", "locked", "timeout", "mfa_on"}


def _lock_chain(using: str) -> None:
    """Serialise writers of the chain until the end of the transaction: the next
    writer reads the last hash only after this transaction's entries are
    committed (PostgreSQL: an advisory transaction lock; SQLite: every write
    transaction already holds the database's one write lock, BEGIN IMMEDIATE)."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


# The advisory lock's key: "yingji audit" as a number, any constant would do.
CHAIN_LOCK_KEY = 0x79696E676A6961


def write(entries: list[Any]) -> None:
    """Insert audit entries at the end of the hash chain (auditchain.py), in one
    statement for many. Every writer of AuditEntry rows goes through here."""
    from django.db import connections, router, transaction

    from yingji.core.models import AuditEntry

    if not entries:
        return
    using = router.db_for_write(AuditEntry)
    # No savepoint inside a caller's transaction: the chain's lock is held to its
    # end anyway, and an error here fails the caller's transaction as it should.
    with transaction.atomic(using=using, savepoint=False):
        _lock_chain(using)
        prev = _last_hash(using) or auditchain.GENESIS
        for entry in entries:
            entry.prev_hash = prev
            entry.hash = prev = auditchain.digest(prev, _chain_fields(entry))
        if len(entries) == 1:
            entries[0].save(using=using)
        elif len(entries) >= COPY_FROM and connections[using].vendor == "postgresql":
            _copy(entries, using)
        else:
            AuditEntry.objects.using(using).bulk_create(entries, batch_size=500)


# From this many entries at once (a bulk import's), PostgreSQL gets them through
# COPY: Django's bulk insert sends each column as an array, and quoting the
# before/after JSON of 100,000 entries into arrays cost 15 s for 20,000 (measured
# under load on the 2-core machine; COPY: under a second).
COPY_FROM = 1000


def _copy(entries: list[Any], using: str) -> None:
    import json

    from django.core.serializers.json import DjangoJSONEncoder
    from django.db import connections

    from yingji.core.models import AuditEntry

    def js(value: Any) -> str | None:
        return (
            None if value is None else json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
        )

    table = connections[using].ops.quote_name(AuditEntry._meta.db_table)
    columns = (
        "content_type_id, object_pk, object_repr, action, actor_id, actor_label, at, "
        "before, after, changed_fields, prev_hash, hash"
    )
    with connections[using].cursor() as cur:
        with cur.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as cp:
            for e in entries:
                cp.write_row(
                    (
                        e.content_type_id,
                        e.object_pk,
                        e.object_repr,
                        e.action,
                        e.actor_id,
                        e.actor_label,
                        e.at,
                        js(e.before),
                        js(e.after),
                        js(e.changed_fields),
                        e.prev_hash,
                        e.hash,
                    )
                )


def _last_hash(using: str) -> str | None:
    """The hash at the end of the chain (one index lookup; plain SQL: on every
    audited write the ORM's own cost would be most of it)."""
    from django.db import connections

    from yingji.core.models import AuditEntry

    connection = connections[using]
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(f"SELECT hash FROM {table} ORDER BY id DESC LIMIT 1")
        row = cur.fetchone()
    return row[0] if row else None


def _chain_fields(entry: Any) -> dict[str, Any]:
    return {
        "content_type_id": entry.content_type_id,
        "object_pk": entry.object_pk,
        "object_repr": entry.object_repr,
        "action": entry.action,
        "actor_label": entry.actor_label,
        "at": entry.at,
        "before": entry.before,
        "after": entry.after,
        "changed_fields": entry.changed_fields,
    }


def history(instance: Any):
    """Audit entries of one object, newest first."""
    from django.contrib.contenttypes.models import ContentType

    from yingji.core.models import AuditEntry

    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(instance)),
        object_pk=str(instance.pk),
    ).select_related("actor")


def connect() -> None:
    pre_save.connect(_on_pre_save, dispatch_uid="yingji_audit_pre")
    post_save.connect(_on_post_save, dispatch_uid="yingji_audit_post")
    post_delete.connect(_on_post_delete, dispatch_uid="yingji_audit_delete")


# ---------------------------------------------------------------- chain and retention


def verify_chain(anchor: tuple[int, str] | None = None) -> auditchain.Verification:
    """Walk the whole log in id order; the first broken link, if any."""
    from yingji.core.models import AuditEntry

    rows = (
        AuditEntry.objects.order_by("id")
        .values("id", "prev_hash", "hash", *auditchain.FIELDS)
        .iterator(chunk_size=5000)
    )
    return auditchain.verify(rows, anchor=anchor)


def retention_days() -> int:
    """How long entries are kept (0: for ever). Settings refuse less than 180 days."""
    from django.conf import settings

    return int(getattr(settings, "YINGJI_AUDIT_RETENTION_DAYS", 0) or 0)


def purge(now: dt.datetime | None = None) -> int:
    """Delete the entries older than the retention period, oldest first and never
    the last one (the chain's head): the first entry kept links to the last one
    deleted by its stored prev_hash, so the chain still verifies. 0 without a
    retention period."""
    from yingji.core.models import AuditEntry

    days = retention_days()
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    last_id = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    if last_id is None:
        return 0
    keep_from = (
        AuditEntry.objects.filter(at__gte=cutoff)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    upto = min(keep_from if keep_from is not None else last_id, last_id)
    deleted, _ = AuditEntry.objects.filter(id__lt=upto).delete()
    return deleted
