"""Monitoring pages: the live board (regional levels, alarm list with acknowledge
and silence, sensor counts), sensor detail with a chart of recent readings, rules
with a dry run and the rule editor (create, edit with a dry run of the unsaved
rule, switch on/off), dead letters. The map itself is the one map (/map/), where
this module registers its layers."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from yingji.monitoring import dryrun, lifecycle, services
from yingji.monitoring.forms import APPLY_NOTE, AlarmRuleForm, may_manage_rules
from yingji.monitoring.importviews import may_manage_sensors
from yingji.monitoring.map_layers import BUCKETS
from yingji.monitoring.models import (
    HAZARD_LABELS,
    Alarm,
    AlarmRule,
    DeadLetter,
    Reading,
    RegionalLevel,
    SensorType,
)
from yingji.monitoring.rules import LEVEL_LABELS, Rule, RuleError

ACTIVE = ("firing", "acknowledged", "silenced", "pending")


def _alarm_context(request: HttpRequest) -> dict:
    state = request.GET.get("state", "open")
    qs = services.visible_alarms(request.user)
    if state == "open":
        qs = qs.filter(state__in=ACTIVE)
    elif state in lifecycle.STATE_LABELS:
        qs = qs.filter(state=state)
    alarms = list(qs[:300])
    for a in alarms:
        a.can_handle = services.can_handle(request.user, a)
        a.level_label = LEVEL_LABELS.get(a.level, "")
        a.hazard_label = HAZARD_LABELS.get(a.hazard, a.hazard)
    return {"alarms": alarms, "state": state, "states": lifecycle.STATE_LABELS}


@login_required
def live(request: HttpRequest) -> HttpResponse:
    """实时监测: regional levels, open alarms, sensor counts (htmx refresh)."""
    ctx = _alarm_context(request)
    if request.htmx:
        return render(request, "monitoring/_alarms.html", ctx)
    levels = list(
        RegionalLevel.objects.exclude(level="")
        .select_related("region")
        .order_by("region__level", "region_id")
    )
    for lv in levels:
        lv.level_label = LEVEL_LABELS.get(lv.level, "")
        lv.hazard_label = HAZARD_LABELS.get(lv.hazard, lv.hazard)
    sensors = services.visible_sensors(request.user)
    counts = dict(sensors.values_list("status").annotate(n=Count("id")))
    ctx.update(
        {
            "levels": levels,
            "counts": counts,
            "total": sum(counts.values()),
            "map_layers": ",".join(["districts", *(key for key, *_ in BUCKETS.values())]),
            "sees_dead_letters": _sees_dead_letters(request.user),
            "may_import_sensors": may_manage_sensors(request.user),
        }
    )
    return render(request, "monitoring/live.html", ctx)


def _handled(request: HttpRequest, alarm_id: int) -> Alarm:
    alarm = get_object_or_404(services.visible_alarms(request.user), pk=alarm_id)
    if not services.can_handle(request.user, alarm):
        raise PermissionDenied("无权处理该报警")
    return alarm


def _after(request: HttpRequest) -> HttpResponse:
    if request.htmx:
        return render(request, "monitoring/_alarms.html", _alarm_context(request))
    return redirect("monitoring:live")


@login_required
@require_POST
def acknowledge(request: HttpRequest, alarm_id: int) -> HttpResponse:
    alarm = _handled(request, alarm_id)
    try:
        services.acknowledge(alarm, request.user)
        messages.success(request, f"已确认报警:{alarm.rule.name}")
    except lifecycle.TransitionError as exc:
        messages.error(request, str(exc))
    return _after(request)


@login_required
@require_POST
def silence(request: HttpRequest, alarm_id: int) -> HttpResponse:
    alarm = _handled(request, alarm_id)
    try:
        minutes = int(request.POST.get("minutes") or 0)
    except ValueError:
        minutes = 0
    try:
        services.silence(alarm, request.user, minutes, request.POST.get("reason", ""))
        messages.success(request, f"已静默 {minutes} 分钟:{alarm.rule.name}")
    except (services.MonitoringError, lifecycle.TransitionError) as exc:
        messages.error(request, str(exc))
    return _after(request)


def chart_points(rows: list[tuple[int, float]], width: int = 720, height: int = 220) -> dict:
    """An SVG polyline of readings (no JavaScript, no external asset)."""
    if not rows:
        return {}
    ts = [t for t, _ in rows]
    vs = [v for _, v in rows]
    t0, t1 = min(ts), max(ts) or 1
    v0, v1 = min(vs), max(vs)
    if v1 == v0:
        v1 = v0 + 1
    pad = 30
    pts = " ".join(
        f"{pad + (t - t0) / max(1, t1 - t0) * (width - 2 * pad):.1f},"
        f"{height - pad - (v - v0) / (v1 - v0) * (height - 2 * pad):.1f}"
        for t, v in rows
    )
    return {
        "points": pts,
        "width": width,
        "height": height,
        "min": v0,
        "max": v1,
        "start": services._dt(t0),
        "end": services._dt(t1),
        "pad": pad,
    }


@login_required
def sensor_detail(request: HttpRequest, sensor_id: int) -> HttpResponse:
    sensor = get_object_or_404(
        services.visible_sensors(request.user).select_related("district", "street", "department"),
        pk=sensor_id,
    )
    hours = min(int(request.GET.get("hours", 24) or 24), 24 * 7)
    since = services.now_ms() - hours * 3600_000
    rows = list(
        Reading.objects.filter(sensor=sensor, ts_ms__gte=since)
        .order_by("ts_ms")
        .values_list("ts_ms", "value")[:5000]
    )
    alarms = Alarm.objects.filter(sensor=sensor).select_related("rule")[:50]
    for a in alarms:
        a.level_label = LEVEL_LABELS.get(a.level, "")
    return render(
        request,
        "monitoring/sensor.html",
        {
            "sensor": sensor,
            "chart": chart_points(rows),
            "count": len(rows),
            "hours": hours,
            "alarms": alarms,
            "type_label": SensorType(sensor.type).label,
            "last_seen": services._dt(sensor.last_seen_ms) if sensor.last_seen_ms else None,
        },
    )


@login_required
def rules(request: HttpRequest) -> HttpResponse:
    """Rule list and a dry run of a rule against the last 24 hours."""
    result, error, form = None, "", request.POST if request.method == "POST" else {}
    if request.method == "POST":

        def num(name: str) -> float | None:
            text = (request.POST.get(name) or "").strip()
            return float(text) if text else None

        try:
            rule = Rule(
                id=0,
                name=request.POST.get("name") or "试运行规则",
                metric=request.POST.get("metric", "value"),
                direction=request.POST.get("direction", "above"),
                sensor_type=request.POST.get("sensor_type") or None,
                thresholds=(num("blue"), num("yellow"), num("orange"), num("red")),
                window_s=int(num("window_s") or 0),
                hysteresis=num("hysteresis") or 0,
                for_s=num("for_s") or 0,
            )
            result = dryrun.dry_run(rule, sensors=services.visible_sensors(request.user))
            for e in result["alarming"]:
                e["max_level_label"] = LEVEL_LABELS.get(e["max_level"], "")
        except (RuleError, ValueError) as exc:
            error = str(exc) if isinstance(exc, RuleError) else f"数值格式不对:{exc}"
    rule_list = list(AlarmRule.objects.select_related("child"))
    lacking = services.lacking_thresholds(rule_list)
    for r in rule_list:
        r.refs_shown = [
            (LEVEL_LABELS[lv], getattr(r, f"{lv}_ref"))
            for lv in ("blue", "yellow", "orange", "red")
            if getattr(r, f"{lv}_ref")
        ]
        r.lacking, r.watched = lacking.get(r.pk, (0, 0))
    return render(
        request,
        "monitoring/rules.html",
        {
            "rules": rule_list,
            "result": result,
            "error": error,
            "form": form,
            "types": SensorType.choices,
            "metrics": AlarmRule.Metric.choices[:3],
            "may_add": may_manage_rules(request.user, "add"),
            "may_change": may_manage_rules(request.user, "change"),
        },
    )


@login_required
def rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    """Create or edit a rule; 「试运行」 evaluates the edited rule (unsaved) against
    the last 24 hours, 「保存」 saves it (audited like every model change)."""
    rule = get_object_or_404(AlarmRule, pk=rule_id) if rule_id else None
    if not may_manage_rules(request.user, "change" if rule else "add"):
        raise PermissionDenied("仅局领导、督查、管理员或有规则管理权限的人员可编辑报警规则")
    was_active = rule is not None and rule.active  # the form edits `rule` in place
    form = AlarmRuleForm(request.POST or None, instance=rule)
    result, dry_error = None, ""
    if request.method == "POST" and form.is_valid():
        if request.POST.get("action") == "dry_run":
            if form.cleaned_data["metric"] == AlarmRule.Metric.COMPOSITE:
                dry_error = "区域组合规则暂不支持试运行(可试运行其子规则)"
            else:
                result = dryrun.dry_run(
                    form.rule_spec(), sensors=services.visible_sensors(request.user)
                )
                for e in result["alarming"]:
                    e["max_level_label"] = LEVEL_LABELS.get(e["max_level"], "")
        else:
            saved = form.save()
            note = ""
            if was_active and not saved.active:
                n = services.retire_rule_alarms(saved)
                note = f";{n} 条未解除报警已解除" if n else ""
            messages.success(request, f"已保存规则「{saved.name}」{note}。{APPLY_NOTE}。")
            return redirect("monitoring:rules")
    groups = [(legend, [form[name] for name in names]) for legend, names in RULE_FIELDS]
    return render(
        request,
        "monitoring/rule_form.html",
        {"form": form, "rule": rule, "result": result, "dry_error": dry_error, "groups": groups},
    )


RULE_FIELDS = (
    ("规则", ("name", "metric", "direction", "active")),
    ("监测对象", ("sensor_type", "sensor_codes")),
    ("四级阈值(不用的级别留空)", ("blue", "yellow", "orange", "red")),
    (
        "或引用各传感器的专属阈值(填阈值名称,如 警戒水位)",
        ("blue_ref", "yellow_ref", "orange_ref", "red_ref"),
    ),
    ("判断方式", ("window_s", "hysteresis", "for_s", "escalate_every_s")),
    ("区域组合(仅指标为「区域组合」时)", ("child", "k", "composite_level")),
    ("通知", ("notify_department", "escalate_to", "escalate_after_min", "remind_every_min")),
)


@login_required
@require_POST
def rule_toggle(request: HttpRequest, rule_id: int) -> HttpResponse:
    """Switch a rule on or off (switching off resolves its open alarms)."""
    if not may_manage_rules(request.user, "change"):
        raise PermissionDenied("仅局领导、督查、管理员或有规则管理权限的人员可启停报警规则")
    rule = get_object_or_404(AlarmRule, pk=rule_id)
    rule.active = not rule.active
    rule.save(update_fields=["active"])
    if rule.active:
        messages.success(request, f"已启用规则「{rule.name}」。{APPLY_NOTE}。")
    else:
        n = services.retire_rule_alarms(rule)
        messages.success(
            request,
            f"已停用规则「{rule.name}」"
            + (f",{n} 条未解除报警已解除" if n else "")
            + f"。{APPLY_NOTE}。",
        )
    return redirect("monitoring:rules")


def _sees_dead_letters(user) -> bool:
    return services.scope_for_user(user).sees_all


@login_required
def dead_letters(request: HttpRequest) -> HttpResponse:
    if not _sees_dead_letters(request.user):
        raise PermissionDenied("死信仅值班与管理人员可查看")
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    return render(
        request,
        "monitoring/dead_letters.html",
        {
            "letters": DeadLetter.objects.all()[:300],
            "count": DeadLetter.objects.filter(received_at__gte=since).count(),
        },
    )
