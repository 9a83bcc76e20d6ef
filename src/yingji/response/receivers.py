"""Receivers of the monitoring and alerts event contracts: a monitoring event (one
item per event, updated in place as it rises, grows and its warning goes out) or a
published alert lands on the duty desk, proposing an incident and plan
activations. Connected in ResponseConfig.ready."""

from __future__ import annotations

from typing import Any

from yingji.core import regions
from yingji.response import services, standdown
from yingji.response.triggers import COLOUR_LABELS, hazard_of

_ALERT_TYPES = frozenset({"Alert", "Update"})


def on_event_changed(
    sender: Any,
    *,
    event_id: int,
    hazard: str,
    level: str | None,
    max_level: str | None = None,
    area_codes: list[str] | None = None,
    district_code: str = "",
    state: str = "open",
    **kwargs: Any,
) -> None:
    """A monitoring event on the duty desk: one item per event, updated in place."""
    where = regions.describe(list(area_codes or [district_code]))
    top = level or max_level
    if top is None:
        return
    title = f"监测事件:{where}{hazard_of(hazard)}{COLOUR_LABELS.get(top, top)}"
    if state == "closed":
        title += "(报警已全部解除)"
    services.record_event_item(
        event_id=event_id,
        hazard=hazard_of(hazard),
        level=top,
        region_codes=list(area_codes or [district_code]),
        title=title,
    )


def on_alert_published(
    sender: Any,
    *,
    alert_id: int,
    identifier: str,
    status: str,
    msg_type: str,
    event: str,
    level: str | None,
    area_codes: list[str] | None = None,
    exercise: bool = False,
    **kwargs: Any,
) -> None:
    """A published alert (or its update) proposes the plans its type and colour
    call for; a Cancel, or an Update lowering the colour, of an alert that led to
    activations proposes lowering or standing them down instead."""
    exercise = exercise or status == "Exercise"
    if msg_type in {"Cancel", "Update"}:
        refs = _references(alert_id, kwargs.get("references"))
        if refs and services.propose_stand_down(
            identifier=identifier or str(alert_id),
            msg_type=msg_type,
            event=event,
            level=level,
            references=refs,
            exercise=exercise,
        ):
            return
    if msg_type not in _ALERT_TYPES or not level:
        return
    if kwargs.get("monitoring_event"):  # the event's own item says its warning is out
        services.record_event_item(
            event_id=kwargs["monitoring_event"],
            hazard=event,
            level=level,
            region_codes=list(area_codes or []),
            title="",
            warning=f"已发布{event}({'更新' if msg_type == 'Update' else '首发'})",
        )
        return
    services.record_desk_item(
        source="alert",
        source_ref=identifier or str(alert_id),
        hazard=event,
        level=level,
        region_codes=list(area_codes or []),
        title=f"预警发布:{event}",
        exercise=exercise,
    )


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
            row = (
                model.objects.filter(pk=int(alert_id))
                .values_list("references_id", flat=True)
                .first()
            )
            seen = set()
            while row and row not in seen and len(seen) < 100:
                seen.add(row)
                ident, row = model.objects.filter(pk=row).values_list(
                    "identifier", "references_id"
                ).first() or ("", None)
                if ident:
                    out.append(ident)
    except (LookupError, DatabaseError, ValueError, TypeError):
        return []
    return out


def on_channel_failing(
    sender: Any, *, channel: str, label: str, reason: str, count: int, since: Any, **kwargs: Any
) -> None:
    """A delivery channel that keeps failing puts ONE item on the duty desk (per run
    of failures), not one per message."""
    from yingji.response.models import DeskItem

    DeskItem.objects.get_or_create(
        source="channel",
        source_ref=f"{channel}:{since:%Y%m%d%H%M%S}",
        level="",
        kind=DeskItem.Kind.CHANNEL,
        defaults={
            "hazard": "",
            "title": f"{label}渠道持续发送失败(已连续失败 {count} 条):{reason}"[:200],
        },
    )


def on_channel_recovered(sender: Any, *, channel: str, label: str, **kwargs: Any) -> None:
    """The channel works again: its open desk item says so (the officer closes it)."""
    from django.utils import timezone

    from yingji.response.models import DeskItem

    at = timezone.localtime().strftime("%H:%M")
    for item in DeskItem.objects.filter(
        kind=DeskItem.Kind.CHANNEL,
        status=DeskItem.Status.OPEN,
        source_ref__startswith=f"{channel}:",
    ):
        if "已恢复" not in item.title:
            item.title = f"{item.title[:180]}——{at} 已恢复"
            item.save(update_fields=["title"])
