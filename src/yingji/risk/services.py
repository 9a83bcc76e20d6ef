"""Risk use cases: register enterprises, assess risk points, run the hazard
rectification loop, record accidents.

Pure logic lives in creditcode.py, supervision.py, grading.py, accidents.py and
hazardflow.py; this module loads the facts, calls it, and saves. `create_hazard`
is the one way any module (inspection findings included) opens a hazard.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from yingji.core import departments as core_departments
from yingji.core import regions
from yingji.core import workcalendar as wc
from yingji.core.apiparams import COUNT_MAX
from yingji.core.models import Department, Region
from yingji.core.scope import Scope, out_of_scope, scope_for, scope_or_system
from yingji.risk import accidents as accident_rules
from yingji.risk import creditcode, grading, hazardflow
from yingji.risk.hazardflow import State
from yingji.risk.models import (
    Accident,
    Enterprise,
    Hazard,
    HazardEvent,
    Recheck,
    RectificationPlan,
    RiskAssessment,
    RiskPoint,
)
from yingji.risk.supervision import SupervisionTable, load_table, normalise_industry

# ---------------------------------------------------------------- configuration


def config(name: str) -> int:
    """A configurable number of working days (settings.YINGJI_RISK[...] overrides)."""
    defaults = {
        "general_deadline_workdays": 10,  # 一般隐患 default rectification period
        "major_deadline_workdays": 60,  # 重大事故隐患 default period
        "reminder_workdays": 3,  # remind this many working days before the deadline
        "acceptance_days": 10,  # accept within N days of the deadline (some provinces)
        "recheck_workdays": 20,  # 回头看 this many working days after closing
    }
    return int(getattr(settings, "YINGJI_RISK", {}).get(name, defaults[name]))


def today() -> dt.date:
    return timezone.localdate()


# ---------------------------------------------------------------- enterprises


@lru_cache(maxsize=1)
def supervision_table() -> SupervisionTable:
    """The shipped "三管三必须" table (settings.YINGJI_RISK_SUPERVISION_TABLE to replace it)."""
    path = getattr(settings, "YINGJI_RISK_SUPERVISION_TABLE", None)
    return load_table(path) if path else load_table()


def supervising_department_for(industry_code: str, categories: list[str]) -> Department | None:
    """The department the table names for this industry and categories."""
    name = supervision_table().department_for(industry_code, categories)
    return core_departments.resolve(name) if name else None


def locate(
    lon: float | None, lat: float | None, crs: str = "wgs84"
) -> tuple[float | None, float | None, Region | None, Region | None]:
    """(WGS-84 lon, lat, district, street) of a point given in `crs`."""
    if lon is None or lat is None:
        return None, None, None, None
    from yingji.core import geo

    try:
        wlon, wlat = geo.to_wgs84(lon, lat, crs)
    except ValueError as exc:  # an unknown coordinate system, or not a finite number
        field_name = "crs" if "坐标系" in str(exc) else "lon"
        raise ValidationError({field_name: str(exc)}) from None
    found = regions.lookup(wlon, wlat)
    return wlon, wlat, found["district"], found["street"]


def apply_derived(enterprise: Enterprise) -> Enterprise:
    """Fill the supervising department from the table unless overridden."""
    if not enterprise.supervision_overridden:
        enterprise.supervising_department = supervising_department_for(
            enterprise.industry_code, enterprise.key_categories or []
        )
    enterprise.has_major_hazard_installation = (
        enterprise.has_major_hazard_installation
        or "major_hazard_installation" in (enterprise.key_categories or [])
    )
    return enterprise


def save_enterprise(
    *,
    credit_code: str,
    name: str,
    industry_code: str,
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
    user: Any = None,
    **fields: Any,
) -> Enterprise:
    """Create or update an enterprise by credit code, validating code and industry,
    locating it and deriving its supervising department.

    `user` (None: the system) may change only an enterprise they may edit, and
    the saved enterprise must still be theirs: a credit code of another district's
    enterprise, or a move out of the user's scope, is refused naming it."""
    code = creditcode.normalise(credit_code)
    problem = creditcode.problem(code)
    if problem:
        raise ValidationError({"credit_code": problem})
    industry, problem = normalise_industry(industry_code)
    if problem:
        raise ValidationError({"industry_code": problem})
    editable = editable_enterprises(user)
    enterprise = (
        Enterprise.objects.select_related("district", "street", "supervising_department")
        .filter(credit_code=code)
        .first()
    ) or Enterprise(credit_code=code)
    label = f"统一社会信用代码 {code} 的企业"
    check_editable(user, editable, enterprise, label)
    enterprise.name = name
    enterprise.industry_code = industry
    wlon, wlat, district, street = locate(lon, lat, crs)
    if wlon is not None:
        enterprise.lon, enterprise.lat, enterprise.district, enterprise.street = (
            wlon,
            wlat,
            district,
            street,
        )
    for key, value in fields.items():
        setattr(enterprise, key, value)
    apply_derived(enterprise)
    with transaction.atomic():
        enterprise.save()
        sync_hazard_copies(enterprise)
        if user is not None and not editable.filter(pk=enterprise.pk).exists():
            raise out_of_scope(f"保存后{label}", _where(enterprise))  # rolled back
    return enterprise


def sync_hazard_copies(enterprise: Enterprise) -> None:
    """Keep the ledger's copies (district, street, industry, department) current."""
    Hazard.objects.filter(enterprise=enterprise).exclude(
        district=enterprise.district,
        street=enterprise.street,
        industry_code=enterprise.industry_code,
        department=enterprise.supervising_department,
    ).update(
        district=enterprise.district,
        street=enterprise.street,
        industry_code=enterprise.industry_code,
        department=enterprise.supervising_department,
    )


# ---------------------------------------------------------------- risk points


def assess(
    risk_point: RiskPoint,
    *,
    method: str,
    likelihood: float,
    consequence: float,
    exposure: float | None = None,
    assessed_on: dt.date | None = None,
    assessor: str = "",
    note: str = "",
) -> RiskAssessment:
    """Record an assessment: grade the point (LEC or LS), keep the history,
    raise or lower the enterprise's grade with it."""
    try:
        if method == RiskAssessment.Method.LEC:
            if exposure is None:
                raise grading.AssessmentError("LEC法须填写E(暴露频繁程度)")
            result = grading.lec(likelihood, exposure, consequence)
        elif method == RiskAssessment.Method.LS:
            result = grading.ls(likelihood, consequence)
        else:
            raise grading.AssessmentError(f"未知的评估方法:{method}")
    except grading.AssessmentError as exc:
        raise ValidationError(str(exc)) from exc
    day = assessed_on or today()
    with transaction.atomic():
        assessment = RiskAssessment.objects.create(
            risk_point=risk_point,
            method=method,
            likelihood=likelihood,
            exposure=exposure,
            consequence=consequence,
            score=result.score,
            grade=result.grade,
            assessed_on=day,
            assessor=assessor,
            note=note,
        )
        latest = risk_point.assessments.order_by("-assessed_on", "-id").first()
        risk_point.grade, risk_point.assessed_on = latest.grade, latest.assessed_on
        risk_point.save(update_fields=["grade", "assessed_on"])
        if risk_point.enterprise_id:
            refresh_enterprise_grade(risk_point.enterprise)
    return assessment


def refresh_enterprise_grade(enterprise: Enterprise) -> str:
    """Enterprise grade = the highest grade of its active risk points."""
    grade = grading.highest(
        enterprise.risk_points.filter(active=True).values_list("grade", flat=True)
    )
    if grade != enterprise.grade:
        enterprise.grade = grade
        enterprise.save(update_fields=["grade", "updated_at"])
    return grade


# ---------------------------------------------------------------- hazards


def default_deadline(level: str, found_on: dt.date) -> dt.date:
    """The rectification deadline in working days from discovery."""
    days = config(
        "major_deadline_workdays" if level == Hazard.Level.MAJOR else "general_deadline_workdays"
    )
    try:
        return wc.add_workdays(found_on, days)
    except wc.CalendarRangeError:
        # Beyond the calendar's data: five working days to the week, and say so nowhere
        # else because the next calendar release makes it exact again.
        return found_on + dt.timedelta(days=days * 7 // 5)


def create_hazard(
    enterprise: Enterprise,
    *,
    description: str,
    source: str,
    level: str = Hazard.Level.GENERAL,
    category: str = "other",
    found_on: dt.date | None = None,
    deadline: dt.date | None = None,
    location: str = "",
    risk_point: RiskPoint | None = None,
    origin: Any = None,
    user: Any = None,
    code: str | None = None,
    responsible_person: str = "",
) -> Hazard:
    """Open a hazard (state 已上报). A module opening one from its own record (an
    inspection finding) passes its `source` and `origin=` that record; the generic
    origin then links back to it."""
    if level not in Hazard.Level.values:
        raise ValidationError({"level": f"隐患等级“{level}”无效"})
    if source not in Hazard.Source.values:
        raise ValidationError({"source": f"隐患来源“{source}”无效"})
    if not (description or "").strip():
        raise ValidationError({"description": "隐患描述不能为空"})
    if code and Hazard.objects.filter(code=code).exists():
        # A new hazard never takes over an existing one's code (the ledger import
        # updates by code, with its own scope check).
        raise ValidationError({"code": f"隐患编号 {code} 已存在,请使用新的编号"})
    found_on = found_on or today()
    hazard = Hazard(
        code=code or f"YH{found_on:%Y%m%d}-{uuid.uuid4().hex[:8].upper()}",
        enterprise=enterprise,
        risk_point=risk_point,
        level=level,
        source=source,
        category=category,
        description=description.strip(),
        location=location,
        found_on=found_on,
        deadline=deadline,
        responsible_person=responsible_person,
        district_id=enterprise.district_id,
        street_id=enterprise.street_id,
        industry_code=enterprise.industry_code,
        department_id=enterprise.supervising_department_id,
        reported_by=user if getattr(user, "is_authenticated", False) else None,
    )
    if origin is not None:
        hazard.origin_type = ContentType.objects.get_for_model(type(origin))
        hazard.origin_id = str(origin.pk)
    with transaction.atomic():
        hazard.save()
        HazardEvent.objects.create(
            hazard=hazard,
            action="report",
            to_state=State.REPORTED,
            actor=hazard.reported_by,
            actor_label=_label(user),
            on=found_on,
            comment=f"来源:{hazard.get_source_display()}",
        )
    return hazard


def _label(user: Any) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return "系统"
    profile = getattr(user, "profile", None)
    return profile.full_name if profile and profile.full_name else user.get_username()


def actor_kinds(user: Any, hazard: Hazard, scope: Scope | None = None) -> set[str]:
    """Which actor kinds of the transition table `user` is for this hazard."""
    scope = scope or scope_for(user)
    kinds: set[str] = set()
    if scope.edits_all:
        kinds.add(hazardflow.LEADERSHIP)
    if hazard.department_id and hazard.department_id in scope.department_ids:
        kinds.add(hazardflow.DEPARTMENT)
    region = hazard.street_id or hazard.district_id
    if region and scope.region_codes and scope.covers_region(region):
        kinds.add(hazardflow.DISTRICT)
    return kinds


def facts(hazard: Hazard) -> hazardflow.HazardFacts:
    """What the state machine's guards need to know about the hazard."""
    plan = RectificationPlan.objects.filter(hazard=hazard).first()
    plan_complete = plan is not None and not hazardflow.plan_missing(plan.__dict__)
    return hazardflow.HazardFacts(
        state=State(hazard.state),
        level=hazard.level,
        plan_complete=plan_complete,
        listed=hazard.listed,
        has_deadline=hazard.deadline is not None,
    )


def transition(
    hazard: Hazard,
    action: str,
    user: Any,
    *,
    comment: str = "",
    on: dt.date | None = None,
    deadline: dt.date | None = None,
) -> Hazard:
    """Make one move of the table, or PermissionDenied/ValidationError saying why not.

    `assign` may set the deadline (default: working days by level); `close`
    schedules the 回头看 re-check."""
    day = on or today()
    with transaction.atomic():
        hazard = Hazard.objects.select_for_update().get(pk=hazard.pk)
        if action == "assign" and hazard.deadline is None:
            hazard.deadline = deadline or default_deadline(hazard.level, hazard.found_on)
        elif action == "assign" and deadline:
            hazard.deadline = deadline
        kinds = actor_kinds(user, hazard)
        try:
            move = hazardflow.check(action, facts(hazard), kinds, comment)
        except hazardflow.TransitionRefused as exc:
            message = str(exc)
            if message.startswith("无权"):
                raise PermissionDenied(message) from exc
            raise ValidationError(message) from exc
        before = hazard.state
        hazard.state = move.target
        stamp = {"submit": "submitted_on", "accept": "accepted_on", "close": "closed_on"}.get(
            action
        )
        if stamp:
            setattr(hazard, stamp, day)
        hazard.save()
        HazardEvent.objects.create(
            hazard=hazard,
            action=action,
            from_state=before,
            to_state=move.target,
            actor=_user_or_none(user),
            actor_label=_label(user),
            on=day,
            comment=comment,
        )
        if action == "close":
            schedule_recheck(hazard, day)
    return hazard


def _user_or_none(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def schedule_recheck(hazard: Hazard, closed_on: dt.date) -> Recheck | None:
    """回头看: a re-check some working days after closing (once per date)."""
    try:
        due = wc.add_workdays(closed_on, config("recheck_workdays"))
    except wc.CalendarRangeError:
        due = closed_on + dt.timedelta(days=config("recheck_workdays") * 7 // 5)
    recheck, _ = Recheck.objects.get_or_create(hazard=hazard, due=due)
    return recheck


def record_recheck(
    recheck: Recheck, user: Any, *, passed: bool, note: str = "", on: dt.date | None = None
) -> Recheck:
    """Record a 回头看 result; a failed re-check reopens the hazard as a new one."""
    hazard = recheck.hazard
    if not actor_kinds(user, hazard):
        raise PermissionDenied("无权记录该隐患的回头看")
    recheck.done_on, recheck.passed, recheck.note = on or today(), passed, note
    recheck.save()
    if not passed:
        create_hazard(
            hazard.enterprise,
            description=f"回头看发现问题反弹:{note or hazard.description}",
            source=Hazard.Source.REGULATOR_INSPECTION,
            level=hazard.level,
            category=hazard.category,
            found_on=recheck.done_on,
            user=user,
            location=hazard.location,
            risk_point=hazard.risk_point,
        )
    return recheck


def save_plan(hazard: Hazard, user: Any, **values: Any) -> RectificationPlan:
    """Write the "五到位" rectification plan (allowed to anyone who may act on the hazard)."""
    if not actor_kinds(user, hazard):
        raise PermissionDenied("无权编辑该隐患的整改方案")
    if hazard.state in (State.ACCEPTED, State.CLOSED):
        raise ValidationError("隐患已验收或销号,整改方案不能再修改")
    allowed = {"goals", "measures", "funds", "deadline", "responsible_person", "contingency_plan"}
    unknown = set(values) - allowed
    if unknown:
        raise ValidationError(f"未知的整改方案字段:{'、'.join(sorted(unknown))}")
    plan, _ = RectificationPlan.objects.get_or_create(hazard=hazard)
    for key, value in values.items():
        setattr(plan, key, value)
    plan.save()
    if plan.deadline and hazard.deadline != plan.deadline:
        # update(), not save(): the caller's hazard may be stale in other fields.
        Hazard.objects.filter(pk=hazard.pk).update(
            deadline=plan.deadline, updated_at=timezone.now()
        )
        hazard.deadline = plan.deadline
    return plan


def list_for_supervision(hazard: Hazard, user: Any, *, on: dt.date | None = None) -> Hazard:
    """挂牌督办 a major hazard: the supervising department or leadership only."""
    kinds = actor_kinds(user, hazard)
    if not kinds & {hazardflow.DEPARTMENT, hazardflow.LEADERSHIP}:
        raise PermissionDenied("无权挂牌督办:仅限监管部门、局领导/督查")
    if hazard.level != Hazard.Level.MAJOR:
        raise ValidationError("仅重大事故隐患需要挂牌督办")
    with transaction.atomic():
        hazard = Hazard.objects.select_for_update().get(pk=hazard.pk)
        if hazard.listed:
            return hazard
        if hazard.state == State.CLOSED:
            raise ValidationError("隐患已销号,不能挂牌督办")
        profile = getattr(user, "profile", None)
        hazard.listed, hazard.listed_on = True, on or today()
        hazard.listed_by = (
            profile.department if profile and profile.department_id else hazard.department
        )
        hazard.save(update_fields=["listed", "listed_on", "listed_by", "updated_at"])
        HazardEvent.objects.create(
            hazard=hazard,
            action="list",
            actor=_user_or_none(user),
            actor_label=_label(user),
            on=hazard.listed_on,
            comment=f"挂牌督办单位:{hazard.listed_by or '—'}",
        )
    return hazard


def overdue_q(day: dt.date) -> Q:
    """Hazards past their deadline and not yet submitted for acceptance."""
    return Q(state__in=sorted(hazardflow.DEADLINE_STATES), deadline__lt=day)


def hazards_in_scope(scope: Scope):
    """The hazards a scope covers (department, district or everything)."""
    return Hazard.objects.filter(
        scope.q(department_field="department", region_field="street__code")
        | scope.q(region_field="district__code")
    )


def visible_hazards(user: Any, scope: Scope | None = None):
    """The hazards a user may see (department, district or everything)."""
    return hazards_in_scope(scope or scope_for(user))


def editable_hazards(user: Any):
    """The hazards whose ledger entry a user may change (no user: the system)."""
    return visible_hazards(user, scope_or_system(user).editing())


def enterprises_in_scope(scope: Scope):
    """The enterprises a scope covers: of its departments, district or street (a
    street office sees the enterprises in its street, as their hazards)."""
    return Enterprise.objects.filter(
        scope.q(department_field="supervising_department", region_field="district__code")
        | scope.q(region_field="street__code")
    )


def visible_enterprises(user: Any, scope: Scope | None = None):
    """The enterprises a user may see: of the user's departments, district or
    street (a street office sees the enterprises in its street, as their hazards)."""
    return enterprises_in_scope(scope or scope_for(user))


def editable_enterprises(user: Any):
    """The enterprises a user may change: those they see, less (for a duty
    officer) other departments' ones. No user: the system, everything."""
    return visible_enterprises(user, scope_or_system(user).editing())


def visible_risk_points(user: Any, scope: Scope | None = None):
    """Risk points of the enterprises a user sees, and public places in their region."""
    scope = scope or scope_for(user)
    return RiskPoint.objects.filter(
        Q(enterprise__in=visible_enterprises(user, scope).values("pk"))
        | (Q(enterprise__isnull=True) & scope.q(region_field="district__code"))
    )


def editable_risk_points(user: Any):
    return visible_risk_points(user, scope_or_system(user).editing())


def visible_accidents(user: Any, scope: Scope | None = None):
    """Accidents in the user's region (accident statistics are kept by place)."""
    scope = scope or scope_for(user)
    return Accident.objects.filter(scope.q(region_field="district__code"))


def editable_accidents(user: Any):
    return visible_accidents(user, scope_or_system(user).editing())


def may_record_accidents(user: Any) -> bool:
    """Whoever may change some accident: those who edit everything and district staff."""
    scope = scope_or_system(user).editing()
    return scope.edits_all or bool(scope.region_codes)


def _where(record: Any) -> str | None:
    """Where a record belongs, for a refusal: its district's (or street's) name."""
    region = getattr(record, "district", None) or getattr(record, "street", None)
    if region is not None:
        return region.name
    department = getattr(record, "supervising_department", None) or getattr(
        record, "department", None
    )
    return f"{department.name}监管" if department is not None else None


def check_editable(user: Any, editable, record: Any, label: str) -> None:
    """PermissionDenied naming `record` unless `editable` (the model's editable
    queryset for `user`) holds it: the one check before any write by key."""
    if record is not None and record.pk is not None:
        if not editable.filter(pk=record.pk).exists():
            raise out_of_scope(label, _where(record))


# ---------------------------------------------------------------- accidents


def save_accident(
    *,
    code: str,
    occurred_at: dt.datetime,
    accident_type: str,
    deaths: int = 0,
    missing: int = 0,
    serious_injuries: int = 0,
    direct_loss: Decimal | float | int = 0,
    enterprise: Enterprise | None = None,
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
    industry_code: str = "",
    user: Any = None,
    **fields: Any,
) -> Accident:
    """Create or update an accident by code; its level is computed, never typed.

    `user` (None: the system) may change only an accident in their scope, and the
    saved accident must lie in it: another district's accident code is refused
    naming it, never applied."""
    for name, value in (
        ("deaths", deaths),
        ("missing", missing),
        ("serious_injuries", serious_injuries),
    ):
        if not 0 <= value <= COUNT_MAX:
            raise ValidationError({name: f"事故伤亡人数须为 0 至 {COUNT_MAX} 之间的整数"})
    try:
        loss = Decimal(str(direct_loss))
        loss = loss.quantize(Decimal("0.01")) if loss.is_finite() else loss
    except ArithmeticError:
        raise ValidationError({"direct_loss": "直接经济损失须为数字(万元)"}) from None
    if not (loss.is_finite() and 0 <= loss < 10**10):
        raise ValidationError({"direct_loss": "直接经济损失须为 0 至 9999999999.99 万元"})
    level = accident_rules.level(deaths, serious_injuries, loss, missing)
    editable = editable_accidents(user)
    accident = (
        Accident.objects.select_related("district", "street").filter(code=code).first()
    ) or Accident(code=code)
    label = f"事故编号 {code} 的事故"
    check_editable(user, editable, accident, label)
    accident.occurred_at = occurred_at
    accident.accident_type = accident_type
    accident.deaths, accident.missing, accident.serious_injuries = deaths, missing, serious_injuries
    accident.direct_loss = loss
    accident.level = level
    accident.enterprise = enterprise
    wlon, wlat, district, street = locate(lon, lat, crs)
    if wlon is None and enterprise is not None:
        wlon, wlat, district, street = (
            enterprise.lon,
            enterprise.lat,
            enterprise.district,
            enterprise.street,
        )
    accident.lon, accident.lat, accident.district, accident.street = wlon, wlat, district, street
    accident.industry_code = industry_code or (enterprise.industry_code if enterprise else "")
    for key, value in fields.items():
        setattr(accident, key, value)
    with transaction.atomic():
        accident.save()
        if user is not None and not editable.filter(pk=accident.pk).exists():
            raise out_of_scope(f"保存后{label}", _where(accident))
    return accident
