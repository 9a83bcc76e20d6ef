"""Warnings drafted from monitoring events: one draft per event, kept in step while
it is a draft, a CAP Update of the same warning once published.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from yingji.alerts import conventions
from yingji.alerts import workflow as wf
from yingji.alerts.models import (
    Alert,
)
from yingji.alerts.services import (
    AreaSpec,
    DraftSpec,
    _area_rows,
    _area_title,
    _default_expiry,
    create_draft,
)
from yingji.core import audit
from yingji.core.models import Region

# ------------------------------------------------------------------ monitoring


def _signal_colour(hazard: str, level: str) -> str:
    """The warning colour for a monitoring level: raised to the next colour the
    hazard's signal has (no blue rainstorm signal, so blue becomes yellow)."""
    order = {c: n for n, c in enumerate(conventions.COLOUR_ORDER)}
    signal = conventions.SIGNAL_TYPES.get(hazard)
    if signal and level not in signal.colours:
        return next((c for c in signal.colours if order[c] >= order[level]), signal.colours[-1])
    return level


def draft_from_event(
    *,
    event_id: int,
    hazard: str,
    level: str | None,
    area_codes: list[str],
    district_code: str = "",
    state: str = "open",
    at: dt.datetime,
    **_: Any,
) -> Alert | None:
    """A monitoring event opened or changed: ONE draft per event, with every area of
    the event (a street's red inside a district is one warning naming both streets,
    not one per street and one per district), kept in step while it is a draft; once
    the event's warning is published, a higher level drafts a CAP Update of it (one at
    a time), never a new unrelated alert. A closed or easing event drafts nothing:
    lowering or cancelling a published warning is a person's decision."""
    if state != "open" or level is None or level not in conventions.LEVELS:
        return None
    # Boundaries (GeoJSON, up to megabytes a district) are never needed here: an event
    # of a city-wide storm names 100+ areas and changes hundreds of times.
    known = set(
        Region.objects.filter(code__in=[*area_codes, district_code]).values_list("code", flat=True)
    )
    codes = [c for c in area_codes if c in known] or (
        [district_code] if district_code in known else []
    )
    if not codes:
        return None
    colour = _signal_colour(hazard, level)
    order = {c: n for n, c in enumerate(conventions.COLOUR_ORDER)}
    name = conventions.hazard_name(hazard)
    regions = {
        r.code: r
        for r in Region.objects.filter(code__in=codes)
        .select_related("parent")
        .defer("boundary", "parent__boundary")
    }
    place = conventions.area_title(
        [
            f"{r.parent.name}{r.name}" if r.level == "street" and r.parent_id else r.name
            for r in (regions[c] for c in codes)
        ]
    )
    description = (
        f"{place}{name}监测等级于 {timezone.localtime(at):%m月%d日 %H:%M} "
        f"达到{conventions.COLOUR_NAMES[colour]}({conventions.LEVELS[colour][1]}),"
        "请注意防范。"
    )
    # For the reviewers: never published (CAP, public page, SMS and feed leave it out).
    note = (
        f"由监测事件 #{event_id} 自动生成({timezone.localtime(at):%m-%d %H:%M}),"
        "请核实监测数据、补充防御指引后提交审核。"
    )
    mine = Alert.objects.filter(monitoring_event=event_id)
    with transaction.atomic(), audit.acting_as(None, "监测预警"):
        draft = mine.filter(state=wf.DRAFT).select_for_update().first()
        if draft is not None:
            return _follow_event(draft, hazard, colour, codes, description, note)
        if mine.filter(state=wf.REVIEW).exists():
            return None  # under review: the reviewer decides; the next change drafts an Update
        published = mine.filter(state=wf.PUBLISHED).order_by("-sent").first()
        if published is not None:
            if order[colour] <= order.get(published.colour, 0) and set(codes) <= set(
                published.areas.values_list("region_id", flat=True)
            ):
                return None
            spec = DraftSpec(
                hazard=hazard,
                colour=max(colour, published.colour, key=lambda c: order.get(c, 0)),
                description=description,
                instruction=_default_instruction(hazard, colour),
                internal_note=note + "(监测等级升高或范围扩大,为已发布预警的更新)",
                areas=[
                    AreaSpec(region_code=c)
                    for c in sorted(
                        set(codes)
                        | set(
                            published.areas.exclude(region=None).values_list("region_id", flat=True)
                        )
                    )
                ],
                groups=[g.key for g in published.groups.all()],
                groups_anywhere=[g.key for g in published.groups_anywhere.all()],
                channels=list(published.channels),
                urgency="Immediate",
            )
            update = create_draft(
                None, spec, origin=Alert.Origin.MONITORING, references=published, msg_type="Update"
            )
            Alert.objects.filter(pk=update.pk).update(monitoring_event=event_id)
            update.monitoring_event = event_id
            return update
        alert = create_draft(
            None,
            DraftSpec(
                hazard=hazard,
                colour=colour,
                description=description,
                instruction=_default_instruction(hazard, colour),
                internal_note=note,
                areas=[AreaSpec(region_code=c) for c in codes],
                urgency="Expected",
            ),
            origin=Alert.Origin.MONITORING,
        )
        Alert.objects.filter(pk=alert.pk).update(monitoring_event=event_id)
        alert.monitoring_event = event_id
        return alert


def _follow_event(
    draft: Alert, hazard: str, colour: str, codes: list[str], description: str, note: str
) -> Alert:
    """An open system draft follows its event: level, areas, text (a person's edits to
    the instruction and groups are kept)."""
    draft.colour = colour
    draft.severity = conventions.severity(colour)
    draft.event = conventions.event_title(hazard, colour)
    draft.description, draft.internal_note = description, note
    have = set(draft.areas.exclude(region=None).values_list("region_id", flat=True))
    new = [AreaSpec(region_code=c) for c in codes if c not in have]
    for row in _area_rows(new) if new else []:
        row.alert = draft
        row.save()
    draft.headline = conventions.headline(
        settings.YINGJI_BUREAU_NAME,
        hazard,
        colour,
        _area_title(
            list(
                draft.areas.select_related("region__parent").defer(
                    "region__boundary", "region__parent__boundary"
                )
            )
        ),
    )
    draft.expires = _default_expiry(hazard, colour, None)
    draft.save()
    return draft


def _default_instruction(hazard: str, colour: str) -> str:
    if hazard in ("rainstorm", "waterlogging") and colour == "red":
        return "停课、停工、停业、停运、停产(五停);转移危险区域人员,切勿涉水。"
    if hazard in ("rainstorm", "waterlogging", "typhoon"):
        return "加强防御,远离低洼、易涝和危险区域,关注最新预警。"
    return "请做好防范,关注最新预警信息。"


def desk_item_links(items: Any) -> dict:
    """For the duty desk's items (core/links.py on "response.deskitem"): the warning
    of each monitoring event's item, newest first (an Update once the first is out),
    labelled with its headline and state, so the officer goes from the item straight
    to the draft to review or to the warning in force."""
    from django.urls import reverse

    from yingji.core.links import Link

    by_event = {
        int(i.source_ref): i.pk for i in items if i.source == "event" and i.source_ref.isdigit()
    }
    if not by_event:
        return {}
    out: dict = {}
    for pk, event, headline, state in (
        Alert.objects.filter(monitoring_event__in=by_event)
        .order_by("-pk")
        .values_list("pk", "monitoring_event", "headline", "state")
    ):
        item = by_event[event]
        if item not in out:
            label = wf.STATE_LABELS.get(state, state)
            out[item] = Link(f"{headline}({label})", reverse("alerts:detail", args=[pk]))
    return out
