"""Incident command on the workbench (core/workbench.py): what waits for this
user, and the leader's figure of incidents under an active response.

- 待签收行动卡 / 待反馈行动卡: the open cards of an active response addressed to
  the user's department, or for district and street staff to their office
  (the same people services.acknowledge accepts, and the cards 我的行动卡
  lists). A card to acknowledge is URGENT, due at its acknowledgement limit; an
  acknowledged one is due at its completion limit;
- 值班待办: the open duty-desk items, for those who run the desk and may act on
  it (nav.DESK_ROLES that may command: a supervisor reads the desk but does not
  register incidents);
- 待启动预案: incidents registered but not yet under a plan, for the same people;
- 待开始演练: the drills the user organised that start within DUE_SOON_DAYS.

Each source is one query of values() (the fields shown, joined), plus one for the
names of the regions shown; no boundary is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from yingji.core import workbench
from yingji.core.workbench import NORMAL, URGENT, Context, Figure, Item

CARD_KIND, CARD_DONE_KIND = "待签收行动卡", "待反馈行动卡"
DESK_KIND = "值班待办"
INCIDENT_KIND = "待启动预案"
DRILL_KIND = "待开始演练"
EXERCISE = "【演练】"
SENIOR_LEVELS = frozenset({"red", "orange"})
SENIOR_INCIDENTS = frozenset({"I", "II"})
COLOURS = frozenset({"red", "orange", "yellow", "blue"})


def _is_desk_user(ctx: Context) -> bool:
    from yingji.core import nav
    from yingji.response.services import COMMAND_ROLES

    if getattr(ctx.user, "is_superuser", False):
        return True
    return ctx.role in nav.DESK_ROLES and ctx.role in COMMAND_ROLES


def region_names(codes: Iterable[str]) -> dict[str, tuple[str, str, str]]:
    """(name, level, parent's name) by code, in one query; never a boundary."""
    from yingji.core.models import Region

    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    return {
        code: (name, level, parent or "")
        for code, name, level, parent in Region.objects.filter(code__in=wanted).values_list(
            "code", "name", "level", "parent__name"
        )
    }


def describe(codes: Iterable[str], names: dict[str, tuple[str, str, str]], limit: int = 3) -> str:
    """Areas by name ('天河区石牌街道、越秀区', '… 等5处'); unknown codes left out."""
    found = [names[c] for c in dict.fromkeys(codes) if c in names]
    shown = [
        f"{parent}{name}" if level == "street" and parent else name
        for name, level, parent in found[:limit]
    ]
    return "、".join(shown) + (f"等{len(found)}处" if len(found) > limit else "")


# ------------------------------------------------------------------ action cards


def _cards(ctx: Context):
    """The open cards of active responses addressed to the user (None: none can be)."""
    from django.db.models import Q

    from yingji.core.models import Role
    from yingji.response import cards
    from yingji.response.models import ActionCard, Activation

    profile = ctx.profile
    if profile is None:
        return None
    own = Q(department_id=profile.department_id) if profile.department_id else None
    if profile.role == Role.DISTRICT_STAFF and profile.region_id:
        office = Q(department__region_id=profile.region_id)  # the street or district office
        own = office if own is None else own | office
    if own is None:
        return None
    return ActionCard.objects.filter(
        own, state__in=cards.OPEN_STATES, activation__status=Activation.Status.ACTIVE
    )


def card_items(ctx: Context) -> list[Item]:
    from django.db.models import Case, IntegerField, Value, When
    from django.urls import reverse

    from yingji.response import cards, levels

    qs = _cards(ctx)
    if qs is None:
        return []
    rows = (
        qs.annotate(
            waiting=Case(
                When(state=cards.ISSUED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("waiting", "issued_at", "pk")
        .values(
            "pk",
            "state",
            "title",
            "level",
            "issued_at",
            "ack_minutes",
            "limit_minutes",
            "department__name",
            "activation__plan__title",
            "activation__incident__title",
            "activation__incident__is_exercise",
        )[: ctx.limit]
    )
    mine = reverse("response:my_cards")
    items = []
    for r in rows:
        issued = r["state"] == cards.ISSUED
        minutes = r["ack_minutes"] if issued else r["limit_minutes"]
        deadline = r["issued_at"] + dt.timedelta(minutes=minutes)
        mark = EXERCISE if r["activation__incident__is_exercise"] else ""
        detail = [
            r["activation__incident__title"],
            f"《{r['activation__plan__title']}》{levels.RESPONSE_LABELS.get(r['level'], '')}",
            r["department__name"],
            f"签收时限 {r['ack_minutes']} 分钟"
            if issued
            else f"完成时限 {r['limit_minutes']} 分钟",
        ]
        items.append(
            Item(
                CARD_KIND if issued else CARD_DONE_KIND,
                f"{mark}{r['title']}",
                f"{mine}#card-{r['pk']}",
                action="签收" if issued else "反馈",
                deadline=deadline,
                urgency=URGENT if issued else workbench.by_deadline(deadline, ctx.now),
                detail=" · ".join(p for p in detail if p),
            )
        )
    return items


def count_cards(ctx: Context) -> int:
    qs = _cards(ctx)
    return 0 if qs is None else qs.count()


# ------------------------------------------------------------------ the duty desk

_DESK_SOURCES = {"alarm": "监测报警", "event": "监测事件", "alert": "预警信息"}


def _desk(ctx: Context):
    from yingji.response.models import DeskItem

    if not _is_desk_user(ctx):
        return None
    return DeskItem.objects.filter(status=DeskItem.Status.OPEN)


def desk_items(ctx: Context) -> list[Item]:
    from django.urls import reverse

    from yingji.response import levels
    from yingji.response.models import DeskItem

    qs = _desk(ctx)
    if qs is None:
        return []
    rows = list(
        qs.order_by("created_at", "pk").values(
            "pk", "kind", "source", "level", "title", "region_codes", "proposals", "created_at"
        )[: ctx.limit]
    )
    names = region_names(c for r in rows for c in (r["region_codes"] or []))
    url = reverse("response:desk") + "#desk-items"
    items = []
    for r in rows:
        channel = r["kind"] == DeskItem.Kind.CHANNEL
        proposals = [
            f"《{p.get('plan', '')}》{levels.RESPONSE_LABELS.get(p.get('level', ''), '')}"
            for p in (r["proposals"] or [])[:2]
            if isinstance(p, dict)
        ]
        if r["kind"] == DeskItem.Kind.STAND_DOWN:
            what = "建议降级或终止响应"
        elif channel:
            what = "投递渠道故障"
        else:
            what = ("建议启动" + "、".join(proposals)) if proposals else ""
        detail = [
            "投递渠道" if channel else _DESK_SOURCES.get(r["source"], ""),
            describe(r["region_codes"] or [], names),
            what,
        ]
        level = r["level"] if r["level"] in COLOURS else ""
        items.append(
            Item(
                DESK_KIND,
                r["title"],
                url,
                action="处置",
                urgency=URGENT if channel or level in SENIOR_LEVELS else NORMAL,
                detail=" · ".join(p for p in detail if p),
                level=level,
            )
        )
    return items


def count_desk(ctx: Context) -> int:
    qs = _desk(ctx)
    return 0 if qs is None else qs.count()


# ------------------------------------------------------------------ incidents to put under a plan


def _registered(ctx: Context):
    from yingji.response.models import Incident

    if not _is_desk_user(ctx):
        return None
    return Incident.objects.filter(status=Incident.Status.REGISTERED)


def incident_items(ctx: Context) -> list[Item]:
    from django.urls import reverse
    from django.utils import timezone

    from yingji.response import levels

    qs = _registered(ctx)
    if qs is None:
        return []
    rows = list(
        qs.order_by("level", "occurred_at", "pk").values(
            "pk", "title", "level", "occurred_at", "is_exercise", "district_id", "street_id"
        )[: ctx.limit]
    )
    names = region_names(c for r in rows for c in (r["district_id"], r["street_id"]))
    base = reverse("response:incidents")  # one reverse, not one per row
    items = []
    for r in rows:
        place = describe([r["street_id"] or r["district_id"] or ""], names)
        detail = [
            levels.LABELS.get(r["level"], ""),
            place,
            f"发生于 {timezone.localtime(r['occurred_at']):%m-%d %H:%M}",
        ]
        items.append(
            Item(
                INCIDENT_KIND,
                (EXERCISE if r["is_exercise"] else "") + r["title"],
                f"{base}{r['pk']}/#proposals",
                action="启动预案",
                urgency=URGENT if r["level"] in SENIOR_INCIDENTS else NORMAL,
                detail=" · ".join(p for p in detail if p),
            )
        )
    return items


def count_incidents(ctx: Context) -> int:
    qs = _registered(ctx)
    return 0 if qs is None else qs.count()


# ------------------------------------------------------------------ drills


def _drills(ctx: Context):
    from yingji.response.models import Drill

    if not getattr(ctx.user, "pk", None):
        return None
    soon = ctx.now + dt.timedelta(days=workbench.DUE_SOON_DAYS)
    return Drill.objects.filter(
        created_by_id=ctx.user.pk, status=Drill.Status.SCHEDULED, scheduled_at__lte=soon
    )


def drill_items(ctx: Context) -> list[Item]:
    from django.urls import reverse

    qs = _drills(ctx)
    if qs is None:
        return []
    base = reverse("response:drills")
    items = []
    for r in qs.order_by("scheduled_at", "pk").values(
        "pk", "title", "scheduled_at", "blind", "plan__title"
    )[: ctx.limit]:
        detail = [
            f"检验《{r['plan__title']}》" if r["plan__title"] else "",
            "双盲" if r["blind"] else "",
        ]
        items.append(
            Item(
                DRILL_KIND,
                r["title"],
                f"{base}{r['pk']}/",
                action="开始演练",
                deadline=r["scheduled_at"],
                urgency=workbench.by_deadline(r["scheduled_at"], ctx.now),
                detail=" · ".join(p for p in detail if p),
            )
        )
    return items


def count_drills(ctx: Context) -> int:
    qs = _drills(ctx)
    return 0 if qs is None else qs.count()


# ------------------------------------------------------------------ the leader's figure


def response_figures(ctx: Context) -> list[Figure]:
    """应急响应中: the incidents (drills apart) with an active plan, by the highest
    response level each is under."""
    from django.urls import reverse

    from yingji.response import levels
    from yingji.response.models import Activation

    top: dict[int, str] = {}
    drills: set[int] = set()
    for incident_id, level, exercise in Activation.objects.filter(
        status=Activation.Status.ACTIVE
    ).values_list("incident_id", "level", "incident__is_exercise"):
        if exercise:
            drills.add(incident_id)
            continue
        known = top.get(incident_id)
        top[incident_id] = level if known is None else levels.higher(known, level)
    by_level = {lv: sum(1 for v in top.values() if v == lv) for lv in levels.LEVELS}
    parts = [f"{levels.RESPONSE_LABELS[lv]} {n}" for lv, n in by_level.items() if n]
    if drills:
        parts.append(f"另有演练 {len(drills)}")
    return [
        Figure(
            "应急响应中",
            str(len(top)),
            detail=" · ".join(parts) if parts else "没有启动中的应急响应",
            url=reverse("response:incidents") + "?status=responding",
            tone="bad" if by_level["I"] or by_level["II"] else ("good" if not top else ""),
        )
    ]


def register() -> None:
    """Called from ResponseConfig.ready()."""
    for key, kind, items, count, order in (
        ("response.cards", CARD_KIND, card_items, count_cards, 50),
        ("response.desk", DESK_KIND, desk_items, count_desk, 51),
        ("response.incidents", INCIDENT_KIND, incident_items, count_incidents, 52),
        ("response.drills", DRILL_KIND, drill_items, count_drills, 53),
    ):
        workbench.register(key, kind, group="command", items=items, count=count, order=order)
    workbench.register_figures("response.active", response_figures, order=50)
