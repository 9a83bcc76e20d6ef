"""The risk module's part of the workbench (core/workbench.py): hazards waiting
for a user, and the leader's figures (accidents against last year, overdue
hazards). Registered from RiskConfig.ready.

Who acts on a hazard is the transition table's (hazardflow.py) and the
services' actor kinds (services.actor_kinds): the supervising department
(三管三必须), the district or street whose region covers the hazard, and the
leadership. The workbench lists a hazard for the first two only, as their own
work; leaders and supervisors (who may make every move) get the hazards listed
for supervision (挂牌督办) instead of the whole city's ledger.

- 待交办/待整改隐患 (risk.rectify): open hazards before acceptance (交办, 开始整改,
  提请验收, 重新整改), due by their rectification deadline;
- 待验收/待销号隐患 (risk.accept): submitted hazards (accept or reject) and accepted
  ones (close); a major hazard's acceptance and closing are the regulator's
  (its department), not the district's. Acceptance is late once the deadline
  plus `acceptance_days` has passed (supervise.py);
- 回头看到期 (risk.recheck): re-checks of closed hazards due within
  DUE_SOON_DAYS or overdue;
- 挂牌督办隐患 (risk.listed): open listed hazards, for leaders and supervisors.

Each source is one query of the rows it shows (values(): names of regions and
enterprises, never a region's boundary), one for the names of the departments
shown, and a COUNT for the badge.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import reduce
from operator import or_
from typing import Any

from yingji.core import workbench
from yingji.core.workbench import Context, Figure, Item
from yingji.risk import hazardflow
from yingji.risk.hazardflow import State

# The button of each state: the move the hazard waits for.
ACTIONS = {
    State.REPORTED: "交办整改",
    State.ASSIGNED: "开始整改",
    State.RECTIFYING: "提请验收",
    State.REJECTED: "重新整改",
    State.SUBMITTED: "验收",
    State.ACCEPTED: "销号",
}
KINDS = {
    State.REPORTED: "待交办隐患",
    State.ASSIGNED: "待整改隐患",
    State.RECTIFYING: "待整改隐患",
    State.REJECTED: "待整改隐患",
    State.SUBMITTED: "待验收隐患",
    State.ACCEPTED: "待销号隐患",
}
LEADERSHIP_ROLES = frozenset({"leader", "supervisor"})

_FIELDS = (
    "pk",
    "code",
    "description",
    "state",
    "level",
    "deadline",
    "listed",
    "listed_on",
    "responsible_person",
    "enterprise__name",
    "district__name",
    "street__name",
    # the two departments' names are read apart (_department_names): a sixth join
    # costs PostgreSQL's planner 10+ ms, more than the rest of the source
    "department_id",
    "listed_by_id",
)


def _now(ctx: Context) -> dt.datetime:
    from django.utils import timezone

    return timezone.localtime(ctx.now)


def _department_q(scope: Any, prefix: str = ""):
    from django.db.models import Q

    if not scope.department_ids:
        return None
    return Q(**{f"{prefix}department_id__in": sorted(scope.department_ids)})


def _region_q(scope: Any, prefix: str = ""):
    """Hazards whose place (street, else district: services.actor_kinds) lies in
    one of the scope's regions."""
    from django.db.models import Q

    from yingji.core import regioncodes

    parts = []
    for code in sorted(scope.region_codes):
        p = regioncodes.prefix(code)
        parts.append(
            Q(**{f"{prefix}street__code__startswith": p})
            | Q(**{f"{prefix}street__isnull": True, f"{prefix}district__code__startswith": p})
        )
    return reduce(or_, parts) if parts else None


def _either(*qs):
    qs = [q for q in qs if q is not None]
    return reduce(or_, qs) if qs else None


def _deadline_order():
    from django.db.models import F

    return (F("deadline").asc(nulls_last=True), "found_on", "pk")


def _place(row: dict[str, Any], prefix: str = "") -> str:
    district, street = row[f"{prefix}district__name"], row[f"{prefix}street__name"]
    return "".join(n for n in (district, street) if n) or "未定位"


def _department_names(rows: list[dict[str, Any]]) -> dict[int, str]:
    from yingji.core.models import Department

    ids = sorted({r[k] for r in rows for k in ("department_id", "listed_by_id") if r[k]})
    return dict(Department.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def _hazard_items(
    rows: Iterable[dict[str, Any]], ctx: Context, *, kind: str = "", action: str = ""
):
    from yingji.risk.services import config

    rows = list(rows)
    departments = _department_names(rows)
    now = _now(ctx)
    url = workbench.url_for("risk:hazard")
    # acceptance is late once the deadline plus the acceptance window has passed
    to_accept = dt.timedelta(days=config("acceptance_days"))
    out = []
    for row in rows:
        state = State(row["state"])
        deadline = row["deadline"]
        if state == State.SUBMITTED and deadline is not None:
            deadline = deadline + to_accept
        elif state not in hazardflow.DEADLINE_STATES and state != State.SUBMITTED:
            deadline = None
        parts = [state.label]
        if row["level"] == "major":
            parts.append("重大事故隐患")
        if row["listed"]:
            parts.append(f"挂牌督办({departments.get(row['listed_by_id']) or '—'})")
        parts.append(_place(row))
        if row["department_id"] in departments:
            parts.append(f"监管部门 {departments[row['department_id']]}")
        if row["responsible_person"]:
            parts.append(f"整改责任人 {row['responsible_person']}")
        description = row["description"]
        short = description if len(description) <= 30 else description[:29] + "…"
        out.append(
            Item(
                kind or KINDS[state],
                f"{row['code']} {row['enterprise__name']}:{short}",
                url(row["pk"]),
                action=action or ACTIONS[state],
                deadline=deadline,
                urgency=workbench.by_deadline(deadline, now),
                detail=" · ".join(parts),
            )
        )
    return out


# ---------------------------------------------------------------- to rectify


def _to_rectify(ctx: Context):
    from yingji.risk.models import Hazard

    mine = _either(_department_q(ctx.scope), _region_q(ctx.scope))
    if mine is None:
        return None
    return Hazard.objects.filter(mine, state__in=sorted(hazardflow.DEADLINE_STATES))


def rectify_items(ctx: Context) -> Iterable[Item]:
    qs = _to_rectify(ctx)
    if qs is None:
        return []
    return _hazard_items(qs.order_by(*_deadline_order()).values(*_FIELDS)[: ctx.limit], ctx)


def rectify_count(ctx: Context) -> int:
    qs = _to_rectify(ctx)
    return 0 if qs is None else qs.count()


# ---------------------------------------------------------------- to accept or close


def _to_accept(ctx: Context):
    from django.db.models import Q

    from yingji.risk.models import Hazard

    region = _region_q(ctx.scope)
    # a major hazard is accepted and closed by its regulator (hazardflow: _REGULATOR)
    mine = _either(
        _department_q(ctx.scope), region & Q(level=hazardflow.GENERAL) if region else None
    )
    if mine is None:
        return None
    return Hazard.objects.filter(mine, state__in=[State.SUBMITTED, State.ACCEPTED])


def accept_items(ctx: Context) -> Iterable[Item]:
    qs = _to_accept(ctx)
    if qs is None:
        return []
    return _hazard_items(qs.order_by(*_deadline_order()).values(*_FIELDS)[: ctx.limit], ctx)


def accept_count(ctx: Context) -> int:
    qs = _to_accept(ctx)
    return 0 if qs is None else qs.count()


# ---------------------------------------------------------------- 回头看 re-checks


def _rechecks_due(ctx: Context):
    from yingji.risk.models import Recheck

    mine = _either(_department_q(ctx.scope, "hazard__"), _region_q(ctx.scope, "hazard__"))
    if mine is None:
        return None
    horizon = _now(ctx).date() + dt.timedelta(days=workbench.DUE_SOON_DAYS)
    return Recheck.objects.filter(mine, done_on__isnull=True, due__lte=horizon)


def recheck_items(ctx: Context) -> Iterable[Item]:
    qs = _rechecks_due(ctx)
    if qs is None:
        return []
    now = _now(ctx)
    url = workbench.url_for("risk:hazard")
    rows = qs.order_by("due", "pk").values(
        "due",
        "hazard_id",
        "hazard__code",
        "hazard__description",
        "hazard__closed_on",
        "hazard__enterprise__name",
        "hazard__district__name",
        "hazard__street__name",
    )[: ctx.limit]
    out = []
    for r in rows:
        closed = r["hazard__closed_on"]
        out.append(
            Item(
                "回头看到期",
                f"{r['hazard__code']} {r['hazard__enterprise__name']}:{r['hazard__description'][:29]}",
                url(r["hazard_id"]) + "#rechecks",
                action="复查",
                deadline=r["due"],
                urgency=workbench.by_deadline(r["due"], now),
                detail=(f"{closed:%Y-%m-%d} 销号 · " if closed else "")
                + f"回头看复查 · {_place(r, 'hazard__')}",
            )
        )
    return out


def recheck_count(ctx: Context) -> int:
    qs = _rechecks_due(ctx)
    return 0 if qs is None else qs.count()


# ---------------------------------------------------------------- listed for supervision


def _listed(ctx: Context):
    from yingji.risk.models import Hazard

    if ctx.role not in LEADERSHIP_ROLES:
        return None
    return Hazard.objects.filter(listed=True).exclude(state=State.CLOSED)


def listed_items(ctx: Context) -> Iterable[Item]:
    qs = _listed(ctx)
    if qs is None:
        return []
    rows = qs.order_by(*_deadline_order()).values(*_FIELDS)[: ctx.limit]
    return _hazard_items(rows, ctx, kind="挂牌督办隐患", action="督办")


def listed_count(ctx: Context) -> int:
    qs = _listed(ctx)
    return 0 if qs is None else qs.count()


# ---------------------------------------------------------------- the leader's figures


def _change(now: int, then: int) -> str:
    if then == 0:
        return f"去年同期 {then}"
    pct = round(100.0 * (now - then) / then, 1)
    return f"去年同期 {then},{'上升' if pct > 0 else '下降' if pct < 0 else '持平'} {abs(pct):g}%"


def figures(ctx: Context) -> Iterable[Figure]:
    """Accidents and deaths this year to date against the same period last year
    (双下降), and the hazards past their rectification deadline."""
    from django.db.models import Count, Sum
    from django.urls import reverse

    from yingji.risk import decrease, stats
    from yingji.risk.models import Accident, Hazard
    from yingji.risk.services import overdue_q

    today = _now(ctx).date()
    last_start, last_end = decrease.same_period_last_year(today)
    now_row = stats.between(Accident.objects.all(), dt.date(today.year, 1, 1), today).aggregate(
        n=Count("id"), d=Sum("deaths")
    )
    then_row = stats.between(Accident.objects.all(), last_start, last_end).aggregate(
        n=Count("id"), d=Sum("deaths")
    )
    dashboard = reverse("risk:dashboard")
    for title, key in (("事故起数", "n"), ("死亡人数", "d")):
        now_n, then_n = now_row[key] or 0, then_row[key] or 0
        yield Figure(
            f"{today.year}年{title}",
            str(now_n),
            detail=_change(now_n, then_n),
            url=dashboard,
            tone="bad" if now_n > then_n else "good",
        )
    overdue = Hazard.objects.filter(overdue_q(today)).count()
    yield Figure(
        "超期未整改隐患",
        str(overdue),
        detail="已过整改期限",
        url=reverse("risk:hazards") + "?overdue=1",
        tone="bad" if overdue else "good",
    )


def register() -> None:
    workbench.register(
        "risk.rectify",
        "待整改隐患",
        group="risk",
        items=rectify_items,
        count=rectify_count,
        order=20,
    )
    workbench.register(
        "risk.accept", "待验收隐患", group="risk", items=accept_items, count=accept_count, order=21
    )
    workbench.register(
        "risk.recheck",
        "回头看到期",
        group="risk",
        items=recheck_items,
        count=recheck_count,
        order=22,
    )
    workbench.register(
        "risk.listed",
        "挂牌督办隐患",
        group="risk",
        items=listed_items,
        count=listed_count,
        order=23,
    )
    workbench.register_figures("risk", figures, order=20)
