"""List filters shared by the pages, the API and the benchmark: one place that
turns request parameters into a queryset, so all three filter alike."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import CharField, DateField, F, Func, Q, QuerySet

from yingji.risk import hazardflow
from yingji.risk.categories import KEY_CATEGORIES
from yingji.risk.models import Grade
from yingji.risk.services import (
    visible_accidents,
    visible_enterprises,
    visible_hazards,
    visible_risk_points,
)

PAGE_SIZE = 50
# Region boundaries are large GeoJSON: never load them with a list row.
NO_BOUNDARY = ("district__boundary", "street__boundary")


@dataclass
class Page:
    """One page of a list: the rows and whether more follow (no total count:
    counting a million-row ledger on every page view is what makes lists slow)."""

    rows: list
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def paginate(qs: QuerySet, page: int | str | None, size: int = PAGE_SIZE) -> Page:
    try:
        number = max(1, int(page or 1))
    except (TypeError, ValueError):
        number = 1
    rows = list(qs[(number - 1) * size : number * size + 1])
    return Page(rows[:size], number, len(rows) > size)


def _date(params: dict[str, Any], key: str) -> dt.date | None:
    value = params.get(key)
    if not value:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(f"参数 {key} 的日期格式应为 YYYY-MM-DD") from None


def _industry_q(field: str, value: str) -> Q:
    """A section letter (C) or a code prefix (26, 2614)."""
    from yingji.risk.supervision import SECTIONS

    value = value.strip().upper()
    if value in SECTIONS:
        first, last, _ = SECTIONS[value]
        # Codes are digit strings, so a section is a string range of divisions.
        return Q(**{f"{field}__gte": f"{first:02d}", f"{field}__lt": f"{last + 1:02d}"})
    return Q(**{f"{field}__startswith": value})


def _no_index(field: str) -> Func:
    """`+field`: the same value, but SQLite will not use an index for it. The ledger
    is read newest first: on SQLite, walking the (district, found_on) or found_on
    index in order and testing the other filters row by row beats collecting every
    matching row through a state/industry/deadline index and sorting them all.
    PostgreSQL's planner weighs this itself from its statistics."""
    return Func(F(field), template="+%(expressions)s", output_field=CharField())


def hazards(user: Any, params: dict[str, Any], today: dt.date) -> QuerySet:
    """Hazards the user may see, filtered by district, street, industry, state,
    level, source, department, overdue, enterprise and text; newest first."""
    qs = visible_hazards(user)
    sqlite = connection.vendor == "sqlite"
    if sqlite:
        qs = qs.alias(
            f_state=_no_index("state"),
            f_industry=_no_index("industry_code"),
            f_deadline=Func(F("deadline"), template="+%(expressions)s", output_field=DateField()),
        )
    state_f, industry_f, deadline_f = (
        ("f_state", "f_industry", "f_deadline")
        if sqlite
        else ("state", "industry_code", "deadline")
    )
    if params.get("district"):
        qs = qs.filter(district_id=params["district"])
    if params.get("street"):
        qs = qs.filter(street_id=params["street"])
    if params.get("industry"):
        qs = qs.filter(_industry_q(industry_f, str(params["industry"])))
    state = params.get("state")
    overdue = str(params.get("overdue", "")).lower() in ("1", "true", "yes", "on")
    if state and state != "open" and state not in hazardflow.State.__members__.values():
        raise ValidationError(f"未知的隐患状态:{state}")
    if overdue and state and state != "open" and state not in hazardflow.DEADLINE_STATES:
        return qs.none()  # submitted, accepted and closed hazards are never overdue
    if state == "open":
        qs = qs.exclude(**{state_f: hazardflow.State.CLOSED})
    elif state:
        qs = qs.filter(**{state_f: state})
    for key in ("level", "source", "category"):
        if params.get(key):
            qs = qs.filter(**{key: params[key]})
    if params.get("department"):
        qs = qs.filter(department_id=params["department"])
    if params.get("enterprise"):
        qs = qs.filter(enterprise_id=params["enterprise"])
    if overdue:
        qs = qs.filter(
            **{
                f"{state_f}__in": sorted(hazardflow.DEADLINE_STATES),
                f"{deadline_f}__lt": _date(params, "as_of") or today,
            }
        )
    if params.get("listed") in ("1", "true", True):
        qs = qs.filter(listed=True)
    if params.get("q"):
        qs = qs.filter(Q(code=params["q"]) | Q(description__contains=params["q"]))
    return qs.order_by("-found_on", "-id")


def enterprises(user: Any, params: dict[str, Any]) -> QuerySet:
    qs = visible_enterprises(user)
    if params.get("district"):
        qs = qs.filter(district_id=params["district"])
    if params.get("street"):
        qs = qs.filter(street_id=params["street"])
    if params.get("industry"):
        qs = qs.filter(_industry_q("industry_code", str(params["industry"])))
    if params.get("grade"):
        if params["grade"] not in Grade.values:
            raise ValidationError(f"未知的风险等级:{params['grade']}")
        qs = qs.filter(grade=params["grade"])
    category = params.get("category")
    if category:
        if category not in KEY_CATEGORIES:
            raise ValidationError(f"未知的重点行业领域:{category}")
        qs = qs.filter(key_categories__icontains=f'"{category}"')
    if params.get("major_hazard") in ("1", "true", True):
        qs = qs.filter(has_major_hazard_installation=True)
    if params.get("department"):
        qs = qs.filter(supervising_department_id=params["department"])
    if params.get("q"):
        qs = qs.filter(Q(name__contains=params["q"]) | Q(credit_code=params["q"].upper()))
    return qs.order_by("name", "id")


def risk_points(user: Any, params: dict[str, Any]) -> QuerySet:
    qs = visible_risk_points(user)
    if params.get("district"):
        qs = qs.filter(district_id=params["district"])
    if params.get("grade"):
        qs = qs.filter(grade=params["grade"])
    if params.get("enterprise"):
        qs = qs.filter(enterprise_id=params["enterprise"])
    if params.get("q"):
        qs = qs.filter(Q(name__contains=params["q"]) | Q(code=params["q"]))
    return qs.select_related("enterprise", "district").defer(*NO_BOUNDARY[:1]).order_by("code")


def accidents(user: Any, params: dict[str, Any]) -> QuerySet:
    qs = visible_accidents(user)
    if params.get("district"):
        qs = qs.filter(district_id=params["district"])
    if params.get("industry"):
        qs = qs.filter(_industry_q("industry_code", str(params["industry"])))
    if params.get("level"):
        qs = qs.filter(level=params["level"])
    if params.get("year"):
        qs = qs.filter(occurred_at__year=int(params["year"]))
    qs = qs.select_related("district", "street", "enterprise")
    return qs.defer(*NO_BOUNDARY).order_by("-occurred_at")
