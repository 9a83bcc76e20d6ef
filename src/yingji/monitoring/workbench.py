"""Monitoring on the workbench (core/workbench.py): the alarms waiting for this
user to acknowledge, and the leader's figure of open monitoring events.

Waiting: a firing alarm (报警中, not yet acknowledged or silenced) the user's
scope covers, which is exactly who may acknowledge it (services.alarm_filter and
services.can_handle agree). Red and orange alarms are URGENT; yellow and blue
ones are due when the rule escalates them (fired + 超时未确认升级 minutes), so
they turn OVERDUE once the escalation has gone out.

One query per call (values(), joined, no model instances), plus one for the
names of the districts and streets shown; no region boundary is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from yingji.core import workbench
from yingji.core.workbench import URGENT, Context, Figure, Item

KIND = "待确认报警"
SENIOR_LEVELS = frozenset({"red", "orange"})
LEVEL_ORDER = ("red", "orange", "yellow", "blue")


def _firing(ctx: Context):
    from yingji.monitoring.models import Alarm
    from yingji.monitoring.services import alarm_filter

    return Alarm.objects.filter(state=Alarm.State.FIRING, replayed=False).filter(
        alarm_filter(ctx.scope)
    )


def _level_rank():
    from django.db.models import Case, IntegerField, Value, When

    return Case(
        *(When(level=lv, then=Value(n)) for n, lv in enumerate(LEVEL_ORDER)),
        default=Value(len(LEVEL_ORDER)),
        output_field=IntegerField(),
    )


def region_names(codes: Iterable[str]) -> dict[str, str]:
    """Region names by code, in one query (names only: never a boundary)."""
    from yingji.core.models import Region

    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    return dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))


def alarm_items(ctx: Context) -> list[Item]:
    from django.urls import reverse

    from yingji.monitoring.models import HAZARD_LABELS
    from yingji.monitoring.rules import LEVEL_LABELS

    rows = list(
        _firing(ctx)
        .annotate(rank=_level_rank())
        .order_by("rank", "fired_at", "pk")
        .values(
            "pk",
            "level",
            "hazard",
            "value",
            "fired_at",
            "started_at",
            "district_code",
            "street_code",
            "rule__name",
            "rule__escalate_after_min",
            "sensor__code",
            "sensor__name",
            "sensor__unit",
            "area__name",
        )[: ctx.limit]
    )
    names = region_names(c for r in rows for c in (r["district_code"], r["street_code"]))
    live = reverse("monitoring:live")
    items = []
    for r in rows:
        level = r["level"] or ""
        fired = r["fired_at"] or r["started_at"]
        deadline = fired + dt.timedelta(minutes=r["rule__escalate_after_min"] or 0)
        if r["sensor__code"]:
            subject = f"{r['sensor__name'] or r['sensor__code']}({r['sensor__code']})"
        else:
            subject = r["area__name"] or "区域组合"
        place = names.get(r["district_code"], "") + (
            names.get(r["street_code"], "") if r["street_code"] != r["district_code"] else ""
        )
        value = "" if r["value"] is None else f"触发值 {r['value']:g}{r['sensor__unit'] or ''}"
        detail = " · ".join(
            p
            for p in (r["rule__name"], HAZARD_LABELS.get(r["hazard"], r["hazard"]), place, value)
            if p
        )
        items.append(
            Item(
                KIND,
                f"{LEVEL_LABELS.get(level, '')}报警:{subject}",
                f"{live}#alarm-{r['pk']}",
                action="确认",
                deadline=deadline,
                urgency=URGENT
                if level in SENIOR_LEVELS
                else workbench.by_deadline(deadline, ctx.now),
                detail=detail,
                level=level,
            )
        )
    return items


def count_alarms(ctx: Context) -> int:
    return _firing(ctx).count()


def event_figures(ctx: Context) -> list[Figure]:
    """未结监测事件: the open events, by the highest level each reached."""
    from django.db.models import Count
    from django.urls import reverse

    from yingji.monitoring.models import Event
    from yingji.monitoring.rules import LEVEL_LABELS

    by_level = dict(
        Event.objects.filter(state=Event.State.OPEN, replayed=False)
        .values_list("max_level")
        .annotate(n=Count("id"))
        .order_by()
    )
    total = sum(by_level.values())
    parts = [f"{LEVEL_LABELS[lv]} {by_level[lv]}" for lv in LEVEL_ORDER if by_level.get(lv)]
    senior = any(by_level.get(lv) for lv in SENIOR_LEVELS)
    return [
        Figure(
            "未结监测事件",
            str(total),
            detail=" · ".join(parts) if parts else "没有进行中的监测事件",
            url=reverse("monitoring:live"),
            tone="bad" if senior else ("good" if not total else ""),
        )
    ]


def register() -> None:
    """Called from MonitoringConfig.ready()."""
    workbench.register(
        "monitoring.alarms",
        KIND,
        group="monitoring",
        items=alarm_items,
        count=count_alarms,
        order=30,
    )
    workbench.register_figures("monitoring.events", event_figures, order=30)
