"""Enforcement's part of the workbench (core/workbench.py): inspections, penalty
cases and accident look-backs waiting for a user. Registered from
EnforcementConfig.ready.

Who acts is the services' rule (services.may_inspect, case_actor_kinds,
lookback.actor_kinds, may_report_progress), within what the pages show
(services.inspections_in_scope, cases_in_scope, lookback.visible_cases):

- 待检查 (enforcement.inspect): planned inspections whose window has begun (or
  begins within DUE_SOON_DAYS), assigned to the user as an inspector or of a
  department the user works in; due by the window's end;
- 待公示检查结果 (enforcement.publish): inspections carried out and not yet
  published, for their department; due by `publish_by` (一公开);
- 待办案件 (enforcement.case): penalty cases whose next step is the handler's
  (立案 → 调查取证 → 告知; 决定 → 执行 → 结案), for the case's department, and
  those waiting for a decision (告知、听证: 作出处罚决定; 复议: its outcome), for
  those who decide (leaders, supervisors, administrators). A case is to be
  decided within CASE_DECISION_DAYS of filing (《行政处罚法》(2021) 第六十条:
  立案之日起九十日内; setting YINGJI_ENFORCEMENT_CASE_DECISION_DAYS);
- 回头看事项 (enforcement.lookback_item): open items of an accident's
  investigation report, for the platform department responsible, or, when the
  item names none, for the look-back's department and the accident's district;
  due by the item's deadline;
- 事故整改评估 (enforcement.lookback_case): look-backs whose next step is the
  handler's (录入批复、开始评估、作出结论、整改复查、重新评估), due by the
  evaluation's due date; and evaluated ones to close (办结), for those who decide.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import reduce
from operator import or_
from typing import Any

from yingji.core import workbench
from yingji.core.workbench import Context, Item
from yingji.enforcement import casefsm
from yingji.enforcement import lookbackrules as rules

CASE_DECISION_DAYS = 90
# The state a case waits in, and for whom: the handler moves these on ...
HANDLER_STATES = (
    casefsm.State.FILED,
    casefsm.State.INVESTIGATING,
    casefsm.State.DECIDED,
    casefsm.State.EXECUTING,
)
# ... and the responsible leaders decide these.
APPROVER_STATES = (casefsm.State.NOTIFIED, casefsm.State.HEARING, casefsm.State.RECONSIDERATION)
UNDECIDED_STATES = frozenset(
    {
        casefsm.State.FILED,
        casefsm.State.INVESTIGATING,
        casefsm.State.NOTIFIED,
        casefsm.State.HEARING,
    }
)
CASE_ACTIONS = {
    casefsm.State.FILED: "开始调查",
    casefsm.State.INVESTIGATING: "送达告知书",
    casefsm.State.NOTIFIED: "作出决定",
    casefsm.State.HEARING: "听证后决定",
    casefsm.State.DECIDED: "执行",
    casefsm.State.RECONSIDERATION: "复议结果",
    casefsm.State.EXECUTING: "结案",
}


def case_decision_days() -> int:
    from django.conf import settings

    return int(getattr(settings, "YINGJI_ENFORCEMENT_CASE_DECISION_DAYS", CASE_DECISION_DAYS))


def _now(ctx: Context) -> dt.datetime:
    from django.utils import timezone

    return timezone.localtime(ctx.now)


def _departments(ctx: Context) -> list[int]:
    return sorted(ctx.scope.department_ids)


def _any(parts: list) -> Any:
    return reduce(or_, parts) if parts else None


def _district_q(ctx: Context, field: str):
    from django.db.models import Q

    from yingji.core import regioncodes

    return _any(
        [
            Q(**{f"{field}__startswith": regioncodes.prefix(code)})
            for code in sorted(ctx.scope.region_codes)
        ]
    )


# ---------------------------------------------------------------- inspections


def _to_inspect(ctx: Context):
    from django.db.models import Q

    from yingji.enforcement import services
    from yingji.enforcement.models import Inspection

    mine = []
    if getattr(ctx.user, "pk", None):
        mine.append(
            Q(
                pk__in=Inspection.inspectors.through.objects.filter(
                    inspector__user=ctx.user
                ).values("inspection_id")
            )
        )
    if ctx.scope.department_ids:
        mine.append(Q(department_id__in=_departments(ctx)))
    if not mine:
        return None
    horizon = _now(ctx).date() + dt.timedelta(days=workbench.DUE_SOON_DAYS)
    return services.inspections_in_scope(ctx.scope).filter(
        _any(mine), state=Inspection.State.PLANNED, window_start__lte=horizon
    )


def _inspectors(ids: list[int]) -> dict[int, list[str]]:
    from yingji.enforcement.models import Inspection

    out: dict[int, list[str]] = {}
    for inspection_id, name in (
        Inspection.inspectors.through.objects.filter(inspection_id__in=ids)
        .order_by("inspector__certificate_number")
        .values_list("inspection_id", "inspector__name")
    ):
        out.setdefault(inspection_id, []).append(name)
    return out


def inspect_items(ctx: Context) -> Iterable[Item]:
    from yingji.enforcement.models import Inspection
    from yingji.enforcement.services import CATEGORY_LABELS

    qs = _to_inspect(ctx)
    if qs is None:
        return []
    now = _now(ctx)
    rows = list(
        qs.order_by("window_end", "pk").values(
            "pk",
            "kind",
            "category",
            "window_label",
            "window_end",
            "enterprise__name",
            "district__name",
        )[: ctx.limit]
    )
    if not rows:
        return []
    names = _inspectors([r["pk"] for r in rows])
    inspection_url = workbench.url_for("enforcement:inspection")
    kinds = dict(Inspection.Kind.choices)
    return [
        Item(
            "待检查",
            f"{r['enterprise__name']}({r['window_label']}{kinds.get(r['kind'], '')})",
            inspection_url(r["pk"]) + "#record-form",
            action="录入结果",
            deadline=r["window_end"],
            urgency=workbench.by_deadline(r["window_end"], now),
            detail=" · ".join(
                p
                for p in (
                    CATEGORY_LABELS.get(r["category"], r["category"]),
                    r["district__name"] or "",
                    f"执法人员 {'、'.join(names[r['pk']])}" if names.get(r["pk"]) else "",
                )
                if p
            ),
        )
        for r in rows
    ]


def inspect_count(ctx: Context) -> int:
    qs = _to_inspect(ctx)
    return 0 if qs is None else qs.count()


def _to_publish(ctx: Context):
    from yingji.enforcement import services
    from yingji.enforcement.models import Inspection

    if not ctx.scope.department_ids:
        return None
    return services.inspections_in_scope(ctx.scope).filter(
        department_id__in=_departments(ctx),
        state=Inspection.State.DONE,
        publication__isnull=True,
    )


def publish_items(ctx: Context) -> Iterable[Item]:
    from django.db.models import F

    from yingji.enforcement.models import Inspection

    qs = _to_publish(ctx)
    if qs is None:
        return []
    now = _now(ctx)
    outcomes = dict(Inspection.Outcome.choices)
    inspection_url = workbench.url_for("enforcement:inspection")
    rows = qs.order_by(F("publish_by").asc(nulls_last=True), "pk").values(
        "pk", "inspected_on", "publish_by", "outcome", "enterprise__name", "district__name"
    )[: ctx.limit]
    return [
        Item(
            "待公示检查结果",
            f"{r['enterprise__name']}({r['inspected_on']:%Y-%m-%d} 检查)",
            inspection_url(r["pk"]) + "#publish",
            action="公示",
            deadline=r["publish_by"],
            urgency=workbench.by_deadline(r["publish_by"], now),
            detail=" · ".join(
                p
                for p in (
                    f"检查结论 {outcomes.get(r['outcome'], '—')}",
                    r["district__name"] or "",
                )
                if p
            ),
        )
        for r in rows
    ]


def publish_count(ctx: Context) -> int:
    qs = _to_publish(ctx)
    return 0 if qs is None else qs.count()


# ---------------------------------------------------------------- penalty cases


def _cases(ctx: Context):
    from django.db.models import Q

    from yingji.enforcement import services

    waiting = []
    if ctx.scope.department_ids:
        waiting.append(Q(department_id__in=_departments(ctx), state__in=HANDLER_STATES))
    if ctx.scope.edits_all:
        waiting.append(Q(state__in=APPROVER_STATES))
    if not waiting:
        return None
    return services.cases_in_scope(ctx.scope).filter(_any(waiting))


def case_items(ctx: Context) -> Iterable[Item]:
    qs = _cases(ctx)
    if qs is None:
        return []
    now = _now(ctx)
    days = dt.timedelta(days=case_decision_days())
    case_url = workbench.url_for("enforcement:case")
    rows = qs.order_by("opened_on", "pk").values(
        "pk",
        "number",
        "state",
        "opened_on",
        "proposed_amount",
        "enterprise__name",
        "department__name",
    )[: ctx.limit]
    out = []
    for r in rows:
        state = casefsm.State(r["state"])
        deadline = r["opened_on"] + days if state in UNDECIDED_STATES else None
        parts = [
            state.label,
            f"办案部门 {r['department__name']}",
            f"{r['opened_on']:%Y-%m-%d} 立案",
        ]
        if r["proposed_amount"] is not None:
            parts.append(f"拟罚款 {r['proposed_amount']:,.0f} 元")
        if deadline is not None:
            parts.append(f"应于 {deadline:%Y-%m-%d} 前作出处罚决定")
        out.append(
            Item(
                "待决定案件" if state in APPROVER_STATES else "待办案件",
                f"{r['number']} {r['enterprise__name']}",
                case_url(r["pk"]) + "#case-form",
                action=CASE_ACTIONS[state],
                deadline=deadline,
                urgency=workbench.by_deadline(deadline, now),
                detail=" · ".join(parts),
            )
        )
    return out


def case_count(ctx: Context) -> int:
    qs = _cases(ctx)
    return 0 if qs is None else qs.count()


# ---------------------------------------------------------------- accident look-backs


def _lookback_items(ctx: Context):
    from django.db.models import Q

    from yingji.enforcement.models import LookbackItem

    # An item named to a platform department is that department's; one carried out
    # outside the platform (市纪委监委, an enterprise) is followed by the look-back's
    # department and the accident's district (lookback.may_report_progress).
    depts = _departments(ctx)
    unnamed = _any(
        ([Q(case__department_id__in=depts)] if depts else [])
        + [q for q in [_district_q(ctx, "case__district__code")] if q is not None]
    )
    mine = _any(
        ([Q(responsible_department_id__in=depts)] if depts else [])
        + ([Q(responsible_department__isnull=True) & unnamed] if unnamed is not None else [])
    )
    if mine is None:
        return None
    return (
        LookbackItem.objects.filter(mine)
        .exclude(status=LookbackItem.Status.DONE)
        .exclude(case__state=rules.State.CLOSED)
    )


def lookback_item_items(ctx: Context) -> Iterable[Item]:
    from django.db.models import F

    from yingji.enforcement.models import LookbackItem

    qs = _lookback_items(ctx)
    if qs is None:
        return []
    now = _now(ctx)
    kinds, statuses = dict(LookbackItem.Kind.choices), dict(LookbackItem.Status.choices)
    lookback_url = workbench.url_for("enforcement:lookback")
    rows = qs.order_by(F("deadline").asc(nulls_last=True), "pk").values(
        "pk",
        "case_id",
        "kind",
        "text",
        "responsible",
        "deadline",
        "status",
        "case__accident__code",
    )[: ctx.limit]
    out = []
    for r in rows:
        text = r["text"] if len(r["text"]) <= 30 else r["text"][:29] + "…"
        out.append(
            Item(
                "回头看事项",
                f"{r['case__accident__code']} {kinds[r['kind']]}:{text}",
                lookback_url(r["case_id"]) + "#items",
                action="报送落实情况",
                deadline=r["deadline"],
                urgency=workbench.by_deadline(r["deadline"], now),
                detail=f"落实主体 {r['responsible']} · {statuses[r['status']]}",
            )
        )
    return out


def lookback_item_count(ctx: Context) -> int:
    qs = _lookback_items(ctx)
    return 0 if qs is None else qs.count()


def _lookback_cases(ctx: Context):
    from django.db.models import Q

    from yingji.enforcement.models import LookbackCase

    waiting = []
    if ctx.scope.department_ids:
        waiting.append(
            Q(department_id__in=_departments(ctx))
            & (
                Q(state__in=sorted(rules.UNEVALUATED_STATES))
                | Q(state=rules.State.EVALUATED, conclusion=rules.Conclusion.UNQUALIFIED)
            )
        )
    if ctx.scope.edits_all:
        # only those who decide close an evaluation that passed
        waiting.append(
            Q(
                state=rules.State.EVALUATED,
                conclusion__in=[rules.Conclusion.QUALIFIED, rules.Conclusion.BASIC],
            )
        )
    if not waiting:
        return None
    return LookbackCase.objects.filter(_any(waiting))


def _lookback_action(state: str, conclusion: str, approved: bool) -> str:
    if state == rules.State.PENDING:
        return "开始评估" if approved else "录入批复"
    if state == rules.State.EVALUATED:
        return "整改复查" if conclusion == rules.Conclusion.UNQUALIFIED else "办结"
    return {rules.State.EVALUATING: "作出结论", rules.State.RECHECK: "重新评估"}[state]


def lookback_case_items(ctx: Context) -> Iterable[Item]:
    from django.db.models import F

    from yingji.enforcement.models import LookbackCase
    from yingji.risk.models import Accident

    qs = _lookback_cases(ctx)
    if qs is None:
        return []
    now = _now(ctx)
    levels = dict(Accident.Level.choices)
    conclusions = dict(LookbackCase.CONCLUSION_CHOICES)
    lookback_url = workbench.url_for("enforcement:lookback")
    rows = qs.order_by(F("due_on").asc(nulls_last=True), "pk").values(
        "pk",
        "state",
        "conclusion",
        "due_on",
        "report_approved_on",
        "accident__code",
        "accident__level",
        "accident__place",
        "district__name",
    )[: ctx.limit]
    out = []
    for r in rows:
        state = rules.State(r["state"])
        due = r["due_on"] if state in rules.UNEVALUATED_STATES else None
        parts = [state.label]
        if r["conclusion"]:
            parts.append(f"结论 {conclusions.get(r['conclusion'], r['conclusion'])}")
        parts.append(r["district__name"] or "未定位")
        if r["report_approved_on"]:
            parts.append(f"调查报告 {r['report_approved_on']:%Y-%m-%d} 批复")
        else:
            parts.append("调查报告批复未录入")
        out.append(
            Item(
                "事故整改评估",
                f"{r['accident__code']} {levels.get(r['accident__level'], '')}"
                + (f"({r['accident__place']})" if r["accident__place"] else ""),
                lookback_url(r["pk"]) + "#lookback-form",
                action=_lookback_action(state, r["conclusion"], bool(r["report_approved_on"])),
                deadline=due,
                urgency=workbench.by_deadline(due, now),
                detail=" · ".join(parts),
            )
        )
    return out


def lookback_case_count(ctx: Context) -> int:
    qs = _lookback_cases(ctx)
    return 0 if qs is None else qs.count()


def register() -> None:
    for key, kind, items, count, order in (
        ("enforcement.inspect", "待检查", inspect_items, inspect_count, 60),
        ("enforcement.publish", "待公示检查结果", publish_items, publish_count, 61),
        ("enforcement.case", "待办案件", case_items, case_count, 62),
        ("enforcement.lookback_item", "回头看事项", lookback_item_items, lookback_item_count, 63),
        ("enforcement.lookback_case", "事故整改评估", lookback_case_items, lookback_case_count, 64),
    ):
        workbench.register(key, kind, group="enforcement", items=items, count=count, order=order)
