"""The annual assessment (年度考核) and the district heads' 述职 review, DB side.

Assessment. A year's indicator system (`IndicatorSet` + `Indicator` rows) is
data: `ensure_set(year)` copies last year's or, the first time, the default
below. Every district government and city department gets a `Sheet`; the
computed indicators are filled from the platform (`compute`, one grouped query
per feed for all sheets at once):

- ``accidents`` / ``deaths``: risk.Accident in the year against the year before
  (district: the accident's district; department: the enterprise's supervising
  department); ``major_accident``: any accident 较大 or worse (a veto);
- ``hazards_overdue``: risk.Hazard with a deadline in the year not submitted for
  acceptance by it (district: the hazard's district; department: its regulator);
- ``inspections``: enforcement.Inspection due in the year, done against planned;
  ``penalty_rate``: enforcement.PenaltyCase opened against inspections done;
- ``notices``: workplan.SupervisionNotice (督办单, issued for a late plan task)
  issued to the department in the year;
- ``card_ack``: response.ActionCard issued to the department in the year,
  acknowledged within the card's own time limit against issued.

The rest are scored on the evidence the assessed unit uploads. One assessor
scores (`score_first`), a second one checks (`check`); a difference above the
set's threshold leaves the sheet "待协调" until `reconcile` gives a value and a
reason for each. Agreed sheets are totalled and ranked per group; the bottom N
of each group are proposed for 约谈 (`propose_interviews`), whose record is kept
to closure (`hold_interview`, `close_interview`).

Scope: assessors (综合处 staff, leaders, supervisors, administrators) see every
sheet; an assessed district or department sees only its own sheet and evidence.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from yingji.core import audit, media, outbox
from yingji.core.models import Department, DepartmentKind
from yingji.core.statemachine import StateMachine, Transition, TransitionError
from yingji.responsibility import scoring
from yingji.responsibility.models import (
    Evidence,
    Indicator,
    IndicatorSet,
    Interview,
    Reviewer,
    ReviewSession,
    Score,
    Sheet,
)
from yingji.responsibility.services import lead_ids

ASSESSOR_ROLES = frozenset({"leader", "supervisor", "admin"})
GROUP_KINDS = {"district": DepartmentKind.DISTRICT_GOV, "department": DepartmentKind.MUNICIPAL}
MANUAL_KINDS = ("evidence", "deduction", "bonus", "veto")

S = Sheet.State
SHEET_FLOW = StateMachine(
    dict(S.choices),
    (
        Transition("score", S.OPEN, S.SCORED, "初评"),
        Transition("agree", S.SCORED, S.AGREED, "复核一致"),
        Transition("differ", S.SCORED, S.DIFFER, "复核有差异"),
        Transition("reconcile", S.DIFFER, S.AGREED, "协调确认"),
    ),
    noun="评分表",
)
IV = Interview.State
INTERVIEW_FLOW = StateMachine(
    dict(IV.choices),
    (
        Transition("hold", IV.PROPOSED, IV.HELD, "记录约谈"),
        Transition("close", IV.HELD, IV.CLOSED, "整改销号"),
    ),
    noun="约谈",
)
R = ReviewSession.State
REVIEW_FLOW = StateMachine(
    dict(R.choices),
    (
        Transition("close", R.OPEN, R.CLOSED, "汇总评议结果"),
        Transition("send", R.CLOSED, R.SENT, "送达结果"),
    ),
    noun="述职评议",
)

# The default indicator system (used the first year; later years copy the last).
# (code, name, kind, max points, feed, rule, params, guidance)
_COMMON = [
    ("A1", "生产安全事故起数控制", "computed", 10, "accidents", "decrease", {"per": 2}, ""),
    ("A2", "事故死亡人数控制", "computed", 10, "deaths", "decrease", {"per": 2}, ""),
    ("A3", "隐患按期整改", "computed", 10, "hazards_overdue", "per_count", {"per": 0.5}, ""),
    ("A4", "执法检查计划完成率", "computed", 10, "inspections", "ratio", {"target": 1.0}, ""),
    ("A5", "执法检查处罚率", "computed", 5, "penalty_rate", "ratio", {"target": 0.15}, ""),
    ("A6", "年度工作任务按期完成", "computed", 10, "notices", "per_count", {"per": 2}, ""),
    ("B1", "安全生产责任制落实", "evidence", 15, "", "", {}, "党政同责、一岗双责落实,责任清单印发"),
    ("B2", "应急预案管理与演练", "evidence", 10, "", "", {}, "预案修订备案,年度演练记录"),
    ("B3", "安全生产宣传培训", "evidence", 10, "", "", {}, "培训计划、签到、照片"),
    ("A7", "应急响应行动卡按时签收率", "computed", 5, "card_ack", "ratio", {"target": 0.95}, ""),
    ("B4", "应急值守与信息报送", "evidence", 5, "", "", {}, "值班表、信息报送记录"),
    ("C1", "事故或险情迟报", "deduction", 10, "", "", {}, "每迟报一次扣 2 分"),
    ("C2", "上级督查通报批评", "deduction", 5, "", "", {}, "每通报一次扣 1 分"),
    ("D1", "工作创新获上级肯定推广", "bonus", 5, "", "", {}, "省级以上肯定每项加 2 分"),
    ("V1", "发生较大及以上生产安全事故", "veto", 1, "major_accident", "", {}, ""),
    ("V2", "瞒报谎报生产安全事故", "veto", 1, "", "", {}, "经查实即否决"),
]
DEFAULT_SYSTEM = {"district": _COMMON, "department": _COMMON}


def today() -> dt.date:
    return timezone.localdate()


class AssessmentError(ValidationError):
    pass


# --------------------------------------------------------------------- scope


def _role(user: Any) -> str | None:
    return getattr(getattr(user, "profile", None), "role", None)


def is_assessor(user: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or _role(user) in ASSESSOR_ROLES:
        return True
    dept = getattr(getattr(user, "profile", None), "department_id", None)
    return dept is not None and dept in lead_ids()


def own_unit(user: Any) -> Department | None:
    """The assessed district government or city department a user answers for:
    their own department if it is one, else (a street's account) their district's."""
    profile = getattr(user, "profile", None)
    if profile is None:
        return None
    dept = profile.department
    if dept is not None and dept.kind in GROUP_KINDS.values():
        return dept
    if profile.role == "district_staff" and profile.region_id:
        return Department.objects.filter(
            kind=DepartmentKind.DISTRICT_GOV, region_id=profile.region_id[:6], active=True
        ).first()
    return None


def may_open(user: Any, role: str | None = None) -> bool:
    """Menu predicate: assessors, and users of an assessed unit."""
    return is_assessor(user) or own_unit(user) is not None


def may_review(user: Any, role: str | None = None) -> bool:
    """Menu predicate for 述职评议: assessors, district units, reviewers with an account."""
    if is_assessor(user):
        return True
    unit = own_unit(user)
    if unit is not None and unit.kind == DepartmentKind.DISTRICT_GOV:
        return True
    return bool(user and user.is_authenticated and Reviewer.objects.filter(user=user).exists())


def _require_assessor(user: Any) -> None:
    if not is_assessor(user):
        raise PermissionDenied("只有考核人员(综合处、局领导、督查、管理员)可以评分")


def visible_sheets(user: Any, indicator_set: IndicatorSet | None = None) -> QuerySet[Sheet]:
    qs = Sheet.objects.all()
    if indicator_set is not None:
        qs = qs.filter(indicator_set=indicator_set)
    if is_assessor(user):
        return qs
    unit = own_unit(user)
    return qs.filter(department=unit) if unit is not None else qs.none()


# ------------------------------------------------------------ indicator system


@transaction.atomic
def ensure_set(year: int, user: Any = None) -> IndicatorSet:
    """The year's indicator system, created from last year's (or the default)."""
    found = IndicatorSet.objects.filter(year=year).first()
    if found is not None:
        return found
    with audit.acting_as(user, None if user else "考核指标"):
        prev = IndicatorSet.objects.filter(year__lt=year).order_by("-year").first()
        new = IndicatorSet.objects.create(
            year=year,
            title=f"{year} 年度安全生产和应急管理工作考核",
            threshold=prev.threshold if prev else 2.0,
            bottom_n=prev.bottom_n if prev else 2,
        )
        if prev is not None:
            rows = [
                Indicator(
                    indicator_set=new,
                    **{
                        f: getattr(i, f)
                        for f in (
                            "group code name kind max_points feed rule params guidance order".split()
                        )
                    },
                )
                for i in prev.indicators.all()
            ]
        else:
            rows = [
                Indicator(
                    indicator_set=new,
                    group=group,
                    code=code,
                    name=name,
                    kind=kind,
                    max_points=pts,
                    feed=feed,
                    rule=rule,
                    params=params,
                    guidance=guide,
                    order=n,
                )
                for group, items in DEFAULT_SYSTEM.items()
                for n, (code, name, kind, pts, feed, rule, params, guide) in enumerate(items)
            ]
        Indicator.objects.bulk_create(rows)
    return new


def units(group: str) -> QuerySet[Department]:
    return Department.objects.filter(kind=GROUP_KINDS[group], active=True).order_by(
        "sort_order", "name"
    )


@transaction.atomic
def open_sheets(indicator_set: IndicatorSet, user: Any = None) -> int:
    """A sheet for every active district government and city department (and a
    score row for each of its group's indicators); returns how many were new."""
    existing = set(indicator_set.sheets.values_list("department_id", flat=True))
    new = [
        Sheet(indicator_set=indicator_set, department=d, group=group)
        for group in GROUP_KINDS
        for d in units(group)
        if d.pk not in existing
    ]
    with audit.acting_as(user, None if user else "年度考核"):
        Sheet.objects.bulk_create(new)
        _missing_scores(indicator_set)
    return len(new)


def _missing_scores(indicator_set: IndicatorSet) -> None:
    """A score row for every indicator of each sheet's group that has none, in
    one INSERT … SELECT (thousands of rows: no model instances)."""
    from django.db import connection

    score, sheet, ind = (m._meta.db_table for m in (Score, Sheet, Indicator))
    empty = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    with connection.cursor() as cur:
        cur.execute(
            f'INSERT INTO "{score}" (sheet_id, indicator_id, metric, note, reason) '
            f"SELECT s.id, i.id, {empty}, '', '' FROM \"{sheet}\" s "
            f'JOIN "{ind}" i ON i.indicator_set_id = s.indicator_set_id AND i."group" = s."group" '
            f"WHERE s.indicator_set_id = %s AND NOT EXISTS "
            f'(SELECT 1 FROM "{score}" x WHERE x.sheet_id = s.id AND x.indicator_id = i.id)',
            ["{}", indicator_set.pk],
        )


# ------------------------------------------------------------------ the feeds


def _year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _dt_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        dt.datetime(year, 1, 1, tzinfo=tz),
        dt.datetime(year + 1, 1, 1, tzinfo=tz),
    )


def _grouped(qs, key: str, **aggs) -> dict[Any, dict[str, float]]:
    return {
        row[key]: {k: float(row[k] or 0) for k in aggs}
        for row in qs.values(key).annotate(**aggs).order_by()
        if row[key] is not None
    }


def _accident_key(group: str) -> str:
    return "district_id" if group == "district" else "enterprise__supervising_department_id"


def _feed_accidents(group: str, year: int, *, deaths: bool = False) -> dict[Any, dict]:
    from yingji.risk.models import Accident

    key = _accident_key(group)
    agg = {"n": Sum(F("deaths") + F("missing"))} if deaths else {"n": Count("pk")}
    out: dict[Any, dict] = defaultdict(lambda: {"this": 0.0, "last": 0.0})
    for label, y in (("this", year), ("last", year - 1)):
        start, end = _dt_bounds(y)
        rows = _grouped(
            Accident.objects.filter(occurred_at__gte=start, occurred_at__lt=end), key, **agg
        )
        for k, v in rows.items():
            out[k][label] = v["n"]
    return out


def _feed_major(group: str, year: int) -> dict[Any, dict]:
    from yingji.risk.models import Accident

    start, end = _dt_bounds(year)
    qs = Accident.objects.filter(occurred_at__gte=start, occurred_at__lt=end).exclude(
        level=Accident.Level.GENERAL
    )
    return {
        k: {"count": v["count"]}
        for k, v in _grouped(qs, _accident_key(group), count=Count("pk")).items()
    }


def _feed_hazards(group: str, year: int) -> dict[Any, dict]:
    from yingji.risk.models import Hazard

    start, end = _year_bounds(year)
    late = (
        Q(submitted_on__gt=F("deadline"))
        | Q(submitted_on__isnull=True, closed_on__isnull=True)
        | Q(submitted_on__isnull=True, closed_on__gt=F("deadline"))
    )
    qs = Hazard.objects.filter(deadline__gte=start, deadline__lte=end).filter(late)
    key = "district_id" if group == "district" else "department_id"
    return _grouped(qs, key, count=Count("pk"))


def _feed_inspections(group: str, year: int) -> dict[Any, dict]:
    from yingji.enforcement.models import Inspection

    start, end = _year_bounds(year)
    key = "district_id" if group == "district" else "department_id"
    qs = Inspection.objects.filter(window_end__gte=start, window_end__lte=end)
    return _grouped(qs, key, of=Count("pk"), done=Count("pk", filter=Q(inspected_on__isnull=False)))


def _feed_penalty(group: str, year: int) -> dict[Any, dict]:
    from yingji.enforcement.models import Inspection, PenaltyCase

    start, end = _year_bounds(year)
    key = "district_id" if group == "district" else "department_id"
    done = _grouped(
        Inspection.objects.filter(inspected_on__gte=start, inspected_on__lte=end),
        key,
        of=Count("pk"),
    )
    cases = _grouped(
        PenaltyCase.objects.filter(opened_on__gte=start, opened_on__lte=end), key, done=Count("pk")
    )
    return {
        k: {"of": done.get(k, {}).get("of", 0.0), "done": cases.get(k, {}).get("done", 0.0)}
        for k in {*done, *cases}
    }


def _feed_notices(group: str, year: int) -> dict[Any, dict]:
    from yingji.workplan.models import SupervisionNotice

    start, end = _dt_bounds(year)
    qs = SupervisionNotice.objects.filter(issued_at__gte=start, issued_at__lt=end)
    return _grouped(qs, "department_id", count=Count("pk"))


def _feed_cards(group: str, year: int) -> dict[Any, dict]:
    """Cards issued and cards acknowledged within their own limit, per department
    (counted here: SQLite cannot multiply a duration; cards are hundreds a year)."""
    from yingji.response.models import ActionCard

    start, end = _dt_bounds(year)
    out: dict[Any, dict] = defaultdict(lambda: {"done": 0.0, "of": 0.0})
    for dept, issued, acked, minutes in ActionCard.objects.filter(
        issued_at__gte=start, issued_at__lt=end
    ).values_list("department_id", "issued_at", "acknowledged_at", "ack_minutes"):
        out[dept]["of"] += 1
        if acked is not None and acked <= issued + dt.timedelta(minutes=minutes):
            out[dept]["done"] += 1
    return out


FEEDS = {
    "accidents": ("生产安全事故起数(事故台账,与上年比)", _feed_accidents),
    "deaths": (
        "事故死亡(含失踪)人数(事故台账,与上年比)",
        lambda g, y: _feed_accidents(g, y, deaths=True),
    ),
    "major_accident": ("较大及以上事故(事故台账)", _feed_major),
    "hazards_overdue": ("逾期未整改隐患(隐患台账)", _feed_hazards),
    "inspections": ("执法检查完成数/计划数(执法检查)", _feed_inspections),
    "penalty_rate": ("立案处罚数/已检查数(执法检查)", _feed_penalty),
    "notices": ("督办单数(工作计划任务逾期)", _feed_notices),
    "card_ack": ("按时限签收的行动卡/下发的行动卡(应急响应)", _feed_cards),
}
# By which key each feed's rows are found for a sheet: the district's region
# code, or the department's id.
_BY_DEPT_ALWAYS = {"notices", "card_ack"}


def _key_for(sheet: Sheet, feed: str) -> Any:
    if sheet.group == "district" and feed not in _BY_DEPT_ALWAYS:
        return sheet.department.region_id
    return sheet.department_id


def _empty_metric(rule: str) -> dict[str, float]:
    return {"ratio": {"done": 0.0, "of": 0.0}, "decrease": {"this": 0.0, "last": 0.0}}.get(
        rule, {"count": 0.0}
    )


def _write_computed(scores: list[Score], chunk: int = 2000) -> None:
    """metric, computed and final of many scores in one UPDATE … FROM (VALUES …)
    per chunk (bulk_update's CASE per row costs seconds of Python for thousands)."""
    import json

    from django.db import connection

    table = Score._meta.db_table
    pg = connection.vendor == "postgresql"
    row = "(%s::bigint, %s::jsonb, %s::float8, %s::float8)" if pg else "(%s, %s, %s, %s)"
    with connection.cursor() as cur:
        for start in range(0, len(scores), chunk):
            part = scores[start : start + chunk]
            params: list[Any] = []
            for s in part:
                params += [s.pk, json.dumps(s.metric), s.computed, s.final]
            cur.execute(
                f"WITH v(id, metric, computed, final) AS (VALUES {', '.join([row] * len(part))}) "
                f'UPDATE "{table}" SET metric = v.metric, computed = v.computed, final = v.final '
                f'FROM v WHERE "{table}".id = v.id',
                params,
            )


@transaction.atomic
def compute(indicator_set: IndicatorSet, user: Any = None) -> int:
    """Fill every computed indicator of every sheet from the platform's data
    (one grouped query per feed and group); returns the scores written. Sheets
    already agreed are totalled again."""
    sheets = list(indicator_set.sheets.select_related("department"))
    inds = [i for i in indicator_set.indicators.all() if i.feed]
    year = indicator_set.year
    data: dict[tuple[str, str], dict] = {}
    for ind in inds:
        if ind.feed not in FEEDS:
            raise AssessmentError(f"指标“{ind.code} {ind.name}”的数据来源“{ind.feed}”不存在")
        if (ind.feed, ind.group) not in data:
            data[(ind.feed, ind.group)] = FEEDS[ind.feed][1](ind.group, year)
    scores = {
        (s.sheet_id, s.indicator_id): s
        for s in Score.objects.filter(sheet__indicator_set=indicator_set, indicator__in=inds).only(
            "pk", "sheet_id", "indicator_id"
        )
    }
    now = timezone.now()
    changed = []
    for sheet in sheets:
        for ind in inds:
            if ind.group != sheet.group:
                continue
            score = scores.get((sheet.pk, ind.pk))
            if score is None:
                continue
            metric = data[(ind.feed, ind.group)].get(_key_for(sheet, ind.feed)) or _empty_metric(
                ind.rule
            )
            metric = dict(metric)
            if ind.kind == "veto":
                points = 1.0 if metric.get("count", 0) > 0 else 0.0
            else:
                points = scoring.computed_points(ind.rule, metric, ind.max_points, ind.params or {})
            score.metric, score.computed, score.final = metric, points, points
            changed.append(score)
    _write_computed(changed)  # a recomputation of thousands of rows: not audited row by row
    with audit.acting_as(user, None if user else "年度考核"):
        indicator_set.sheets.update(computed_at=now)
        _retotal(indicator_set)
    return len(changed)


# ------------------------------------------------------------------- scoring


def _manual(sheet: Sheet) -> list[Score]:
    return [
        s
        for s in sheet.scores.select_related("indicator")
        if not s.indicator.feed and s.indicator.kind in MANUAL_KINDS
    ]


def _parse(scores: list[Score], values: Mapping[str, Any]) -> dict[int, float]:
    out, problems = {}, []
    for s in scores:
        raw = values.get(s.indicator.code)
        if raw is None or str(raw).strip() == "":
            problems.append(f"指标“{s.indicator.code} {s.indicator.name}”未评分")
            continue
        try:
            out[s.pk] = scoring.check_range(s.indicator.pure(), str(raw).strip())
        except scoring.ScoreError as exc:
            problems.append(str(exc))
    if problems:
        raise AssessmentError(problems)
    return out


def _move(sheet: Sheet, action: str) -> None:
    try:
        sheet.state = SHEET_FLOW.target(sheet.state, action)
    except TransitionError as exc:
        raise AssessmentError(str(exc)) from exc


@transaction.atomic
def score_first(user: Any, sheet: Sheet, values: Mapping[str, Any], notes=None) -> Sheet:
    """The first assessor's scores for every indicator scored by hand."""
    _require_assessor(user)
    sheet = Sheet.objects.select_for_update().get(pk=sheet.pk)
    scores = _manual(sheet)
    parsed = _parse(scores, values)
    _move(sheet, "score")
    with audit.acting_as(user):
        for s in scores:
            s.first = parsed[s.pk]
            if notes and notes.get(s.indicator.code):
                s.note = str(notes[s.indicator.code])[:500]
        Score.objects.bulk_update(scores, ["first", "note"])
        sheet.first_by = user
        sheet.save(update_fields=["state", "first_by"])
    return sheet


@transaction.atomic
def check(user: Any, sheet: Sheet, values: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """The second assessor's scores; returns the differences above the threshold
    (the sheet then waits for reconciliation), else the sheet is agreed."""
    _require_assessor(user)
    sheet = Sheet.objects.select_for_update().select_related("indicator_set").get(pk=sheet.pk)
    if sheet.state == S.SCORED and sheet.first_by_id == getattr(user, "pk", None):
        raise PermissionDenied("复核须由初评人以外的考核人员进行")
    scores = _manual(sheet)
    parsed = _parse(scores, values)
    first = {s.indicator.code: s.first for s in scores}
    second = {s.indicator.code: parsed[s.pk] for s in scores}
    diff = scoring.differences(first, second, sheet.indicator_set.threshold)
    for s in scores:  # a veto item is either set or not: any disagreement is reconciled
        code = s.indicator.code
        if s.indicator.kind == "veto" and first[code] != second[code]:
            diff[code] = (first[code], second[code])
    _move(sheet, "differ" if diff else "agree")
    with audit.acting_as(user):
        for s in scores:
            s.second = parsed[s.pk]
            s.final = None if s.indicator.code in diff else round((s.first + s.second) / 2, 2)
        Score.objects.bulk_update(scores, ["second", "final"])
        sheet.second_by = user
        sheet.save(update_fields=["state", "second_by"])
        if not diff:
            _retotal(sheet.indicator_set, group=sheet.group)
    return diff


@transaction.atomic
def reconcile(
    user: Any, sheet: Sheet, values: Mapping[str, Any], reasons: Mapping[str, str]
) -> Sheet:
    """A value and a reason for each indicator the two assessors differed on."""
    _require_assessor(user)
    sheet = Sheet.objects.select_for_update().select_related("indicator_set").get(pk=sheet.pk)
    if sheet.state != S.DIFFER:
        _move(sheet, "reconcile")  # raises, naming the state
    open_ = [s for s in _manual(sheet) if s.final is None]
    parsed = _parse(open_, values)
    missing = [
        f"指标“{s.indicator.code} {s.indicator.name}”须填写协调理由"
        for s in open_
        if not str(reasons.get(s.indicator.code, "")).strip()
    ]
    if missing:
        raise AssessmentError(missing)
    _move(sheet, "reconcile")
    with audit.acting_as(user):
        for s in open_:
            s.final = parsed[s.pk]
            s.reason = str(reasons[s.indicator.code]).strip()[:500]
        Score.objects.bulk_update(open_, ["final", "reason"])
        sheet.save(update_fields=["state"])
        _retotal(sheet.indicator_set, group=sheet.group)
    return sheet


def _retotal(indicator_set: IndicatorSet, group: str | None = None) -> None:
    """Total every agreed sheet (of a group) and rank each group again."""
    inds = defaultdict(list)
    for i in indicator_set.indicators.all():
        inds[i.group].append(i.pure())
    sheets = list(indicator_set.sheets.filter(**({"group": group} if group else {})))
    finals: dict[int, dict[str, float | None]] = defaultdict(dict)
    for sid, code, final in Score.objects.filter(sheet__in=sheets).values_list(
        "sheet_id", "indicator__code", "final"
    ):
        finals[sid][code] = final
    for sheet in sheets:
        if sheet.state == S.AGREED:
            t = scoring.sheet_total(inds[sheet.group], finals[sheet.pk])
            sheet.total, sheet.vetoed, sheet.veto_reason = t.total, t.vetoed, t.veto_reason
        else:
            sheet.total, sheet.vetoed, sheet.veto_reason = None, False, ""
    by_group = defaultdict(dict)
    for sheet in sheets:
        if sheet.total is not None:
            by_group[sheet.group][sheet.pk] = sheet.total
    places = {k: r for g in by_group.values() for k, _, r in scoring.rank(g)}
    for sheet in sheets:
        sheet.rank = places.get(sheet.pk)
    Sheet.objects.bulk_update(sheets, ["total", "vetoed", "veto_reason", "rank"])


METRIC_LABELS = {"this": "本年", "last": "上年", "count": "数量", "done": "完成", "of": "基数"}


def metric_text(metric: Mapping[str, float] | None) -> str:
    """A feed's figures in words: 本年 3 · 上年 1."""
    return " · ".join(f"{METRIC_LABELS.get(k, k)} {v:g}" for k, v in (metric or {}).items())


def sheet_view(sheet: Sheet) -> dict[str, Any]:
    """The sheet's lines for a page: each indicator with its figures, and the total."""
    rows = list(sheet.scores.select_related("indicator").order_by("indicator__order"))
    pure = [s.indicator.pure() for s in rows]
    t = scoring.sheet_total(pure, {s.indicator.code: s.final for s in rows})
    threshold = sheet.indicator_set.threshold
    for s in rows:
        s.manual = not s.indicator.feed
        s.differs = (
            s.first is not None
            and s.second is not None
            and abs(s.first - s.second) > threshold + 1e-9
        )
        s.feed_label = FEEDS.get(s.indicator.feed, ("",))[0]
        s.metric_text = metric_text(s.metric)
    return {"rows": rows, "preview": t}


# ------------------------------------------------------------------ evidence


def upload_evidence(
    user: Any, sheet: Sheet, indicator: Indicator, upload: Any, note: str = ""
) -> Evidence:
    if not visible_sheets(user).filter(pk=sheet.pk).exists():
        raise PermissionDenied("只能为本单位的考核表上传佐证材料")
    if indicator.indicator_set_id != sheet.indicator_set_id or indicator.group != sheet.group:
        raise AssessmentError("该指标不属于这张考核表")
    if indicator.feed:
        raise AssessmentError(f"指标“{indicator.code} {indicator.name}”由平台数据计算,无需上传佐证")
    if sheet.state == S.AGREED:
        raise AssessmentError("评分已确认,不能再上传佐证材料")
    media.check_upload(upload, "attachment")
    with audit.acting_as(user):
        return Evidence.objects.create(
            sheet=sheet, indicator=indicator, file=upload, note=note[:300], uploaded_by=user
        )


def may_read_evidence(user: Any, name: str) -> bool:
    return visible_sheets(user).filter(evidence__file=name).exists()


# ---------------------------------------------------------------- ranking, 约谈


def ranking(indicator_set: IndicatorSet) -> dict[str, list[Sheet]]:
    """Each group's sheets, ranked ones first in rank order, then those pending."""
    out: dict[str, list[Sheet]] = {g: [] for g in scoring.GROUPS}
    sheets = (
        indicator_set.sheets.select_related("department")
        .annotate(interview_state=F("interview__state"), interview_pk=F("interview__id"))
        .order_by("group", F("rank").asc(nulls_last=True), "department__sort_order")
    )
    for s in sheets:
        out[s.group].append(s)
    return out


@transaction.atomic
def propose_interviews(user: Any, indicator_set: IndicatorSet) -> list[Interview]:
    """The bottom N of each group proposed for 约谈 (once every sheet of it is agreed)."""
    _require_assessor(user)
    made = []
    with audit.acting_as(user):
        for group, sheets in ranking(indicator_set).items():
            pending = [s for s in sheets if s.state != S.AGREED]
            if pending:
                raise AssessmentError(
                    f"{scoring.GROUPS[group]}还有 {len(pending)} 张评分表未确认"
                    f"(如{pending[0].department.name}),暂不能提出约谈名单"
                )
            ranked = [(s.pk, s.total, s.rank) for s in sheets]
            for pk in scoring.bottom(ranked, indicator_set.bottom_n):
                iv, created = Interview.objects.get_or_create(sheet_id=pk)
                if created:
                    made.append(iv)
    return made


def _move_interview(iv: Interview, action: str) -> None:
    try:
        iv.state = INTERVIEW_FLOW.target(iv.state, action)
    except TransitionError as exc:
        raise AssessmentError(str(exc)) from exc


@transaction.atomic
def hold_interview(
    user: Any, iv: Interview, *, held_on: Any, attendees: str, problems: str, deadline: Any
) -> Interview:
    _require_assessor(user)
    held_on, deadline = _date(held_on, "约谈日期"), _date(deadline, "整改期限")
    missing = [
        n for n, v in (("参加人员", attendees), ("指出的问题", problems)) if not str(v).strip()
    ]
    if missing:
        raise AssessmentError([f"约谈记录须填写{n}" for n in missing])
    if deadline < held_on:
        raise AssessmentError("整改期限不能早于约谈日期")
    _move_interview(iv, "hold")
    with audit.acting_as(user):
        iv.held_on, iv.deadline = held_on, deadline
        iv.attendees, iv.problems = attendees.strip(), problems.strip()
        iv.save()
    return iv


@transaction.atomic
def close_interview(user: Any, iv: Interview, *, rectification: str, closed_on: Any) -> Interview:
    _require_assessor(user)
    closed_on = _date(closed_on, "销号日期")
    if not rectification.strip():
        raise AssessmentError("销号须填写整改情况")
    _move_interview(iv, "close")
    with audit.acting_as(user):
        iv.rectification, iv.closed_on = rectification.strip(), closed_on
        iv.save()
    return iv


def _date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise AssessmentError(f"{what}“{value}”不是日期(YYYY-MM-DD)") from None


# ------------------------------------------------------------------- exports


def _result_rows(indicator_set: IndicatorSet):
    for group, sheets in ranking(indicator_set).items():
        for s in sheets:
            yield group, s


def result_xlsx(indicator_set: IndicatorSet) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "考核结果"
    ws.append([indicator_set.title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["组别", "排名", "单位", "总分", "一票否决", "状态", "约谈"])
    for c in ws[2]:
        c.font = Font(bold=True)
    iv_labels = dict(Interview.State.choices)
    for group, s in _result_rows(indicator_set):
        ws.append(
            [
                scoring.GROUPS[group],
                s.rank,
                s.department.name,
                s.total,
                s.veto_reason,
                s.get_state_display(),
                iv_labels.get(s.interview_state, ""),
            ]
        )
    detail = wb.create_sheet("指标得分")
    detail.append(
        ["单位", "编号", "指标", "类型", "分值", "平台数据", "初评", "复核", "确认", "协调理由"]
    )
    for row in (
        Score.objects.filter(sheet__indicator_set=indicator_set)
        .select_related("sheet__department", "indicator")
        .order_by("sheet__group", "sheet__department__sort_order", "indicator__order")
    ):
        detail.append(
            [
                row.sheet.department.name,
                row.indicator.code,
                row.indicator.name,
                scoring.KINDS[row.indicator.kind],
                row.indicator.max_points,
                metric_text(row.metric),
                row.first,
                row.second,
                row.final,
                row.reason,
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def result_docx(indicator_set: IndicatorSet) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading(f"{indicator_set.title}结果", level=1)
    iv_labels = dict(Interview.State.choices)
    for group, sheets in ranking(indicator_set).items():
        document.add_heading(scoring.GROUPS[group], level=2)
        table = document.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, ("排名", "单位", "总分", "备注"), strict=True):
            cell.text = text
        for s in sheets:
            cells = table.add_row().cells
            note = s.veto_reason or iv_labels.get(s.interview_state, "") or ""
            if s.total is None:
                note = s.get_state_display()
            cells[0].text = str(s.rank or "—")
            cells[1].text = s.department.name
            cells[2].text = "—" if s.total is None else f"{s.total:g}"
            cells[3].text = note
    interviews = Interview.objects.filter(sheet__indicator_set=indicator_set).select_related(
        "sheet__department"
    )
    if interviews:
        document.add_heading("约谈情况", level=2)
        for iv in interviews:
            text = f"{iv.sheet.department.name}:{iv_labels[iv.state]}"
            if iv.held_on:
                text += f";{iv.held_on:%Y-%m-%d} 约谈,问题:{iv.problems};整改期限 {iv.deadline:%Y-%m-%d}"
            if iv.closed_on:
                text += f";{iv.closed_on:%Y-%m-%d} 销号"
            document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


# ----------------------------------------------------------------- 述职 review

REVIEW_ITEMS = (
    ("duty", "履行安全生产职责", 30),
    ("risk", "风险防控和隐患治理", 30),
    ("emergency", "应急准备与处置", 20),
    ("report", "述职报告质量", 20),
)


def visible_sessions(user: Any) -> QuerySet[ReviewSession]:
    qs = ReviewSession.objects.select_related("department")
    if is_assessor(user):
        return qs
    unit = own_unit(user)
    q = Q(reviewers__user=user) if user.is_authenticated else Q(pk__in=[])
    if unit is not None:
        q |= Q(department=unit)
    return qs.filter(q).distinct()


def may_score(user: Any, reviewer: Reviewer) -> bool:
    return is_assessor(user) or (reviewer.user_id is not None and reviewer.user_id == user.pk)


@transaction.atomic
def create_session(
    user: Any,
    *,
    department: Department,
    year: int,
    speaker: str,
    held_on: Any,
    method: str = "trimmed",
    trim: int = 1,
) -> ReviewSession:
    _require_assessor(user)
    if department.kind != DepartmentKind.DISTRICT_GOV:
        raise AssessmentError(f"{department.name}不是区政府,述职评议面向各区")
    if method not in scoring.METHODS:
        raise AssessmentError(f"未知的汇总方式:{method}")
    if not speaker.strip():
        raise AssessmentError("须填写述职人")
    with audit.acting_as(user):
        return ReviewSession.objects.create(
            department=department,
            year=year,
            speaker=speaker.strip(),
            held_on=_date(held_on, "述职日期"),
            method=method,
            trim=trim,
        )


@transaction.atomic
def add_reviewer(
    user: Any,
    session: ReviewSession,
    *,
    name: str,
    kind: str,
    affiliation: str = "",
    account: Any = None,
) -> Reviewer:
    _require_assessor(user)
    if kind not in Reviewer.Kind.values:
        raise AssessmentError(f"评议人身份“{kind}”无效(人大代表、政协委员或其他)")
    if not name.strip():
        raise AssessmentError("须填写评议人姓名")
    with audit.acting_as(user):
        return Reviewer.objects.create(
            session=session,
            name=name.strip(),
            kind=kind,
            affiliation=affiliation.strip(),
            user=account,
        )


@transaction.atomic
def submit_review(
    user: Any, reviewer: Reviewer, items: Mapping[str, Any], comment: str = ""
) -> Reviewer:
    if not may_score(user, reviewer):
        raise PermissionDenied("只能填写本人的评分表")
    session = ReviewSession.objects.select_for_update().get(pk=reviewer.session_id)
    if session.state != R.OPEN:
        raise AssessmentError(f"述职评议已{session.get_state_display()},不能再评分")
    values, problems = {}, []
    for key, label, top in REVIEW_ITEMS:
        ind = scoring.Indicator(key, label, "evidence", top)
        raw = items.get(key)
        if raw is None or str(raw).strip() == "":
            problems.append(f"“{label}”未评分")
            continue
        try:
            values[key] = scoring.check_range(ind, str(raw).strip())
        except scoring.ScoreError as exc:
            problems.append(str(exc).replace("指标", "评分项"))
    if problems:
        raise AssessmentError(problems)
    with audit.acting_as(user):
        reviewer.items = values
        reviewer.total = round(sum(values.values()), 2)
        reviewer.comment = comment.strip()[:2000]
        reviewer.scored_at = timezone.now()
        reviewer.save()
    return reviewer


@transaction.atomic
def close_session(user: Any, session: ReviewSession) -> ReviewSession:
    _require_assessor(user)
    scored = list(session.reviewers.filter(total__isnull=False))
    if not scored:
        raise AssessmentError("还没有评议人评分,不能汇总")
    try:
        session.state = REVIEW_FLOW.target(session.state, "close")
    except TransitionError as exc:
        raise AssessmentError(str(exc)) from exc
    with audit.acting_as(user):
        session.result = scoring.aggregate([r.total for r in scored], session.method, session.trim)
        session.comments = "\n".join(
            f"{r.name}({r.get_kind_display()}):{r.comment}" for r in scored if r.comment
        )
        session.save()
    return session


@transaction.atomic
def send_result(user: Any, session: ReviewSession) -> list:
    """The result to the district through the delivery system (core/outbox.py)."""
    _require_assessor(user)
    try:
        session.state = REVIEW_FLOW.target(session.state, "send")
    except TransitionError as exc:
        raise AssessmentError(str(exc)) from exc
    counted = session.reviewers.filter(total__isnull=False).count()
    body = (
        f"{session.department.name}:\n\n{session.year} 年度安全生产述职({session.held_on:%Y-%m-%d},"
        f"述职人 {session.speaker})评议结果:{session.result:g} 分"
        f"({scoring.METHODS[session.method]},{counted} 名评议人)。\n\n评议意见:\n{session.comments or '无'}"
    )
    with audit.acting_as(user):
        session.sent_at = timezone.now()
        session.save()
        return outbox.notify_department(
            session.department,
            subject=f"【述职评议结果】{session.year} 年度{session.department.name}安全生产述职",
            body=body,
            dedupe_key=f"responsibility:review:{session.pk}",
            source=session,
        )
