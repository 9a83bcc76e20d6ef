"""Bulletins (通报): the plan's state as of a date, stored and rendered.

`bulletin_data` reads only what was dated on or before `as_of` (reports by
reported_at, notices by issued_at, milestones by completed_on, pauses by
decided_at/lifted_at), sorts everything and never looks at the clock, so
regenerating a bulletin for the same date gives the same data however much has
happened since. `generate` stores it; `render_html` and `render_docx` turn the
stored data (never the live database) into the printable page and the Word file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from yingji.core import audit, hardening
from yingji.core.models import Department
from yingji.core.scope import scope_for
from yingji.workplan import services
from yingji.workplan.models import Bulletin, Plan, ProgressReport, SupervisionNotice, Task
from yingji.workplan.scoring import MEASURES
from yingji.workplan.status import BOARD_ORDER, LABELS, Status

# Bump when the shape of `data` changes, so old bulletins can be told apart.
DATA_VERSION = 1

PERIODS = (Bulletin.Period.MONTHLY, Bulletin.Period.QUARTERLY)
QUARTER_NAMES = ("第一季度", "第二季度", "第三季度", "第四季度")
MEASURE_LABELS = {"on_time": "按时完成率", "completeness": "完成度", "punctuality": "报送及时率"}


# ---------------------------------------------------------------- periods


def _check_period(period: str) -> str:
    if period not in PERIODS:
        raise ValueError(f"通报周期应为 monthly(月度)或 quarterly(季度),实际为“{period}”")
    return str(period)


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)


def period_bounds(period: str, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the month or quarter that `as_of` falls in."""
    if _check_period(period) == Bulletin.Period.MONTHLY:
        return dt.date(as_of.year, as_of.month, 1), _month_end(as_of.year, as_of.month)
    first_month = 3 * ((as_of.month - 1) // 3) + 1
    return dt.date(as_of.year, first_month, 1), _month_end(as_of.year, first_month + 2)


def period_label(period: str, as_of: dt.date) -> str:
    """The issue's name: "2022年6月" or "2022年第二季度"."""
    if _check_period(period) == Bulletin.Period.MONTHLY:
        return f"{as_of.year}年{as_of.month}月"
    return f"{as_of.year}年{QUARTER_NAMES[(as_of.month - 1) // 3]}"


def period_as_of(period: str, year: int, number: int) -> dt.date:
    """The usual data date of an issue: the last day of month `number` (1–12) or
    of quarter `number` (1–4)."""
    if _check_period(period) == Bulletin.Period.MONTHLY:
        if not 1 <= number <= 12:
            raise ValueError(f"月份应为 1–12,实际为 {number}")
        return _month_end(year, number)
    if not 1 <= number <= 4:
        raise ValueError(f"季度应为 1–4,实际为 {number}")
    return _month_end(year, 3 * number)


def bulletin_title(plan_title: str, label: str) -> str:
    """The document title: …工作要点落实情况通报(2022年6月)."""
    return f"{plan_title}落实情况通报({label})"


def may_generate(user) -> bool:
    """Leaders, supervisors and administrators generate bulletins; duty officers
    read everything but, like departments, only read bulletins."""
    return scope_for(user).edits_all


# ---------------------------------------------------------------- data


def _pct(values: Iterable[int]) -> float | None:
    values = list(values)
    return round(sum(values) / len(values), 1) if values else None


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _status_counts(rows: Iterable[services.TaskRow]) -> dict[str, int]:
    counts = Counter(r.status.value for r in rows)
    return {s.value: counts.get(s.value, 0) for s in BOARD_ORDER}


def bulletin_data(plan: Plan, period: str, as_of: dt.date) -> dict:
    """Everything a bulletin says, as of the end of `as_of`, JSON-serialisable and
    deterministic (same facts up to `as_of` → equal dict)."""
    _check_period(period)
    start, end = period_bounds(period, as_of)
    # "In the period" means from its first day up to as_of (an issue may be cut mid-period).
    lo, hi = services.end_of_day(start - dt.timedelta(days=1)), services.end_of_day(as_of)
    label = period_label(period, as_of)
    rows = services.task_rows(Task.objects.filter(plan=plan), as_of)

    sections = []
    by_section = defaultdict(list)
    for r in rows:
        by_section[r.task.section_id].append(r)
    for sec in plan.sections.order_by("number"):
        sec_rows = by_section[sec.pk]
        sections.append(
            {
                "number": sec.number,
                "title": sec.title,
                "count": len(sec_rows),
                "by_status": _status_counts(sec_rows),
                "average_percent": _pct(r.derived.percent for r in sec_rows),
            }
        )

    order = {
        name: (sort, name) for name, sort in Department.objects.values_list("name", "sort_order")
    }

    def dept_key(name: str) -> tuple:
        return order.get(name, (10**9, name))

    led = defaultdict(list)
    for r in rows:
        for name in r.lead:
            led[name].append(r)
    departments = [
        {
            "department": name,
            "led": len(rs),
            "done": sum(r.status == Status.DONE for r in rs),
            "late": sum(r.status == Status.LATE for r in rs),
            "by_status": _status_counts(rs),
            "average_percent": _pct(r.derived.percent for r in rs),
        }
        for name, rs in sorted(led.items(), key=lambda kv: dept_key(kv[0]))
    ]

    overdue = []
    for r in rows:
        if r.status != Status.LATE:
            continue
        worst = r.derived.overdue[0]
        overdue.append(
            {
                "task_id": r.task.pk,
                "number": r.task.number,
                "short": r.task.short,
                "section": r.task.section.title,
                "lead": r.lead,
                "co": r.co,
                "milestone": worst.title,
                "due": worst.due.isoformat(),
                "workdays_late": services.workdays_late(worst.due, as_of),
                "overdue_milestones": len(r.derived.overdue),
                "percent": r.derived.percent,
                "last_report_on": r.derived.last_report_on.isoformat()
                if r.derived.last_report_on
                else None,
                "notices": r.notices,
            }
        )
    overdue.sort(key=lambda o: (-o["workdays_late"], o["number"]))

    filed = ProgressReport.objects.filter(task__plan=plan, reported_at__gte=lo, reported_at__lt=hi)
    per_dept: dict[str, dict] = defaultdict(lambda: {"count": 0, "to_office": 0, "tasks": set()})
    for dept, task_id, addressed in filed.values_list(
        "department__name", "task_id", "addressed_to"
    ):
        d = per_dept[dept]
        d["count"] += 1
        d["to_office"] += addressed == ProgressReport.AddressedTo.OFFICE
        d["tasks"].add(task_id)
    reports = [
        {
            "department": name,
            "count": d["count"],
            "to_office": d["to_office"],
            "to_lead": d["count"] - d["to_office"],
            "tasks": len(d["tasks"]),
        }
        for name, d in per_dept.items()
    ]
    reports.sort(key=lambda x: (-x["count"], dept_key(x["department"])))
    # Lead departments with open work that said nothing all period: a bulletin names them.
    open_leads = {
        name for r in rows if r.status not in (Status.DONE, Status.PAUSED) for name in r.lead
    }
    silent = sorted(open_leads - set(per_dept), key=dept_key)

    notices = []
    for n in (
        SupervisionNotice.objects.filter(task__plan=plan, issued_at__gte=lo, issued_at__lt=hi)
        .select_related("task", "department", "milestone")
        .order_by("issued_at", "serial")
    ):
        answered = n.responded_at is not None and n.responded_at < hi
        notices.append(
            {
                "serial": n.serial,
                "task_number": n.task.number,
                "task_short": n.task.short,
                "department": n.department.name,
                "milestone": n.milestone.title if n.milestone else "",
                "issued_on": services.local_date(n.issued_at).isoformat(),
                "respond_by": n.respond_by.isoformat(),
                "responded_on": services.local_date(n.responded_at).isoformat()
                if answered
                else None,
                "escalated": n.escalated_at is not None and n.escalated_at < hi,
            }
        )

    weights = {k: plan.score_weights.get(k, 0) for k in MEASURES}
    scores = []
    for rank, s in enumerate(services.department_scores(plan, as_of), start=1):
        scores.append(
            {
                "rank": rank if s.score is not None else None,
                "department": s.department,
                "led": s.led,
                "co": s.co,
                "on_time": _ratio(s.on_time),
                "completeness": _ratio(s.completeness),
                "punctuality": _ratio(s.punctuality),
                "score": s.score,
                "detail": dict(sorted(s.detail.items())),
            }
        )

    return {
        "version": DATA_VERSION,
        "title": bulletin_title(plan.title, label),
        "plan": {
            "id": plan.pk,
            "title": plan.title,
            "year": plan.year,
            "goals": list(plan.goals or []),
        },
        "period": period,
        "label": label,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "as_of": as_of.isoformat(),
        "statuses": [{"key": s.value, "label": LABELS[s]} for s in BOARD_ORDER],
        "totals": {
            "count": len(rows),
            "by_status": _status_counts(rows),
            "average_percent": _pct(r.derived.percent for r in rows),
        },
        "sections": sections,
        "departments": departments,
        "overdue": overdue,
        "reports": {
            "count": sum(x["count"] for x in reports),
            "by_department": reports,
            "silent_leads": silent,
        },
        "notices": notices,
        "scores": {
            "weights": weights,
            "measures": [
                {"key": k, "label": MEASURE_LABELS[k], "weight": weights[k]} for k in MEASURES
            ],
            "rows": scores,
        },
    }


@transaction.atomic
def generate(plan: Plan, period: str, as_of: dt.date, user=None) -> Bulletin:
    """Build and store the bulletin for (plan, period, as_of), replacing the data
    of an earlier one for the same date."""
    data = bulletin_data(plan, period, as_of)
    # Without a user, keep whatever actor the request or command already set.
    with audit.acting_as(user) if user is not None else contextlib.nullcontext():
        bulletin, _ = Bulletin.objects.update_or_create(
            plan=plan, period=period, as_of=as_of, defaults={"label": data["label"], "data": data}
        )
    return bulletin


# ---------------------------------------------------------------- rendering


@dataclass
class Block:
    """One part of the document: a heading, a few sentences and a table. The HTML
    page and the Word file are both drawn from these, so they say the same."""

    key: str
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    empty: str = ""
    late_rows: set[int] = field(default_factory=set)  # row indexes to mark as late
    text_column: int | None = None  # the column holding running text (left-aligned)


def _d(iso: str | None) -> str:
    if not iso:
        return ""
    d = dt.date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


def _p(value: float | None) -> str:
    return "—" if value is None else f"{value:g}%"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _answer(notice: dict, as_of: str) -> str:
    if notice["responded_on"]:
        return f"{_d(notice['responded_on'])}已回复"
    if notice["escalated"]:
        return "逾期未回复,已提请局领导督办"
    return "逾期未回复" if notice["respond_by"] < as_of else "待回复"


def _counts_sentence(by_status: dict, statuses: list[dict]) -> str:
    return ",".join(f"{s['label']}{by_status.get(s['key'], 0)}项" for s in statuses)


def document_blocks(data: dict) -> list[Block]:
    """The bulletin's parts, in reading order, as text ready to print."""
    statuses = data["statuses"]
    status_cols = [s["label"] for s in statuses]
    totals = data["totals"]
    blocks = []

    overview = [
        f"截至{_d(data['as_of'])},{data['plan']['title']}共{totals['count']}项任务:"
        f"{_counts_sentence(totals['by_status'], statuses)};"
        f"牵头单位报送的平均进度为{_p(totals['average_percent'])}。",
    ]
    if data["plan"]["goals"]:
        overview.append("年度目标:" + ";".join(data["plan"]["goals"]) + "。")
    blocks.append(
        Block(
            "overview",
            "一、总体情况",
            overview,
            ["任务总数", *status_cols, "平均进度"],
            [
                [
                    str(totals["count"]),
                    *(str(totals["by_status"].get(s["key"], 0)) for s in statuses),
                    _p(totals["average_percent"]),
                ]
            ],
        )
    )

    blocks.append(
        Block(
            "sections",
            "二、各部分推进情况",
            [],
            ["部分", "任务数", *status_cols, "平均进度"],
            [
                [
                    sec["title"],
                    str(sec["count"]),
                    *(str(sec["by_status"].get(s["key"], 0)) for s in statuses),
                    _p(sec["average_percent"]),
                ]
                for sec in data["sections"]
            ],
            "本工作要点尚未分部分。",
            text_column=0,
        )
    )

    blocks.append(
        Block(
            "departments",
            "三、各牵头单位推进情况",
            [],
            ["牵头单位", "牵头任务", "已完成", "滞后", "平均进度"],
            [
                [
                    d["department"],
                    str(d["led"]),
                    str(d["done"]),
                    str(d["late"]),
                    _p(d["average_percent"]),
                ]
                for d in data["departments"]
            ],
            "暂无牵头单位。",
        )
    )

    overdue = data["overdue"]
    blocks.append(
        Block(
            "overdue",
            "四、滞后任务",
            [
                f"截至{_d(data['as_of'])},共有{len(overdue)}项任务滞后,请牵头单位抓紧推进并报送整改措施。"
            ]
            if overdue
            else [],
            ["序号", "任务", "牵头单位", "逾期节点", "应完成日期", "逾期(工作日)", "督办次数"],
            [
                [
                    str(o["number"]),
                    o["short"],
                    "、".join(o["lead"]),
                    o["milestone"]
                    + (f"等{o['overdue_milestones']}个" if o["overdue_milestones"] > 1 else ""),
                    _d(o["due"]),
                    str(o["workdays_late"]),
                    str(o["notices"]),
                ]
                for o in overdue
            ],
            f"截至{_d(data['as_of'])},没有滞后任务。",
            set(range(len(overdue))),
            text_column=1,
        )
    )

    rep = data["reports"]
    paras = [f"{_d(data['start'])}至{_d(data['as_of'])},各单位共报送进展{rep['count']}份。"]
    if rep["silent_leads"]:
        paras.append(
            "本期有未完成任务但未报送进展的牵头单位:" + "、".join(rep["silent_leads"]) + "。"
        )
    blocks.append(
        Block(
            "reports",
            "五、本期进展报送情况",
            paras,
            ["单位", "报送份数", "报办公室(牵头)", "报牵头处室(配合)", "涉及任务"],
            [
                [
                    r["department"],
                    str(r["count"]),
                    str(r["to_office"]),
                    str(r["to_lead"]),
                    str(r["tasks"]),
                ]
                for r in rep["by_department"]
            ],
            "本期没有报送进展。",
        )
    )

    notices = data["notices"]
    blocks.append(
        Block(
            "notices",
            "六、本期督办情况",
            [f"本期共下发督办单{len(notices)}份。"] if notices else [],
            ["编号", "任务", "被督办单位", "逾期节点", "下发日期", "回复时限", "回复情况"],
            [
                [
                    n["serial"],
                    f"{n['task_number']}. {n['task_short']}",
                    n["department"],
                    n["milestone"],
                    _d(n["issued_on"]),
                    _d(n["respond_by"]),
                    _answer(n, data["as_of"]),
                ]
                for n in notices
            ],
            "本期没有下发督办单。",
            text_column=1,
        )
    )

    sc = data["scores"]
    weights = ",".join(f"{m['label']}{100 * m['weight']:g}%" for m in sc["measures"])
    blocks.append(
        Block(
            "scores",
            "七、部门评分",
            [f"评分由三项指标加权得出({weights});尚无可评指标的不计入权重。"],
            ["名次", "单位", "牵头", "配合", *(m["label"] for m in sc["measures"]), "得分"],
            [
                [
                    str(s["rank"] or "—"),
                    s["department"],
                    str(s["led"]),
                    str(s["co"]),
                    *(_share(s[m["key"]]) for m in sc["measures"]),
                    "—" if s["score"] is None else f"{s['score']:.1f}",
                ]
                for s in sc["rows"]
            ],
            "暂无可评分的单位。",
        )
    )
    return blocks


def render_html(bulletin: Bulletin, *, links: dict[str, str] | None = None) -> str:
    """The standalone printable page. `links` (label → URL) adds a toolbar that
    is hidden when printing."""
    data = bulletin.data
    return render_to_string(
        "workplan/bulletin.html",
        {
            "bulletin": bulletin,
            "data": data,
            "blocks": document_blocks(data),
            "as_of_text": _d(data["as_of"]),
            "links": links or {},
            # standalone: the print link's script is inline, allowed by its hash
            # (views_reports.bulletin_detail sends the page's policy)
            "print_script": mark_safe(f"<script>{hardening.PRINT_SCRIPT}</script>"),
        },
    )


def _east_asia_font(style, latin: str, chinese: str) -> None:
    """Give a Word style a Chinese font: w:eastAsia on its rFonts, and drop the
    theme fonts, which Word would otherwise prefer."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    style.font.name = latin
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), chinese)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)


def render_docx(bulletin: Bulletin) -> bytes:
    """The bulletin as a Word document (python-docx), from the stored data."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt, RGBColor

    data = bulletin.data
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.2))
    styles = doc.styles
    _east_asia_font(styles["Normal"], "Times New Roman", "仿宋")
    styles["Normal"].font.size = Pt(12)
    for name, size in (("Title", 20), ("Heading 1", 15)):
        _east_asia_font(styles[name], "Times New Roman", "黑体")
        styles[name].font.size = Pt(size)
        styles[name].font.color.rgb = RGBColor(0, 0, 0)
    _east_asia_font(styles["Table Grid"], "Times New Roman", "仿宋")

    title = doc.add_paragraph(data["title"], style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub = doc.add_paragraph(f"(数据截至{_d(data['as_of'])})")
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER

    for block in document_blocks(data):
        doc.add_heading(block.heading, level=1)
        for text in block.paragraphs:
            p = doc.add_paragraph(text)
            p.paragraph_format.first_line_indent = Pt(24)
        if not block.rows:
            if block.empty:
                doc.add_paragraph(block.empty).paragraph_format.first_line_indent = Pt(24)
            continue
        table = doc.add_table(rows=1, cols=len(block.columns))
        table.style = styles["Table Grid"]
        for cell, text in zip(table.rows[0].cells, block.columns, strict=True):
            cell.text = ""
            run = cell.paragraphs[0].add_run(text)
            run.bold = True
            run.font.size = Pt(10.5)
        for i, values in enumerate(block.rows):
            cells = table.add_row().cells
            for cell, text in zip(cells, values, strict=True):
                cell.text = ""
                run = cell.paragraphs[0].add_run(text)
                run.font.size = Pt(10.5)
                if i in block.late_rows:
                    run.font.color.rgb = RGBColor(0xC6, 0x28, 0x28)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
