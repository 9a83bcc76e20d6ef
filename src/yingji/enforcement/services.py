"""Enforcement use cases: fix the seed, draw the annual plan and the key-date
visits, verify a draw, record inspections (findings → hazards, exemptions,
penalty cases), move cases through their state machine, keep the
serious-dishonesty list, publish results (with the late-publication alarm) and
count it all.

Pure logic lives in draw.py, casefsm.py and exemption.py; this module loads the
registers, calls it, and saves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from yingji.core import outbox, regioncodes
from yingji.core import workcalendar as wc
from yingji.core.models import Department, Region, RegionLevel, SpecialPeriod
from yingji.core.scope import EVERYTHING, Scope, scope_for
from yingji.core.workcalendar import add_months
from yingji.enforcement import casefsm, exemption
from yingji.enforcement import draw as drawing
from yingji.enforcement.models import (
    CaseEvent,
    Complaint,
    ConflictDeclaration,
    DishonestyListing,
    Draw,
    DrawVerification,
    ExemptionRule,
    Finding,
    Inspection,
    InspectionPlan,
    Inspector,
    Matter,
    PenaltyCase,
    Publication,
)
from yingji.risk import hazardflow
from yingji.risk.categories import KEY_CATEGORIES
from yingji.risk.models import Enterprise, Hazard
from yingji.risk.services import create_hazard

GENERAL_CATEGORY = "general"
CATEGORY_LABELS = {**KEY_CATEGORIES, GENERAL_CATEGORY: "一般工贸及其他"}
# The key dates of seed item 34; special periods (党的二十大 …) come from the calendar's data.
KEY_DATE_NAMES = ("春节", "清明", "端午", "七一", "中秋", "国庆")


class _System:
    """The platform itself acting (commands, jobs, the demo): all rights, no user."""

    is_authenticated = False

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = _System()


def _scope(user: Any) -> Scope:
    return EVERYTHING if user is SYSTEM else scope_for(user)


def today() -> dt.date:
    return timezone.localdate()


def _label(user: Any) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return "系统"
    profile = getattr(user, "profile", None)
    return profile.full_name if profile is not None and profile.full_name else user.get_username()


def _user(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def _require_edit(user: Any, department_id: int | None, what: str) -> Scope:
    scope = _scope(user)
    if not scope.can_edit_department(department_id):
        raise PermissionDenied(f"无权{what}:仅限该部门人员或局领导、督查、管理员")
    return scope


# ---------------------------------------------------------------- registers → draw inputs


def primary_category(enterprise: Enterprise) -> str:
    """The category an enterprise is drawn in: its first key category in the
    seed's order (a major hazard installation is a weight, not a category)."""
    own = set(enterprise.key_categories or [])
    for code in KEY_CATEGORIES:
        if code in own and code != "major_hazard_installation":
            return code
    return GENERAL_CATEGORY


def enterprise_district(enterprise: Enterprise) -> str | None:
    if enterprise.district_id:
        return enterprise.district_id
    return regioncodes.district_of(enterprise.street_id)


def _all_district_codes() -> list[str]:
    return list(Region.objects.filter(level=RegionLevel.DISTRICT).values_list("code", flat=True))


def inspector_register(on: dt.date | None = None) -> list[drawing.Inspector]:
    """Active inspectors as the draw sees them: a city-level district means every
    district; conflicts by credit code."""
    districts = _all_district_codes()
    conflicts: dict[int, set[str]] = defaultdict(set)
    for inspector_id, code in ConflictDeclaration.objects.values_list(
        "inspector_id", "enterprise__credit_code"
    ):
        conflicts[inspector_id].add(code)
    out = []
    for insp in Inspector.objects.filter(active=True).prefetch_related("districts"):
        covered: set[str] = set()
        for region in insp.districts.all():
            if region.level == RegionLevel.CITY:
                covered.update(d for d in districts if regioncodes.is_within(d, region.code))
            else:
                covered.add(regioncodes.district_of(region.code))
        out.append(
            drawing.Inspector(
                insp.certificate_number,
                frozenset(covered),
                insp.certificate_valid_from,
                insp.certificate_valid_to,
                frozenset(conflicts[insp.pk]),
            )
        )
    return out


def is_dishonest_q(on: dt.date):
    from django.db.models import Q

    return Q(listed_on__lte=on, expires_on__gte=on) & (
        Q(removed_on__isnull=True) | Q(removed_on__gt=on)
    )


def entity_register(
    on: dt.date, categories: Iterable[str] | None = None
) -> tuple[list[drawing.Entity], int]:
    """Active enterprises as the draw sees them on `on`, and how many were left
    out because they have no district (they cannot be matched to inspectors)."""
    wanted = set(categories or [])
    open_major = Counter(
        Hazard.objects.filter(level=Hazard.Level.MAJOR)
        .exclude(state=hazardflow.State.CLOSED)
        .values_list("enterprise_id", flat=True)
    )
    complaints = Counter(
        Complaint.objects.filter(
            received_on__gt=on - dt.timedelta(days=365),
            received_on__lte=on,
        ).values_list("enterprise_id", flat=True)
    )
    dishonest = set(
        DishonestyListing.objects.filter(is_dishonest_q(on)).values_list("enterprise_id", flat=True)
    )
    last: dict[int, tuple[str, ...]] = {}
    # The latest earlier inspection of each enterprise decides "last time".
    rows = Inspection.objects.order_by("enterprise_id", "-window_start", "-id").values_list(
        "enterprise_id", "pk"
    )
    latest: dict[int, int] = {}
    for enterprise_id, pk in rows:
        latest.setdefault(enterprise_id, pk)
    through = Inspection.inspectors.through.objects.filter(
        inspection_id__in=list(latest.values())
    ).values_list("inspection_id", "inspector__certificate_number")
    by_inspection: dict[int, list[str]] = defaultdict(list)
    for inspection_id, number in through:
        by_inspection[inspection_id].append(number)
    for enterprise_id, pk in latest.items():
        last[enterprise_id] = tuple(sorted(by_inspection[pk]))
    out, unlocated = [], 0
    for e in Enterprise.objects.filter(active=True).order_by("credit_code"):
        category = primary_category(e)
        if wanted and category not in wanted:
            continue
        district = enterprise_district(e)
        if district is None:
            unlocated += 1
            continue
        out.append(
            drawing.Entity(
                e.credit_code,
                category,
                district,
                e.has_major_hazard_installation,
                open_major.get(e.pk, 0),
                complaints.get(e.pk, 0),
                e.pk in dishonest,
                last.get(e.pk, ()),
            )
        )
    return out, unlocated


# ---------------------------------------------------------------- the seed


def announce_seed_source(plan: InspectionPlan, source: str, user: Any) -> InspectionPlan:
    """Publish which public value will be the seed (before it is known)."""
    _require_edit(user, plan.department_id, "公布随机种子来源")
    if plan.seed:
        raise ValidationError("随机种子已确定,不能再更改来源")
    if not source.strip():
        raise ValidationError({"seed_source": "须写明公开值的来源,例如“双色球 2022001 期开奖号码”"})
    plan.seed_source = source.strip()
    plan.seed_announced_at = timezone.now()
    # A secret salt, committed to now (its hash is published with the source) and
    # revealed with the inputs after the windows: with the public value alone
    # nobody can compute an unannounced visit in advance.
    plan.seed_salt = secrets.token_hex(16)
    plan.seed_salt_sha256 = hashlib.sha256(plan.seed_salt.encode()).hexdigest()
    plan.save(update_fields=["seed_source", "seed_announced_at", "seed_salt", "seed_salt_sha256"])
    return plan


def fix_seed(plan: InspectionPlan, value: str, user: Any) -> InspectionPlan:
    """Record the announced public value once known; the seed is its SHA-256."""
    _require_edit(user, plan.department_id, "确定随机种子")
    if not plan.seed_announced_at:
        raise ValidationError("须先公布随机种子的来源,再录入公开值")
    if plan.seed:
        raise ValidationError("随机种子已确定,不能更改")
    if not value.strip():
        raise ValidationError({"seed_value": "公开值不能为空"})
    plan.seed_value = value.strip()
    plan.seed = drawing.seed_from_public_value(value)
    plan.seed_fixed_at = timezone.now()
    plan.save(update_fields=["seed_value", "seed", "seed_fixed_at"])
    return plan


# ---------------------------------------------------------------- draws


def monthly_slots(year: int) -> tuple[drawing.Slot, ...]:
    out = []
    for m in range(1, 13):
        end = dt.date(year + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
        out.append(drawing.Slot(f"{year}年{m}月", dt.date(year, m, 1), end))
    return tuple(out)


def key_date_slots(year: int) -> list[drawing.Slot]:
    """The key dates of seed item 34 in `year`, and the special periods
    (党的二十大 …) recorded in the calendar's data."""
    special = [
        wc.KeyPeriod(p.name, p.start, p.end)
        for p in SpecialPeriod.objects.filter(start__year__lte=year, end__year__gte=year)
    ]
    special_names = {p.name for p in special}
    return [
        drawing.Slot(p.name, p.start, p.end)
        for p in wc.key_periods(year, special)
        if p.name in KEY_DATE_NAMES or p.name in special_names
    ]


def _parameters(
    plan: InspectionPlan, slots: tuple[drawing.Slot, ...], total: int | None = None
) -> drawing.Parameters:
    weights = {**asdict(drawing.Weights()), **(plan.weights or {})}
    return drawing.Parameters(
        slots=slots,
        proportions=dict(plan.proportions or {}),
        default_proportion=plan.default_proportion,
        total=total,
        inspectors_per_entity=plan.inspectors_per_entity,
        max_per_inspector=plan.max_per_inspector,
        weights=drawing.Weights(**weights),
    )


class DrawRefused(ValidationError):
    """The draw could not be made; the failed attempt is in the draw log (`.draw`)."""

    def __init__(self, message: str, draw: Draw | None = None):
        super().__init__(message)
        self.draw = draw


def _run(
    plan: InspectionPlan,
    kind: str,
    label: str,
    parameters: drawing.Parameters,
    categories: Iterable[str] | None,
    user: Any,
) -> Draw:
    if not plan.seed:
        raise ValidationError("随机种子尚未确定:须先公布来源并录入公开值,再抽取")
    failure: drawing.DrawImpossible | None = None
    with transaction.atomic():
        # One draw per label: the plan row is locked so two clicks cannot both draw.
        InspectionPlan.objects.select_for_update().filter(pk=plan.pk).first()
        if Draw.objects.filter(plan=plan, label=label, status=Draw.Status.DONE).exists():
            # Drawing again until a result pleases someone is what the seed prevents.
            raise ValidationError(f"“{label}”已抽取,不能重抽;可复核该次抽取")
        seed = drawing.derive_seed(plan.seed, label, plan.seed_salt)
        on = parameters.slots[0].start
        entities, unlocated = entity_register(on, categories)
        inspectors = inspector_register(on)
        inputs = drawing.inputs_document(entities, inspectors, parameters, seed)
        inputs["plan_seed"] = {
            "source": plan.seed_source,
            "value": plan.seed_value,
            "seed": plan.seed,
            "label": label,
            "salt": plan.seed_salt,
            "salt_sha256": plan.seed_salt_sha256,
            "announced_at": plan.seed_announced_at.isoformat(),
            "fixed_at": plan.seed_fixed_at.isoformat(),
        }
        inputs["unlocated_entities"] = unlocated
        record = Draw(
            plan=plan,
            kind=kind,
            label=label,
            seed=seed,
            algorithm=drawing.ALGORITHM,
            inputs=inputs,
            inputs_sha256=drawing.sha256_json(inputs),
            drawn_at=timezone.now(),
            drawn_by=_user(user),
        )
        try:
            result = drawing.draw(entities, inspectors, parameters, seed)
        except drawing.DrawImpossible as exc:
            # The failed attempt stays in the log, as public as a successful one.
            record.status, record.explanation = Draw.Status.IMPOSSIBLE, str(exc)
            record.save()
            failure = exc
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        else:
            record.status = Draw.Status.DONE
            record.result = drawing.result_document(result)
            record.result_sha256 = result.digest()
            record.save()
            _create_inspections(plan, record, result, parameters.slots)
    if failure is not None:
        raise DrawRefused(str(failure), record) from failure
    return record


def _create_inspections(
    plan: InspectionPlan, record: Draw, result: drawing.Result, slots: tuple[drawing.Slot, ...]
) -> None:
    enterprises = {
        e.credit_code: e
        for e in Enterprise.objects.filter(credit_code__in=[p.entity_id for p in result.picks])
    }
    inspectors = {i.certificate_number: i for i in Inspector.objects.all()}
    kind = (
        Inspection.Kind.DOUBLE_RANDOM
        if record.kind == Draw.Kind.ANNUAL
        else Inspection.Kind.UNANNOUNCED
    )
    for pick in result.picks:
        e = enterprises[pick.entity_id]
        slot = slots[pick.slot]
        inspection = Inspection.objects.create(
            plan=plan,
            draw=record,
            enterprise=e,
            kind=kind,
            category=pick.category,
            window_label=slot.label,
            window_start=slot.start,
            window_end=slot.end,
            district_id=enterprise_district(e),
            department=plan.department,
        )
        inspection.inspectors.set([inspectors[i] for i in pick.inspectors])


def draw_annual(plan: InspectionPlan, user: Any) -> Draw:
    """The annual double-random draw: entities per category, one month each."""
    _require_edit(user, plan.department_id, "抽取")
    return _run(
        plan, Draw.Kind.ANNUAL, "年度抽取", _parameters(plan, monthly_slots(plan.year)), None, user
    )


def draw_key_dates(plan: InspectionPlan, user: Any) -> list[Draw]:
    """One unannounced-visit draw per key date (春节 … 国庆, special periods) not
    yet drawn; stops at the first impossible one (DrawRefused)."""
    _require_edit(user, plan.department_id, "抽取")
    done = set(plan.draws.filter(status=Draw.Status.DONE).values_list("label", flat=True))
    out = []
    for slot in key_date_slots(plan.year):
        label = f"{slot.label}明查暗访"
        if label in done:
            continue
        out.append(
            _run(
                plan,
                Draw.Kind.KEY_DATE,
                label,
                _parameters(plan, (slot,), total=plan.key_date_count),
                plan.key_date_categories or None,
                user,
            )
        )
    return out


@dataclass
class Verification:
    ok: bool
    inputs_ok: bool
    result_sha256: str
    message: str


def verify_draw(record: Draw, *, save: bool = True, user: Any = None) -> Verification:
    """Re-run a draw from its recorded inputs and compare with its recorded result."""
    inputs_ok = drawing.sha256_json(
        record.inputs
    ) == record.inputs_sha256 and not drawing.provenance_problems(record.inputs)
    try:
        digest = drawing.rerun(record.inputs).digest()
    except drawing.DrawImpossible:
        digest = ""
    if record.status == Draw.Status.IMPOSSIBLE:
        ok = inputs_ok and digest == ""
        message = "复核一致:按公布的输入重新运行,同样无法完成" if ok else "复核不一致"
    else:
        ok = inputs_ok and digest == record.result_sha256
        message = (
            f"复核一致:按公布的输入重新运行,结果摘要 {digest} 与记录相同"
            if ok
            else "复核不一致:"
            + (
                "输入摘要与记录不符"
                if not inputs_ok
                else f"重新运行得到 {digest or '无法完成'},记录为 {record.result_sha256}"
            )
        )
    if save:
        DrawVerification.objects.create(
            draw=record,
            at=timezone.now(),
            ok=ok,
            inputs_ok=inputs_ok,
            result_sha256=digest,
            message=message[:300],
            by=_user(user),
        )
    return Verification(ok, inputs_ok, digest, message)


def inputs_public(record: Draw, day: dt.date | None = None) -> bool:
    """A draw's inputs (from which anyone can compute its result) are published once
    its last inspection window has ended: unannounced visits stay unannounced."""
    ends = [dt.date.fromisoformat(s["end"]) for s in record.inputs["parameters"]["slots"]]
    return max(ends) < (day or today())


# ---------------------------------------------------------------- plans


def parse_proportions(text: str) -> dict[str, float]:
    """ "hc_production=0.2, town_gas=0.1" (or 危险化学品生产=20%) → {code: fraction}."""
    labels = {v: k for k, v in CATEGORY_LABELS.items()}
    out: dict[str, float] = {}
    for part in [p for p in re.split(r"[,，;；\n]+", text or "") if p.strip()]:
        if "=" not in part:
            raise ValidationError({"proportions": f"应写作“领域=比例”:{part.strip()}"})
        name, value = (x.strip() for x in part.split("=", 1))
        code = name if name in CATEGORY_LABELS else labels.get(name)
        if code is None:
            raise ValidationError({"proportions": f"未知的领域:{name}"})
        try:
            number = float(value[:-1]) / 100 if value.endswith("%") else float(value)
        except ValueError:
            raise ValidationError({"proportions": f"比例不是数字:{value}"}) from None
        out[code] = number
    return out


def create_plan(
    user: Any,
    *,
    year: int,
    title: str,
    department: Department,
    proportions: dict[str, float] | None = None,
    default_proportion: float = 0.05,
    inspectors_per_entity: int = 2,
    key_date_count: int = 3,
    publication_workdays: int = 20,
    max_per_inspector: int | None = None,
) -> InspectionPlan:
    """A new annual plan of `department` (its staff or leaders), parameters checked
    the way the draw will check them."""
    _require_edit(user, department.pk, "为该部门制定检查计划")
    proportions = dict(proportions or {})
    try:
        drawing.validate(
            drawing.Parameters(
                slots=monthly_slots(year),
                proportions=proportions,
                default_proportion=default_proportion,
                inspectors_per_entity=inspectors_per_entity,
                max_per_inspector=max_per_inspector,
            )
        )
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    if not title.strip():
        raise ValidationError({"title": "名称不能为空"})
    return InspectionPlan.objects.create(
        year=year,
        title=title.strip(),
        department=department,
        proportions=proportions,
        default_proportion=default_proportion,
        inspectors_per_entity=inspectors_per_entity,
        key_date_count=key_date_count,
        publication_workdays=publication_workdays,
        max_per_inspector=max_per_inspector,
    )


def monthly_schedule(plan: InspectionPlan) -> list[dict]:
    """Inspections of the plan per month: planned, done, by kind."""
    rows = {m: {"month": m, "double_random": 0, "unannounced": 0, "done": 0} for m in range(1, 13)}
    for start, kind, state in plan.inspections.values_list("window_start", "kind", "state"):
        if start.year != plan.year:
            continue
        row = rows[start.month]
        row[kind] += 1
        row["done"] += state == Inspection.State.DONE
    return list(rows.values())


# ---------------------------------------------------------------- inspections


@dataclass
class FindingInput:
    checklist_code: str
    description: str
    major: bool = False
    corrected: bool = False
    harm: bool = False


def checklist_for(category: str) -> list[dict]:
    """The checklist items of a category's matters (general items apply everywhere)."""
    items = []
    for matter in Matter.objects.filter(active=True, category__in=[category, GENERAL_CATEGORY]):
        for item in matter.checklist or []:
            items.append({**item, "matter": matter.name})
    return items


def may_inspect(user: Any, inspection: Inspection) -> bool:
    """An assigned inspector, or anyone who edits the inspection's department."""
    if (
        getattr(user, "is_authenticated", False)
        and inspection.inspectors.filter(user=user).exists()
    ):
        return True
    return _scope(user).can_edit_department(inspection.department_id)


def exemption_rules() -> list[exemption.Rule]:
    return [
        exemption.Rule(
            r.code,
            r.title,
            r.clause,
            exemption.codes(r.checklist_codes),
            r.general_only,
            r.first_offence,
            r.corrected,
            r.no_harm,
        )
        for r in ExemptionRule.objects.filter(active=True)
    ]


def record_inspection(
    inspection: Inspection,
    user: Any,
    *,
    inspected_on: dt.date,
    findings: Iterable[FindingInput] = (),
    summary: str = "",
    checklist: list[dict] | None = None,
) -> Inspection:
    """Record an inspection: each finding becomes a hazard in the risk module and
    is either exempt (免处罚清单, with its clause) or goes into one penalty case."""
    if not may_inspect(user, inspection):
        raise PermissionDenied("只有被指派的执法人员或该部门人员可以录入检查结果")
    if inspection.state == Inspection.State.DONE:
        raise ValidationError("该检查已录入结果")
    if inspected_on < inspection.window_start:
        raise ValidationError({"inspected_on": f"检查日期早于检查时段({inspection.window_label})"})
    lapsed = [
        i.name
        for i in inspection.inspectors.all()
        if not i.certificate_valid_from <= inspected_on <= i.certificate_valid_to
    ]
    if lapsed:
        raise ValidationError(
            {"inspected_on": f"{'、'.join(lapsed)} 的执法证在 {inspected_on} 无效,不能以其名义检查"}
        )
    findings = list(findings)
    known = {i["code"] for i in checklist_for(inspection.category)}
    for f in findings:
        if known and f.checklist_code not in known:
            raise ValidationError({"findings": f"检查项 {f.checklist_code} 不在该领域的检查表中"})
        if not f.description.strip():
            raise ValidationError({"findings": "问题描述不能为空"})
    rules = exemption_rules()
    with transaction.atomic():
        punishable = []
        for f in findings:
            finding = Finding.objects.create(
                inspection=inspection,
                checklist_code=f.checklist_code,
                description=f.description.strip(),
                major=f.major,
                corrected=f.corrected,
                harm=f.harm,
            )
            finding.hazard = create_hazard(
                inspection.enterprise,
                description=f.description,
                source=Hazard.Source.ENFORCEMENT,
                level=Hazard.Level.MAJOR if f.major else Hazard.Level.GENERAL,
                found_on=inspected_on,
                origin=finding,
                user=user,
            )
            first = (
                not Finding.objects.filter(
                    inspection__enterprise=inspection.enterprise,
                    checklist_code=f.checklist_code,
                )
                .exclude(pk=finding.pk)
                .exists()
            )
            decision = exemption.decide(
                exemption.FindingFacts(f.checklist_code, f.major, first, f.corrected, f.harm), rules
            )
            if decision.exempt:
                finding.exemption = ExemptionRule.objects.get(code=decision.rule.code)
                finding.exemption_clause = decision.rule.clause
            else:
                finding.exemption_note = ";".join(decision.reasons)[:500]
                punishable.append(finding)
            finding.save()
        inspection.state = Inspection.State.DONE
        inspection.inspected_on = inspected_on
        inspection.summary = summary
        inspection.checklist = checklist or []
        inspection.outcome = (
            Inspection.Outcome.CASE
            if punishable
            else Inspection.Outcome.RECTIFY
            if findings
            else Inspection.Outcome.COMPLIANT
        )
        inspection.publish_by = publication_deadline(inspection.plan, inspected_on)
        inspection.save()
        if punishable:
            open_case(inspection, punishable, user, opened_on=inspected_on)
    return inspection


def publication_deadline(plan: InspectionPlan, inspected_on: dt.date) -> dt.date | None:
    """Results are due on the public portal this many working days after the inspection."""
    try:
        return wc.add_workdays(inspected_on, plan.publication_workdays)
    except wc.CalendarRangeError:
        return inspected_on + dt.timedelta(days=plan.publication_workdays * 7 // 5)


# ---------------------------------------------------------------- penalty cases


def open_case(
    inspection: Inspection, findings: list[Finding], user: Any, *, opened_on: dt.date
) -> PenaltyCase:
    """File (立案) a penalty case for the non-exempt findings of an inspection."""
    year = opened_on.year
    # The document prefix is the bureau's own (穗应急罚 in Guangzhou): a setting.
    prefix = getattr(settings, "YINGJI_ENFORCEMENT_CASE_PREFIX", "应急罚")
    serial = PenaltyCase.objects.filter(opened_on__year=year).count() + 1
    number = f"{prefix}〔{year}〕{serial:04d}号"
    while PenaltyCase.objects.filter(number=number).exists():
        serial += 1
        number = f"{prefix}〔{year}〕{serial:04d}号"
    case = PenaltyCase.objects.create(
        number=number,
        enterprise=inspection.enterprise,
        inspection=inspection,
        department=inspection.department,
        district=inspection.district,
        category=inspection.category,
        opened_on=opened_on,
    )
    case.findings.set(findings)
    CaseEvent.objects.create(
        case=case,
        action="file",
        from_state="",
        to_state=casefsm.State.FILED,
        on=opened_on,
        actor=_user(user),
        actor_label=_label(user),
        comment="；".join(f.description for f in findings)[:2000],
    )
    return case


def case_actor_kinds(user: Any, case: PenaltyCase) -> set[str]:
    scope = _scope(user)
    kinds = set()
    if scope.edits_all:
        kinds |= {casefsm.APPROVER, casefsm.HANDLER}
    elif scope.can_edit_department(case.department_id):
        kinds.add(casefsm.HANDLER)
    return kinds


OUTCOMES = {"drop": "不予处罚/撤案", "revoke": "复议撤销", "close": "执行完毕"}


def transition_case(
    case: PenaltyCase,
    action: str,
    user: Any,
    *,
    comment: str = "",
    amount: Decimal | float | None = None,
    on: dt.date | None = None,
) -> PenaltyCase:
    """Move a case along the table in casefsm.py (PermissionDenied for the wrong
    actor, ValidationError for a move the table or the data does not allow)."""
    kinds = case_actor_kinds(user, case)
    if not kinds:
        raise PermissionDenied("无权办理该案件")
    try:
        t = casefsm.check(
            action,
            case.state,
            kinds,
            comment=comment,
            amount=float(amount) if amount is not None else None,
        )
    except casefsm.TransitionRefused as exc:
        if "无权" in str(exc):
            raise PermissionDenied(str(exc)) from exc
        raise ValidationError(str(exc)) from exc
    day = on or today()
    with transaction.atomic():
        source = case.state
        case.state = t.target
        if action == "notify":
            case.proposed_amount = Decimal(str(amount))
        if t.action in ("decide", "decide_after_hearing"):
            case.amount, case.decided_on = Decimal(str(amount)), day
        if t.target == casefsm.State.CLOSED:
            case.closed_on, case.outcome = day, OUTCOMES[action]
        case.save()
        CaseEvent.objects.create(
            case=case,
            action=action,
            from_state=source,
            to_state=t.target,
            on=day,
            actor=_user(user),
            actor_label=_label(user),
            comment=comment,
            amount=Decimal(str(amount)) if t.needs_amount else None,
        )
    return case


def cases_in_scope(scope: Scope):
    """The penalty cases a scope covers: its departments' and its districts'."""
    return PenaltyCase.objects.filter(scope.q("department", "district__code"))


def visible_cases(user: Any):
    return cases_in_scope(_scope(user))


def inspections_in_scope(scope: Scope):
    """The inspections a scope covers: its departments' and its districts'."""
    return Inspection.objects.filter(scope.q("department", "district__code"))


def visible_inspections(user: Any):
    return inspections_in_scope(_scope(user))


# ---------------------------------------------------------------- dishonesty list


def list_dishonest(
    enterprise: Enterprise,
    user: Any,
    *,
    basis: str,
    decided_by: Department,
    listed_on: dt.date,
    period_months: int = 36,
    case: PenaltyCase | None = None,
    joint_punishments: Iterable[str] = (),
) -> DishonestyListing:
    """Put an entity on the serious-dishonesty list. "Who penalises decides": with
    a case, the deciding department must be the case's; only leaders decide."""
    from yingji.enforcement.models import JOINT_PUNISHMENTS

    if not _scope(user).edits_all:
        raise PermissionDenied("列入严重失信主体名单须由负责人(局领导/督查/管理员)决定")
    if case is not None:
        if case.department_id != decided_by.pk:
            raise ValidationError({"decided_by": "谁处罚谁认定:作出决定的部门须为该案办案部门"})
        if case.decided_on is None or case.outcome in (OUTCOMES["drop"], OUTCOMES["revoke"]):
            raise ValidationError({"case": "依据案件须已作出处罚决定(且未被复议撤销)"})
    if not basis.strip():
        raise ValidationError({"basis": "须写明列入依据"})
    unknown = set(joint_punishments) - set(JOINT_PUNISHMENTS)
    if unknown:
        raise ValidationError({"joint_punishments": f"未知的联合惩戒措施:{sorted(unknown)}"})
    if period_months < 1:
        raise ValidationError({"period_months": "公示期至少 1 个月"})
    return DishonestyListing.objects.create(
        enterprise=enterprise,
        case=case,
        basis=basis.strip(),
        decided_by=decided_by,
        listed_on=listed_on,
        period_months=period_months,
        expires_on=add_months(listed_on, period_months),
        joint_punishments=sorted(set(joint_punishments)),
    )


def remove_early(
    listing: DishonestyListing, user: Any, *, reason: str, on: dt.date
) -> DishonestyListing:
    """Early removal (信用修复) before the period ends, with a reason."""
    if not _scope(user).edits_all:
        raise PermissionDenied("提前移出须由负责人决定")
    if listing.removed_on:
        raise ValidationError("该主体已移出名单")
    if not reason.strip():
        raise ValidationError({"removal_reason": "须写明提前移出理由"})
    if not listing.listed_on <= on < listing.expires_on:
        raise ValidationError({"removed_on": "提前移出日期须在列入日期与期满日期之间"})
    listing.removed_on, listing.removal_reason = on, reason.strip()
    listing.save(update_fields=["removed_on", "removal_reason"])
    return listing


def current_listings(on: dt.date):
    return DishonestyListing.objects.filter(is_dishonest_q(on)).select_related("enterprise")


# ---------------------------------------------------------------- publication


def result_text(inspection: Inspection) -> str:
    """The public wording of an inspection's result."""
    findings = list(inspection.findings.all())
    if not findings:
        return "未发现问题"
    exempt = sum(1 for f in findings if f.exemption_id)
    parts = [f"发现问题 {len(findings)} 项,已责令整改"]
    if exempt:
        parts.append(f"其中 {exempt} 项依免处罚清单不予处罚")
    cases = list(inspection.cases.all())
    if cases:
        parts.append("立案查处(" + "、".join(c.number for c in cases) + ")")
    return ";".join(parts)


def publish(inspection: Inspection, user: Any, *, at: dt.datetime | None = None) -> Publication:
    """Publish an inspection's result on the public page (once)."""
    _require_edit(user, inspection.department_id, "公示检查结果")
    if inspection.state != Inspection.State.DONE:
        raise ValidationError("检查尚未完成,不能公示")
    existing = Publication.objects.filter(inspection=inspection).first()
    if existing is not None:
        return existing
    at = at or timezone.now()
    day = timezone.localtime(at).date()
    late = 0
    if inspection.publish_by and day > inspection.publish_by:
        try:
            late = wc.workdays_between(inspection.publish_by, day)
        except wc.CalendarRangeError:
            late = (day - inspection.publish_by).days
    matter = CATEGORY_LABELS.get(inspection.category, inspection.category)
    return Publication.objects.create(
        inspection=inspection,
        enterprise_name=inspection.enterprise.name,
        credit_code=inspection.enterprise.credit_code,
        matter=f"{inspection.get_kind_display()}:{matter}安全生产监督检查",
        inspected_on=inspection.inspected_on,
        result=result_text(inspection),
        published_at=at,
        late_workdays=late,
        published_by=_user(user),
    )


def late_publications(day: dt.date):
    """Done inspections whose publication deadline has passed unpublished."""
    return Inspection.objects.filter(
        state=Inspection.State.DONE, publish_by__lt=day, publication__isnull=True
    ).select_related("enterprise", "department")


def publication_alarm(day: dt.date) -> int:
    """Tell each responsible department once per late inspection (outbox, idempotent)."""
    sent = 0
    for inspection in late_publications(day):
        notes = outbox.notify_department(
            inspection.department,
            subject=f"检查结果逾期未公示:{inspection.enterprise.name}",
            body=(
                f"{inspection.enterprise.name}于 {inspection.inspected_on} 接受"
                f"{inspection.get_kind_display()},结果应于 {inspection.publish_by} 前公示,"
                "至今未公示。请登录应急管理平台“执法检查”公示。"
            ),
            dedupe_key=f"enforcement-late-publication:{inspection.pk}",
            source=inspection,
        )
        sent += bool(notes)
    return sent


# ---------------------------------------------------------------- statistics


@dataclass
class StatRow:
    key: str
    label: str
    inspections: int = 0
    done: int = 0
    findings: int = 0
    exempt: int = 0
    cases: int = 0
    penalised: int = 0
    amount: Decimal = Decimal(0)
    penalised_inspections: set = field(default_factory=set)

    @property
    def penalty_rate(self) -> float | None:
        """Share of done inspections with findings that ended in a penalty decision
        (行政处罚率, seed item 35)."""
        return None if not self.done else len(self.penalised_inspections) / self.done


def statistics(year: int, by: str, user: Any = None) -> list[StatRow]:
    """Inspections, findings, exemptions, cases, penalties and amounts of a year,
    by "district", "department" or "category"."""
    if by not in ("district", "department", "category"):
        raise ValidationError({"by": "统计维度应为 district、department 或 category"})
    inspections = Inspection.objects.filter(window_start__year=year)
    if user is not None:
        inspections = inspections.filter(_scope(user).q("department", "district__code"))
    names: dict[str, str] = {}
    if by == "district":
        names = dict(Region.objects.filter(level=RegionLevel.DISTRICT).values_list("code", "name"))
    elif by == "department":
        names = {str(k): v for k, v in Department.objects.values_list("pk", "name")}
    rows: dict[str, StatRow] = {}

    def row(key: Any) -> StatRow:
        key = str(key) if key is not None else ""
        if key not in rows:
            label = (
                CATEGORY_LABELS.get(key, key)
                if by == "category"
                else names.get(key, key or "未定位")
            )
            rows[key] = StatRow(key, label)
        return rows[key]

    field_name = {"district": "district_id", "department": "department_id", "category": "category"}[
        by
    ]
    for key, state in inspections.values_list(field_name, "state"):
        r = row(key)
        r.inspections += 1
        r.done += state == Inspection.State.DONE
    for key, exempt in Finding.objects.filter(inspection__in=inspections).values_list(
        f"inspection__{field_name}", "exemption_id"
    ):
        r = row(key)
        r.findings += 1
        r.exempt += exempt is not None
    cases = PenaltyCase.objects.filter(inspection__in=inspections)
    for key, amount, decided_on, outcome, inspection_id in cases.values_list(
        f"inspection__{field_name}", "amount", "decided_on", "outcome", "inspection_id"
    ):
        r = row(key)
        r.cases += 1
        if decided_on is not None and outcome != OUTCOMES["revoke"]:
            r.penalised += 1
            r.amount += amount or Decimal(0)
            r.penalised_inspections.add(inspection_id)
    return sorted(rows.values(), key=lambda r: (-r.inspections, r.label))


def totals(rows: list[StatRow]) -> StatRow:
    total = StatRow("", "合计")
    for r in rows:
        for name in ("inspections", "done", "findings", "exempt", "cases", "penalised"):
            setattr(total, name, getattr(total, name) + getattr(r, name))
        total.amount += r.amount
        total.penalised_inspections |= r.penalised_inspections
    return total


def plan_counts(plan: InspectionPlan) -> dict[str, int]:
    agg = plan.inspections.aggregate(total=Count("id"))
    return {
        "inspections": agg["total"],
        "done": plan.inspections.filter(state=Inspection.State.DONE).count(),
        "published": plan.inspections.filter(publication__isnull=False).count(),
    }
