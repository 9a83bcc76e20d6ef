"""The four-colour risk layers of the one map (一张图): enterprises and public
sites by grade, one layer per colour (the map styles a layer, not a feature).
Loaders filter by the user's scope and the bbox, and cap the features."""

from __future__ import annotations

from typing import Any

from yingji.risk.grading import GRADE_COLOURS, GRADE_LABELS, GRADE_ORDER

MAX_FEATURES = 5000


def features(request: Any, bbox, grade: str) -> dict[str, Any]:
    """Enterprises and public-site risk points of one grade as a FeatureCollection."""
    from yingji.core.scope import scope_for
    from yingji.risk.models import RiskPoint
    from yingji.risk.services import visible_enterprises

    user = getattr(request, "user", None)
    qs = visible_enterprises(user).filter(grade=grade, lon__isnull=False, lat__isnull=False)
    sites = RiskPoint.objects.filter(
        enterprise__isnull=True, grade=grade, lon__isnull=False, active=True
    ).filter(scope_for(user).q(region_field="district__code"))
    if bbox:
        min_lon, min_lat, max_lon, max_lat = bbox
        box = {"lon__gte": min_lon, "lon__lte": max_lon, "lat__gte": min_lat, "lat__lte": max_lat}
        qs, sites = qs.filter(**box), sites.filter(**box)
    out = []
    for pk, name, code, lon, lat, major in qs.values_list(
        "pk", "name", "credit_code", "lon", "lat", "has_major_hazard_installation"
    )[:MAX_FEATURES]:
        out.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "name": name,
                    "code": code,
                    "kind": "企业",
                    "grade": GRADE_LABELS[grade],
                    "major_hazard": major,
                    "url": f"/risk/enterprises/{pk}/",
                },
            }
        )
    room = MAX_FEATURES - len(out)
    for pk, name, site, code, lon, lat in sites.values_list(
        "pk", "name", "site_name", "code", "lon", "lat"
    )[: max(room, 0)]:
        out.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "name": f"{site} · {name}",
                    "code": code,
                    "kind": "公共场所风险点",
                    "grade": GRADE_LABELS[grade],
                    "url": f"/risk/points/{pk}/",
                },
            }
        )
    return {"type": "FeatureCollection", "features": out}


def _loader(grade: str):
    def load(request: Any, bbox) -> dict[str, Any]:
        return features(request, bbox, grade)

    load.__name__ = f"risk_{grade}_layer"
    return load


LOADERS = {grade: _loader(grade) for grade in GRADE_ORDER}


def register() -> None:
    from yingji.core import layers

    for grade in GRADE_ORDER:
        layers.register(
            f"risk-{grade}",
            f"{GRADE_LABELS[grade]}企业/场所",
            group="风险四色图",
            loader=LOADERS[grade],
            default_on=grade in ("red", "orange"),
            style={
                "color": GRADE_COLOURS[grade],
                "fillColor": GRADE_COLOURS[grade],
                "fillOpacity": 0.8,
                "weight": 1,
                "radius": 6,
            },
        )
