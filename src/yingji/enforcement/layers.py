"""The enforcement layer of the one map: the latest plan year's inspections at
their enterprise's location, within the user's scope."""

from __future__ import annotations

from typing import Any

from yingji.core.layers import BBox


def inspection_features(request: Any, bbox: BBox | None) -> dict[str, Any]:
    """Inspections of the latest plan year as GeoJSON points (WGS-84)."""
    from django.db.models import Max

    from yingji.enforcement import services
    from yingji.enforcement.models import InspectionPlan

    year = InspectionPlan.objects.aggregate(year=Max("year"))["year"]
    qs = (
        services.visible_inspections(request.user)
        .filter(plan__year=year, enterprise__lon__isnull=False, enterprise__lat__isnull=False)
        .select_related("enterprise")
    )
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        qs = qs.filter(
            enterprise__lon__gte=min_lon,
            enterprise__lon__lte=max_lon,
            enterprise__lat__gte=min_lat,
            enterprise__lat__lte=max_lat,
        )
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [i.enterprise.lon, i.enterprise.lat]},
            "properties": {
                "name": f"{i.enterprise.name}({i.get_kind_display()} · {i.get_state_display()})",
                "code": i.enterprise.credit_code,
                "window": i.window_label,
            },
        }
        for i in qs[:5000]
    ]
    return {"type": "FeatureCollection", "features": features}
