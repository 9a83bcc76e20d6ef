"""The after-action report (总结评估报告) of one incident: the whole event from the
first reading to the stand-down, as a page and a Word document.

It reads the other modules through the apps registry (monitoring's events and alarms,
the alerts' messages, the delivery ledger's reach), so the response module still
runs without them: what is not there is left out, never guessed. A drill's incident
gives the same report, marked 演练.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.utils import timezone

from yingji.response import cards, levels, triggers
from yingji.response.models import DeskItem, Incident


@dataclass(frozen=True)
class Moment:
    at: dt.datetime
    what: str


def _model(app: str, name: str):
    try:
        return apps.get_model(app, name)
    except LookupError:
        return None


def _minutes(start: dt.datetime | None, end: dt.datetime | None) -> int | None:
    return None if start is None or end is None else round((end - start).total_seconds() / 60)


def report(incident: Incident) -> dict[str, Any]:
    """Every figure and moment of the report (the page and the .docx render this)."""
    items = list(DeskItem.objects.filter(incident=incident).order_by("created_at", "pk"))
    event_ids = [int(i.source_ref) for i in items if i.source == "event" and i.source_ref.isdigit()]
    alert_refs = [i.source_ref for i in items if i.source == "alert"]
    moments: list[Moment] = []

    alarms: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    Event, Alarm = _model("monitoring", "Event"), _model("monitoring", "Alarm")
    if Event is not None and event_ids:
        for e in Event.objects.filter(pk__in=event_ids).select_related("district"):
            events.append(
                {
                    "id": e.pk,
                    "district": e.district.name,
                    "max_level": e.max_level,
                    "started_at": e.started_at,
                    "closed_at": e.closed_at,
                    "close_reason": e.close_reason,
                }
            )
        for a in (
            Alarm.objects.filter(event_id__in=event_ids)
            .select_related("rule", "sensor")
            .order_by("started_at", "pk")
        ):
            alarms.append(
                {
                    "rule": a.rule.name,
                    "sensor": a.sensor.name if a.sensor_id else "",
                    "level": triggers.COLOUR_LABELS.get(a.max_level, a.max_level),
                    "started_at": a.started_at,
                    "fired_at": a.fired_at,
                    "resolved_at": a.resolved_at,
                }
            )
            if a.fired_at:
                moments.append(
                    Moment(
                        a.fired_at,
                        f"监测报警:{a.rule.name}({a.sensor.name if a.sensor_id else ''})",
                    )
                )
    first_reading = min((a["started_at"] for a in alarms), default=None)
    if first_reading is not None:
        moments.append(Moment(first_reading, "首个超阈值读数"))

    warnings: list[dict[str, Any]] = []
    Alert = _model("alerts", "Alert")
    if Alert is not None and (event_ids or alert_refs):
        from django.db.models import Q

        from yingji.core import outbox

        found = Alert.objects.filter(
            Q(monitoring_event__in=event_ids) | Q(identifier__in=alert_refs)
        )
        for alert in found.order_by("created_at", "pk"):
            reach = outbox.summary(alert.deliveries.exclude(person_id=None))
            warnings.append(
                {
                    "headline": alert.headline,
                    "state": alert.get_state_display(),
                    "msg_type": alert.get_msg_type_display(),
                    "created_at": alert.created_at,
                    "sent": alert.sent,
                    "reach": reach,
                }
            )
            if alert.sent:
                moments.append(Moment(alert.sent, f"发布预警:{alert.headline}"))

    decisions = [
        {"at": i.created_at, "title": i.title, "status": i.get_status_display(), "level": i.level}
        for i in items
    ]
    card_rows = []
    for act in incident.activations.select_related("plan").order_by("activated_at"):
        moments.append(
            Moment(act.activated_at, f"启动《{act.plan.title}》{levels.RESPONSE_LABELS[act.level]}")
        )
        if act.stood_down_at:
            moments.append(Moment(act.stood_down_at, f"终止《{act.plan.title}》响应"))
        for c in act.cards.select_related("department").order_by("issued_at", "pk"):
            ack = _minutes(c.issued_at, c.acknowledged_at)
            done = _minutes(c.issued_at, c.completed_at)
            card_rows.append(
                {
                    "department": c.department.name,
                    "title": c.title,
                    "level": c.level,
                    "state": cards.STATE_LABELS.get(c.state, c.state),
                    "issued_at": c.issued_at,
                    "ack_minutes": ack,
                    "ack_limit": c.ack_minutes,
                    "ack_on_time": None if ack is None else ack <= c.ack_minutes,
                    "done_minutes": done,
                    "limit": c.limit_minutes,
                    "done_on_time": None if done is None else done <= c.limit_minutes,
                }
            )
    for t in incident.timeline.all():
        moments.append(Moment(t.at, t.text))
    dispatches = [
        {
            "team": o.team.name,
            "members": o.team.members,
            "state": o.get_state_display(),
            "ordered_at": o.ordered_at,
            "on_scene_minutes": _minutes(o.ordered_at, o.on_scene_at),
        }
        for o in incident.dispatches.select_related("team")
    ]
    shelters = [
        {"shelter": a.shelter.name, "people": a.people, "at": a.at}
        for a in incident.allocations.select_related("shelter")
    ]
    moments.sort(key=lambda m: m.at)
    acknowledged = [c for c in card_rows if c["ack_minutes"] is not None]
    return {
        "incident": incident,
        "exercise": incident.is_exercise,
        "mark": "【演练】" if incident.is_exercise else "",
        "events": events,
        "alarms": alarms,
        "first_reading": first_reading,
        "warnings": warnings,
        "decisions": decisions,
        "cards": card_rows,
        "cards_total": len(card_rows),
        "cards_acknowledged": len(acknowledged),
        "cards_ack_on_time": sum(1 for c in acknowledged if c["ack_on_time"]),
        "cards_done_on_time": sum(1 for c in card_rows if c["done_on_time"]),
        "dispatches": dispatches,
        "shelters": shelters,
        "sheltered": sum(s["people"] for s in shelters),
        "stood_down": incident.status in (Incident.Status.STOOD_DOWN, Incident.Status.CLOSED),
        "timeline": moments,
    }


def docx(data: dict[str, Any]) -> bytes:
    """The report as a Word document."""
    from docx import Document

    from yingji.response.sitrep import _font

    incident = data["incident"]
    doc = Document()
    _font(doc)
    doc.add_heading(f"{data['mark']}{incident.title}总结评估报告", level=1)
    doc.add_paragraph(
        f"{getattr(settings, 'YINGJI_BUREAU_NAME', '应急管理局')} · "
        f"{timezone.localtime():%Y年%m月%d日}"
    )

    def when(at: dt.datetime | None) -> str:
        return f"{timezone.localtime(at):%m-%d %H:%M}" if at else "—"

    def table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
        t = doc.add_table(rows=1, cols=len(headers))
        t.style = "Table Grid"
        for cell, text in zip(t.rows[0].cells, headers, strict=True):
            cell.text = text
        for row in rows:
            for cell, text in zip(t.add_row().cells, row, strict=True):
                cell.text = text

    doc.add_heading("一、监测报警", level=2)
    doc.add_paragraph(
        f"首个超阈值读数:{when(data['first_reading'])};报警 {len(data['alarms'])} 条。"
    )
    table(
        ("规则", "监测点", "最高级别", "开始", "解除"),
        [
            (a["rule"], a["sensor"], a["level"], when(a["started_at"]), when(a["resolved_at"]))
            for a in data["alarms"]
        ],
    )
    doc.add_heading("二、预警发布与送达", level=2)
    for w in data["warnings"]:
        doc.add_paragraph(
            f"{w['headline']}({w['msg_type']},{w['state']},发布 {when(w['sent'])})",
            style="List Bullet",
        )
        for r in w["reach"]["rows"]:
            doc.add_paragraph(
                f"{r['label']}:共 {r['total']} 条,送达/发出 {r['reached']} 条,"
                f"失败 {r['failed']} 条,等待 {r['waiting']} 条"
            )
    doc.add_heading("三、值班台研判", level=2)
    for d in data["decisions"]:
        doc.add_paragraph(f"{when(d['at'])} {d['title']}:{d['status']}", style="List Bullet")
    doc.add_heading("四、行动卡签收与落实", level=2)
    doc.add_paragraph(
        f"行动卡 {data['cards_total']} 张,已签收 {data['cards_acknowledged']} 张,"
        f"按时签收 {data['cards_ack_on_time']} 张,按时完成 {data['cards_done_on_time']} 张。"
    )
    table(
        ("单位", "任务", "签收用时/时限(分钟)", "完成用时/时限(分钟)", "状态"),
        [
            (
                c["department"],
                c["title"],
                f"{'未签收' if c['ack_minutes'] is None else c['ack_minutes']} / {c['ack_limit']}"
                + (" 超时" if c["ack_on_time"] is False else ""),
                f"{'未完成' if c['done_minutes'] is None else c['done_minutes']} / {c['limit']}"
                + (" 超时" if c["done_on_time"] is False else ""),
                c["state"],
            )
            for c in data["cards"]
        ],
    )
    doc.add_heading("五、力量调度与转移安置", level=2)
    for o in data["dispatches"]:
        doc.add_paragraph(f"{o['team']}({o['members']}人):{o['state']}", style="List Bullet")
    doc.add_paragraph(f"转移安置 {data['sheltered']} 人。")
    for s in data["shelters"]:
        doc.add_paragraph(f"{s['shelter']}安置 {s['people']} 人", style="List Bullet")
    doc.add_heading("六、全过程时间线", level=2)
    table(("时间", "情况"), [(when(m.at), m.what) for m in data["timeline"]])
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
