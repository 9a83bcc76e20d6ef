"""The one audit mechanism: every save and delete of every yingji model (and of
users) is recorded with who, when, and the field values before and after.

The actor comes from a context variable set by `AuditActorMiddleware` for web and
API requests and by `acting_as()` for commands and jobs. Bulk operations
(`bulk_create`, `QuerySet.update`) bypass Django's signals; services that use them
for speed (demo data, benchmarks) call `record()` themselves where it matters.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
import uuid
from collections.abc import Iterator
from typing import Any

from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone

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
    if hasattr(value, "name") and hasattr(value, "url"):  # FieldFile
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
    AuditEntry.objects.create(
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
