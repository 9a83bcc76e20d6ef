"""Warnings on the workbench (core/workbench.py): those waiting for this user to
approve or to submit, and the leader's figure of warnings in force.

- 待审批预警: a warning in review that THIS user's approval would be accepted for
  (services.approval_refusal: an approver, not one who drafted, edited or
  submitted it, and a 局领导 for red and orange), so the link never ends in a
  refusal;
- 待提交预警: the user's own drafts, and for the duty officer the drafts the
  system wrote from monitoring events (no author: whoever submits first owns
  them; a leader who submitted one could no longer approve it).

Red and orange are URGENT; the others are due when the warning would expire. One
query for the warnings (values(), the fields shown), one for their areas'
names.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from yingji.core import workbench
from yingji.core.workbench import URGENT, Context, Figure, Item

REVIEW_KIND = "待审批预警"
DRAFT_KIND = "待提交预警"
SENIOR = frozenset({"red", "orange"})
STATUS_MARKS = {"Exercise": "【演练】", "Test": "【测试】"}
SYSTEM_DRAFTERS = frozenset({"duty_officer"})

_FIELDS = (
    "pk",
    "headline",
    "colour",
    "msg_type",
    "cap_status",
    "origin",
    "author_id",
    "hands",
    "expires",
    "submitted_at",
    "population_estimate",
    "review_note",
)


def _role(ctx: Context) -> str | None:
    from yingji.alerts.services import _role as role_of

    return role_of(ctx.user)


def _review_rows(ctx: Context) -> list[dict[str, Any]]:
    """The warnings in review that the user may approve."""
    from yingji.alerts import services
    from yingji.alerts.models import Alert

    user = ctx.user
    if not services.can_approve(user):
        return []
    qs = Alert.objects.filter(state=Alert.State.REVIEW).exclude(author_id=user.pk)
    if _role(ctx) not in services.SENIOR_APPROVER_ROLES:
        qs = qs.exclude(colour__in=services.SENIOR_COLOURS)
    rows = qs.order_by("submitted_at", "pk").values(*_FIELDS)
    # The same rule as the approval itself (hands are a JSON list: read in Python,
    # the same on every database).
    return [r for r in rows if services.may_approve(SimpleNamespace(**r), user)]


def _draft_rows(ctx: Context) -> list[dict[str, Any]]:
    """The drafts the user may submit: their own, and for the duty officer the
    system's."""
    from django.db.models import Q

    from yingji.alerts.models import Alert

    user = ctx.user
    if user is None or not getattr(user, "pk", None):
        return []
    mine = Q(author_id=user.pk)
    if _role(ctx) in SYSTEM_DRAFTERS:
        mine |= Q(author__isnull=True)
    return list(
        Alert.objects.filter(mine, state=Alert.State.DRAFT)
        .order_by("created_at", "pk")
        .values(*_FIELDS)
    )


def _areas(ids: Iterable[int]) -> dict[int, list[str]]:
    from yingji.alerts.models import AlertArea

    out: dict[int, list[str]] = {}
    for alert_id, description in (
        AlertArea.objects.filter(alert_id__in=list(ids))
        .order_by("pk")
        .values_list("alert_id", "description")
    ):
        out.setdefault(alert_id, []).append(description)
    return out


def _area_text(descriptions: list[str], limit: int = 3) -> str:
    if not descriptions:
        return ""
    head = "、".join(descriptions[:limit])
    return f"区域:{head}" + (f"等{len(descriptions)}处" if len(descriptions) > limit else "")


def _title(r: dict[str, Any]) -> str:
    return STATUS_MARKS.get(r["cap_status"], "") + (r["headline"] or "预警")


def _urgency(r: dict[str, Any], ctx: Context) -> int:
    if r["colour"] in SENIOR:
        return URGENT
    return workbench.by_deadline(r["expires"], ctx.now)


def _colour(r: dict[str, Any]) -> str:
    from yingji.alerts import conventions

    name = conventions.COLOUR_NAMES.get(r["colour"], "")
    kind = {"Update": "更新", "Cancel": "解除"}.get(r["msg_type"], "")
    return f"{name}预警{kind}" if name else (f"预警{kind}" if kind else "")


def review_items(ctx: Context) -> list[Item]:
    from django.utils import timezone

    rows = _review_rows(ctx)[: ctx.limit]
    areas = _areas(r["pk"] for r in rows)
    detail_url = workbench.url_for("alerts:detail")
    items = []
    for r in rows:
        estimate = r["population_estimate"]
        detail = [
            _colour(r),
            _area_text(areas.get(r["pk"], [])),
            f"预计覆盖 {estimate} 人" if estimate is not None else "",
            f"提交于 {timezone.localtime(r['submitted_at']):%m-%d %H:%M}"
            if r["submitted_at"]
            else "",
        ]
        items.append(
            Item(
                REVIEW_KIND,
                _title(r),
                detail_url(r["pk"]) + "#actions",
                action="审批",
                deadline=r["expires"],
                urgency=_urgency(r, ctx),
                detail=" · ".join(p for p in detail if p),
                level=r["colour"] or "",
            )
        )
    return items


def count_review(ctx: Context) -> int:
    return len(_review_rows(ctx))


def draft_items(ctx: Context) -> list[Item]:

    rows = _draft_rows(ctx)[: ctx.limit]
    areas = _areas(r["pk"] for r in rows)
    detail_url = workbench.url_for("alerts:detail")
    items = []
    for r in rows:
        expired = r["expires"] is not None and r["expires"] <= ctx.now
        detail = [
            _colour(r),
            _area_text(areas.get(r["pk"], [])),
            "系统起草(监测事件)" if r["author_id"] is None else "",
            f"退回意见:{r['review_note']}" if r["review_note"] else "",
            "已过失效时间,请修改后提交" if expired else "",
        ]
        items.append(
            Item(
                DRAFT_KIND,
                _title(r),
                detail_url(r["pk"]) + "#actions",
                action="提交",
                deadline=r["expires"],
                urgency=_urgency(r, ctx),
                detail=" · ".join(p for p in detail if p),
                level=r["colour"] or "",
            )
        )
    return items


def count_drafts(ctx: Context) -> int:
    return len(_draft_rows(ctx))


def warning_figures(ctx: Context) -> list[Figure]:
    """在发预警: the warnings in force (published, not expired, updated or
    cancelled), by colour."""
    from django.db.models import Count
    from django.urls import reverse

    from yingji.alerts import conventions
    from yingji.alerts.models import Alert

    by_colour = dict(
        Alert.objects.filter(state=Alert.State.PUBLISHED)
        .values_list("colour")
        .annotate(n=Count("id"))
        .order_by()
    )
    total = sum(by_colour.values())
    order = [*reversed(conventions.COLOUR_ORDER), ""]
    parts = [
        f"{conventions.COLOUR_NAMES.get(c, '未定级')} {by_colour[c]}"
        for c in order
        if by_colour.get(c)
    ]
    return [
        Figure(
            "在发预警",
            str(total),
            detail=" · ".join(parts) if parts else "目前没有生效的预警",
            url=reverse("alerts:list") + "?state=published",
            tone="bad" if any(by_colour.get(c) for c in SENIOR) else ("good" if not total else ""),
        )
    ]


def register() -> None:
    """Called from AlertsConfig.ready()."""
    workbench.register(
        "alerts.review",
        REVIEW_KIND,
        group="monitoring",
        items=review_items,
        count=count_review,
        order=40,
    )
    workbench.register(
        "alerts.drafts",
        DRAFT_KIND,
        group="monitoring",
        items=draft_items,
        count=count_drafts,
        order=41,
    )
    workbench.register_figures("alerts.in_force", warning_figures, order=40)
