"""The quarterly risk analysis report (seed item 21, .docx and HTML, with
charts) and the holiday / key-period consultation sheet (会商研判表).

Figures come from stats.py (database aggregation); charts are matplotlib with
the Noto Sans CJK SC font shipped by the mplfonts package, registered by file so
Chinese labels render on a fresh machine.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractMonth
from django.template.loader import render_to_string

from yingji.core import workcalendar as wc
from yingji.core.models import SpecialPeriod
from yingji.risk import decrease, grading, seasons, services, stats
from yingji.risk.models import Accident, Enterprise, Hazard
from yingji.risk.supervision import SECTIONS, section_of

TOP_N = 10


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end


def previous_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year, quarter - 1) if quarter > 1 else (year - 1, 4)


def _scoped(user: Any):
    if user is None:
        return Hazard.objects.all(), Enterprise.objects.all(), Accident.objects.all()
    return (
        services.visible_hazards(user),
        services.visible_enterprises(user),
        services.visible_accidents(user),
    )


def _accident_figures(accidents, start: dt.date, end: dt.date) -> dict[str, Any]:
    qs = stats.between(accidents, start, end)
    agg = qs.aggregate(
        n=Count("id"), d=Sum("deaths"), i=Sum("serious_injuries"), loss=Sum("direct_loss")
    )
    return {
        "count": agg["n"] or 0,
        "deaths": agg["d"] or 0,
        "injuries": agg["i"] or 0,
        "loss": float(agg["loss"] or 0),
        "larger_or_above": qs.exclude(level="general").count(),
    }


def _key_periods(start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    special = [
        wc.KeyPeriod(p.name, p.start, p.end)
        for p in SpecialPeriod.objects.filter(start__lte=end, end__gte=start)
    ]
    periods = []
    for year in range(start.year, end.year + 1):
        try:
            found = wc.key_periods(year, special)
        except wc.CalendarRangeError:
            found = [p for p in special if p.start.year == year]
        periods.extend(p for p in found if p.start <= end and p.end >= start)
    seen, out = set(), []
    for p in periods:
        if (p.name, p.start) not in seen:
            seen.add((p.name, p.start))
            out.append({"name": p.name, "start": p.start, "end": p.end})
    return out


def report_periods(year: int, quarter: int, today: dt.date) -> dict[str, tuple[dt.date, dt.date]]:
    """The report's three periods, each as far as the quarter has run on `today`: the
    quarter to date, the previous quarter over the same number of days, and the same
    quarter last year to the same day. A quarter still running is compared like for
    like (its 2 months against 2 months), never against a full quarter or year.
    ValueError for a quarter that has not begun."""
    start, end = quarter_bounds(year, quarter)
    if start > today:
        raise ValueError(f"{year}年第{quarter}季度尚未开始,没有数据")
    as_of = min(end, today)
    py, pq = previous_quarter(year, quarter)
    prev_start, prev_end = quarter_bounds(py, pq)
    ly_start, ly_end = quarter_bounds(year - 1, quarter)
    return {
        "now": (start, as_of),
        "prev": (prev_start, min(prev_end, prev_start + (as_of - start))),
        "last_year": (ly_start, min(ly_end, decrease.same_period_last_year(as_of)[1])),
    }


def quarterly_data(
    year: int, quarter: int, *, user: Any = None, today: dt.date | None = None
) -> dict[str, Any]:
    """Every figure of the quarterly report for `user`'s scope (None: the whole city),
    as of `today` (default: today) for a quarter still running."""
    hazards, enterprises, accidents = _scoped(user)
    periods = report_periods(year, quarter, today or services.today())
    start, end = periods["now"]
    prev_start, prev_end = periods["prev"]
    ly_start, ly_end = periods["last_year"]
    quarter_end = quarter_bounds(year, quarter)[1]
    names = stats.district_names()

    # Every hazard figure of the three periods, per district × industry division, in
    # one grouped pass over the ledger (a million rows: passes are what cost).
    cells = stats.hazard_periods_by_cell(hazards, periods)

    # District × industry section: new hazards of the quarter.
    matrix: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_district: dict[str, dict[str, int]] = defaultdict(
        lambda: {"new": 0, "open": 0, "overdue": 0}
    )
    for cell in cells:
        code, now = cell["district_id"] or "", cell["now"]
        if now["new"]:
            matrix[code][section_of(cell["division"]) or ""] += now["new"]
        for key in ("new", "open", "overdue"):
            by_district[code][key] += now[key]
    sections_present = sorted({s for d in matrix.values() for s in d if s})
    matrix_rows = [
        {
            "district": names.get(code, "未定位"),
            "cells": [matrix[code].get(s, 0) for s in sections_present],
            "total": sum(matrix[code].values()),
        }
        for code in sorted(matrix)
    ]
    by_district_hazards = [
        {"district": names.get(code, "未定位"), **v}
        for code, v in sorted(by_district.items())
        if v["new"] or v["open"]
    ]

    open_at_end = hazards.filter(stats.open_at(end))
    # Grouped by the enterprise id alone (no join while counting); names fetched for the ten.
    top = list(
        open_at_end.values("enterprise_id")
        .annotate(open=Count("id"), major=Count("id", filter=Q(level="major")))
        .order_by("-major", "-open", "enterprise_id")[:TOP_N]
    )
    firms = {
        e["pk"]: e
        for e in Enterprise.objects.filter(pk__in=[r["enterprise_id"] for r in top]).values(
            "pk", "name", "grade", "district_id"
        )
    }
    for row in top:
        firm = firms.get(row["enterprise_id"], {})
        row["enterprise__name"] = firm.get("name", "")
        row["district"] = names.get(firm.get("district_id"), "")
        row["grade_label"] = grading.GRADE_LABELS.get(firm.get("grade", ""), "未评估")

    months_now = dict(
        stats.between(accidents, dt.date(year, 1, 1), end)
        .annotate(m=ExtractMonth("occurred_at"))
        .values_list("m")
        .annotate(n=Count("id"))
        .order_by()
    )
    # The chart shows last year's whole year for context; the comparisons above are
    # like for like (report_periods).
    months_then = dict(
        stats.between(accidents, dt.date(year - 1, 1, 1), dt.date(year - 1, 12, 31))
        .annotate(m=ExtractMonth("occurred_at"))
        .values_list("m")
        .annotate(n=Count("id"))
        .order_by()
    )

    return {
        "title": f"{year}年第{quarter}季度安全风险分析报告",
        "year": year,
        "quarter": quarter,
        "start": start,
        "end": end,
        "partial": end < quarter_end,
        "quarter_end": quarter_end,
        "grades": [
            {"grade": g, "label": grading.GRADE_LABELS[g], "count": c}
            for g, c in stats.grade_distribution(enterprises).items()
        ],
        "enterprises": enterprises.count(),
        "hazards": stats.total(cells, "now"),
        "hazards_prev": stats.total(cells, "prev"),
        "hazards_last_year": stats.total(cells, "last_year"),
        "accidents": _accident_figures(accidents, start, end),
        "accidents_prev": _accident_figures(accidents, prev_start, prev_end),
        "accidents_last_year": _accident_figures(accidents, ly_start, ly_end),
        "matrix_sections": [(s, SECTIONS[s][2]) for s in sections_present],
        "matrix": matrix_rows,
        "by_district": by_district_hazards,
        "top": top,
        "months_now": [months_now.get(m, 0) for m in range(1, 13)],
        "months_then": [months_then.get(m, 0) for m in range(1, 13)],
        "seasonal_notes": seasons.notes_for(start, end),
        "key_periods": _key_periods(start, end),
        "decrease": stats.double_decrease(end, accidents),
    }


# ---------------------------------------------------------------- charts


@lru_cache(maxsize=1)
def _font() -> str:
    """Register the CJK font shipped by mplfonts; returns its family name."""
    import matplotlib

    matplotlib.use("Agg")
    import mplfonts
    from matplotlib import font_manager

    path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def _figure():
    family = _font()
    import matplotlib.pyplot as plt

    plt.rcParams["font.sans-serif"] = [family]
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _png(fig) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=110, bbox_inches="tight")
    _figure().close(fig)
    return out.getvalue()


def charts(data: dict[str, Any]) -> dict[str, bytes]:
    """PNG charts: grade distribution, hazards by district, accidents by month."""
    plt = _figure()
    out = {}
    fig, ax = plt.subplots(figsize=(5, 3))
    grades = data["grades"]
    ax.bar(
        [g["label"] for g in grades],
        [g["count"] for g in grades],
        color=[grading.GRADE_COLOURS[g["grade"]] for g in grades],
    )
    ax.set_title("企业风险等级分布")
    ax.set_ylabel("企业数")
    out["grades"] = _png(fig)

    fig, ax = plt.subplots(figsize=(7, 3.2))
    rows = data["by_district"]
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], [r["new"] for r in rows], width=0.4, label="本季度新增隐患")
    ax.bar(
        [x + 0.2 for x in xs],
        [r["overdue"] for r in rows],
        width=0.4,
        label="季末超期未改",
        color="#d32f2f",
    )
    ax.set_xticks(list(xs), [r["district"] for r in rows], rotation=30)
    ax.legend()
    ax.set_title("各区隐患情况")
    out["districts"] = _png(fig)

    fig, ax = plt.subplots(figsize=(7, 3))
    months = [f"{m}月" for m in range(1, 13)]
    ax.plot(months, data["months_then"], marker="o", label=f"{data['year'] - 1}年")
    upto = data["end"].month
    ax.plot(months[:upto], data["months_now"][:upto], marker="o", label=f"{data['year']}年")
    ax.set_title("生产安全事故起数(按月)")
    ax.legend()
    out["accidents"] = _png(fig)
    return out


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _trend(now: int, then: int) -> str:
    if then == 0:
        return "持平" if now == 0 else f"增加{now}"
    change = 100.0 * (now - then) / then
    return f"{'上升' if change > 0 else '下降' if change < 0 else '持平'}{abs(change):.1f}%"


def narrative(data: dict[str, Any]) -> list[str]:
    """The report's summary paragraphs."""
    h, hp, hl = data["hazards"], data["hazards_prev"], data["hazards_last_year"]
    a, ap, al = data["accidents"], data["accidents_prev"], data["accidents_last_year"]
    d = data["decrease"]
    red = next(g["count"] for g in data["grades"] if g["grade"] == "red")
    orange = next(g["count"] for g in data["grades"] if g["grade"] == "orange")
    so_far = (
        f"(季度进行中,数据截至{data['end']:%Y年%m月%d日},与上季度和去年同期的相同天数比较)"
        if data.get("partial")
        else ""
    )
    at_end = "截至目前" if data.get("partial") else "季末"
    return [
        f"一、风险分级管控。全市纳入管理企业{data['enterprises']}家,其中重大风险(红){red}家、"
        f"较大风险(橙){orange}家。",
        f"二、隐患排查治理{so_far}。本季度新增隐患{h['new']}项(重大事故隐患{h['new_major']}项),"
        f"较上季度{_trend(h['new'], hp['new'])},较去年同期{_trend(h['new'], hl['new'])};"
        f"本季度新增隐患整改销号率{_pct(h['closure_rate'])}。{at_end}在改隐患{h['open']}项,"
        f"其中超期未改{h['overdue']}项,超期率{_pct(h['overdue_rate'])}。",
        f"三、生产安全事故。本季度发生事故{a['count']}起、死亡{a['deaths']}人,"
        f"较上季度起数{_trend(a['count'], ap['count'])},较去年同期起数{_trend(a['count'], al['count'])}、"
        f"死亡人数{_trend(a['deaths'], al['deaths'])};较大及以上事故{a['larger_or_above']}起。",
        f"四、“双下降”。截至{d['as_of']:%Y年%m月%d日},今年以来事故{d['accidents']['current']}起"
        f"(去年同期{d['accidents']['previous']}起)、死亡{d['deaths']['current']}人"
        f"(去年同期{d['deaths']['previous']}人),{d['verdict']}。",
    ]


# ---------------------------------------------------------------- outputs


def quarterly_html(data: dict[str, Any]) -> str:
    images = {k: base64.b64encode(v).decode() for k, v in charts(data).items()}
    return render_to_string(
        "risk/quarterly.html", {**data, "charts": images, "paragraphs": narrative(data)}
    )


def quarterly_docx(data: dict[str, Any]) -> bytes:
    """The report as a Word document with its charts and tables."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Cm

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    doc.add_heading(data["title"], level=0)
    doc.add_paragraph(
        f"统计时段:{data['start']:%Y年%m月%d日}至{data['end']:%Y年%m月%d日}"
        + ("(季度进行中)" if data.get("partial") else "")
    )
    for para in narrative(data):
        doc.add_paragraph(para)
    images = charts(data)
    for key in ("grades", "districts", "accidents"):
        doc.add_picture(io.BytesIO(images[key]), width=Cm(15))

    def table(headers: list[str], rows: list[list[Any]]) -> None:
        t = doc.add_table(rows=1, cols=len(headers))
        t.style = "Table Grid"
        for cell, text in zip(t.rows[0].cells, headers, strict=True):
            cell.text = str(text)
        for row in rows:
            cells = t.add_row().cells
            for cell, value in zip(cells, row, strict=True):
                cell.text = str(value)

    doc.add_heading("各区隐患情况", level=1)
    table(
        ["区", "新增", "季末在改", "超期未改"],
        [[r["district"], r["new"], r["open"], r["overdue"]] for r in data["by_district"]],
    )
    if data["matrix"]:
        doc.add_heading("新增隐患(区 × 行业门类)", level=1)
        table(
            ["区"] + [name for _, name in data["matrix_sections"]] + ["合计"],
            [[r["district"], *r["cells"], r["total"]] for r in data["matrix"]],
        )
    doc.add_heading(f"在改隐患最多的{TOP_N}家企业", level=1)
    table(
        ["企业", "区", "风险等级", "在改隐患", "其中重大"],
        [
            [r["enterprise__name"], r["district"], r["grade_label"], r["open"], r["major"]]
            for r in data["top"]
        ],
    )
    doc.add_heading("“双下降”分区情况", level=1)
    table(
        ["区", "事故起数", "去年同期", "死亡人数", "去年同期", "结论"],
        [
            [
                r["label"],
                r["accidents"]["current"],
                r["accidents"]["previous"],
                r["deaths"]["current"],
                r["deaths"]["previous"],
                r["verdict"],
            ]
            for r in data["decrease"]["by_district"]
        ],
    )
    doc.add_heading("季节性风险提示", level=1)
    for note in data["seasonal_notes"]:
        doc.add_paragraph(note, style="List Bullet")
    for p in data["key_periods"]:
        doc.add_paragraph(
            f"重点时段:{p['name']}({p['start']:%m月%d日}至{p['end']:%m月%d日})", style="List Bullet"
        )
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def consultation_data(start: dt.date, end: dt.date, *, user: Any = None) -> dict[str, Any]:
    """The 会商研判 sheet for [start, end]: key periods, seasonal notes, open major
    hazards, overdue by district, high-grade enterprises, accidents of the same
    dates last year and of the last 30 days."""
    hazards, enterprises, accidents = _scoped(user)
    names = stats.district_names()
    open_hazards = hazards.exclude(state="closed")
    overdue = dict(
        open_hazards.filter(services.overdue_q(start))
        .values_list("district_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    high = defaultdict(lambda: {"red": 0, "orange": 0})
    for code, grade, n in (
        enterprises.filter(grade__in=["red", "orange"])
        .values_list("district_id", "grade")
        .annotate(n=Count("id"))
        .order_by()
    ):
        high[code][grade] += n
    districts = []
    for code in sorted(set(overdue) | set(high)):
        districts.append(
            {"district": names.get(code, "未定位"), "overdue": overdue.get(code, 0), **high[code]}
        )
    try:
        ly_start, ly_end = start.replace(year=start.year - 1), end.replace(year=end.year - 1)
    except ValueError:  # 29 February
        ly_start, ly_end = start - dt.timedelta(days=365), end - dt.timedelta(days=365)
    last_year = (
        stats.between(accidents, ly_start, ly_end)
        .select_related("district")
        .defer("district__boundary")
    )
    return {
        "title": f"{start:%Y年%m月%d日}至{end:%Y年%m月%d日}安全风险会商研判表",
        "start": start,
        "end": end,
        "key_periods": _key_periods(start, end),
        "seasonal_notes": seasons.notes_for(start, end),
        "major_hazards": list(
            open_hazards.filter(level="major")
            .select_related("enterprise", "district")
            .defer("district__boundary")
            .order_by("deadline")[:50]
        ),
        "districts": districts,
        "last_year_accidents": list(last_year[:50]),
        "last_year_totals": _accident_figures(accidents, ly_start, ly_end),
        "recent_accidents": list(
            stats.between(accidents, start - dt.timedelta(days=30), start - dt.timedelta(days=1))
            .select_related("district")
            .defer("district__boundary")[:50]
        ),
    }


def consultation_html(data: dict[str, Any]) -> str:
    return render_to_string("risk/consultation.html", data)
