"""Operational pages of incident command (Chinese UI, Django templates + htmx):
duty desk, incidents, plans, resources, drills. Every action calls a service
and lands on the incident timeline; errors come back as messages."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from yingji.core import links, pagecache
from yingji.core.models import Role
from yingji.core.scope import scope_for
from yingji.core.viewhelpers import act
from yingji.response import cards, dispatch, drills, levels, plans, services, triggers
from yingji.response import resources as resource_service
from yingji.response.models import (
    ActionCard,
    DeskItem,
    Drill,
    DutyShift,
    EmergencyPlan,
    Helipad,
    Hospital,
    Incident,
    RescueTeam,
    Shelter,
    Warehouse,
)

DESK_ROWS = 50  # per section of the duty desk; counts above each section are complete
ERRORS = (
    ValidationError,
    PermissionDenied,
    cards.TransitionError,
    dispatch.OrderTransitionError,
    ValueError,
)


def _sees(request) -> None:
    if scope_for(request.user) == scope_for(None):
        raise PermissionDenied("无权查看")


def _int(value: Any, default: int = 0) -> int:
    try:
        return max(int(value or default), 0)
    except (TypeError, ValueError):
        raise ValidationError(f"应为整数:{value}") from None


def _float(value: Any, default: float | None = 0.0) -> float | None:
    if value in (None, ""):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"应为数值:{value}") from None


# ----------------------------------------------------------------- duty desk


@login_required
@pagecache.per_user("response", "monitoring", "alerts")
def desk(request):
    _sees(request)
    if not scope_for(request.user).sees_all:  # the desk is the duty officers' and leaders' view
        return redirect("response:my_cards")
    data = services.duty_desk(limit=DESK_ROWS)
    # Row links are built from two prefixes: a {% url %} per row costs more than the query.
    data["incident_base"] = reverse("response:incidents")
    data["desk_base"] = reverse("response:desk") + "desk/"
    today = timezone.localdate()
    data["roster"] = (
        DutyShift.objects.filter(starts_at__date__gte=today - dt.timedelta(days=1))
        .select_related("officer", "leader")
        .prefetch_related("departments")[:8]
    )
    # The warning drafted for an event's item, and any other module's link (core/links.py).
    data["link_columns"] = links.attach("response.deskitem", data["desk_items"])
    data["can_command"] = services.can_command(request.user)
    data["types"] = levels.load_types()
    data["type_names"] = {t for ts in data["types"].values() for t in ts}
    if request.headers.get("HX-Request"):
        return render(request, "response/_desk_body.html", data)
    return render(request, "response/desk.html", data)


@login_required
@require_POST
def handover(request):
    shift = services.current_shift()
    if shift is None:
        messages.error(request, "当前没有值班班次")
        return redirect("response:desk")
    return act(
        request,
        lambda: services.handover(shift, request.POST.get("text", ""), user=request.user),
        success="交接班记录已保存",
        redirect_to="response:desk",
        errors=ERRORS,
    )


@login_required
@require_POST
def desk_item_accept(request, item_id: int):
    item = get_object_or_404(DeskItem, pk=item_id)
    return act(
        request,
        lambda: services.accept_desk_item(
            item, user=request.user, incident_type=request.POST.get("incident_type") or None
        ),
        success="已登记突发事件",
        redirect_to=lambda incident: ("response:incident", incident.pk),
        on_error="response:desk",
        errors=ERRORS,
    )


@login_required
@require_POST
def desk_item_dismiss(request, item_id: int):
    item = get_object_or_404(DeskItem, pk=item_id)
    return act(
        request,
        lambda: services.dismiss_desk_item(item, user=request.user),
        success="已忽略",
        redirect_to="response:desk",
        errors=ERRORS,
    )


@login_required
@require_POST
def desk_item_stand_down(request, item_id: int):
    item = get_object_or_404(DeskItem, pk=item_id)
    return act(
        request,
        lambda: services.confirm_stand_down(item, user=request.user),
        success=lambda done: "已确认:" + ";".join(done),
        redirect_to=lambda _: (
            ("response:incident", item.incident_id) if item.incident_id else "response:desk"
        ),
        on_error="response:desk",
        errors=ERRORS,
    )


# ----------------------------------------------------------------- incidents


@login_required
def incident_list(request):
    _sees(request)
    qs = services.visible_incidents(request.user).select_related("district", "street")
    status = request.GET.get("status")
    if status:
        qs = qs.filter(status=status)
    return render(
        request,
        "response/incident_list.html",
        {
            "incidents": qs[:300],
            "statuses": Incident.Status.choices,
            "status": status,
            "types": levels.load_types(),
            "can_command": services.can_command(request.user),
        },
    )


@login_required
@require_POST
def incident_create(request):
    p = request.POST
    occurred = p.get("occurred_at")
    return act(
        request,
        lambda: services.register_incident(
            services.IncidentInput(
                title=p.get("title", ""),
                incident_type=p.get("incident_type", ""),
                occurred_at=timezone.make_aware(dt.datetime.fromisoformat(occurred))
                if occurred
                else timezone.now(),
                lon=_float(p.get("lon"), None),
                lat=_float(p.get("lat"), None),
                crs=p.get("crs") or "wgs84",
                address=p.get("address", ""),
                summary=p.get("summary", ""),
                deaths=_int(p.get("deaths")),
                missing=_int(p.get("missing")),
                injured=_int(p.get("injured")),
                economic_loss=_float(p.get("economic_loss")) or 0.0,
                evacuated=_int(p.get("evacuated")),
                is_exercise=bool(p.get("is_exercise")),
            ),
            user=request.user,
        ),
        success=lambda incident: f"已登记:{incident}({incident.get_level_display()})",
        redirect_to=lambda incident: ("response:incident", incident.pk),
        on_error="response:incidents",
        errors=ERRORS,
    )


@login_required
def incident_detail(request, incident_id: int):
    _sees(request)
    incident = get_object_or_404(
        services.visible_incidents(request.user).select_related("district", "street"),
        pk=incident_id,
    )
    capability = request.GET.get("capability", "")
    nearest = []
    if capability and incident.lon is not None:
        nearest = resource_service.nearest_resources(incident.lon, incident.lat, [capability], k=10)
    activations = list(
        incident.activations.select_related("plan").prefetch_related("cards__department")
    )
    now = timezone.now()
    for a in activations:
        a.card_rows = [
            {"card": c, "overdue": cards.overdue_kind(c.clock(), now)} for c in a.cards.all()
        ]
    capabilities = sorted(
        {c for caps in RescueTeam.objects.values_list("capabilities", flat=True) for c in caps}
        | {"医疗救治", "直升机起降"}
    )
    return render(
        request,
        "response/incident_detail.html",
        {
            "incident": incident,
            "proposals": services.incident_proposals(incident),
            "activations": activations,
            "timeline": incident.timeline.all(),
            "reports": incident.reports.all(),
            "dispatches": incident.dispatches.select_related("team"),
            "allocations": incident.allocations.select_related("shelter"),
            "nearest": nearest,
            "capability": capability,
            "capabilities": capabilities,
            "levels": levels.RESPONSE_LABELS,
            "order_next": _order_next(),
            "can_command": services.can_command(request.user),
            "plans": EmergencyPlan.objects.filter(status=EmergencyPlan.Status.ACTIVE),
        },
    )


def _order_next() -> dict[str, list[tuple[str, str]]]:
    return {
        s: [(n, dispatch.ORDER_LABELS[n]) for n in sorted(nxt)]
        for s, nxt in dispatch.ORDER_TRANSITIONS.items()
    }


@login_required
@require_POST
def incident_report(request, incident_id: int):
    incident = get_object_or_404(services.visible_incidents(request.user), pk=incident_id)
    p = request.POST
    return act(
        request,
        lambda: services.add_report(
            incident,
            text=p.get("text", ""),
            deaths=_int(p.get("deaths")),
            missing=_int(p.get("missing")),
            injured=_int(p.get("injured")),
            economic_loss=_float(p.get("economic_loss")) or 0.0,
            evacuated=_int(p.get("evacuated")),
            user=request.user,
        ),
        success="续报已登记",
        redirect_to=f"/response/incidents/{incident.pk}/",
        errors=ERRORS,
    )


@login_required
@require_POST
def incident_close(request, incident_id: int):
    incident = get_object_or_404(services.visible_incidents(request.user), pk=incident_id)
    return act(
        request,
        lambda: services.close_incident(incident, user=request.user),
        success="事件已结案",
        redirect_to=f"/response/incidents/{incident.pk}/",
        errors=ERRORS,
    )


@login_required
@require_POST
def activate(request, incident_id: int):
    incident = get_object_or_404(services.visible_incidents(request.user), pk=incident_id)
    plan = get_object_or_404(EmergencyPlan, pk=request.POST.get("plan"))
    return act(
        request,
        lambda: services.activate(plan, incident, request.POST.get("level", ""), user=request.user),
        success=f"已启动《{plan.title}》",
        redirect_to=f"/response/incidents/{incident.pk}/",
        errors=ERRORS,
    )


@login_required
@require_POST
def activation_level(request, activation_id: int):
    activation = get_object_or_404(services.visible_activations(request.user), pk=activation_id)
    return act(
        request,
        lambda: services.change_level(activation, request.POST.get("level", ""), user=request.user),
        success="响应级别已调整",
        redirect_to=f"/response/incidents/{activation.incident_id}/",
        errors=ERRORS,
    )


@login_required
@require_POST
def activation_stand_down(request, activation_id: int):
    activation = get_object_or_404(services.visible_activations(request.user), pk=activation_id)
    return act(
        request,
        lambda: services.stand_down(activation, user=request.user),
        success="已终止响应",
        redirect_to=f"/response/incidents/{activation.incident_id}/",
        errors=ERRORS,
    )


@login_required
@require_POST
def card_action(request, card_id: int, action: str):
    card = get_object_or_404(
        services.visible_cards(request.user).select_related("activation"), pk=card_id
    )
    back = request.POST.get("next") or f"/response/incidents/{card.activation.incident_id}/"
    if not back.startswith("/"):
        back = "/"
    if action == "ack":
        return act(
            request,
            lambda: services.acknowledge(card, user=request.user),
            success="已签收",
            redirect_to=back,
            errors=ERRORS,
        )
    if action == "complete":
        return act(
            request,
            lambda: services.complete(
                card, result=request.POST.get("result", ""), user=request.user
            ),
            success="已反馈完成",
            redirect_to=back,
            errors=ERRORS,
        )
    raise PermissionDenied("未知操作")


@login_required
def my_cards(request):
    profile = services._profile(request.user)
    qs = ActionCard.objects.none()
    own = (
        Q(department_id=profile.department_id)
        if profile and profile.department_id
        else Q(pk__in=[])
    )
    if profile and profile.role == Role.DISTRICT_STAFF and profile.region_id:
        own |= Q(
            department__region_id=profile.region_id
        )  # street staff: their street office's cards
    if profile and (profile.department_id or profile.region_id):
        qs = (
            ActionCard.objects.filter(own)
            .select_related("activation__incident", "activation__plan")
            .order_by("-issued_at")[:200]
        )
    now = timezone.now()
    rows = [{"card": c, "overdue": cards.overdue_kind(c.clock(), now)} for c in qs]
    return render(
        request,
        "response/my_cards.html",
        {"rows": rows, "department": profile.department if profile else None},
    )


@login_required
@require_POST
def dispatch_create(request, incident_id: int):
    incident = get_object_or_404(services.visible_incidents(request.user), pk=incident_id)
    team = get_object_or_404(RescueTeam, pk=request.POST.get("team"))
    return act(
        request,
        lambda: resource_service.dispatch_team(
            incident, team, task=request.POST.get("task", ""), user=request.user
        ),
        success=f"已调派{team.name}",
        redirect_to=f"/response/incidents/{incident.pk}/",
        errors=ERRORS,
    )


@login_required
@require_POST
def dispatch_advance(request, order_id: int):
    order = get_object_or_404(services.visible_orders(request.user), pk=order_id)
    return act(
        request,
        lambda: resource_service.advance_order(
            order, request.POST.get("state", ""), user=request.user
        ),
        success="调度状态已更新",
        redirect_to=f"/response/incidents/{order.incident_id}/",
        errors=ERRORS,
    )


@login_required
@require_POST
def shelters_allocate(request, incident_id: int):
    incident = get_object_or_404(services.visible_incidents(request.user), pk=incident_id)
    return act(
        request,
        lambda: resource_service.allocate_shelters(
            incident, _int(request.POST.get("evacuees")), user=request.user
        ),
        success="已分配避护场所",
        redirect_to=f"/response/incidents/{incident.pk}/",
        errors=ERRORS,
    )


@login_required
def situation_report(request, incident_id: int):
    _sees(request)
    from yingji.response import sitrep

    incident = get_object_or_404(services.visible_incidents(request.user), pk=incident_id)
    data = sitrep.situation_report_docx(incident)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    response["Content-Disposition"] = f'attachment; filename="sitrep-{incident.pk}.docx"'
    return response


@login_required
def after_action(request, incident_id: int):
    """The after-action report: the whole event, first reading to stand-down."""
    _sees(request)
    from yingji.response import afteraction

    incident = get_object_or_404(services.visible_incidents(request.user), pk=incident_id)
    return render(request, "response/after_action.html", afteraction.report(incident))


@login_required
def after_action_docx(request, incident_id: int):
    _sees(request)
    from yingji.response import afteraction

    incident = get_object_or_404(services.visible_incidents(request.user), pk=incident_id)
    response = HttpResponse(
        afteraction.docx(afteraction.report(incident)),
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    response["Content-Disposition"] = f'attachment; filename="after-action-{incident.pk}.docx"'
    return response


# ----------------------------------------------------------------- plans


@login_required
def plan_list(request):
    _sees(request)
    return render(
        request,
        "response/plan_list.html",
        {
            "plans": EmergencyPlan.objects.select_related("owner").prefetch_related("triggers"),
            "today": timezone.localdate(),
            "can_command": services.can_command(request.user),
        },
    )


@login_required
def plan_detail(request, plan_id: int):
    _sees(request)
    plan = get_object_or_404(EmergencyPlan.objects.select_related("owner"), pk=plan_id)
    by_level = []
    templates = list(plan.card_templates.select_related("department"))
    for lv in levels.LEVELS[::-1]:
        rows = [t for t in templates if t.response_level == lv]
        if rows:
            by_level.append((levels.RESPONSE_LABELS[lv], rows))
    return render(
        request,
        "response/plan_detail.html",
        {
            "plan": plan,
            "triggers": plan.triggers.all(),
            "groups": plan.groups.select_related("lead").prefetch_related("members"),
            "by_level": by_level,
            "colour_labels": triggers.COLOUR_LABELS,
            "structure": json.dumps(plans.structure_of(plan), ensure_ascii=False, indent=2),
        },
    )


@login_required
def plan_import(request):
    from yingji.response import plandoc

    if request.method == "POST":
        upload = request.FILES.get("file")

        def imported():
            services.require_command(request.user)
            if upload is None:
                raise ValidationError("请选择 .docx 文件")
            return plandoc.import_docx(upload, filename=upload.name)

        return act(
            request,
            imported,
            success=lambda plan: f"已导入为草稿:{plan.title},请在管理后台补充完善后设为现行有效",
            redirect_to=lambda plan: ("response:plan", plan.pk),
            on_error="response:plan_import",
            errors=(*ERRORS, plandoc.PlanDocError),
        )
    return render(request, "response/plan_import.html")


# ----------------------------------------------------------------- resources


@login_required
def resources(request):
    _sees(request)
    return render(
        request,
        "response/resources.html",
        {
            "teams": RescueTeam.objects.select_related("department"),
            "warehouses": Warehouse.objects.prefetch_related("stock"),
            "shelters": Shelter.objects.all(),
            "helipads": Helipad.objects.all(),
            "hospitals": Hospital.objects.all(),
            "can_command": services.can_command(request.user),
        },
    )


@login_required
@require_POST
def resources_import(request):
    from yingji.response import resource_import

    upload = request.FILES.get("file")

    def imported():
        services.require_command(request.user)
        if upload is None:
            raise ValidationError("请选择 Excel 文件")
        return resource_import.import_workbook(upload, filename=upload.name)

    return act(
        request,
        imported,
        success=lambda result: result,
        redirect_to="response:resources",
        errors=(*ERRORS, resource_import.ImportProblems),
    )


# ----------------------------------------------------------------- drills


@login_required
def drill_list(request):
    _sees(request)
    return render(
        request,
        "response/drill_list.html",
        {
            "drills": Drill.objects.select_related("plan"),
            "plans": EmergencyPlan.objects.filter(status="active"),
            "can_command": services.can_command(request.user),
            "example": json.dumps(
                [
                    {
                        "at": 0,
                        "kind": "alert",
                        "event": "暴雨红色预警信号",
                        "level": "red",
                        "area_codes": ["440106"],
                    },
                    {
                        "at": 20,
                        "kind": "report",
                        "text": "石牌桥积水,转移群众600人",
                        "evacuated": 600,
                    },
                ],
                ensure_ascii=False,
            ),
        },
    )


@login_required
@require_POST
def drill_create(request):
    p = request.POST
    try:
        scenario = json.loads(p.get("scenario") or "[]")
    except json.JSONDecodeError as exc:
        messages.error(request, f"情景脚本不是有效的 JSON:第 {exc.lineno} 行第 {exc.colno} 列")
        return redirect("response:drills")
    plan = EmergencyPlan.objects.filter(pk=p.get("plan") or None).first()

    def create():
        when = (
            timezone.make_aware(dt.datetime.fromisoformat(p["scheduled_at"]))
            if p.get("scheduled_at")
            else timezone.now()
        )
        return drills.create_drill(
            title=p.get("title") or "演练",
            plan=plan,
            scenario=scenario,
            scheduled_at=when,
            blind=bool(p.get("blind")),
            user=request.user,
        )

    return act(
        request,
        create,
        success="演练已安排",
        redirect_to=lambda drill: ("response:drill", drill.pk),
        on_error="response:drills",
        errors=ERRORS,
    )


@login_required
def drill_detail(request, drill_id: int):
    _sees(request)
    drill = get_object_or_404(Drill.objects.select_related("plan"), pk=drill_id)
    report = drills.report(drill) if drill.started_at else None
    return render(
        request,
        "response/drill_detail.html",
        {
            "drill": drill,
            "report": report,
            "show_scenario": drills.can_see_scenario(drill, request.user),
            "scenario": [
                {"at": s.get("at"), "summary": drills.step_summary(s)} for s in drill.scenario
            ],
            "can_command": services.can_command(request.user),
        },
    )


@login_required
def drill_report_docx(request, drill_id: int):
    _sees(request)
    from yingji.response import sitrep

    drill = get_object_or_404(Drill, pk=drill_id)
    if not drill.started_at:
        raise PermissionDenied("演练尚未开始")
    if drill.status != Drill.Status.FINISHED and not drills.can_see_scenario(drill, request.user):
        raise PermissionDenied("双盲演练结束前不公开评估")
    response = HttpResponse(
        sitrep.drill_report_docx(drills.report(drill)),
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    response["Content-Disposition"] = f'attachment; filename="drill-{drill.pk}.docx"'
    return response


@login_required
@require_POST
def drill_run(request, drill_id: int):
    drill = get_object_or_404(Drill, pk=drill_id)

    def step():
        services.require_command(request.user)
        if drill.status == Drill.Status.SCHEDULED:
            drill.scheduled_at = min(drill.scheduled_at, timezone.now())
            drill.save(update_fields=["scheduled_at"])
        drills.advance(drill)

    return act(
        request,
        step,
        success="已注入到期的演练步骤",
        redirect_to=f"/response/drills/{drill.pk}/",
        errors=ERRORS,
    )


@login_required
@require_POST
def drill_finish(request, drill_id: int):
    drill = get_object_or_404(Drill, pk=drill_id)
    return act(
        request,
        lambda: drills.finish(drill, user=request.user),
        success="演练已结束",
        redirect_to=f"/response/drills/{drill.pk}/",
        errors=ERRORS,
    )
