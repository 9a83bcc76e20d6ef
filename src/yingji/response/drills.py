"""Drills (演练): scenario scripts injected on a schedule, blind mode, the report.

Injection goes through the same doors as real events, marked as exercises
everywhere: alerts through `alert_published` (CAP status Exercise, exercise=True),
alarms straight onto the duty desk as exercise desk items (the alarm contract
has no exercise flag, so a signal would look real to other receivers),
incidents through `services.register_incident` (is_exercise). Desk items a drill causes carry a
source reference "DRILL-<id>-<step>", so the incident the duty officer
registers from them belongs to the drill.

Blind mode (双盲): participants get no notice beforehand and the scenario is
shown only to the organiser; otherwise the departments with cards in the plan
are told the date when the drill is created.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from yingji.alerts.events import alert_published
from yingji.core import outbox
from yingji.response import drillscore, services, triggers
from yingji.response.models import ActionCard, DeskItem, Drill, EmergencyPlan, Incident
from yingji.response.triggers import COLOUR_LABELS

REF_PREFIX = "DRILL-"


@transaction.atomic
def create_drill(
    *,
    title: str,
    plan: EmergencyPlan | None,
    scenario: list[dict],
    scheduled_at: dt.datetime,
    blind: bool,
    user: Any,
) -> Drill:
    """Schedule a drill; non-blind drills tell the plan's departments in advance."""
    services.require_command(user)
    problems = drillscore.check_scenario(scenario)
    if problems:
        raise ValidationError(problems)
    drill = Drill.objects.create(
        title=title,
        plan=plan,
        scenario=scenario,
        scheduled_at=scheduled_at,
        blind=blind,
        created_by=user,
    )
    if not blind and plan is not None:
        depts = {
            t.department
            for t in plan.card_templates.select_related("department")
            if t.department_id
        }
        for dept in sorted(depts, key=lambda d: d.pk):
            outbox.notify_department(
                dept,
                subject=f"【演练通知】{title}",
                body=f"{dept}:定于 {timezone.localtime(scheduled_at):%Y-%m-%d %H:%M} 开展演练“{title}”,"
                f"检验《{plan.title}》,请做好参演准备。",
                dedupe_key=f"response:drill-notice:{drill.pk}",
                source=drill,
            )
    return drill


def can_see_scenario(drill: Drill, user: Any) -> bool:
    """Blind drills hide their script from everyone but the organiser and leaders."""
    if not drill.blind or drill.status == Drill.Status.FINISHED:
        return True
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.pk == drill.created_by_id:
        return True
    p = services._profile(user)
    return p is not None and p.role in ("leader", "admin")


def step_summary(step: dict) -> str:
    """A scenario step as a person reads it: '预警信息:暴雨红色预警信号(红色)',
    '监测报警:暴雨(红色)', '续报:天河区多处积水…'."""
    kind = step.get("kind", "")
    if kind == "alarm":
        what = triggers.hazard_of(step.get("rule", ""))
    else:
        what = step.get("event") or step.get("title") or step.get("text") or ""
    level = step.get("level")
    if level:
        what += f"({COLOUR_LABELS.get(level, level)})"
    return f"{drillscore.KIND_LABELS.get(kind, kind)}:{what}"


def _inject(drill: Drill, index: int, step: dict, at: dt.datetime) -> None:
    ref = f"{REF_PREFIX}{drill.pk}-{index}"
    kind = step["kind"]
    if kind == "alert":
        alert_published.send(
            sender=Drill,
            alert_id=0,
            identifier=ref,
            status="Exercise",
            msg_type="Alert",
            event=step["event"],
            level=step["level"],
            severity=step.get("severity", "Severe"),
            area_codes=step.get("area_codes", []),
            exercise=True,
            at=at,
        )
    elif kind == "alarm":
        # The alarm contract has no exercise flag: sent as a signal, other modules'
        # receivers would take it for a real alarm. It goes straight to the desk.
        services.record_desk_item(
            source="alarm",
            source_ref=ref,
            hazard=step["rule"],
            level=step["level"],
            region_codes=step.get("region_codes", []),
            title=f"监测报警:{triggers.hazard_of(step['rule'])}"
            f"({COLOUR_LABELS.get(step['level'], step['level'])})",
            exercise=True,
        )
    elif kind == "incident":
        services.register_incident(
            services.IncidentInput(
                title=step["title"],
                incident_type=step["type"],
                occurred_at=at,
                lon=step.get("lon"),
                lat=step.get("lat"),
                address=step.get("address", ""),
                source=Incident.Source.DRILL,
                source_ref=ref,
                is_exercise=True,
                deaths=step.get("deaths", 0),
                injured=step.get("injured", 0),
                evacuated=step.get("evacuated", 0),
            ),
            drill=drill,
            check=False,
            at=at,
        )
    elif kind == "report":
        incident = drill.incidents.order_by("pk").first()
        if incident is not None:
            services.add_report(
                incident,
                text=step["text"],
                deaths=step.get("deaths", incident.deaths),
                missing=step.get("missing", incident.missing),
                injured=step.get("injured", incident.injured),
                economic_loss=step.get("economic_loss", incident.economic_loss),
                evacuated=step.get("evacuated", incident.evacuated),
                user=drill.created_by,
                at=at,
            )


@transaction.atomic
def start(drill: Drill, *, at: dt.datetime | None = None) -> Drill:
    if drill.status != Drill.Status.SCHEDULED:
        raise ValidationError("演练已开始或已结束")
    drill.status, drill.started_at = Drill.Status.RUNNING, at or services.now()
    drill.save(update_fields=["status", "started_at"])
    return drill


def advance(drill: Drill, at: dt.datetime | None = None) -> list[int]:
    """Inject every step due at `at` (starting the drill when its time has come)."""
    at = at or services.now()
    if drill.status == Drill.Status.SCHEDULED and drill.scheduled_at <= at:
        start(drill, at=drill.scheduled_at)
    if drill.status != Drill.Status.RUNNING:
        return []
    elapsed = (at - drill.started_at).total_seconds() / 60
    done = []
    for i in drillscore.due_steps(drill.scenario, elapsed, drill.injected):
        with transaction.atomic():
            step_at = drill.started_at + dt.timedelta(minutes=drill.scenario[i]["at"])
            _inject(drill, i, drill.scenario[i], step_at)
            drill.injected = [*drill.injected, i]
            drill.save(update_fields=["injected"])
            done.append(i)
    return done


def tick(at: dt.datetime | None = None) -> int:
    """The periodic job: advance every scheduled or running drill."""
    at = at or services.now()
    n = 0
    for drill in Drill.objects.filter(
        status__in=[Drill.Status.SCHEDULED, Drill.Status.RUNNING], scheduled_at__lte=at
    ):
        n += len(advance(drill, at))
    return n


@transaction.atomic
def finish(drill: Drill, *, user: Any = None, at: dt.datetime | None = None) -> Drill:
    """End the drill: its activations stand down, its incidents close."""
    if user is not None:
        services.require_command(user)
    at = at or services.now()
    drill.refresh_from_db()
    if drill.status == Drill.Status.FINISHED:
        raise ValidationError("演练已结束")
    for incident in drill.incidents.all():
        for act in incident.activations.filter(status="active"):
            services.stand_down(act, user=user, at=at, check=False)
    drill.status, drill.finished_at = Drill.Status.FINISHED, at
    drill.save(update_fields=["status", "finished_at"])
    return drill


def link_desk_item(item: DeskItem) -> Drill | None:
    """The drill a desk item was injected by (from its source reference)."""
    ref = item.source_ref
    if not ref.startswith(REF_PREFIX):
        return None
    try:
        drill_id = int(ref[len(REF_PREFIX) :].split("-")[0])
    except ValueError:
        return None
    return Drill.objects.filter(pk=drill_id).first()


def report(drill: Drill) -> dict[str, Any]:
    """The drill report: injections, decisions and every action card's response
    times against the plan's limits."""
    drill.refresh_from_db()
    if not drill.started_at:
        raise ValidationError("演练尚未开始")
    rows = []
    qs = (
        ActionCard.objects.filter(activation__incident__drill=drill)
        .select_related("department", "activation__plan")
        .order_by("issued_at", "pk")
    )
    for c in qs:
        rows.append(drillscore.CardRow(c.department.name, c.title, c.level, c.clock()))
    result = drillscore.score(rows)
    incidents = list(drill.incidents.prefetch_related("activations__plan"))
    activations = [a for i in incidents for a in i.activations.all()]
    first_activation = min((a.activated_at for a in activations), default=None)
    decision = (
        round((first_activation - drill.started_at).total_seconds() / 60, 1)
        if first_activation and drill.started_at
        else None
    )
    return {
        "drill": drill,
        "score": result,
        "incidents": incidents,
        "activations": activations,
        "decision_minutes": decision,
        "steps": [
            {
                "index": i,
                **s,
                "kind_label": drillscore.KIND_LABELS[s["kind"]],
                "injected": i in drill.injected,
            }
            for i, s in enumerate(drill.scenario)
        ],
    }
