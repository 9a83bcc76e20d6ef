"""GeoJSON of the alerts in force, for the one map's "alerts" layer."""

from __future__ import annotations

from typing import Any

import shapely
import shapely.geometry

from yingji.alerts import targeting
from yingji.alerts import workflow as wf
from yingji.alerts.models import AlertArea

COLOURS = {"red": "#d32f2f", "orange": "#f57c00", "yellow": "#fbc02d", "blue": "#1976d2",
           "white": "#9e9e9e"}


def live_alert_features(bbox: tuple[float, float, float, float] | None) -> dict[str, Any]:
    """One feature per area of each published alert (circles as polygons)."""
    import json

    features = []
    window = shapely.box(*bbox) if bbox else None
    for area in AlertArea.objects.filter(alert__state=wf.PUBLISHED).select_related(
            "alert", "region"):
        if area.kind == AlertArea.Kind.REGION:
            if not area.region.boundary:
                continue
            shape = shapely.geometry.shape(area.region.boundary)
        elif area.kind == AlertArea.Kind.CIRCLE:
            lon, lat = area.geometry["coordinates"]
            shape = targeting.circle_polygon(lat, lon, area.radius_km)
        else:
            shape = shapely.geometry.shape(area.geometry)
        if window is not None and not shape.intersects(window):
            continue
        alert = area.alert
        features.append({
            "type": "Feature", "geometry": json.loads(shapely.to_geojson(shape)),
            "properties": {"name": f"{alert.headline}({area.description})",
                           "code": alert.identifier, "alert_id": alert.pk,
                           "colour": alert.colour,
                           "color": COLOURS.get(alert.colour, "#d32f2f")}})
    return {"type": "FeatureCollection", "features": features}
