"""Figures for the dashboard, the quarterly report and the consultation sheet:
aggregations in the database (never rows in Python), filtered by the user's scope."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import ExtractMonth, Substr
from django.utils import timezone

from yingji.core.models import Region
from yingji.risk import decrease, grading, hazardflow
from yingji.risk.models import Accident, DecreaseTarget, Enterprise, Hazard
from yingji.risk.supervision import SECTIONS


def day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def between(qs: QuerySet, start: dt.date, end: dt.date) -> QuerySet:
    """Accidents from `start` to `end`, both days included."""
    return qs.filter(
        occurred_at__gte=day_start(start), occurred_at__lt=day_start(end + dt.timedelta(days=1))
    )


def district_names() -> dict[str, str]:
    return dict(Region.objects.filter(level="district").values_list("code", "name"))


def double_decrease(as_of: dt.date, accidents: QuerySet | None = None) -> dict[str, Any]:
    """This year to `as_of` vs the same period last year: totals, by district,
    by industry division and by month, with the year's target."""
    qs = accidents if accidents is not None else Accident.objects.all()
    start = dt.date(as_of.year, 1, 1)
    last_start, last_end = decrease.same_period_last_year(as_of)
    now_qs, then_qs = between(qs, start, as_of), between(qs, last_start, last_end)

    def totals(q: QuerySet) -> tuple[int, int]:
        row = q.aggregate(n=Count("id"), d=Sum("deaths"))
        return row["n"] or 0, row["d"] or 0

    n_now, d_now = totals(now_qs)
    n_then, d_then = totals(then_qs)
    target = DecreaseTarget.objects.filter(year=as_of.year).first()
    accidents_cmp = decrease.Comparison(n_now, n_then, target.max_accidents if target else None)
    deaths_cmp = decrease.Comparison(d_now, d_then, target.max_deaths if target else None)

    def grouped(key: str, label) -> list[dict[str, Any]]:
        rows: dict[Any, dict[str, int]] = defaultdict(lambda: {"n": 0, "d": 0, "pn": 0, "pd": 0})
        for which, q in (("", now_qs), ("p", then_qs)):
            for r in q.values(key).annotate(n=Count("id"), d=Sum("deaths")).order_by():
                rows[r[key]][which + "n"] += r["n"]
                rows[r[key]][which + "d"] += r["d"] or 0
        out = []
        for k, v in rows.items():
            a, d = decrease.Comparison(v["n"], v["pn"]), decrease.Comparison(v["d"], v["pd"])
            out.append(
                {
                    "key": k or "",
                    "label": label(k),
                    "accidents": a.as_dict(),
                    "deaths": d.as_dict(),
                    "verdict": decrease.verdict(a, d),
                }
            )
        return out

    names = district_names()
    by_district = sorted(
        grouped("district_id", lambda k: names.get(k, "未定位")), key=lambda r: r["key"]
    )
    by_industry = sorted(_by_division(now_qs, then_qs), key=lambda r: -r["accidents"]["current"])
    months = []
    now_m = {
        r["m"]: r
        for r in now_qs.annotate(m=ExtractMonth("occurred_at"))
        .values("m")
        .annotate(n=Count("id"), d=Sum("deaths"))
        .order_by()
    }
    then_m = {
        r["m"]: r
        for r in then_qs.annotate(m=ExtractMonth("occurred_at"))
        .values("m")
        .annotate(n=Count("id"), d=Sum("deaths"))
        .order_by()
    }
    for m in range(1, as_of.month + 1):
        months.append(
            {
                "month": m,
                "accidents": (now_m.get(m) or {}).get("n", 0),
                "deaths": (now_m.get(m) or {}).get("d", 0) or 0,
                "prev_accidents": (then_m.get(m) or {}).get("n", 0),
                "prev_deaths": (then_m.get(m) or {}).get("d", 0) or 0,
            }
        )
    return {
        "as_of": as_of,
        "year": as_of.year,
        "period": (start, as_of),
        "previous_period": (last_start, last_end),
        "accidents": accidents_cmp.as_dict(),
        "deaths": deaths_cmp.as_dict(),
        "verdict": decrease.verdict(accidents_cmp, deaths_cmp),
        "by_district": by_district,
        "by_industry": by_industry,
        "by_month": months,
        "levels": dict(now_qs.values_list("level").annotate(n=Count("id")).order_by()),
    }


def _by_division(now_qs: QuerySet, then_qs: QuerySet) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "d": 0, "pn": 0, "pd": 0})
    for which, q in (("", now_qs), ("p", then_qs)):
        for r in (
            q.annotate(div=Substr("industry_code", 1, 2))
            .values("div")
            .annotate(n=Count("id"), d=Sum("deaths"))
            .order_by()
        ):
            section = _section(r["div"])
            rows[section][which + "n"] += r["n"]
            rows[section][which + "d"] += r["d"] or 0
    out = []
    for k, v in rows.items():
        a, d = decrease.Comparison(v["n"], v["pn"]), decrease.Comparison(v["d"], v["pd"])
        out.append(
            {
                "key": k,
                "label": SECTIONS[k][2] if k in SECTIONS else "未填行业",
                "accidents": a.as_dict(),
                "deaths": d.as_dict(),
                "verdict": decrease.verdict(a, d),
            }
        )
    return out


def _section(division: str | None) -> str:
    from yingji.risk.supervision import section_of

    return section_of(division or "") or ""


def open_at(day: dt.date) -> Q:
    """The one definition of "open on `day`": found by then and not closed by then."""
    return Q(found_on__lte=day) & (Q(closed_on__isnull=True) | Q(closed_on__gt=day))


def overdue_at(day: dt.date) -> Q:
    """The one definition of "overdue on `day`", for the dashboard, the quarterly
    report and the API alike: open on `day`, its deadline before `day`, and still
    waiting for rectification (reported, assigned, rectifying or rejected)."""
    return open_at(day) & Q(deadline__lt=day, state__in=sorted(hazardflow.DEADLINE_STATES))


def _period_aggregates(start: dt.date, end: dt.date, prefix: str = "") -> dict[str, Count]:
    """Conditional counts of the hazard figures of [start, end] (see hazard_figures)."""
    new = Q(found_on__gte=start, found_on__lte=end)
    return {
        f"{prefix}new": Count("id", filter=new),
        f"{prefix}new_major": Count("id", filter=new & Q(level="major")),
        f"{prefix}closed": Count("id", filter=new & Q(closed_on__lte=end)),
        f"{prefix}open": Count("id", filter=open_at(end)),
        f"{prefix}overdue": Count("id", filter=overdue_at(end)),
    }


FIGURES = ("new", "new_major", "closed", "open", "overdue")


def with_rates(counts: dict[str, int]) -> dict[str, Any]:
    """The five counts of a period with the closure and overdue rates."""
    total, open_count = counts["new"], counts["open"]
    return {
        **{k: counts[k] for k in FIGURES},
        "closure_rate": round(100.0 * counts["closed"] / total, 1) if total else None,
        "overdue_rate": round(100.0 * counts["overdue"] / open_count, 1) if open_count else None,
    }


def hazard_figures(hazards: QuerySet, start: dt.date, end: dt.date) -> dict[str, Any]:
    """New hazards in [start, end] (of them major, and closed by `end`), open at
    `end`, of those past their deadline and still to be rectified; closure and
    overdue rates."""
    agg = hazards.filter(found_on__lte=end).aggregate(**_period_aggregates(start, end))
    return with_rates({k: agg[k] or 0 for k in FIGURES})


def hazard_periods_by_cell(
    hazards: QuerySet, periods: dict[str, tuple[dt.date, dt.date]]
) -> list[dict[str, Any]]:
    """hazard_figures of several periods at once, per district × industry division,
    in one grouped pass over the ledger: rows of {"district_id", "division",
    "<period>": {new, new_major, closed, open, overdue}}. The sum over all rows of a
    period equals hazard_figures of that period."""
    aggregates = {}
    for name, (start, end) in periods.items():
        aggregates.update(_period_aggregates(start, end, f"{name}__"))
    last_end = max(end for _, end in periods.values())
    rows = (
        hazards.filter(found_on__lte=last_end)
        .annotate(division=Substr("industry_code", 1, 2))
        .values("district_id", "division")
        .annotate(**aggregates)
        .order_by()
    )
    return [
        {
            "district_id": r["district_id"],
            "division": r["division"] or "",
            **{name: {k: r[f"{name}__{k}"] or 0 for k in FIGURES} for name in periods},
        }
        for r in rows
    ]


def total(cells: list[dict[str, Any]], period: str) -> dict[str, Any]:
    """hazard_figures of `period` from hazard_periods_by_cell rows."""
    return with_rates({k: sum(c[period][k] for c in cells) for k in FIGURES})


def grade_distribution(enterprises: QuerySet) -> dict[str, int]:
    counts = dict(enterprises.values_list("grade").annotate(n=Count("id")).order_by())
    return {g: counts.get(g, 0) for g in grading.GRADE_ORDER}


def overview(
    as_of: dt.date,
    *,
    hazards: QuerySet | None = None,
    enterprises: QuerySet | None = None,
    accidents: QuerySet | None = None,
) -> dict[str, Any]:
    """The dashboard: grade distribution, hazard state counts, overdue, double decrease."""
    hazards = hazards if hazards is not None else Hazard.objects.all()
    enterprises = enterprises if enterprises is not None else Enterprise.objects.all()
    # One grouped pass over the ledger for every count (a million rows: passes are
    # what cost): per state and level, how many, and how many past their deadline.
    states = {s.value: 0 for s in hazardflow.State}
    overdue = open_major = 0
    for row in (
        hazards.values("state", "level")
        .annotate(n=Count("id"), late=Count("id", filter=overdue_at(as_of)))
        .order_by()
    ):
        states[row["state"]] = states.get(row["state"], 0) + row["n"]
        overdue += row["late"]
        if row["level"] == "major" and row["state"] != hazardflow.State.CLOSED:
            open_major += row["n"]
    return {
        "as_of": as_of,
        "grades": grade_distribution(enterprises),
        "hazard_states": [
            {"state": s.value, "label": s.label, "count": states[s.value]} for s in hazardflow.State
        ],
        "open_hazards": sum(v for k, v in states.items() if k != "closed"),
        "open_major": open_major,
        "overdue": overdue,
        "decrease": double_decrease(as_of, accidents),
    }
