"""Regions, point lookup and the one map's layers, under /api/v1/geo/.

Session authentication like the rest of the API: anonymous requests get 401.
"""

from typing import Any, Literal

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from yingji.core import geo, layers, regions
from yingji.core.models import Region

router = Router(tags=["regions and map"])

LevelName = Literal["city", "district", "street", "community"]


class RegionOut(Schema):
    code: str
    name: str
    level: str
    parent: str | None
    boundary_synthetic: bool
    boundary_source: str
    centroid_lon: float | None
    centroid_lat: float | None

    @staticmethod
    def resolve_parent(obj: Region) -> str | None:
        return obj.parent_id


class RegionDetailOut(RegionOut):
    boundary: dict[str, Any] | None


class RegionRef(Schema):
    code: str
    name: str
    boundary_synthetic: bool


class LookupOut(Schema):
    lon: float
    lat: float
    crs: str
    district: RegionRef | None
    street: RegionRef | None


class LayerOut(Schema):
    key: str
    title: str
    group: str
    default_on: bool
    style: dict[str, Any]


@router.get("/regions", response=list[RegionOut], url_name="geo_regions")
def list_regions(request, level: LevelName | None = None, parent: str | None = None):
    """Regions without their boundaries, optionally of one level and/or one parent."""
    queryset = Region.objects.defer("boundary")
    if level:
        queryset = queryset.filter(level=level)
    if parent:
        queryset = queryset.filter(parent_id=parent)
    return queryset


@router.get("/regions/{code}", response=RegionDetailOut, url_name="geo_region")
def region_detail(request, code: str):
    """One region with its boundary (GeoJSON geometry, WGS-84)."""
    return get_object_or_404(Region, code=code)


@router.get("/lookup", response=LookupOut, url_name="geo_lookup")
def lookup_point(
    request,
    lon: float = Query(..., ge=-180, le=180, description="经度"),
    lat: float = Query(..., ge=-90, le=90, description="纬度"),
    crs: str = Query("wgs84", description="坐标系:wgs84、gcj02 或 bd09"),
):
    """The district and street containing a point; lon/lat in the answer are WGS-84."""
    try:
        wgs_lon, wgs_lat = geo.to_wgs84(lon, lat, crs)
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    found = regions.lookup(wgs_lon, wgs_lat)
    return LookupOut(
        lon=wgs_lon,
        lat=wgs_lat,
        crs=geo.normalise_crs(crs),
        district=found["district"],
        street=found["street"],
    )


@router.get("/layers", response=list[LayerOut], url_name="geo_layers")
def list_layers(request):
    """The map's layer registry, in registration order."""
    return layers.all_layers()


@router.get("/layers/{key}", url_name="geo_layer")
def layer_features(
    request,
    key: str,
    bbox: str | None = Query(None, description="最小经度,最小纬度,最大经度,最大纬度(WGS-84)"),
):
    """One layer as a GeoJSON FeatureCollection, optionally limited to a bbox."""
    layer = layers.get(key)
    if layer is None:
        raise HttpError(404, f"没有图层 {key}")
    try:
        box = layers.parse_bbox(bbox)
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    return JsonResponse(layer.loader(request, box), json_dumps_params={"ensure_ascii": False})
