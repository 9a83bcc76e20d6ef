"""The accident look-back (事故整改评估/"回头看", seed items 34 and 36): open a
case for every 较大-or-higher accident and for accidents marked typical, record
the investigation report's accountability recommendations and rectification
measures and their progress, remind and escalate overdue items through the
outbox, evaluate (lookbackrules.py), turn a failed evaluation's open measures
into hazards in the risk register, and sum up the year (also as .xlsx).

Settings: ``YINGJI_ENFORCEMENT_LOOKBACK = {"evaluation_months": 12,
"reminder_workdays": 3, "department": "执法处"}``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse

from yingji.core import links, outbox
from yingji.core import workcalendar as wc
from yingji.core.models import Department, Region, RegionLevel
from yingji.enforcement import lookbackrules as rules
from yingji.enforcement.models import LookbackCase, LookbackEvent, LookbackItem
from yingji.enforcement.services import SYSTEM, _label, _scope, _user, today
from yingji.risk.models import Accident, Enterprise, Hazard
from yingji.risk.services import create_hazard

DEFAULTS = {"evaluation_months": 12, "reminder_workdays": 3, "department": "执法处"}
QUALIFYING_LEVELS = (Accident.Level.LARGER, Accident.Level.MAJOR, Accident.Level.EXTRAORDINARY)
ITEM_STATUS = LookbackItem.Status


def setting(name: str) -> Any:
    return {**DEFAULTS, **getattr(settings, "YINGJI_ENFORCEMENT_LOOKBACK", {})}[name]


def lead_department() -> Department:
    """The department that leads the look-back (执法处, seed item 36)."""
    name = setting("department")
    dept = (
        Department.objects.filter(name=name).first()
        or Department.objects.filter(aliases__alias=name).first()
    )
    if dept is None:
        raise ValidationError(
            f"部门名录中没有“{name}”,无法启动事故整改评估"
            "(设置 YINGJI_ENFORCEMENT_LOOKBACK['department'])"
        )
    return dept.canonical()


# ---------------------------------------------------------------- who may do what


def actor_kinds(user: Any, case: LookbackCase) -> set[str]:
    scope = _scope(user)
    if scope.edits_all:
        return {rules.APPROVER, rules.HANDLER}
    return {rules.HANDLER} if scope.can_edit_department(case.department_id) else set()


def may_report_progress(user: Any, case: LookbackCase, item: LookbackItem) -> bool:
    """The case's handlers, the item's responsible department, and district staff
    of the accident's district record an item's progress."""
    if actor_kinds(user, case):
        return True
    scope = _scope(user)
    if item.responsible_department_id and scope.can_edit_department(item.responsible_department_id):
        return True
    return bool(scope.region_codes) and scope.covers_region(case.district_id)


def visible_cases(user: Any):
    """Cases the user sees: their department's, their district's, and those where
    their department must carry out an item."""
    scope = _scope(user)
    if scope.sees_all:
        return LookbackCase.objects.all()
    responsible = LookbackItem.objects.filter(
        responsible_department__in=sorted(scope.department_ids)
    ).values("case_id")
    return LookbackCase.objects.filter(
        scope.q("department", "district__code") | Q(pk__in=responsible)
    )


def published_cases(limit: int = 200):
    """Evaluated look-backs for the public page (安全生产法 art. 86: the evaluation is
    made public): the accident, the conclusion and how many items were carried out —
    never the names in the accountability recommendations."""
    return (
        LookbackCase.objects.exclude(conclusion="")
        .filter(evaluated_on__isnull=False)
        .select_related("accident", "district")
        .annotate(
            items_total=Count("items"),
            items_done=Count("items", filter=Q(items__status=LookbackItem.Status.DONE)),
        )
        .order_by("-evaluated_on")[:limit]
    )


def accident_links(accidents: Sequence[Accident]) -> dict[int, links.Link]:
    """The 回头看 column on risk's accident list (core/links.py, registered in
    apps.py): each accident's case, as its state, linked to the case page."""
    cases = LookbackCase.objects.filter(accident_id__in=[a.pk for a in accidents]).only(
        "pk", "accident_id", "state"
    )
    return {
        c.accident_id: links.Link(
            c.get_state_display(), reverse("enforcement:lookback", args=[c.pk])
        )
        for c in cases
    }


def _require_handler(user: Any, case: LookbackCase, what: str) -> None:
    if not actor_kinds(user, case):
        raise PermissionDenied(f"无权{what}:仅限{case.department}人员或局领导、督查、管理员")


def _event(
    case: LookbackCase,
    action: str,
    user: Any,
    *,
    comment: str = "",
    source: str = "",
    target: str = "",
    item: LookbackItem | None = None,
    on: dt.date | None = None,
) -> None:
    LookbackEvent.objects.create(
        case=case,
        item=item,
        action=action,
        from_state=source,
        to_state=target,
        on=on or today(),
        actor=_user(user),
        actor_label=_label(user),
        comment=comment,
    )


# ---------------------------------------------------------------- opening cases


def open_case(
    accident: Accident,
    reason: str,
    user: Any,
    *,
    typical_reason: str = "",
    on: dt.date | None = None,
) -> tuple[LookbackCase, bool]:
    """The accident's case, opened now if it has none (created is False otherwise)."""
    existing = LookbackCase.objects.filter(accident=accident).first()
    if existing is not None:
        return existing, False
    day = on or today()
    try:
        with transaction.atomic():
            case = LookbackCase.objects.create(
                accident=accident,
                reason=reason,
                typical=reason == LookbackCase.Reason.TYPICAL,
                typical_reason=typical_reason,
                department=lead_department(),
                district_id=accident.district_id,
                opened_on=day,
            )
            _event(
                case,
                "open",
                user,
                target=case.state,
                on=day,
                comment=f"{accident.get_level_display()}:{LookbackCase.Reason(reason).label}"
                + (f"({typical_reason})" if typical_reason else ""),
            )
    except IntegrityError:  # a concurrent run opened it first
        return LookbackCase.objects.get(accident=accident), False
    return case, True


def open_cases(day: dt.date | None = None, user: Any = SYSTEM) -> list[LookbackCase]:
    """Open a case for every 较大-or-higher accident that has none (idempotent);
    the daily job and `yingji enforcement lookback open` call it."""
    pending = Accident.objects.filter(
        level__in=QUALIFYING_LEVELS, lookback__isnull=True, occurred_at__date__lte=day or today()
    )
    opened = []
    for accident in pending.order_by("occurred_at", "pk"):
        case, created = open_case(accident, LookbackCase.Reason.LEVEL, user, on=day)
        if created:
            opened.append(case)
    return opened


def mark_typical(
    accident: Accident, user: Any, *, reason: str, on: dt.date | None = None
) -> LookbackCase:
    """Mark an accident typical (典型事故) and open its look-back (any level)."""
    scope = _scope(user)
    dept = lead_department()
    if not scope.can_edit_department(dept.pk):
        raise PermissionDenied(f"无权认定典型事故:仅限{dept}人员或局领导、督查、管理员")
    if not (reason or "").strip():
        raise ValidationError({"reason": "须写明列为典型事故的理由(暴露的突出问题)"})
    case, created = open_case(
        accident, LookbackCase.Reason.TYPICAL, user, typical_reason=reason.strip(), on=on
    )
    if not created and not case.typical:
        case.typical, case.typical_reason = True, reason.strip()
        case.save(update_fields=["typical", "typical_reason"])
        _event(case, "typical", user, comment=reason.strip(), on=on)
    return case


# ---------------------------------------------------------------- the report and its items


def record_report(
    case: LookbackCase,
    user: Any,
    *,
    approved_on: dt.date,
    approver: str = "",
    on: dt.date | None = None,
) -> LookbackCase:
    """Record the investigation report's approval (批复); the due date follows."""
    _require_handler(user, case, "录入调查报告批复")
    if approved_on < case.accident.occurred_at.date():
        raise ValidationError({"approved_on": "批复日期不能早于事故发生日期"})
    case.report_approved_on, case.report_approver = approved_on, approver.strip()
    case.due_on = rules.evaluation_due(approved_on, int(setting("evaluation_months")))
    case.save(update_fields=["report_approved_on", "report_approver", "due_on"])
    _event(
        case,
        "report",
        user,
        comment=f"调查报告于 {approved_on} 批复"
        + (f"({approver.strip()})" if approver.strip() else "")
        + f",评估期限 {case.due_on}",
        on=on,
    )
    return case


def item_deadline(start: dt.date, workdays: int) -> dt.date:
    """`workdays` working days after `start`. Past the calendar's years the
    Monday–Friday count is used (holidays unknown) rather than refusing."""
    try:
        return wc.add_workdays(start, workdays)
    except wc.CalendarRangeError:
        day, left = start, workdays
        while left > 0:
            day += dt.timedelta(days=1)
            left -= day.weekday() < 5
        return day


def add_item(
    case: LookbackCase,
    user: Any,
    *,
    kind: str,
    text: str,
    responsible: str,
    sanction: str = "",
    responsible_department: Department | None = None,
    enterprise: Enterprise | None = None,
    deadline_workdays: int | None = None,
    on: dt.date | None = None,
) -> LookbackItem:
    """Add an accountability recommendation or a rectification measure from the
    report; a deadline in working days counts from the report's approval."""
    _require_handler(user, case, "录入调查报告事项")
    if case.state == rules.State.CLOSED:
        raise ValidationError("评估已办结,不能再增加事项")
    if kind not in LookbackItem.Kind.values:
        raise ValidationError({"kind": f"未知的事项类别:{kind}"})
    if kind == LookbackItem.Kind.ACCOUNTABILITY and sanction not in LookbackItem.Sanction.values:
        raise ValidationError({"sanction": "责任追究建议须选择追责方式"})
    if kind == LookbackItem.Kind.MEASURE:
        sanction = ""
    if not text.strip() or not responsible.strip():
        raise ValidationError("须填写事项内容和落实主体")
    deadline = None
    if deadline_workdays:
        if case.report_approved_on is None:
            raise ValidationError(
                {"deadline_workdays": "须先录入调查报告批复日期,时限从批复日起算"}
            )
        deadline = item_deadline(case.report_approved_on, deadline_workdays)
    item = LookbackItem.objects.create(
        case=case,
        kind=kind,
        text=text.strip(),
        sanction=sanction,
        responsible=responsible.strip(),
        responsible_department=responsible_department,
        enterprise=enterprise,
        deadline_workdays=deadline_workdays or None,
        deadline=deadline,
    )
    _event(
        case,
        "add_item",
        user,
        item=item,
        on=on,
        comment=f"{item.get_kind_display()}:{item.text[:200]}(落实主体 {item.responsible}"
        + (f",期限 {deadline}" if deadline else "")
        + ")",
    )
    return item


def report_progress(
    item: LookbackItem,
    user: Any,
    *,
    status: str,
    evidence: str = "",
    done_on: dt.date | None = None,
    on: dt.date | None = None,
) -> LookbackItem:
    """Record an item's progress; 已落实 needs the evidence and the date."""
    case = item.case
    if not may_report_progress(user, case, item):
        raise PermissionDenied("无权报送该事项的落实情况")
    if case.state == rules.State.CLOSED:
        raise ValidationError("评估已办结,落实情况不能再更改")
    if status not in ITEM_STATUS.values:
        raise ValidationError({"status": f"未知的落实情况:{status}"})
    if status == ITEM_STATUS.DONE and (not evidence.strip() or done_on is None):
        raise ValidationError(
            {"evidence": "“已落实”须填写落实依据(文号、处分决定、验收记录等)和落实日期"}
        )
    source = item.status
    item.status = status
    item.evidence = evidence.strip() or item.evidence
    item.done_on = done_on if status == ITEM_STATUS.DONE else None
    item.save(update_fields=["status", "evidence", "done_on"])
    _event(
        case,
        "progress",
        user,
        item=item,
        source=source,
        target=status,
        on=on or (done_on if status == ITEM_STATUS.DONE else None),
        comment=f"{item.text[:60]}:{ITEM_STATUS(source).label} → {item.get_status_display()}"
        + (f";{evidence.strip()}" if evidence.strip() else ""),
    )
    return item


def tally(case: LookbackCase) -> rules.Tally:
    counts = {"accountability": [0, 0], "measure": [0, 0]}
    for kind, status in case.items.values_list("kind", "status"):
        counts[kind][0] += 1
        counts[kind][1] += status == ITEM_STATUS.DONE
    return rules.Tally(
        counts["accountability"][0],
        counts["accountability"][1],
        counts["measure"][0],
        counts["measure"][1],
    )


# ---------------------------------------------------------------- the evaluation


def transition(
    case: LookbackCase,
    action: str,
    user: Any,
    *,
    comment: str = "",
    conclusion: str | None = None,
    on: dt.date | None = None,
) -> LookbackCase:
    """Move the evaluation along lookbackrules.TRANSITIONS. `conclude` derives the
    conclusion from the items; another conclusion needs `comment` as the reason."""
    kinds = actor_kinds(user, case)
    if not kinds:
        raise PermissionDenied("无权办理该事故整改评估")
    try:
        t = rules.check(
            action, case.state, kinds, comment=comment, conclusion=case.conclusion or None
        )
        if action == "start" and case.report_approved_on is None:
            raise rules.TransitionRefused("须先录入调查报告批复日期")
        if action in ("start", "conclude") and tally(case).empty:
            raise rules.TransitionRefused("须先录入调查报告中的责任追究建议和整改措施")
        chosen = derived = None
        if action == "conclude":
            derived = rules.derive_conclusion(tally(case))
            chosen = rules.choose_conclusion(derived, conclusion, comment)
    except rules.NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except (rules.TransitionRefused, ValueError) as exc:
        raise ValidationError(str(exc)) from exc
    day = on or today()
    with transaction.atomic():
        source = case.state
        case.state = t.target
        note = comment
        if action == "conclude":
            case.derived_conclusion, case.conclusion = derived, chosen
            case.override_reason = comment.strip() if chosen != derived else ""
            case.evaluated_on = day
            share = tally(case)
            note = (
                f"结论:{chosen.label}(责任追究落实 {share.accountability_share:.0%},"
                f"整改措施落实 {share.measures_share:.0%},按规则应为{derived.label})"
                + (
                    f";调整理由:{comment.strip()}"
                    if chosen != derived
                    else (f";{comment.strip()}" if comment.strip() else "")
                )
            )
        if t.target == rules.State.CLOSED:
            case.closed_on = day
        case.save()
        _event(case, action, user, source=source, target=t.target, comment=note, on=day)
    return case


def findings_to_hazards(
    case: LookbackCase, user: Any, item_ids: list[int] | None = None, on: dt.date | None = None
) -> list[Hazard]:
    """Turn a failed evaluation's unfinished rectification measures into hidden
    hazards in the risk register (the path inspection findings take: risk's
    create_hazard with source 执法检查 and the item as origin). Once per item."""
    _require_handler(user, case, "将评估发现的问题转为隐患")
    if case.conclusion != rules.Conclusion.UNQUALIFIED:
        raise ValidationError("只有评估结论为“不合格”时,才将未落实的整改措施转为隐患")
    items = (
        case.items.filter(kind=LookbackItem.Kind.MEASURE, hazard__isnull=True)
        .exclude(status=ITEM_STATUS.DONE)
        .select_related("enterprise")
    )
    if item_ids is not None:
        items = items.filter(pk__in=item_ids)
    made = []
    with transaction.atomic():
        for item in items:
            enterprise = item.enterprise or case.accident.enterprise
            if enterprise is None:
                raise ValidationError(f"整改措施“{item.text[:30]}”没有整改企业,不能转为隐患")
            item.hazard = create_hazard(
                enterprise,
                source=Hazard.Source.ENFORCEMENT,
                level=Hazard.Level.GENERAL,
                description=f"事故整改评估(回头看)发现:{case.accident.code} 整改措施未落实——{item.text}",
                found_on=on,
                origin=item,
                user=user,
            )
            item.save(update_fields=["hazard"])
            _event(case, "hazard", user, item=item, comment=f"转为隐患 {item.hazard.code}", on=on)
            made.append(item.hazard)
    return made


# ---------------------------------------------------------------- overdue and escalation


def overdue_items(day: dt.date):
    return (
        LookbackItem.objects.filter(deadline__lt=day)
        .exclude(status=ITEM_STATUS.DONE)
        .exclude(case__state=rules.State.CLOSED)
    )


def overdue_q(day: dt.date) -> Q:
    """Cases with an overdue item or an evaluation past its due date."""
    late_items = overdue_items(day).values("case_id")
    return Q(pk__in=late_items) | Q(due_on__lt=day, state__in=sorted(rules.UNEVALUATED_STATES))


def supervise(day: dt.date) -> dict[str, int]:
    """Reminders before item deadlines, escalation of overdue items (to the
    responsible department and the lead department) and of overdue evaluations:
    each through the outbox, once (dedupe keys)."""
    counts = {"reminders": 0, "overdue_items": 0, "overdue_evaluations": 0}
    lead_days = int(setting("reminder_workdays"))
    try:
        horizon = wc.add_workdays(day, lead_days)
    except wc.CalendarRangeError:
        horizon = day + dt.timedelta(days=lead_days * 7 // 5)
    open_items = (
        LookbackItem.objects.exclude(status=ITEM_STATUS.DONE)
        .exclude(case__state=rules.State.CLOSED)
        .select_related("case__accident", "case__department", "responsible_department")
    )
    for item in open_items.filter(deadline__gte=day, deadline__lte=horizon):
        target = item.responsible_department or item.case.department
        notes = outbox.notify_department(
            target,
            subject=f"事故整改事项即将到期:{item.case.accident.code}",
            body=(
                f"{item.case.accident}调查报告中的{item.get_kind_display()}“{item.text}”"
                f"(落实主体 {item.responsible})应于 {item.deadline} 前落实,目前{item.get_status_display()}。"
                "请按期落实并在应急管理平台“事故整改评估”报送落实情况。"
            ),
            dedupe_key=f"enforcement-lookback-reminder:{item.pk}",
            source=item,
        )
        counts["reminders"] += bool(notes)
    for item in open_items.filter(deadline__lt=day):
        body = (
            f"{item.case.accident}调查报告中的{item.get_kind_display()}“{item.text}”"
            f"(落实主体 {item.responsible})应于 {item.deadline} 前落实,至今{item.get_status_display()},"
            "已逾期。请督促落实并报送落实依据。"
        )
        targets = {item.case.department_id: item.case.department}
        if item.responsible_department_id:
            targets[item.responsible_department_id] = item.responsible_department
        sent = False
        for dept in targets.values():
            sent |= bool(
                outbox.notify_department(
                    dept,
                    subject=f"事故整改事项逾期未落实:{item.case.accident.code}",
                    body=body,
                    dedupe_key=f"enforcement-lookback-overdue:{item.pk}:d{dept.pk}",
                    source=item,
                )
            )
        counts["overdue_items"] += sent
    late_cases = LookbackCase.objects.filter(
        due_on__lt=day, state__in=sorted(rules.UNEVALUATED_STATES)
    ).select_related("accident", "department")
    for case in late_cases:
        notes = outbox.notify_department(
            case.department,
            subject=f"事故整改评估逾期:{case.accident.code}",
            body=(
                f"{case.accident}的调查报告于 {case.report_approved_on} 批复,整改和防范措施落实情况"
                f"评估应于 {case.due_on} 前完成(《安全生产法》第八十六条:批复后一年内),目前为"
                f"“{case.get_state_display()}”。"
            ),
            dedupe_key=f"enforcement-lookback-evaluation-overdue:{case.pk}",
            source=case,
        )
        counts["overdue_evaluations"] += bool(notes)
    return counts


# ---------------------------------------------------------------- the annual summary


@dataclass
class SummaryRow:
    key: str
    label: str
    due: int = 0
    evaluated: int = 0
    conclusions: dict[str, int] = field(
        default_factory=lambda: {c.value: 0 for c in rules.Conclusion}
    )
    accountability: int = 0
    accountability_done: int = 0
    measures: int = 0
    measures_done: int = 0

    @property
    def conclusion_counts(self) -> list[int]:
        return [self.conclusions[c.value] for c in rules.Conclusion]

    @property
    def accountability_share(self) -> float | None:
        return self.accountability_done / self.accountability if self.accountability else None

    @property
    def measures_share(self) -> float | None:
        return self.measures_done / self.measures if self.measures else None

    def add(self, other: SummaryRow) -> None:
        for name in (
            "due",
            "evaluated",
            "accountability",
            "accountability_done",
            "measures",
            "measures_done",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for k, v in other.conclusions.items():
            self.conclusions[k] += v


def summary(year: int, user: Any = SYSTEM) -> tuple[list[SummaryRow], SummaryRow]:
    """Per district: cases due in `year`, evaluated, conclusions, and the share of
    accountability recommendations and rectification measures carried out."""
    cases = visible_cases(user).filter(due_on__year=year)
    names = dict(Region.objects.filter(level=RegionLevel.DISTRICT).values_list("code", "name"))
    rows: dict[str, SummaryRow] = {}

    def row(code: str | None) -> SummaryRow:
        key = code or ""
        if key not in rows:
            rows[key] = SummaryRow(key, names.get(key, key or "未定位"))
        return rows[key]

    for district, conclusion in cases.values_list("district_id", "conclusion"):
        r = row(district)
        r.due += 1
        if conclusion:
            r.evaluated += 1
            r.conclusions[conclusion] += 1
    for district, kind, status in LookbackItem.objects.filter(case__in=cases).values_list(
        "case__district_id", "kind", "status"
    ):
        r = row(district)
        done = status == ITEM_STATUS.DONE
        if kind == LookbackItem.Kind.ACCOUNTABILITY:
            r.accountability += 1
            r.accountability_done += done
        else:
            r.measures += 1
            r.measures_done += done
    out = sorted(rows.values(), key=lambda r: (-r.due, r.key))
    total = SummaryRow("", "合计")
    for r in out:
        total.add(r)
    return out, total


def summary_xlsx(year: int, user: Any = SYSTEM) -> bytes:
    """The annual summary and every case due in the year, as .xlsx."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    rows, total = summary(year, user)
    wb = Workbook()
    ws = wb.active
    ws.title = f"{year}年汇总"
    head = [
        "区",
        "应评估",
        "已评估",
        "合格",
        "基本合格",
        "不合格",
        "责任追究建议",
        "已落实",
        "落实率",
        "整改措施",
        "已落实",
        "完成率",
    ]
    ws.append(head)
    for r in [*rows, total]:
        ws.append(
            [
                r.label,
                r.due,
                r.evaluated,
                *(r.conclusions[c.value] for c in rules.Conclusion),
                r.accountability,
                r.accountability_done,
                r.accountability_share,
                r.measures,
                r.measures_done,
                r.measures_share,
            ]
        )
    for col in ("I", "L"):
        for cell in ws[col][1:]:
            cell.number_format = "0.0%"
    ws2 = wb.create_sheet("评估明细")
    ws2.append(
        [
            "事故编号",
            "发生日期",
            "事故等级",
            "区",
            "开展原因",
            "批复日期",
            "评估期限",
            "状态",
            "评估结论",
            "按规则应得结论",
            "结论调整理由",
        ]
    )
    for c in visible_cases(user).filter(due_on__year=year).select_related("accident", "district"):
        ws2.append(
            [
                c.accident.code,
                c.accident.occurred_at.date(),
                c.accident.get_level_display(),
                c.district.name if c.district else "",
                c.get_reason_display(),
                c.report_approved_on,
                c.due_on,
                c.get_state_display(),
                c.get_conclusion_display(),
                c.get_derived_conclusion_display(),
                c.override_reason,
            ]
        )
    for sheet in (ws, ws2):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
