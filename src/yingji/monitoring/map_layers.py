"""Monitoring layers on the one map: sensors by state and alarm level.

The shared map styles per layer, so each alarm level is its own layer (red,
orange, yellow, blue), beside sensors without alarm and offline / maintenance
sensors; a sensor appears in the layer of its highest active alarm."""

from __future__ import annotations

from typing import Any

from yingji.core import layers

GROUP = "监测预警"
BUCKETS = {
    "red": ("monitoring_red", "报警:红色", "#c62828", True),
    "orange": ("monitoring_orange", "报警:橙色", "#ef6c00", True),
    "yellow": ("monitoring_yellow", "报警:黄色", "#f9a825", True),
    "blue": ("monitoring_blue", "报警:蓝色", "#1565c0", True),
    "normal": ("monitoring_normal", "传感器:正常", "#2e7d32", False),
    "offline": ("monitoring_offline", "传感器:离线/维护", "#757575", False),
}


def sensor_features(request: Any, bbox: layers.BBox | None, bucket: str) -> dict[str, Any]:
    """Sensors the user may see, in one bucket, as GeoJSON points."""
    from yingji.monitoring import services
    from yingji.monitoring.models import Alarm, SensorType
    from yingji.monitoring.rules import LEVEL_LABELS, level_number

    sensors = services.visible_sensors(request.user)
    if bbox is not None:
        sensors = sensors.filter(
            lon__gte=bbox[0], lat__gte=bbox[1], lon__lte=bbox[2], lat__lte=bbox[3]
        )
    top: dict[int, str] = {}
    for sid, level in Alarm.objects.filter(
        state__in=("firing", "acknowledged", "silenced"), sensor__isnull=False, replayed=False
    ).values_list("sensor_id", "level"):
        if level_number(level) > level_number(top.get(sid)):
            top[sid] = level
    features = []
    for s in sensors.only(
        "id", "code", "name", "type", "lon", "lat", "status", "last_value", "unit"
    ):
        level = top.get(s.pk)
        which = level or ("offline" if s.status != "online" else "normal")
        if which != bucket:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(s.lon, 6), round(s.lat, 6)]},
                "properties": {
                    "name": f"{s.name}({SensorType(s.type).label})",
                    "code": s.code,
                    "level": None,
                    "alarm_level": LEVEL_LABELS.get(level or "", ""),
                    "status": s.status,
                    "value": s.last_value,
                    "unit": s.unit,
                    "url": f"/monitoring/sensors/{s.pk}/",
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _loader(bucket: str):
    def load(request: Any, bbox: layers.BBox | None) -> dict[str, Any]:
        return sensor_features(request, bbox, bucket)

    load.__name__ = f"sensor_layer_{bucket}"
    return load


LOADERS = {bucket: _loader(bucket) for bucket in BUCKETS}


def register() -> None:
    """Called from MonitoringConfig.ready()."""
    for bucket, (key, title, color, on) in BUCKETS.items():
        layers.register(
            key,
            title,
            group=GROUP,
            loader=LOADERS[bucket],
            default_on=on,
            style={
                "color": color,
                "fillColor": color,
                "radius": 6,
                "fillOpacity": 0.8,
                "weight": 1,
            },
        )
