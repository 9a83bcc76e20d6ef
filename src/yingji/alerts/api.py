"""Alerts API (/api/v1/alerts/): draft, review, approve, update/extend/cancel,
CAP XML, delivery progress, population estimate, subscriber import, and the push
endpoint for incoming CAP (authenticated by the feed's token, not a session)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from pydantic import Field

from yingji.alerts import cap, conventions, incoming, services, subscribers
from yingji.alerts.models import Alert, IncomingCap, IncomingFeed
from yingji.core import channelconfig, inputlimits
from yingji.core.apiparams import CRS, one_of

router = Router(tags=["alerts"])


class AreaIn(Schema):
    region_code: str = ""
    polygon: dict | None = None
    circle: list[float] | None = Field(
        None, min_length=3, max_length=3, description="[纬度, 经度, 半径(千米)]"
    )
    description: str = ""
    crs: str = one_of(CRS, "wgs84")


class DraftIn(Schema):
    hazard: str = one_of([*conventions.SIGNAL_TYPES, *conventions.OTHER_HAZARDS])
    colour: str = one_of(["", *conventions.COLOUR_NAMES])
    description: str
    areas: list[AreaIn]
    instruction: str = ""
    headline: str = ""
    groups: list[str] = []
    groups_anywhere: list[str] = []
    channels: list[str] = list(channelconfig.NAMES)
    cap_status: str = "Actual"
    expires: dt.datetime | None = None
    headline_en: str = ""
    description_en: str = ""


class AlertOut(Schema):
    id: int
    identifier: str
    msg_type: str
    cap_status: str
    state: str
    hazard: str
    colour: str
    severity: str
    headline: str
    description: str
    population_estimate: int | None
    references_id: int | None
    sent: dt.datetime | None
    expires: dt.datetime | None


class NoteIn(Schema):
    note: str = ""


class UpdateIn(Schema):
    colour: str | None = None
    description: str | None = None
    instruction: str | None = None


class ExtendIn(Schema):
    until: dt.datetime


class ImportOut(Schema):
    created: int
    updated: int
    errors: list[str]


class IncomingOut(Schema):
    id: int
    identifier: str
    sender: str
    msg_type: str
    headline: str
    problems: list[str]


def _spec(body: DraftIn) -> services.DraftSpec:
    areas = [
        services.AreaSpec(
            region_code=a.region_code,
            polygon=a.polygon,
            circle=tuple(a.circle) if a.circle else None,
            description=a.description,
            crs=a.crs,
        )
        for a in body.areas
    ]
    return services.DraftSpec(
        hazard=body.hazard,
        colour=body.colour,
        description=body.description,
        areas=areas,
        instruction=body.instruction,
        headline=body.headline,
        groups=body.groups,
        groups_anywhere=body.groups_anywhere,
        channels=body.channels,
        cap_status=body.cap_status,
        expires=body.expires,
        headline_en=body.headline_en,
        description_en=body.description_en,
    )


@router.get("/", response=list[AlertOut])
def list_alerts(request, state: str | None = None):
    qs = Alert.objects.all()
    return qs.filter(state=state)[:500] if state else qs[:500]


@router.post("/", response={201: AlertOut})
def create_alert(request, body: DraftIn):
    return Status(201, services.create_draft(request.user, _spec(body)))


@router.get("/{alert_id}", response=AlertOut)
def get_alert(request, alert_id: int):
    return get_object_or_404(Alert, pk=alert_id)


@router.post("/{alert_id}/submit", response=AlertOut)
def submit_alert(request, alert_id: int):
    return services.submit(get_object_or_404(Alert, pk=alert_id), request.user)


@router.post("/{alert_id}/approve", response=AlertOut)
def approve_alert(request, alert_id: int):
    return services.approve(get_object_or_404(Alert, pk=alert_id), request.user)


@router.post("/{alert_id}/reject", response=AlertOut)
def reject_alert(request, alert_id: int, body: NoteIn):
    return services.reject(get_object_or_404(Alert, pk=alert_id), request.user, body.note)


@router.post("/{alert_id}/update", response={201: AlertOut})
def update_alert(request, alert_id: int, body: UpdateIn):
    alert = get_object_or_404(Alert, pk=alert_id)
    return Status(201, services.update(alert, request.user, **body.dict()))


@router.post("/{alert_id}/extend", response={201: AlertOut})
def extend_alert(request, alert_id: int, body: ExtendIn):
    alert = get_object_or_404(Alert, pk=alert_id)
    return Status(201, services.extend(alert, request.user, body.until))


@router.post("/{alert_id}/cancel", response={201: AlertOut})
def cancel_alert(request, alert_id: int, body: NoteIn):
    alert = get_object_or_404(Alert, pk=alert_id)
    return Status(201, services.cancel(alert, request.user, body.note))


@router.get("/{alert_id}/estimate")
def estimate(request, alert_id: int):
    return {
        "population_estimate": services.population_estimate(get_object_or_404(Alert, pk=alert_id))
    }


@router.get("/{alert_id}/progress")
def delivery_progress(request, alert_id: int):
    return services.progress(get_object_or_404(Alert, pk=alert_id))


@router.get("/{alert_id}/cap.xml")
def alert_cap(request, alert_id: int):
    alert = get_object_or_404(Alert, pk=alert_id)
    if not alert.cap_xml:
        raise HttpError(404, "该预警尚未发布,没有 CAP 消息")
    return HttpResponse(alert.cap_xml, content_type="application/cap+xml; charset=utf-8")


@router.post("/subscribers/import", response=ImportOut)
def import_subscribers(request, file: UploadedFile = File(...)):
    if not services.can_manage_subscribers(request.user):
        raise HttpError(403, "没有导入订阅人的权限")
    if too_large := inputlimits.upload_too_large(file):
        raise ValidationError({"file": [too_large]})  # from its size, before it is read
    report = subscribers.import_subscribers(file.name or "upload.csv", file.read())
    return {"created": report.created, "updated": report.updated, "errors": report.errors}


class LocationIn(Schema):
    external_id: str
    lon: float
    lat: float
    at: dt.datetime
    crs: str = "wgs84"


@router.post("/subscribers/locations")
def update_locations(request, body: list[LocationIn]):
    """Last known locations in bulk (an operator's cell-location feed)."""
    if not services.can_manage_subscribers(request.user):
        raise HttpError(403, "没有更新订阅人位置的权限")
    return subscribers.update_locations([subscribers.LocationFix(**f.dict()) for f in body])


@router.post("/incoming/{token}", auth=None, response={201: list[IncomingOut]})
def receive_incoming(request, token: str):
    """Push endpoint for another agency's CAP (one alert, an EDXL-DE envelope or a feed)."""
    feed = IncomingFeed.objects.filter(token=token, active=True).first()
    if feed is None:
        raise HttpError(404, "未知的推送口令")
    limit = inputlimits.setting("YINGJI_CAP_MAX_BYTES")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:  # refused before the body is read
        raise HttpError(413, f"CAP 文档过大:{length:,} 字节,上限 {limit:,} 字节")
    try:
        items = incoming.receive_cap(request.body, feed)
    except RequestDataTooBig:
        raise HttpError(413, "CAP 文档过大:超过 DATA_UPLOAD_MAX_MEMORY_SIZE") from None
    except cap.CapError as exc:
        raise HttpError(422, str(exc)) from None
    return Status(201, items)


@router.get("/incoming/", response=list[IncomingOut])
def list_incoming(request):
    return IncomingCap.objects.all()[:200]
