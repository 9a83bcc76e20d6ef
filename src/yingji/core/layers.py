"""The layer registry of the one map (一张图).

There is one map page (/map/); every module puts its data on it by registering
layers, never by building a map of its own. A layer is a key, a title, a group
for the layer control, a loader and a default Leaflet path style:

    from yingji.core import layers

    class RiskConfig(AppConfig):
        def ready(self):
            layers.register(
                "enterprises", "重点企业", group="风险隐患",
                loader=enterprise_features,          # (request, bbox|None) -> FeatureCollection
                style={"color": "#c62828", "radius": 5},
            )

Modules call `register` from their AppConfig.ready() (enterprises, sensors,
alarms, alerts, incidents, resources …); the core registers the administrative
layers in `register_core_layers()`, called from CoreConfig.ready().

A loader receives the request (for permission or scope filtering) and an
optional bbox (min_lon, min_lat, max_lon, max_lat, WGS-84) and returns a GeoJSON
FeatureCollection dict in WGS-84. Feature properties `name` and `code`, where
present, are shown when a feature is clicked; `synthetic: true` draws it dashed
and labels it as a synthetic (non-legal) boundary. The API serves the registry
at /api/v1/geo/layers and each layer at /api/v1/geo/layers/{key}.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BBox = tuple[float, float, float, float]
Loader = Callable[[Any, BBox | None], dict[str, Any]]


@dataclass(frozen=True)
class Layer:
    """One registered map layer."""

    key: str
    title: str
    group: str
    loader: Loader
    default_on: bool = False
    style: dict[str, Any] = field(default_factory=dict)


_registry: dict[str, Layer] = {}


def register(
    key: str,
    title: str,
    *,
    group: str,
    loader: Loader,
    default_on: bool = False,
    style: dict[str, Any] | None = None,
) -> Layer:
    """Add a layer to the one map. Registering the same key again with the same
    loader replaces it (ready() may run twice); another loader under a taken key
    is a programming error and raises ValueError."""
    if not key or not key.replace("_", "").replace("-", "").isalnum() or not key.isascii():
        raise ValueError(f"图层 key 只能由字母、数字、-、_ 组成:{key!r}")
    previous = _registry.get(key)
    if previous is not None and previous.loader is not loader:
        raise ValueError(f"图层 key {key!r} 已被 {previous.loader.__module__} 注册")
    layer = Layer(
        key=key,
        title=title,
        group=group,
        loader=loader,
        default_on=default_on,
        style=dict(style or {}),
    )
    _registry[key] = layer
    return layer


def all_layers() -> list[Layer]:
    """Every registered layer, in registration order."""
    return list(_registry.values())


def get(key: str) -> Layer | None:
    """The layer registered under `key`, or None."""
    return _registry.get(key)


def parse_bbox(text: str | None) -> BBox | None:
    """'minlon,minlat,maxlon,maxlat' → a tuple; None for empty; ValueError if malformed."""
    if text is None or not text.strip():
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(
            f"bbox 须为 4 个数值:最小经度,最小纬度,最大经度,最大纬度;实为 {text!r}"
        ) from None
    if len(values) != 4:
        raise ValueError(f"bbox 须为 4 个数值:最小经度,最小纬度,最大经度,最大纬度;实为 {text!r}")
    min_lon, min_lat, max_lon, max_lat = values
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise ValueError(f"bbox 超出经纬度范围或最小值大于最大值:{text!r}")
    return min_lon, min_lat, max_lon, max_lat


# --------------------------------------------------------------- core layers

REGION_GROUP = "行政区划"


# Loaders import regions (and so the models) when called: this module is imported
# from apps.py files, before Django's model registry is ready.


def _city_layer(request: Any, bbox: BBox | None) -> dict[str, Any]:
    from yingji.core import regions

    return regions.feature_collection("city", bbox)


def _district_layer(request: Any, bbox: BBox | None) -> dict[str, Any]:
    from yingji.core import regions

    return regions.feature_collection("district", bbox)


def _street_layer(request: Any, bbox: BBox | None) -> dict[str, Any]:
    from yingji.core import regions

    return regions.feature_collection("street", bbox)


def register_core_layers() -> None:
    """The administrative layers: city outline, districts, streets (synthetic
    street boundaries are flagged in properties and drawn dashed)."""
    register(
        "city",
        "市界",
        group=REGION_GROUP,
        loader=_city_layer,
        default_on=True,
        style={"color": "#0d3b66", "weight": 3, "fill": False},
    )
    register(
        "districts",
        "区界",
        group=REGION_GROUP,
        loader=_district_layer,
        default_on=True,
        style={"color": "#1565c0", "weight": 2, "fillOpacity": 0.04},
    )
    register(
        "streets",
        "镇街界",
        group=REGION_GROUP,
        loader=_street_layer,
        style={"color": "#757575", "weight": 1, "dashArray": "4 4", "fillOpacity": 0},
    )
