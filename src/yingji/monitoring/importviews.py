"""The sensor import page (/monitoring/sensors/import/): upload a station list in
any layout, choose which column is which (guessed from the headers), see the first
rows as they would be stored, confirm. Nothing is written before 确认导入; the
import is one transaction, audited and scoped (sensorimport.py). The uploaded file
waits under VAR_DIR/imports/ between the steps (named by a random token kept in the
session) and is removed on confirm and after a day."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from yingji.core import inputlimits
from yingji.core.models import Region
from yingji.monitoring import mapping, sensorimport, services
from yingji.monitoring.models import SensorType

SESSION_KEY = "monitoring_sensor_import"
PREVIEW_ROWS = 20
KEEP_S = 24 * 3600


def may_manage_sensors(user) -> bool:
    """Who imports sensors: those who edit everything (leaders, supervisors,
    administrators) and anyone granted the model permission to add or change
    sensors (monitoring.add_sensor / change_sensor); each within their scope."""
    return (
        services.scope_for_user(user).edits_all
        or user.has_perm("monitoring.add_sensor")
        or user.has_perm("monitoring.change_sensor")
    )


def _dir() -> Path:
    d = Path(settings.VAR_DIR) / "imports" / "sensors"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _store(data: bytes, name: str) -> dict:
    now = time.time()
    for old in _dir().iterdir():  # abandoned uploads
        if now - old.stat().st_mtime > KEEP_S:
            old.unlink(missing_ok=True)
    token = secrets.token_hex(16)
    (_dir() / token).write_bytes(data)
    return {"token": token, "name": Path(name).name[:200]}


def _stored(request: HttpRequest) -> tuple[dict, bytes] | None:
    info = request.session.get(SESSION_KEY)
    if not info or not str(info.get("token", "")).isalnum():
        return None
    path = _dir() / info["token"]
    if not path.exists():
        return None
    return info, path.read_bytes()


def _given(request: HttpRequest) -> dict[str, str]:
    return {key: request.POST.get(f"col_{key}", "") for key in mapping.STATION_FIELDS}


def _preview(plan: sensorimport.StationPlan) -> list[dict]:
    shown = plan.sensors[:PREVIEW_ROWS]
    codes = {c for p in shown for c in (p.district_id, p.street_id) if c}
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return [
        {
            "p": p,
            "district": names.get(p.district_id, ""),
            "street": names.get(p.street_id, ""),
        }
        for p in shown
    ]


@login_required
def sensor_import(request: HttpRequest) -> HttpResponse:
    if not may_manage_sensors(request.user):
        raise PermissionDenied("无权导入传感器")
    ctx: dict = {
        "fields": [
            (k, label, required) for k, (label, required, _a) in mapping.STATION_FIELDS.items()
        ],
        "types": SensorType.choices,
        "no_coords_choices": list(sensorimport.NO_COORDS.items()),
    }
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == "upload":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "请选择文件")
            return redirect("monitoring:sensor_import")
        if problem := inputlimits.upload_too_large(upload):
            messages.error(request, problem)
            return redirect("monitoring:sensor_import")
        data = upload.read()
        try:
            table = sensorimport.read_table(data, upload.name)
        except services.MonitoringError as exc:
            messages.error(request, str(exc))
            return redirect("monitoring:sensor_import")
        request.session[SESSION_KEY] = _store(data, upload.name)
        guessed = mapping.guess(table.header)
        chosen = {k: table.header[i] for k, i in guessed.items()}
        ctx.update(_step(table, chosen, "skip", "", request.user))
        return render(request, "monitoring/sensor_import.html", ctx)
    if action in ("preview", "confirm"):
        stored = _stored(request)
        if stored is None:
            messages.error(request, "上传的文件已过期,请重新上传")
            return redirect("monitoring:sensor_import")
        info, data = stored
        table = sensorimport.read_table(data, info["name"])
        chosen = {k: v for k, v in _given(request).items() if v}
        no_coords = request.POST.get("no_coords", "skip")
        default_type = request.POST.get("default_type", "")
        step = _step(table, chosen, no_coords, default_type, request.user)
        if action == "confirm" and step.get("plan") is not None and step["plan"].ok:
            try:
                result = sensorimport.apply_stations(step["plan"], user=request.user)
            except services.MonitoringError as exc:
                step["error"] = str(exc)
            else:
                (_dir() / info["token"]).unlink(missing_ok=True)
                request.session.pop(SESSION_KEY, None)
                messages.success(request, f"{info['name']}:{result.summary()}")
                return redirect("monitoring:live")
        ctx.update(step)
        template = (
            "monitoring/_sensor_import_preview.html"
            if request.htmx
            else "monitoring/sensor_import.html"
        )
        return render(request, template, ctx)
    return render(request, "monitoring/sensor_import.html", ctx)


def _step(table, chosen: dict[str, str], no_coords: str, default_type: str, user) -> dict:
    """The mapping form's state and the preview under it."""
    out = {
        "table": table,
        "chosen": chosen,
        "no_coords": no_coords,
        "default_type": default_type,
        "sample": table.rows[:3],
    }
    given = {k: chosen.get(k, "") for k in mapping.STATION_FIELDS}
    try:
        plan = sensorimport.plan_stations(
            table, given, user=user, no_coords=no_coords, default_type=default_type
        )
    except services.MonitoringError as exc:
        out["error"] = str(exc)
        return out
    out.update(
        {
            "plan": plan,
            "preview": _preview(plan),
            "counts": plan.counts(),
            "problems": plan.problems[:100],
            "skipped": plan.skipped[:100],
        }
    )
    return out
