"""GeoJSON of the alerts in force, for the one map's "alerts" layer."""

from __future__ import annotations

from typing import Any

import shapely
import shapely.geometry

from yingji.alerts import targeting
from yingji.alerts import workflow as wf
from yingji.alerts.models import AlertArea

COLOURS = {
    "red": "#d32f2f",
    "orange": "#f57c00",
    "yellow": "#fbc02d",
    "blue": "#1976d2",
    "white": "#9e9e9e",
}


def _shape(area: AlertArea) -> Any:
    """The area as a shape (a circle as a polygon); None for a region without boundary."""
    if area.kind == AlertArea.Kind.REGION:
        return shapely.geometry.shape(area.region.boundary) if area.region.boundary else None
    if area.kind == AlertArea.Kind.CIRCLE:
        lon, lat = area.geometry["coordinates"]
        return targeting.circle_polygon(lat, lon, area.radius_km)
    return shapely.geometry.shape(area.geometry)


def alert_features(alert_id: int) -> dict[str, Any]:
    """The areas of one alert (the public page's map)."""
    return _features(AlertArea.objects.filter(alert_id=alert_id), None)


def live_alert_features(bbox: tuple[float, float, float, float] | None) -> dict[str, Any]:
    """One feature per area of each published alert (circles as polygons)."""
    return _features(AlertArea.objects.filter(alert__state=wf.PUBLISHED), bbox)


def _features(areas: Any, bbox: tuple[float, float, float, float] | None) -> dict[str, Any]:
    import json

    features = []
    window = shapely.box(*bbox) if bbox else None
    for area in areas.select_related("alert", "region"):
        shape = _shape(area)
        if shape is None or (window is not None and not shape.intersects(window)):
            continue
        alert = area.alert
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(shape)),
                "properties": {
                    "name": f"{alert.headline}({area.description})",
                    "code": alert.identifier,
                    "alert_id": alert.pk,
                    "colour": alert.colour,
                    "color": COLOURS.get(alert.colour, "#d32f2f"),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
