"""Monitoring API (/api/v1/monitoring/): bulk ingest (token), sensors and their
readings, alarms (acknowledge, silence), regional levels, rules (create, edit,
switch on/off, validated by the rule editor's form) and a dry run, dead letters. Everything the pages do, for other systems."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.security import HttpBearer

from yingji.core.apiparams import Hours, Limit, one_of
from yingji.monitoring import dryrun, payloads, services
from yingji.monitoring.forms import THRESHOLDS, AlarmRuleForm, may_manage_rules
from yingji.monitoring.models import Alarm, AlarmRule, DeadLetter, Reading, RegionalLevel, Sensor
from yingji.monitoring.rules import Rule, RuleError

router = Router(tags=["monitoring"])


class IngestToken(HttpBearer):
    """Authorization: Bearer <token> (tokens from `yingji monitoring_token NAME`)."""

    def authenticate(self, request, token):
        return services.check_token(token)


class IngestOut(Schema):
    received: int
    stored: int
    duplicates: int
    rejected: int
    alarm_changes: int
    reasons: list[str]


class RefusedOut(Schema):
    detail: str


@router.post(
    "/ingest", auth=IngestToken(), response={200: IngestOut, 413: RefusedOut, 422: RefusedOut}
)
def ingest(request):
    """Bulk readings: a JSON array of {"sensor", "ts", "value", "unit"?} or NDJSON
    (Content-Type application/x-ndjson). Bad readings are refused one by one (see
    `reasons` and the dead-letter list); the rest are stored. A body refused as a
    whole is dead-lettered and answered 413 (larger than
    YINGJI_MONITORING_HTTP_MAX_BYTES) or 422 (not UTF-8, not JSON, nested deeper
    than YINGJI_MONITORING_MAX_DEPTH) with the reason in `detail`."""
    limit = services.limits("YINGJI_MONITORING_HTTP_MAX_BYTES")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit.max_bytes:  # refused before the body is read
        reason = payloads.too_large(length, limit)
        services.refuse_http(reason)
        return Status(413, {"detail": reason})
    try:
        body = request.body
    except RequestDataTooBig:
        reason = f"报文过大:超过 DATA_UPLOAD_MAX_MEMORY_SIZE({settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} 字节)"
        services.refuse_http(reason)
        return Status(413, {"detail": reason})
    try:
        stats = services.ingest_http(body, request.content_type or "")
    except payloads.BodyRefused as exc:
        return Status(exc.status, {"detail": str(exc)})
    return stats.__dict__


class SensorOut(Schema):
    id: int
    code: str
    name: str
    type: str
    unit: str
    lon: float
    lat: float
    district: str | None
    street: str | None
    department: str | None
    status: str
    last_value: float | None
    last_seen: dt.datetime | None
    thresholds: dict[str, float]  # named thresholds (专属阈值), in `unit`


def _sensor(s: Sensor) -> dict:
    return {
        "id": s.pk,
        "code": s.code,
        "name": s.name,
        "type": s.type,
        "unit": s.unit,
        "lon": s.lon,
        "lat": s.lat,
        "district": s.district_id,
        "street": s.street_id,
        "department": s.department.name if s.department_id else None,
        "status": s.status,
        "thresholds": s.thresholds or {},
        "last_value": s.last_value,
        "last_seen": services._dt(s.last_seen_ms) if s.last_seen_ms else None,
    }


@router.get("/sensors", response=list[SensorOut])
def sensors(request, type: str | None = None, status: str | None = None):
    qs = services.visible_sensors(request.user).select_related("department")
    if type:
        qs = qs.filter(type=type)
    if status:
        qs = qs.filter(status=status)
    return [_sensor(s) for s in qs[:5000]]


class ReadingOut(Schema):
    ts: dt.datetime
    value: float


@router.get("/sensors/{sensor_id}/readings", response=list[ReadingOut])
def readings(request, sensor_id: int, hours: Hours = 24):
    sensor = get_object_or_404(services.visible_sensors(request.user), pk=sensor_id)
    since = services.now_ms() - min(hours, 24 * 30) * 3600_000
    rows = (
        Reading.objects.filter(sensor=sensor, ts_ms__gte=since)
        .order_by("ts_ms")
        .values_list("ts_ms", "value")[:20000]
    )
    return [{"ts": services._dt(t), "value": v} for t, v in rows]


class AlarmOut(Schema):
    id: int
    rule: str
    sensor: str | None
    area: str | None
    district: str
    street: str
    hazard: str
    state: str
    level: str
    max_level: str
    value: float | None
    started_at: dt.datetime
    fired_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    replayed: bool  # raised by a historical replay (回放), told to nobody by default


def _alarm(a: Alarm) -> dict:
    return {
        "id": a.pk,
        "rule": a.rule.name,
        "sensor": a.sensor.code if a.sensor_id else None,
        "area": a.area_id,
        "district": a.district_code,
        "street": a.street_code,
        "hazard": a.hazard,
        "state": a.state,
        "level": a.level,
        "max_level": a.max_level,
        "value": a.value,
        "started_at": a.started_at,
        "fired_at": a.fired_at,
        "acknowledged_at": a.acknowledged_at,
        "resolved_at": a.resolved_at,
        "replayed": a.replayed,
    }


@router.get("/alarms", response=list[AlarmOut])
def alarms(request, state: str = "active", level: str | None = None):
    """state: active (firing, acknowledged, silenced), open (also pending), all, or one state."""
    qs = services.visible_alarms(request.user)
    if state == "active":
        qs = qs.filter(state__in=("firing", "acknowledged", "silenced"))
    elif state == "open":
        qs = qs.exclude(state="resolved")
    elif state != "all":
        qs = qs.filter(state=state)
    if level:
        qs = qs.filter(level=level)
    return [_alarm(a) for a in qs[:2000]]


def _handled(request, alarm_id: int) -> Alarm:
    alarm = get_object_or_404(services.visible_alarms(request.user), pk=alarm_id)
    if not services.can_handle(request.user, alarm):
        raise PermissionDenied("无权处理该报警")
    return alarm


def _transition(fn, *args):
    from yingji.monitoring.lifecycle import TransitionError

    try:
        return fn(*args)
    except (TransitionError, services.MonitoringError) as exc:
        raise ValidationError(str(exc)) from None


@router.post("/alarms/{alarm_id}/acknowledge", response=AlarmOut)
def acknowledge(request, alarm_id: int):
    return _alarm(_transition(services.acknowledge, _handled(request, alarm_id), request.user))


class SilenceIn(Schema):
    minutes: int
    reason: str


@router.post("/alarms/{alarm_id}/silence", response=AlarmOut)
def silence(request, alarm_id: int, body: SilenceIn):
    return _alarm(
        _transition(
            services.silence, _handled(request, alarm_id), request.user, body.minutes, body.reason
        )
    )


class LevelOut(Schema):
    region_code: str
    region_name: str
    region_level: str
    hazard: str
    level: str | None
    alarm_ids: list[int]
    updated_at: dt.datetime


@router.get("/regional-levels", response=list[LevelOut])
def regional_levels(request, all: bool = False):
    """The highest active alarm level per street and district and hazard
    (only non-clear ones unless all=true)."""
    qs = RegionalLevel.objects.select_related("region").order_by("region_id", "hazard")
    if not all:
        qs = qs.exclude(level="")
    return [
        {
            "region_code": r.region_id,
            "region_name": r.region.name,
            "region_level": r.region.level,
            "hazard": r.hazard,
            "level": r.level or None,
            "alarm_ids": r.alarm_ids,
            "updated_at": r.updated_at,
        }
        for r in qs
    ]


class RuleIn(Schema):
    name: str
    sensor_type: str | None = None
    sensor_codes: list[str] = []
    metric: str = one_of(AlarmRule.Metric.values, "value")
    direction: str = one_of(["above", "below"], "above")
    thresholds: list[float | None]
    # Per level, the name of a sensor's own threshold used instead of the number
    # (Sensor.thresholds, e.g. "警戒水位"); null: the number.
    threshold_refs: list[str | None] = [None, None, None, None]
    window_s: int = 0
    hysteresis: float = 0
    for_s: int = 0
    escalate_every_s: int = 0


class RuleOut(Schema):
    id: int
    name: str
    sensor_type: str
    metric: str
    thresholds: list[float | None]
    threshold_refs: list[str | None]
    window_s: int
    for_s: int
    active: bool


@router.get("/rules", response=list[RuleOut])
def rules(request):
    return [_rule(r) for r in AlarmRule.objects.all()]


class RuleSaveIn(RuleIn):
    child: int | None = None
    k: int = 1
    composite_level: str = "orange"
    notify_department: int | None = None
    escalate_to: int | None = None
    escalate_after_min: int = 30
    remind_every_min: int = 60
    active: bool = True


def _save_rule(request, body: RuleSaveIn, rule: AlarmRule | None) -> dict:
    if not may_manage_rules(request.user, "change" if rule else "add"):
        raise PermissionDenied("仅局领导、督查、管理员或有规则管理权限的人员可编辑报警规则")
    data = body.dict()
    if len(body.thresholds) != 4:
        raise ValidationError({"thresholds": ["须给出蓝、黄、橙、红四级阈值(不用的级别写 null)"]})
    data.update(zip(THRESHOLDS, data.pop("thresholds"), strict=True))
    refs = data.pop("threshold_refs")
    if len(refs) != 4:
        raise ValidationError({"threshold_refs": ["须给出蓝、黄、橙、红四级(不引用的级别写 null)"]})
    data.update({f"{f}_ref": r or "" for f, r in zip(THRESHOLDS, refs, strict=True)})
    data["sensor_codes"] = ", ".join(body.sensor_codes)
    data["sensor_type"] = body.sensor_type or ""
    was_active = rule is not None and rule.active
    form = AlarmRuleForm(data, instance=rule)
    if not form.is_valid():
        raise ValidationError({f: list(e) for f, e in form.errors.items()})
    saved = form.save()
    if was_active and not saved.active:
        services.retire_rule_alarms(saved)
    return _rule(saved)


def _rule(r: AlarmRule) -> dict:
    return {
        "id": r.pk,
        "name": r.name,
        "sensor_type": r.sensor_type,
        "metric": r.metric,
        "thresholds": [r.blue, r.yellow, r.orange, r.red],
        "threshold_refs": [
            r.blue_ref or None,
            r.yellow_ref or None,
            r.orange_ref or None,
            r.red_ref or None,
        ],
        "window_s": r.window_s,
        "for_s": r.for_s,
        "active": r.active,
    }


@router.post("/rules", response=RuleOut)
def rule_create(request, body: RuleSaveIn):
    """Create a rule (same checks as the rule editor; 422 names each field)."""
    return _save_rule(request, body, None)


@router.put("/rules/{int:rule_id}", response=RuleOut)
def rule_update(request, rule_id: int, body: RuleSaveIn):
    """Replace a rule; `active: false` switches it off and resolves its open alarms.
    Running ingest workers apply it within about 10 s."""
    return _save_rule(request, body, get_object_or_404(AlarmRule, pk=rule_id))


@router.post("/rules/dry-run")
def rules_dry_run(request, body: RuleIn, hours: Hours = 24):
    """Try a rule against the stored readings of the last `hours` without saving it
    (only the readings of sensors the user may see)."""
    visible = services.visible_sensors(request.user)
    codes = dict(visible.filter(code__in=body.sensor_codes).values_list("code", "id"))
    missing = sorted(set(body.sensor_codes) - set(codes))
    if missing:
        raise ValidationError(
            {"sensor_codes": f"未知传感器(或不在您的管辖范围):{'、'.join(missing)}"}
        )
    rule = Rule(
        id=0,
        name=body.name,
        metric=body.metric,
        direction=body.direction,
        thresholds=tuple(body.thresholds),
        threshold_refs=tuple(r or None for r in body.threshold_refs),
        sensor_type=body.sensor_type or None,
        sensor_ids=frozenset(codes.values()) or None,
        window_s=body.window_s,
        hysteresis=body.hysteresis,
        for_s=body.for_s,
        escalate_every_s=body.escalate_every_s,
    )
    try:
        return dryrun.dry_run(rule, hours, sensors=visible)
    except RuleError as exc:
        raise ValidationError(str(exc)) from None


class DeadLetterOut(Schema):
    id: int
    received_at: dt.datetime
    source: str
    topic: str
    payload: str
    reason: str


@router.get("/dead-letters", response=list[DeadLetterOut])
def dead_letters(request, limit: Limit = 200):
    if not services.scope_for_user(request.user).sees_all:
        raise PermissionDenied("死信仅值班与管理人员可查看")
    return list(
        DeadLetter.objects.all()[: min(limit, 2000)].values(
            "id", "received_at", "source", "topic", "payload", "reason"
        )
    )
