"""Situation report (情况报告) of an incident as a Word document."""

from __future__ import annotations

import io

from django.conf import settings
from django.utils import timezone
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt

from yingji.response import cards, levels
from yingji.response.models import Incident


def _font(doc: Document) -> None:
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(11)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")


def situation_report_docx(incident: Incident) -> bytes:
    """Basic facts, level and its grounds, plans activated with card status,
    teams dispatched, shelters, and the timeline, as of now."""
    doc = Document()
    _font(doc)
    now = timezone.localtime()
    mark = "【演练】" if incident.is_exercise else ""
    doc.add_heading(f"{mark}关于{incident.title}的情况报告", level=1)
    doc.add_paragraph(
        f"{getattr(settings, 'YINGJI_BUREAU_NAME', '应急管理局')} · 截至 {now:%Y年%m月%d日 %H:%M}"
    )
    where = "".join(r.name for r in (incident.district, incident.street) if r)
    doc.add_heading("一、基本情况", level=2)
    doc.add_paragraph(
        f"{timezone.localtime(incident.occurred_at):%Y年%m月%d日%H时%M分},{where}{incident.address}发生"
        f"{incident.incident_type}({incident.category})。{incident.summary}"
    )
    doc.add_paragraph(
        f"目前已造成死亡{incident.deaths}人、失踪{incident.missing}人、重伤{incident.injured}人,直接经济损失"
        f"{incident.economic_loss:g}万元,紧急转移安置{incident.evacuated}人。事件级别:{incident.get_level_display()}"
        f"({';'.join(incident.level_reasons) or '未达较大及以上标准'})。"
    )
    doc.add_heading("二、应急响应", level=2)
    for act in incident.activations.select_related("plan"):
        state = {s: 0 for s in cards.STATE_LABELS}
        for c in act.cards.all():
            state[c.state] += 1
        doc.add_paragraph(
            f"{timezone.localtime(act.activated_at):%m月%d日%H:%M}启动《{act.plan.title}》"
            f"{levels.RESPONSE_LABELS[act.level]}({act.get_status_display()});行动卡:"
            + "、".join(f"{cards.STATE_LABELS[k]}{v}张" for k, v in state.items() if v),
            style="List Bullet",
        )
    doc.add_heading("三、力量调度和转移安置", level=2)
    for o in incident.dispatches.select_related("team"):
        doc.add_paragraph(
            f"{o.team.name}({o.team.members}人):{o.get_state_display()},距离{o.distance_km:g}公里",
            style="List Bullet",
        )
    for a in incident.allocations.select_related("shelter"):
        doc.add_paragraph(f"{a.shelter.name}安置{a.people}人", style="List Bullet")
    doc.add_heading("四、处置经过", level=2)
    table = doc.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "时间", "情况"
    for t in incident.timeline.all():
        row = table.add_row().cells
        row[0].text = f"{timezone.localtime(t.at):%m-%d %H:%M}"
        row[1].text = t.text
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def drill_report_docx(report: dict) -> bytes:
    """The drill report (drills.report) as a Word document: every card's
    response times against the plan's limits."""
    drill, score = report["drill"], report["score"]
    doc = Document()
    _font(doc)
    doc.add_heading(f"{drill.title}评估报告", level=1)
    mode = "双盲演练" if drill.blind else "预先通知演练"
    doc.add_paragraph(
        f"{mode};检验预案:{drill.plan.title if drill.plan else '—'};"
        f"开始 {timezone.localtime(drill.started_at):%Y-%m-%d %H:%M}"
        + (
            f",结束 {timezone.localtime(drill.finished_at):%Y-%m-%d %H:%M}"
            if drill.finished_at
            else ""
        )
    )
    decision = report["decision_minutes"]
    doc.add_paragraph(
        f"从情景注入到启动预案:{decision if decision is not None else '未启动'} 分钟。行动卡 {score.total} 张,"
        f"按时签收 {score.acknowledged_on_time} 张,按时完成 {score.completed_on_time} 张,"
        f"未完成 {score.not_completed} 张;平均签收 {score.mean_ack_minutes or '—'} 分钟,"
        f"平均完成 {score.mean_completion_minutes or '—'} 分钟。"
    )
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, text in zip(
        table.rows[0].cells,
        ("单位", "任务", "级别", "签收用时/时限(分钟)", "完成用时/时限(分钟)"),
        strict=True,
    ):
        cell.text = text
    for c in score.cards:
        row = table.add_row().cells
        row[0].text, row[1].text, row[2].text = c.department, c.title, c.level
        row[3].text = f"{'未签收' if c.ack_minutes is None else c.ack_minutes} / {c.ack_limit}" + (
            " 超时" if c.ack_on_time is False else ""
        )
        row[4].text = (
            f"{'未完成' if c.completion_minutes is None else c.completion_minutes} / {c.limit}"
            + (" 超时" if c.completion_on_time is False else "")
        )
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
