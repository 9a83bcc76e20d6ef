"""Alert use cases: draft, review with four eyes, publish (CAP XML, public page,
deliveries), update / extend / cancel, expiry, recipient resolution with a
population estimate. Beside it: subscribers.py (import, location feed),
incoming.py (incoming CAP and its re-release), fromevents.py (drafts from
monitoring events).

Pure logic lives in cap.py, capvalidate.py, conventions.py, targeting.py,
workflow.py and channels.py; this module loads facts, calls them and saves.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import shapely
import shapely.geometry
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max
from django.urls import reverse
from django.utils import timezone

from yingji.alerts import cap, capvalidate, config, conventions, targeting
from yingji.alerts import workflow as wf
from yingji.alerts.events import alert_published
from yingji.alerts.models import (
    Alert,
    AlertArea,
    IncomingCap,
    Subscriber,
    SubscriberGroup,
)
from yingji.core import audit, channelconfig, outbox, regions
from yingji.core.models import Region, Role

DRAFTER_ROLES = {Role.DEPT_STAFF, Role.DISTRICT_STAFF, Role.DUTY_OFFICER, Role.LEADER, Role.ADMIN}
APPROVER_ROLES = {Role.LEADER, Role.DUTY_OFFICER, Role.ADMIN}
# Decision: a red or orange warning (Ⅰ/Ⅱ级, the levels that stop schools and work)
# is signed off by a bureau leader; the duty officer approves yellow and blue.
SENIOR_COLOURS = frozenset({"red", "orange"})
SENIOR_APPROVER_ROLES = {Role.LEADER, Role.ADMIN}

DEFAULT_GROUPS = [
    ("public", "社会公众"),
    ("school", "学校"),
    ("hospital", "医院"),
    ("care_home", "养老机构"),
    ("construction", "建筑工地"),
    ("hazchem_officer", "危化企业安全员"),
    ("sanfang", "三防责任人"),
    ("district_duty", "区值班员"),
    ("street_duty", "街道值班员"),
]


def _role(user: Any) -> str | None:
    if user is None or not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    profile = getattr(user, "profile", None)
    return profile.role if profile else None


def can_draft(user: Any) -> bool:
    return _role(user) in DRAFTER_ROLES


def can_approve(user: Any) -> bool:
    return _role(user) in APPROVER_ROLES


def can_manage_subscribers(user: Any) -> bool:
    """The subscriber register is the city's: its drafters import it and feed its
    locations, except district and street staff (whose scope is one region)."""
    from yingji.core.scope import scope_for

    scope = scope_for(user)
    return can_draft(user) and (scope.edits_all or not scope.region_codes)


def _area_shape(area: AlertArea) -> Any:
    if area.kind == AlertArea.Kind.CIRCLE:
        lon, lat = area.geometry["coordinates"]
        return targeting.circle_polygon(lat, lon, area.radius_km)
    return shapely.geometry.shape(area.geometry)


# A drawn area may cross its region's boundary by this much (degrees, about 200 m):
# boundaries are generalised, a hand-drawn polygon follows them only roughly.
BOUNDARY_TOLERANCE = 0.002


def check_area_scope(user: Any, areas: Sequence[AlertArea]) -> None:
    """District and street staff warn only their own region: every area of a
    message they draft, edit, update, extend or cancel must lie in it (a region
    below theirs, or a drawn area inside its boundary). PermissionDenied naming
    the areas outside; everyone else (and the system, no user) may warn anywhere."""
    if user is None:
        return
    from yingji.core.scope import out_of_scope, scope_for

    scope = scope_for(user).editing()
    if scope.edits_all or not scope.region_codes:
        return
    own = None
    outside = []
    for area in areas:
        if area.kind == AlertArea.Kind.REGION:
            if not scope.covers_region(area.region_id):
                outside.append(area.description or area.region_id)
            continue
        if own is None:
            boundaries = Region.objects.filter(code__in=sorted(scope.region_codes)).values_list(
                "boundary", flat=True
            )
            shapes = [shapely.geometry.shape(b) for b in boundaries if b]
            own = shapely.union_all(shapes) if shapes else shapely.geometry.Polygon()
        if own.is_empty or not own.buffer(BOUNDARY_TOLERANCE).covers(_area_shape(area)):
            outside.append(area.description)
    if outside:
        raise out_of_scope(f"预警区域“{'、'.join(outside)}”")


def approval_refusal(alert: Alert, user: Any) -> str | None:
    """Why `user` may not approve `alert` (four eyes, and a leader for red and orange),
    or None when they may: the one rule for the approve button, the workbench and
    the approval itself."""
    if not can_approve(user):
        return "没有审批预警的权限"
    if user.pk == alert.author_id or user.pk in (alert.hands or []):
        return "四眼原则:起草、修改或提交过该预警的人不能批准它,请由另一位审批人批准"
    if alert.colour in SENIOR_COLOURS and _role(user) not in SENIOR_APPROVER_ROLES:
        return f"{conventions.COLOUR_NAMES[alert.colour]}预警须由局领导批准"
    return None


def may_approve(alert: Alert, user: Any) -> bool:
    return approval_refusal(alert, user) is None


def check_approver(alert: Alert, user: Any) -> None:
    """Four eyes, for pages and API alike: whoever created, edited or submitted the
    message cannot approve it, and a red or orange one needs a leader's approval.
    PermissionDenied with the reason otherwise."""
    refusal = approval_refusal(alert, user)
    if refusal is not None:
        raise PermissionDenied(refusal)


def _add_hand(alert: Alert, user: Any) -> None:
    if user is not None and getattr(user, "pk", None) and user.pk not in (alert.hands or []):
        alert.hands = [*(alert.hands or []), user.pk]


def ensure_groups() -> None:
    """The standard population groups exist (idempotent)."""
    for n, (key, name) in enumerate(DEFAULT_GROUPS):
        SubscriberGroup.objects.get_or_create(key=key, defaults={"name": name, "sort_order": n})


# ----------------------------------------------------------------------- drafts


@dataclass
class AreaSpec:
    """An area as the form or API gives it: a region code, or a GeoJSON polygon
    (WGS-84, or gcj02/bd09 converted), or a circle (lat, lon, radius_km)."""

    region_code: str = ""
    polygon: dict | None = None
    circle: tuple[float, float, float] | None = None
    description: str = ""
    crs: str = "wgs84"


@dataclass
class DraftSpec:
    hazard: str
    colour: str
    description: str
    areas: list[AreaSpec] = field(default_factory=list)
    instruction: str = ""
    headline: str = ""
    groups: list[str] = field(default_factory=list)
    groups_anywhere: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=lambda: list(channelconfig.NAMES))
    cap_status: str = "Actual"
    urgency: str = "Expected"
    certainty: str = "Likely"
    response_type: str = ""
    expires: dt.datetime | None = None
    effective: dt.datetime | None = None
    headline_en: str = ""
    description_en: str = ""
    instruction_en: str = ""
    internal_note: str = ""


def _invalid(field_name: str, message: str) -> ValidationError:
    return ValidationError({field_name: [message]})


def _area_rows(specs: Sequence[AreaSpec]) -> list[AlertArea]:
    rows = []
    for spec in specs:
        if spec.region_code:
            region = Region.objects.filter(code=spec.region_code).defer("boundary").first()
            if region is None:
                raise _invalid("areas", f"区划代码不存在:{spec.region_code}")
            rows.append(
                AlertArea(
                    kind=AlertArea.Kind.REGION,
                    region=region,
                    description=spec.description or region.name,
                )
            )
        elif spec.polygon is not None:
            try:
                shape = shapely.geometry.shape(spec.polygon)
            except Exception:
                raise _invalid("areas", "多边形不是有效的 GeoJSON") from None
            if spec.crs != "wgs84":
                from yingji.core import geo

                shape = geo.geometry_to_wgs84(shape, spec.crs)
            if (
                shape.is_empty
                or shape.geom_type not in ("Polygon", "MultiPolygon")
                or not shape.is_valid
            ):
                raise _invalid("areas", "多边形须为有效的 Polygon 或 MultiPolygon(闭合、不自交)")
            rows.append(
                AlertArea(
                    kind=AlertArea.Kind.POLYGON,
                    geometry=_mapping(shape),
                    description=spec.description or "划定区域",
                )
            )
        elif spec.circle is not None:
            if len(spec.circle) != 3:
                raise _invalid("areas", "圆形区域须为[纬度, 经度, 半径(千米)]三个数")
            lat, lon, radius = spec.circle
            if not (-90 <= lat <= 90 and -180 <= lon <= 180 and radius > 0):
                raise _invalid("areas", "圆形区域须为有效的纬度、经度和正的半径(千米)")
            rows.append(
                AlertArea(
                    kind=AlertArea.Kind.CIRCLE,
                    geometry={"type": "Point", "coordinates": [lon, lat]},
                    radius_km=radius,
                    description=spec.description or f"半径 {radius:g} 千米范围",
                )
            )
    if not rows:
        raise _invalid("areas", "至少需要一个预警区域")
    return rows


def _mapping(shape: Any) -> dict:
    import json

    return json.loads(shapely.to_geojson(shape))


def create_draft(
    user: Any,
    spec: DraftSpec,
    *,
    origin: str = Alert.Origin.LOCAL,
    references: Alert | None = None,
    msg_type: str = "Alert",
    incoming: IncomingCap | None = None,
) -> Alert:
    """A new draft alert; event, severity and headline follow the conventions."""
    if user is not None and not can_draft(user):
        raise PermissionDenied("没有起草预警的权限")
    try:
        conventions.check_signal(spec.hazard, spec.colour)
    except ValueError as exc:
        raise _invalid("colour", str(exc)) from None
    unknown = set(spec.channels) - set(channelconfig.NAMES)
    if unknown:
        raise _invalid("channels", f"未知渠道:{'、'.join(sorted(unknown))}")
    areas = _area_rows(spec.areas)
    check_area_scope(user, areas)
    bureau = settings.YINGJI_BUREAU_NAME
    expires = spec.expires or _default_expiry(spec.hazard, spec.colour, spec.effective)
    with transaction.atomic():
        alert = Alert.objects.create(
            identifier=f"DRAFT-{uuid.uuid4().hex}",
            sender=config.sender(),
            msg_type=msg_type,
            cap_status=spec.cap_status,
            origin=origin,
            references=references,
            incoming=incoming,
            hazard=spec.hazard,
            colour=spec.colour,
            category=conventions.hazard_category(spec.hazard),
            event=conventions.event_title(spec.hazard, spec.colour)
            if spec.colour
            else conventions.hazard_name(spec.hazard),
            urgency=spec.urgency,
            severity=conventions.severity(spec.colour),
            certainty=spec.certainty,
            response_type=spec.response_type,
            headline=spec.headline
            or conventions.headline(bureau, spec.hazard, spec.colour, _area_title(areas)),
            description=spec.description,
            instruction=spec.instruction,
            headline_en=spec.headline_en,
            description_en=spec.description_en,
            instruction_en=spec.instruction_en,
            effective=spec.effective,
            expires=expires,
            channels=list(spec.channels),
            author=user if user and user.is_authenticated else None,
            internal_note=spec.internal_note,
            hands=[user.pk] if user is not None and user.is_authenticated else [],
        )
        for area in areas:
            area.alert = alert
            area.save()
        alert.groups.set(_groups(spec.groups))
        alert.groups_anywhere.set(_groups(spec.groups_anywhere))
    return alert


def _default_expiry(hazard: str, colour: str, effective: dt.datetime | None) -> dt.datetime:
    hours = conventions.default_expiry_hours(hazard, colour)
    return (effective or timezone.now()) + dt.timedelta(hours=hours)


def _area_title(areas: Sequence[AlertArea]) -> str:
    """The areas as the headline names them: a street with its district
    ('天河区石牌街道'), a region by name, a drawn area by its description."""
    names = []
    for area in areas:
        region = area.region
        if region is not None:
            parent = region.parent if region.level == "street" and region.parent_id else None
            names.append(f"{parent.name}{region.name}" if parent else region.name)
        else:
            names.append(area.description)
    return conventions.area_title(names)


def edit_draft(alert: Alert, user: Any, spec: DraftSpec) -> Alert:
    """Change a draft (a person's or the system's): text, level, areas, groups,
    channels, expiry. The editor joins the message's hands (four eyes)."""
    if not can_draft(user):
        raise PermissionDenied("没有修改预警的权限")
    try:
        conventions.check_signal(spec.hazard, spec.colour)
    except ValueError as exc:
        raise _invalid("colour", str(exc)) from None
    unknown = set(spec.channels) - set(channelconfig.NAMES)
    if unknown:
        raise _invalid("channels", f"未知渠道:{'、'.join(sorted(unknown))}")
    areas = _area_rows(spec.areas) if spec.areas else None
    with transaction.atomic(), audit.acting_as(user):
        alert = _locked(alert)
        check_area_scope(user, list(alert.areas.all()) + (areas or []))
        if alert.state not in wf.EDITABLE:
            raise _invalid(
                "state",
                f"预警当前为“{wf.STATE_LABELS.get(alert.state, alert.state)}”,只有草稿可以修改",
            )
        alert.hazard, alert.colour = spec.hazard, spec.colour
        alert.category = conventions.hazard_category(spec.hazard)
        alert.event = (
            conventions.event_title(spec.hazard, spec.colour)
            if spec.colour
            else conventions.hazard_name(spec.hazard)
        )
        alert.severity = conventions.severity(spec.colour)
        alert.description, alert.instruction = spec.description, spec.instruction
        alert.internal_note = spec.internal_note
        alert.urgency, alert.certainty = spec.urgency, spec.certainty
        alert.response_type, alert.cap_status = spec.response_type, spec.cap_status
        alert.headline_en, alert.description_en = spec.headline_en, spec.description_en
        alert.instruction_en, alert.channels = spec.instruction_en, list(spec.channels)
        alert.effective = spec.effective
        alert.expires = (
            spec.expires
            or alert.expires
            or _default_expiry(spec.hazard, spec.colour, spec.effective)
        )
        if areas is not None:
            alert.areas.all().delete()
            for area in areas:
                area.alert = alert
                area.save()
        current = list(alert.areas.select_related("region__parent"))
        alert.headline = spec.headline or conventions.headline(
            settings.YINGJI_BUREAU_NAME, spec.hazard, spec.colour, _area_title(current)
        )
        _add_hand(alert, user)
        alert.save()
        alert.groups.set(_groups(spec.groups))
        alert.groups_anywhere.set(_groups(spec.groups_anywhere))
    return alert


def _groups(keys: Iterable[str]) -> list[SubscriberGroup]:
    keys = list(keys)
    found = list(SubscriberGroup.objects.filter(key__in=keys))
    missing = set(keys) - {g.key for g in found}
    if missing:
        raise _invalid("groups", f"人群分组不存在:{'、'.join(sorted(missing))}")
    return found


# --------------------------------------------------------------------- workflow


def _move(alert: Alert, action: str) -> None:
    try:
        alert.state = wf.next_state(alert.state, action)
    except wf.TransitionError as exc:
        raise _invalid("state", str(exc)) from None


def _locked(alert: Alert) -> Alert:
    return Alert.objects.select_for_update().get(pk=alert.pk)


def submit(alert: Alert, user: Any) -> Alert:
    """Draft → review, with the population estimate computed now (shown to the
    approver); the approvers are told through the outbox."""
    with transaction.atomic(), audit.acting_as(user):
        alert = _locked(alert)
        if alert.author_id and user.pk != alert.author_id and not can_approve(user):
            raise PermissionDenied("只有起草人可以提交")
        if alert.expires is None or alert.expires <= timezone.now():
            raise _invalid("expires", "请设定预警的失效时间(须晚于现在)")
        if alert.author_id is None:  # a system draft is owned by whoever first submits it
            alert.author = user
        _add_hand(alert, user)
        _move(alert, "submit")
        alert.population_estimate = population_estimate(alert)
        alert.submitted_at = timezone.now()
        alert.save()
        _tell_approvers(alert)
    return alert


def _tell_approvers(alert: Alert) -> None:
    users = (
        get_user_model()
        .objects.filter(profile__role__in=APPROVER_ROLES, is_active=True)
        .exclude(pk=alert.author_id)
    )
    outbox.notify_users(
        users,
        subject=f"预警待审核:{alert.headline}",
        body=f"{alert.headline}\n预计覆盖 {alert.population_estimate} 人。\n"
        f"请审核:{config.get('PUBLIC_URL')}"
        f"{reverse('alerts:detail', args=[alert.pk])}",
        dedupe_key=f"alerts:review:{alert.pk}:{int(alert.submitted_at.timestamp())}",
        source=alert,
    )


def reject(alert: Alert, user: Any, note: str) -> Alert:
    """Review → draft with the approver's note."""
    if not can_approve(user):
        raise PermissionDenied("没有审核预警的权限")
    with transaction.atomic(), audit.acting_as(user):
        alert = _locked(alert)
        _move(alert, "reject")
        alert.review_note = note[:500]
        alert.save()
    return alert


def withdraw(alert: Alert, user: Any) -> Alert:
    with transaction.atomic(), audit.acting_as(user):
        alert = _locked(alert)
        if user.pk != alert.author_id and not can_approve(user):
            raise PermissionDenied("只有起草人或审批人可以撤回")
        _move(alert, "withdraw")
        alert.save()
    return alert


def approve(alert: Alert, user: Any, *, now: dt.datetime | None = None) -> Alert:
    """Review → approved → published in one step, by someone other than the author:
    the alert becomes CAP XML, the public page and the feed entry, and its
    deliveries are queued."""
    if not can_approve(user):
        raise PermissionDenied("没有审批预警的权限")
    with transaction.atomic(), audit.acting_as(user):
        alert = _locked(alert)
        check_approver(alert, user)
        # Compare-and-set: of two approvals at once only one moves the message on
        # (SQLite has no row locks; the guarded UPDATE is the lock on every engine).
        _move(alert, "approve")  # the state allows it (else the transition's message)
        if not Alert.objects.filter(pk=alert.pk, state=wf.REVIEW).update(state=wf.APPROVED):
            raise _invalid("state", "该预警已由他人处理,请刷新后查看")
        alert.approver = user
        alert.approved_at = now or timezone.now()
        alert.save()
        _publish(alert, now or timezone.now())
    return alert


def _publish(alert: Alert, now: dt.datetime) -> None:
    _move(alert, "publish")
    alert.sent = now.replace(microsecond=0)
    alert.identifier = _national_identifier(alert.sent)
    message = to_cap(alert)
    xml = cap.to_xml(message)
    problems = capvalidate.validate(xml, references_exist=_reference_exists)
    if problems:
        raise ValidationError({"cap": [str(p) for p in problems]})
    alert.cap_xml = xml.decode("utf-8")
    alert.save()
    if alert.references_id:
        previous = _locked(alert.references)
        _move(previous, "cancel" if alert.msg_type == "Cancel" else "supersede")
        previous.save()
    # The first FIRST_CHUNK recipients are queued with the publication, so the first
    # messages leave within a second or two of approval whatever the population; the
    # rest are queued by a background job that starts after the commit (idempotent:
    # the sweep re-runs it for any release left unfinished).
    ids = recipients(alert)
    held = outbox.is_held()
    first = ids if held else ids[:FIRST_CHUNK]
    count = queue_deliveries(alert, first)
    rest = len(first) < len(ids)
    if rest:
        Alert.objects.filter(pk=alert.pk).update(recipients_queued=False)
        alert.recipients_queued = False
    alert_id = alert.pk
    transaction.on_commit(lambda: _released(alert_id, count, rest))


def _cap_time(at: dt.datetime) -> str:
    return cap.format_time(timezone.localtime(at))


def reference_chain(alert: Alert) -> list[tuple[str, str, str]]:
    """(sender, identifier, sent) of every earlier message of the alert's chain,
    oldest first (CAP <references>); empty for a first Alert."""
    refs = []
    node = alert.references if alert.references_id else None
    while node is not None:
        refs.append((node.sender, node.identifier, _cap_time(node.sent)))
        node = node.references
    return list(reversed(refs))


FIRST_CHUNK = 5000


def queue_remaining(alert_id: int) -> int:
    """Queue the recipients of a release beyond its first chunk, then hand them to the
    sender. Safe to run twice or after a crash: queueing adds nothing already there."""
    alert = Alert.objects.get(pk=alert_id)
    if alert.recipients_queued:
        return 0
    if alert.state != wf.PUBLISHED:  # cancelled or superseded meanwhile: nobody more
        Alert.objects.filter(pk=alert.pk).update(recipients_queued=True)
        return 0
    count = queue_deliveries(alert, recipients(alert))
    Alert.objects.filter(pk=alert.pk).update(recipients_queued=True)
    if count:
        outbox.schedule_source(alert)
    return count


def finish_unqueued(older_than: dt.timedelta = dt.timedelta(minutes=2)) -> int:
    """The sweep: releases whose background queueing never finished (a worker died)."""
    cutoff = timezone.now() - older_than
    ids = list(
        Alert.objects.filter(recipients_queued=False, sent__lt=cutoff).values_list("pk", flat=True)
    )
    return sum(queue_remaining(pk) for pk in ids)


def _released(alert_id: int, count: int, rest: bool = False) -> None:
    alert = Alert.objects.get(pk=alert_id)
    codes = [code for code in alert.areas.exclude(region=None).values_list("region_id", flat=True)]
    alert_published.send(
        sender=Alert,
        alert_id=alert.pk,
        identifier=alert.identifier,
        status=alert.cap_status,
        msg_type=alert.msg_type,
        event=alert.event,
        level=alert.colour if alert.colour in conventions.LEVELS else None,
        severity=alert.severity,
        area_codes=codes,
        exercise=alert.cap_status != "Actual",
        at=alert.sent,
        references=[",".join(r) for r in reference_chain(alert)],
        monitoring_event=alert.monitoring_event,
    )
    if count and not outbox.is_held():
        outbox.schedule_source(alert)
    if rest:
        from yingji.alerts.tasks import queue_remaining_recipients

        queue_remaining_recipients(alert.pk)


_id_lock = threading.Lock()


def _national_identifier(sent: dt.datetime) -> str:
    local = timezone.localtime(sent)
    with _id_lock:
        for serial in range(0, 1000):
            ident = conventions.identifier(
                settings.YINGJI_CITY_CODE, config.get("ORG_CODE"), local, serial
            )
            if not Alert.objects.filter(identifier=ident).exists():
                return ident
    raise RuntimeError("同一秒内发布的预警过多")


def _reference_exists(sender: str, identifier: str) -> bool:
    return (
        Alert.objects.filter(sender=sender, identifier=identifier).exists()
        or IncomingCap.objects.filter(sender=sender, identifier=identifier).exists()
    )


def _successor(alert: Alert, user: Any, msg_type: str, **changes: Any) -> Alert:
    if user is not None and not can_draft(user):
        raise PermissionDenied("没有起草预警的权限")
    check_area_scope(user, list(alert.areas.all()))
    if alert.state != wf.PUBLISHED:
        raise _invalid(
            "state",
            f"只有已发布的预警可以{'解除' if msg_type == 'Cancel' else '更新'},"
            f"当前为“{alert.get_state_display()}”",
        )
    if alert.successors.filter(state__in=[wf.DRAFT, wf.REVIEW]).exists():
        raise _invalid("state", "该预警已有待审核的更新或解除")
    spec = DraftSpec(
        hazard=alert.hazard,
        colour=alert.colour,
        description=alert.description,
        instruction=alert.instruction,
        headline=alert.headline,
        areas=[_area_spec(a) for a in alert.areas.all()],
        groups=[g.key for g in alert.groups.all()],
        groups_anywhere=[g.key for g in alert.groups_anywhere.all()],
        channels=list(alert.channels),
        cap_status=alert.cap_status,
        urgency=alert.urgency,
        certainty=alert.certainty,
        response_type=alert.response_type,
        expires=alert.expires,
        effective=alert.effective,
        headline_en=alert.headline_en,
        description_en=alert.description_en,
        instruction_en=alert.instruction_en,
    )
    for key, value in changes.items():
        if value is not None:
            setattr(spec, key, value)
    if "colour" in changes and changes["colour"] and "headline" not in changes:
        spec.headline = conventions.headline(
            settings.YINGJI_BUREAU_NAME,
            spec.hazard,
            spec.colour,
            _area_title(list(alert.areas.select_related("region__parent"))),
        )
    successor = create_draft(user, spec, origin=alert.origin, references=alert, msg_type=msg_type)
    return submit(successor, user)


def _area_spec(area: AlertArea) -> AreaSpec:
    if area.kind == AlertArea.Kind.REGION:
        return AreaSpec(region_code=area.region_id, description=area.description)
    if area.kind == AlertArea.Kind.CIRCLE:
        lon, lat = area.geometry["coordinates"]
        return AreaSpec(circle=(lat, lon, area.radius_km), description=area.description)
    return AreaSpec(polygon=area.geometry, description=area.description)


def update(alert: Alert, user: Any, **changes: Any) -> Alert:
    """One action: an Update of a published alert (new level, text, areas …),
    submitted for review. When approved it replaces the alert."""
    return _successor(alert, user, "Update", **changes)


def extend(alert: Alert, user: Any, until: dt.datetime) -> Alert:
    """One action: an Update that only moves the expiry, submitted for review."""
    if alert.expires and until <= alert.expires:
        raise _invalid("expires", "延长后的失效时间须晚于当前失效时间")
    return _successor(alert, user, "Update", expires=until)


def cancel(alert: Alert, user: Any, note: str = "") -> Alert:
    """One action: a Cancel (解除) of a published alert, submitted for review."""
    bureau = settings.YINGJI_BUREAU_NAME
    return _successor(
        alert,
        user,
        "Cancel",
        headline=f"{bureau}解除{alert.event}",
        description=note or f"{alert.event}已解除。",
        instruction="",
        response_type="AllClear",
    )


def expire_due(now: dt.datetime | None = None) -> int:
    """Published alerts past their expiry become expired (periodic job)."""
    now = now or timezone.now()
    done = 0
    for alert in Alert.objects.filter(state=wf.PUBLISHED, expires__lte=now):
        with transaction.atomic(), audit.acting_as(None, "系统(到期)"):
            alert = _locked(alert)
            if alert.state == wf.PUBLISHED:
                _move(alert, "expire")
                alert.save()
                done += 1
    return done


def chain(alert: Alert) -> list[Alert]:
    """The alert's whole Update/Cancel chain, oldest first."""
    first = alert
    while first.references_id:
        first = first.references
    items, current = [first], first
    while True:
        nxt = current.successors.exclude(state=wf.WITHDRAWN).order_by("created_at").first()
        if nxt is None:
            return items
        items.append(nxt)
        current = nxt


# ------------------------------------------------------------------------- CAP


def to_cap(alert: Alert) -> cap.Alert:
    """The alert as a CAP message: a zh-CN info block, and an en-US one when an
    English headline is given; regions carry their CPEAS geocode and a simplified
    boundary (≤ 100 points per polygon), drawn shapes the simplified shape."""
    areas_zh, areas_en = [], []
    for area in alert.areas.select_related("region"):
        polygons, circles, geocodes = [], [], []
        if area.kind == AlertArea.Kind.REGION:
            geocodes.append(("CPEAS Geographic Code", area.region_id.ljust(12, "0")))
            if area.region.boundary:
                shape = shapely.geometry.shape(area.region.boundary)
                polygons = [cap.format_polygon(r) for r in targeting.simplify_for_cap(shape)]
        elif area.kind == AlertArea.Kind.CIRCLE:
            lon, lat = area.geometry["coordinates"]
            circles.append(f"{lat:.6f},{lon:.6f} {area.radius_km:g}")
        else:
            shape = shapely.geometry.shape(area.geometry)
            polygons = [cap.format_polygon(r) for r in targeting.simplify_for_cap(shape)]
        areas_zh.append(cap.Area(area.description, polygons, circles, geocodes))
        areas_en.append(
            cap.Area(
                area.region.name if area.region else area.description, polygons, circles, geocodes
            )
        )
    fmt = cap.format_time
    common = {
        "categories": [alert.category],
        "urgency": alert.urgency,
        "severity": alert.severity,
        "certainty": alert.certainty,
        "response_types": [alert.response_type] if alert.response_type else [],
        "effective": fmt(timezone.localtime(alert.effective)) if alert.effective else "",
        "expires": fmt(timezone.localtime(alert.expires)) if alert.expires else "",
        "event_codes": [("GD-SIGNAL", f"{alert.hazard}-{alert.colour}")] if alert.colour else [],
        "parameters": [("level", alert.colour)] if alert.colour else [],
        "web": f"{config.get('PUBLIC_URL')}{reverse('alerts:public_detail', args=[alert.pk])}",
    }
    audience = "、".join(g.name for g in alert.groups.all())
    infos = [
        cap.Info(
            language="zh-CN",
            event=alert.event,
            sender_name=settings.YINGJI_BUREAU_NAME,
            headline=alert.headline,
            description=alert.description,
            instruction=alert.instruction,
            audience=audience,
            areas=areas_zh,
            **common,
        )
    ]
    if alert.headline_en:
        infos.append(
            cap.Info(
                language="en-US",
                event=alert.event,
                sender_name="Emergency Management Bureau",
                headline=alert.headline_en,
                description=alert.description_en or alert.headline_en,
                instruction=alert.instruction_en,
                areas=areas_en,
                **common,
            )
        )
    refs = reference_chain(alert)
    references = cap.format_references(refs) if refs else ""
    return cap.Alert(
        identifier=alert.identifier,
        sender=alert.sender,
        sent=fmt(timezone.localtime(alert.sent)),
        status=alert.cap_status,
        msg_type=alert.msg_type,
        scope="Public",
        references=references,
        note="演练,非真实预警" if alert.cap_status == "Exercise" else "",
        codes=["GB/T 35965.1-2018"],
        infos=infos,
    )


# ------------------------------------------------------------------ targeting


# The index is kept per process and refreshed incrementally: rows whose updated_at
# is after the newest seen by the last refresh (and new ids, and subscribers that got a
# group membership) are read again and patched in. Anything the delta cannot see —
# deleted subscribers or memberships, a change of the groups themselves, or more than
# FULL_REBUILD_SHARE of the rows — falls back to reading everything.
FULL_REBUILD_SHARE = 0.2
_FETCH_ROWS = 50_000
_index_lock = threading.Lock()
_index_state: dict[str, Any] = {}


class _Fingerprint(NamedTuple):
    count: int
    updated: dt.datetime | None
    max_id: int | None
    groups: tuple[int, int | None]
    links: int
    max_link: int | None


def _fingerprint() -> _Fingerprint:
    agg = Subscriber.objects.aggregate(n=Count("id"), m=Max("updated_at"), mx=Max("id"))
    grp = SubscriberGroup.objects.aggregate(n=Count("id"), mx=Max("id"))
    links = Subscriber.groups.through.objects.aggregate(n=Count("id"), mx=Max("id"))
    return _Fingerprint(
        agg["n"], agg["m"], agg["mx"], (grp["n"], grp["mx"]), links["n"], links["mx"]
    )


def group_bits() -> dict[int, int]:
    """Group id → bit position in the index (at most 64 groups)."""
    ids = sorted(SubscriberGroup.objects.values_list("id", flat=True))
    if len(ids) > 64:
        raise ValueError("人群分组最多 64 个")
    return {gid: bit for bit, gid in enumerate(ids)}


def located_codes(
    lons: Sequence[float] | np.ndarray, lats: Sequence[float] | np.ndarray
) -> list[str]:
    """The region each WGS-84 point lies in, as stored in Subscriber.located_region:
    the street's code, else the district's, else "" (one vectorised lookup)."""
    if len(lons) == 0:
        return []
    found = regions.lookup_codes_many(
        np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)
    )
    return [s or d or "" for s, d in zip(found["street"], found["district"], strict=True)]


def locate_on_save(
    sender: type, instance: Subscriber, update_fields: Any = None, **kwargs: Any
) -> None:
    """pre_save: keep located_region in step with the location on every ORM save
    (admin, import, tests); bulk writers (update_locations, the demo) set it themselves."""
    if update_fields is not None and not {"last_lon", "last_lat"} & set(update_fields):
        return
    if instance.last_lon is None or instance.last_lat is None:
        instance.located_region = None
    else:
        instance.located_region = located_codes([instance.last_lon], [instance.last_lat])[0]


def _code_ints(codes: Sequence[str]) -> np.ndarray:
    """Region codes → 12-digit integers, converting each distinct code once."""
    unique, inverse = np.unique(np.asarray(codes, dtype=str), return_inverse=True)
    return np.array([targeting.code_int(c) for c in unique], dtype=np.int64)[inverse]


def _sql_code(column: str) -> str:
    """SQL (SQLite and PostgreSQL): a region code column as its 12-digit integer."""
    return f"CAST(SUBSTR({column} || '000000000000', 1, 12) AS BIGINT)"


def _read_subscribers(
    where: str,
    params: list,
    limit: int | None = None,
) -> dict[str, np.ndarray] | None:
    """Index columns of the subscribers matching `where` (SQL over alias s), read
    through one cursor in chunks straight into numpy; group masks from one more
    query. None when more than `limit` rows match."""
    from django.db import connection

    table, through = Subscriber._meta.db_table, Subscriber.groups.through._meta.db_table
    home = _sql_code("COALESCE(s.home_region_id, '')")
    sql = (
        f"SELECT s.id, s.last_lon, s.last_lat, "
        f"CASE WHEN s.located_region IS NULL THEN -1 ELSE {_sql_code('s.located_region')} END, "
        f"{home}, s.opted_out "
        f"FROM {table} s {('WHERE ' + where) if where else ''}"
    )
    parts, total = [], 0
    with connection.cursor() as cursor:
        if not where and connection.vendor == "postgresql":  # everyone: binary COPY
            record = _copy_binary(
                cursor,
                sql.replace(
                    "s.last_lon, s.last_lat",
                    "COALESCE(s.last_lon, 'NaN'), COALESCE(s.last_lat, 'NaN')",
                ).replace("s.opted_out", "s.opted_out::int::int8"),
                "iffiii",
            )
            data = np.column_stack([record[f"v{i}"].astype(np.float64) for i in range(6)])
            link_record = _copy_binary(
                cursor, f"SELECT subscriber_id::int8, subscribergroup_id::int8 FROM {through}", "ii"
            )
            links = np.column_stack([link_record["v0"], link_record["v1"]]).astype(np.int64)
            return _columns(data, links)
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(_FETCH_ROWS):
            total += len(chunk)
            if limit is not None and total > limit:
                return None
            parts.append(np.array(chunk, dtype=np.float64))  # NULL → NaN
        data = np.concatenate(parts) if parts else np.empty((0, 6))
        ids = data[:, 0].astype(np.int64)
        if not where:
            cursor.execute(f"SELECT subscriber_id, subscribergroup_id FROM {through}")
        elif connection.vendor == "postgresql":  # the rows just read: index lookups
            cursor.execute(
                f"SELECT subscriber_id, subscribergroup_id FROM {through} "
                f"WHERE subscriber_id = ANY(%s)",
                [ids.tolist()],
            )
        else:
            cursor.execute(
                f"SELECT subscriber_id, subscribergroup_id FROM {through} WHERE "
                f"subscriber_id IN (SELECT s.id FROM {table} s WHERE {where})",
                params,
            )
        links = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, 2)
    return _columns(data, links)


def _copy_binary(cursor: Any, select: str, kinds: str) -> np.ndarray:
    """PostgreSQL: the rows of a SELECT whose columns are all non-NULL 8-byte values
    (kinds: "i" int8, "f" float8) through COPY … (FORMAT BINARY). Such records have a
    fixed width, so numpy reads them as big-endian fields v0, v1 … without a Python
    object per value."""
    fields = [("n", ">i2")]
    for i, kind in enumerate(kinds):
        fields += [(f"len{i}", ">i4"), (f"v{i}", ">i8" if kind == "i" else ">f8")]
    dtype = np.dtype(fields)
    pending, parts, header = bytearray(), [], True
    with cursor.cursor.copy(f"COPY ({select}) TO STDOUT (FORMAT BINARY)") as copy:
        for block in copy:
            pending += block
            if header and len(pending) >= 19:
                if bytes(pending[:11]) != b"PGCOPY\n\xff\r\n\x00":
                    raise RuntimeError("unexpected COPY BINARY header")
                del pending[: 19 + int.from_bytes(pending[15:19], "big")]
                header = False
            whole = len(pending) // dtype.itemsize * dtype.itemsize
            if not header and whole >= (1 << 22):
                parts.append(np.frombuffer(bytes(pending[:whole]), dtype=dtype))
                del pending[:whole]
    if header or len(pending) % dtype.itemsize != 2:  # what is left: rows and the trailer
        raise RuntimeError("unexpected COPY BINARY layout")
    parts.append(np.frombuffer(bytes(pending[:-2]), dtype=dtype))
    record = np.concatenate(parts)
    if len(record) and not (
        (record["n"] == len(kinds)).all()
        and all((record[f"len{i}"] == 8).all() for i in range(len(kinds)))
    ):
        raise RuntimeError("unexpected COPY BINARY record")
    return record


def _columns(data: np.ndarray, links: np.ndarray) -> dict[str, np.ndarray]:
    """Index columns from the (n, 6) subscriber rows and the (subscriber, group) rows."""
    ids = data[:, 0].astype(np.int64)
    lons, lats = data[:, 1], data[:, 2]
    located = data[:, 3].astype(np.int64)
    missing = np.flatnonzero((located < 0) & np.isfinite(lons) & np.isfinite(lats))
    if missing.size:  # rows written before located_region existed, or by bulk SQL
        located[missing] = _code_ints(located_codes(lons[missing], lats[missing]))
    located[located < 0] = 0
    groups = np.zeros(len(ids), dtype=np.uint64)
    if len(links):
        by_id = np.argsort(ids)
        at = np.searchsorted(ids, links[:, 0], sorter=by_id)
        at = np.minimum(at, len(ids) - 1)
        bits = group_bits()
        table_bits = np.zeros(max(bits) + 1 if bits else 1, dtype=np.uint64)
        for gid, bit in bits.items():
            table_bits[gid] = np.uint64(1) << np.uint64(bit)
        # Skip memberships of rows or groups that changed while reading (the next
        # fingerprint differs and reads them again).
        ok = (ids[by_id[at]] == links[:, 0]) & (links[:, 1] < len(table_bits))
        np.bitwise_or.at(groups, by_id[at[ok]], table_bits[links[ok, 1]])
    return {
        "ids": ids,
        "lons": lons,
        "lats": lats,
        "located": located,
        "home": data[:, 4].astype(np.int64),
        "groups": groups,
        "opted_out": data[:, 5] != 0,
    }


def _full_index() -> targeting.SubscriberIndex:
    cols = _read_subscribers("", [])
    assert cols is not None
    return targeting.SubscriberIndex.build(
        cols["ids"],
        cols["lons"],
        cols["lats"],
        cols["located"],
        cols["home"],
        cols["groups"],
        cols["opted_out"],
    )


def _patched_index(
    index: targeting.SubscriberIndex, old: _Fingerprint, new: _Fingerprint
) -> targeting.SubscriberIndex | None:
    """The index patched with what changed since `old`, or None when only a full
    read can be trusted."""
    from django.db import connection

    if old.updated is None or old.groups != new.groups or new.count == 0:
        return None
    through = Subscriber.groups.through
    max_link = old.max_link or 0
    added_links = through.objects.filter(id__gt=max_link).count()
    if new.links != old.links + added_links:  # memberships were removed
        return None
    table = Subscriber._meta.db_table  # a union of three index scans, not an OR over a seq scan
    where = (
        f"s.id IN (SELECT id FROM {table} WHERE updated_at > %s UNION SELECT id FROM "
        f"{table} WHERE id > %s UNION SELECT subscriber_id FROM {through._meta.db_table} "
        f"WHERE id > %s)"
    )
    params = [connection.ops.adapt_datetimefield_value(old.updated), old.max_id or 0, max_link]
    cols = _read_subscribers(where, params, limit=int(FULL_REBUILD_SHARE * len(index)))
    if cols is None:
        return None
    patched = index.upsert(
        cols["ids"],
        cols["lons"],
        cols["lats"],
        cols["located"],
        cols["home"],
        cols["groups"],
        cols["opted_out"],
    )
    # Rows only ever get added by the delta; a shortfall means some were deleted
    # (an excess: rows inserted while reading; both are settled by a full read).
    return patched if len(patched) == new.count else None


def subscriber_index(*, full: bool = False) -> targeting.SubscriberIndex:
    """The index of every subscriber, kept per process: unchanged → as it is;
    changed → patched with the changed rows, or read again in full (see above).
    `full=True` forces a full read."""
    with _index_lock:
        fingerprint = _fingerprint()
        state = _index_state.get("current")
        if not full and state is not None and state[0] == fingerprint:
            _index_state["last"] = "cached"
            return state[1]
        index = None
        if not full and state is not None:
            index = _patched_index(state[1], state[0], fingerprint)
        _index_state["last"] = "patched" if index is not None else "full"
        if index is None:
            index = _full_index()
        _index_state["current"] = (fingerprint, index)
        return index


def last_index_refresh() -> str | None:
    """How the last subscriber_index() call got its index: cached, patched or full."""
    return _index_state.get("last")


def rules_for(alert: Alert) -> list[targeting.Rule]:
    """The alert's targeting rules: its areas narrowed by its groups (if any),
    united with the groups to reach wherever they are."""
    bits = group_bits()
    shapes, codes = [], []
    for area in alert.areas.all():
        if area.kind == AlertArea.Kind.REGION:
            codes.append(area.region_id)
        elif area.kind == AlertArea.Kind.CIRCLE:
            lon, lat = area.geometry["coordinates"]
            shapes.append(targeting.circle_polygon(lat, lon, area.radius_km))
        else:
            shapes.append(shapely.geometry.shape(area.geometry))
    rules = [
        targeting.Rule(
            region_codes=tuple(codes),
            shapes=tuple(shapes),
            group_bits=tuple(bits[g] for g in alert.groups.values_list("id", flat=True)),
        )
    ]
    anywhere = tuple(bits[g] for g in alert.groups_anywhere.values_list("id", flat=True))
    if anywhere:
        rules.append(targeting.Rule(group_bits=anywhere))
    return rules


def recipients(alert: Alert) -> np.ndarray:
    """Subscriber ids the alert reaches (union of rules, minus opt-outs)."""
    return subscriber_index().resolve(rules_for(alert))


def population_estimate(alert: Alert) -> int:
    return subscriber_index().count(rules_for(alert))


_ADDRESS_COLUMN = {"sms": "phone", "email": "email", "webhook": "webhook_url"}


def _accepts_sql(vendor: str, channel: str) -> str:
    """SQL: the subscriber accepts the channel (an empty list means every channel)."""
    if vendor == "postgresql":
        return f"(s.channels = '[]'::jsonb OR s.channels ? '{channel}')"
    return f"(s.channels = '[]' OR s.channels LIKE '%\"{channel}\"%')"


def queue_deliveries(alert: Alert, ids: np.ndarray | None = None, chunk: int = 5000) -> int:
    """One row of the delivery ledger per recipient per channel (the alert's channels
    the person accepts and has an address for), source = the alert, person = the
    subscriber, text left blank (alerts/messages.py renders it at send time).
    Set-based, in the database: one INSERT … SELECT per chunk and channel, ON
    CONFLICT DO NOTHING against the ledger's unique (source, person, channel), so
    queueing again adds nothing. Returns the number of rows inserted by this call."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from yingji.core.models import Notification

    ids = recipients(alert) if ids is None else ids
    wanted = [c for c in alert.channels if c in _ADDRESS_COLUMN]
    table, subscribers = Notification._meta.db_table, Subscriber._meta.db_table
    alert_type = ContentType.objects.get_for_model(Alert).pk
    person_type = ContentType.objects.get_for_model(Subscriber).pk
    now = timezone.now()
    created = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(ids), chunk):
            part = [int(i) for i in ids[start : start + chunk]]
            if connection.vendor == "postgresql":  # one array parameter plans far faster
                where, params = "s.id = ANY(%s)", [part]
            else:
                where, params = f"s.id IN ({','.join(['%s'] * len(part))})", part
            for channel in wanted:
                column = _ADDRESS_COLUMN[channel]  # from a fixed table: safe in SQL
                cursor.execute(
                    f"INSERT INTO {table} (source_type_id, source_id, person_type_id, person_id, "
                    f"channel, address, subject, body, status, attempts, last_error, "
                    f"provider_id, receipt, via, created_at) "
                    f"SELECT %s, %s, %s, s.id, %s, s.{column}, '', '', 'queued', 0, '', '', '', "
                    f"'', %s FROM {subscribers} s WHERE {where} AND s.{column} <> '' "
                    f"AND {_accepts_sql(connection.vendor, channel)} "
                    f"ON CONFLICT (source_type_id, source_id, person_type_id, person_id, channel) "
                    f"DO NOTHING",
                    [alert_type, alert.pk, person_type, channel, now, *params],
                )
                created += max(cursor.rowcount, 0)
    return created


def delivery_deadline(alert: Alert) -> dt.datetime | None:
    """When a warning must have reached its people: its expiry, and never later than
    ALERTS_DELIVERY_MINUTES after release (a warning an hour late is no warning)."""
    if alert.sent is None:
        return None
    limit = alert.sent + dt.timedelta(minutes=int(config.get("DELIVERY_MINUTES")))
    return min(limit, alert.expires) if alert.expires else limit


def warning_rows(alert: Alert):
    """The warning's own messages to its recipients (the alert's other ledger rows
    are staff notices about it, e.g. "awaiting review")."""
    return alert.deliveries.exclude(person_id=None)


def progress(alert: Alert) -> dict[str, Any]:
    """Delivered / failed / waiting per channel with the reasons grouped, for the
    live progress view (the delivery ledger's summary of this alert's rows)."""
    return outbox.summary(warning_rows(alert), deadline=delivery_deadline(alert))


def retry_deliveries(alert: Alert, user: Any) -> int:
    """ "Retry now" on the alert page: its failed and waiting rows go out again."""
    if not can_approve(user):
        raise PermissionDenied("没有重发预警的权限")
    with transaction.atomic(), audit.acting_as(user):
        changed = outbox.retry_now(warning_rows(alert))
        if changed:  # the ledger is not audited row by row: the decision is, on the alert
            audit.record(
                alert, "update", None, {"deliveries_retried": changed}, ["deliveries_retried"]
            )
            transaction.on_commit(lambda: outbox.schedule_source(alert))
    return changed
