"""Receivers of the monitoring and alerts event contracts: an alarm that fires
or a published alert lands on the duty desk, proposing an incident and plan
activations. Connected in ResponseConfig.ready."""

from __future__ import annotations

from typing import Any

from yingji.response import services, standdown
from yingji.response.triggers import COLOUR_LABELS, hazard_of

_ALARM_STATES = frozenset({"firing"})
_ALERT_TYPES = frozenset({"Alert", "Update"})


def on_alarm_state_changed(sender: Any, *, alarm_id: int, state: str, level: str, rule: str = "",
                           region_codes: list[str] | None = None, exercise: bool = False,
                           **kwargs: Any) -> None:
    """A firing alarm proposes an incident (one desk item per alarm and level)."""
    if state not in _ALARM_STATES:
        return
    hazard = kwargs.get("hazard") or _alarm_hazard(alarm_id) or rule
    services.record_desk_item(
        source="alarm", source_ref=str(alarm_id), hazard=hazard_of(hazard),
        level=level, region_codes=list(region_codes or []),
        title=f"监测报警:{rule}({COLOUR_LABELS.get(level, level)})", exercise=exercise)


def _alarm_hazard(alarm_id: Any) -> str:
    """The hazard group monitoring stored on the alarm ('' when it cannot be read:
    the module is built in parallel and its models may not be there yet)."""
    from django.apps import apps
    from django.core.exceptions import FieldError
    from django.db import DatabaseError, transaction

    try:
        model = apps.get_model("monitoring", "Alarm")
        with transaction.atomic():
            return model.objects.filter(pk=int(alarm_id)).values_list("hazard", flat=True).first() or ""
    except (LookupError, FieldError, DatabaseError, ValueError, TypeError):
        return ""


def on_regional_level_changed(sender: Any, *, region_code: str, level: str | None, hazard: str,
                              alarm_ids: list[int] | None = None, **kwargs: Any) -> None:
    """A street or district reaching a new alarm level proposes the plans for it."""
    if level is None:
        return
    at = kwargs.get("at")
    ref = f"{region_code}:{hazard}:{at.isoformat() if at else ''}"
    services.record_desk_item(
        source="alarm", source_ref=ref, hazard=hazard_of(hazard), level=level,
        region_codes=[region_code],
        title=f"区域报警等级:{hazard_of(hazard)}{COLOUR_LABELS.get(level, level)}({region_code})")


def on_alert_published(sender: Any, *, alert_id: int, identifier: str, status: str, msg_type: str,
                       event: str, level: str | None, area_codes: list[str] | None = None,
                       exercise: bool = False, **kwargs: Any) -> None:
    """A published alert (or its update) proposes the plans its type and colour
    call for; a Cancel, or an Update lowering the colour, of an alert that led to
    activations proposes lowering or standing them down instead."""
    exercise = exercise or status == "Exercise"
    if msg_type in {"Cancel", "Update"}:
        refs = _references(alert_id, kwargs.get("references"))
        if refs and services.propose_stand_down(
                identifier=identifier or str(alert_id), msg_type=msg_type, event=event, level=level,
                references=refs, exercise=exercise):
            return
    if msg_type not in _ALERT_TYPES or not level:
        return
    services.record_desk_item(
        source="alert", source_ref=identifier or str(alert_id), hazard=event, level=level,
        region_codes=list(area_codes or []), title=f"预警发布:{event}", exercise=exercise)


def _references(alert_id: Any, given: Any) -> list[str]:
    """Identifiers of the earlier messages a Cancel/Update refers to: from the
    event's `references` (CAP "sender,identifier,sent" entries) when the
    publisher sends them, else read from the alerts module's Alert chain."""
    if given:
        return standdown.reference_identifiers(given)
    from django.apps import apps
    from django.db import DatabaseError, transaction

    out: list[str] = []
    try:
        model = apps.get_model("alerts", "Alert")
        with transaction.atomic():
            row = model.objects.filter(pk=int(alert_id)).values_list("references_id", flat=True).first()
            seen = set()
            while row and row not in seen and len(seen) < 100:
                seen.add(row)
                ident, row = model.objects.filter(pk=row).values_list("identifier", "references_id").first() \
                    or ("", None)
                if ident:
                    out.append(ident)
    except (LookupError, DatabaseError, ValueError, TypeError):
        return []
    return out


def on_channel_failing(sender: Any, *, channel: str, label: str, reason: str, count: int,
                       since: Any, **kwargs: Any) -> None:
    """A delivery channel that keeps failing puts ONE item on the duty desk (per run
    of failures), not one per message."""
    from yingji.response.models import DeskItem

    DeskItem.objects.get_or_create(
        source="channel", source_ref=f"{channel}:{since:%Y%m%d%H%M%S}", level="",
        kind=DeskItem.Kind.CHANNEL,
        defaults={"hazard": "", "title": f"{label}渠道持续发送失败(已连续失败 {count} 条):{reason}"[:200]})


def on_channel_recovered(sender: Any, *, channel: str, label: str, **kwargs: Any) -> None:
    """The channel works again: its open desk item says so (the officer closes it)."""
    from django.utils import timezone

    from yingji.response.models import DeskItem

    at = timezone.localtime().strftime("%H:%M")
    for item in DeskItem.objects.filter(kind=DeskItem.Kind.CHANNEL, status=DeskItem.Status.OPEN,
                                        source_ref__startswith=f"{channel}:"):
        if "已恢复" not in item.title:
            item.title = f"{item.title[:180]}——{at} 已恢复"
            item.save(update_fields=["title"])
