"""Coordinate conversion, the region index and street synthesis (pure, no database)."""

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box, shape

from yingji.core import geo

DISTRICTS_FILE = (
    Path(geo.__file__).parent
    / "data"
    / "regions"
    / "guangzhou"
    / "guangzhou_districts_wgs84.geojson"
)

# Values printed by the public formula's reference implementations:
# googollee/eviltransform tests (wgs lat, wgs lon, gcj lat, gcj lon) …
FORMULA_PAIRS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]
# … and wandergis/coordtransform README: wgs84togcj02(116.404, 39.915).
WANDERGIS_WGS, WANDERGIS_GCJ = (116.404, 39.915), (116.41024449916938, 39.91640428150164)
# A Guangzhou (越秀区) point in all three systems, from hujiulong/gcoord's test
# fixture china-cities.json (values from the map services themselves, 7 decimals:
# the public formula agrees with them to well under a metre).
GZ_WGS, GZ_GCJ, GZ_BD = (
    (113.2590543, 23.131788),
    (113.2643859, 23.1291146),
    (113.2708188, 23.135343),
)


def close(a, b, tol):
    return abs(a[0] - b[0]) < tol and abs(a[1] - b[1]) < tol


@pytest.mark.parametrize("wlat,wlon,glat,glon", FORMULA_PAIRS)
def test_wgs84_to_gcj02_reproduces_published_formula_values(wlat, wlon, glat, glon):
    assert close(geo.wgs84_to_gcj02(wlon, wlat), (glon, glat), 1e-9)


def test_wgs84_to_gcj02_matches_coordtransform_readme():
    assert close(geo.wgs84_to_gcj02(*WANDERGIS_WGS), WANDERGIS_GCJ, 1e-9)


def test_guangzhou_reference_point_converts_within_a_metre():
    assert close(geo.wgs84_to_gcj02(*GZ_WGS), GZ_GCJ, 1e-5)
    assert close(geo.gcj02_to_wgs84(*GZ_GCJ), GZ_WGS, 1e-5)
    assert close(geo.bd09_to_wgs84(*GZ_BD), GZ_WGS, 1e-5)


def test_gcj02_to_bd09_matches_reference_exactly():
    assert close(geo.gcj02_to_bd09(*GZ_GCJ), GZ_BD, 1e-6)
    assert close(geo.bd09_to_gcj02(*GZ_BD), GZ_GCJ, 1e-6)


def test_round_trips_are_within_a_millionth_of_a_degree_across_china():
    rng = np.random.default_rng(7)
    for lon, lat in zip(rng.uniform(75, 135, 300), rng.uniform(18, 53, 300), strict=True):
        assert close(geo.gcj02_to_wgs84(*geo.wgs84_to_gcj02(lon, lat)), (lon, lat), 1e-6)
        assert close(geo.bd09_to_wgs84(*geo.wgs84_to_bd09(lon, lat)), (lon, lat), 1e-6)
        assert close(geo.bd09_to_gcj02(*geo.gcj02_to_bd09(lon, lat)), (lon, lat), 1e-6)


def test_outside_china_gcj02_equals_wgs84():
    for point in [(2.35, 48.85), (-74.0, 40.7), (139.7, 35.7)]:  # Paris, New York, Tokyo
        assert geo.wgs84_to_gcj02(*point) == point
        assert geo.gcj02_to_wgs84(*point) == point
        assert geo.to_wgs84(*point, "gcj02") == point


def test_to_wgs84_accepts_any_spelling_of_the_three_systems():
    gcj = geo.wgs84_to_gcj02(*GZ_WGS)
    for name in ("gcj02", "GCJ02", "GCJ-02", " gcj_02 "):
        assert close(geo.to_wgs84(*gcj, name), GZ_WGS, 1e-8)
    assert geo.to_wgs84(113.0, 23.0, "WGS84") == (113.0, 23.0)
    assert close(geo.to_wgs84(*geo.wgs84_to_bd09(*GZ_WGS), "BD09"), GZ_WGS, 1e-8)


def test_to_wgs84_rejects_an_unknown_system_clearly():
    with pytest.raises(ValueError, match="不支持的坐标系 'epsg3857'"):
        geo.to_wgs84(113.0, 23.0, "epsg3857")
    with pytest.raises(ValueError):
        geo.to_wgs84(float("nan"), 23.0)


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
def test_vectorised_conversion_matches_the_scalar_one(crs):
    rng = np.random.default_rng(3)
    lons, lats = rng.uniform(100, 125, 200), rng.uniform(20, 45, 200)
    lons[0], lats[0] = 2.35, 48.85  # one point outside China
    wlons, wlats = geo.to_wgs84_many(lons, lats, crs)
    for i in range(len(lons)):
        assert close((wlons[i], wlats[i]), geo.to_wgs84(lons[i], lats[i], crs), 1e-8)


# -------------------------------------------------------------------- index


def toy_index():
    """Two 2×2 districts side by side, each split into two streets."""
    return geo.RegionIndex(
        [
            ("110101", "district", box(0, 0, 2, 2)),
            ("110102", "district", box(2, 0, 4, 2)),
            ("110101001", "street", box(0, 0, 1, 2)),
            ("110101002", "street", box(1, 0, 2, 2)),
            ("110102001", "street", box(2, 0, 4, 1)),
            ("110102002", "street", box(2, 1, 4, 2)),
            ("110103", "district", None),  # no boundary: not indexed
        ]
    )


def test_lookup_finds_district_and_street():
    assert toy_index().lookup(0.5, 1.5) == {"district": "110101", "street": "110101001"}
    assert toy_index().lookup(3.0, 1.5) == {"district": "110102", "street": "110102002"}


def test_a_point_in_no_region_gives_an_empty_answer():
    assert toy_index().lookup(10.0, 10.0) == {}
    assert toy_index().lookup(-0.0001, 1.0) == {}


def test_boundary_points_count_as_inside():
    index = toy_index()
    assert index.lookup(0.0, 1.0) == {"district": "110101", "street": "110101001"}  # outer edge
    assert index.lookup(0.0, 0.0) == {"district": "110101", "street": "110101001"}  # corner


def test_on_a_shared_edge_the_lowest_code_wins_consistently():
    # x = 2 is the edge between the two districts and between their streets
    assert toy_index().lookup(2.0, 0.5) == {"district": "110101", "street": "110101002"}


def test_lookup_many_agrees_with_single_lookups():
    index = toy_index()
    rng = np.random.default_rng(11)
    lons, lats = rng.uniform(-1, 5, 2000), rng.uniform(-1, 3, 2000)
    lons[:3], lats[:3] = [2.0, 0.0, 10.0], [0.5, 0.0, 10.0]  # shared edge, corner, outside
    many = index.lookup_many(lons, lats)
    assert set(many) == {"district", "street"}
    for i in range(len(lons)):
        single = index.lookup(lons[i], lats[i])
        assert many["district"][i] == single.get("district")
        assert many["street"][i] == single.get("street")


def test_lookup_many_accepts_empty_input_and_rejects_mismatched_arrays():
    index = toy_index()
    assert len(index.lookup_many([], [])["district"]) == 0
    with pytest.raises(ValueError):
        index.lookup_many([1.0, 2.0], [1.0])


def test_index_over_real_guangzhou_districts_finds_tianhe():
    data = json.loads(DISTRICTS_FILE.read_text(encoding="utf-8"))
    index = geo.RegionIndex(
        (f["properties"]["code"], f["properties"]["level"], shape(f["geometry"]))
        for f in data["features"]
    )
    assert index.lookup(113.3612, 23.1247) == {"city": "440100", "district": "440106"}
    assert index.lookup(113.2644, 23.1291) == {"city": "440100", "district": "440104"}  # 越秀


# ---------------------------------------------------------------- synthesis


def tianhe():
    data = json.loads(DISTRICTS_FILE.read_text(encoding="utf-8"))
    return next(
        shape(f["geometry"]) for f in data["features"] if f["properties"]["code"] == "440106"
    )


def test_synthesised_streets_cover_the_district_without_gaps_or_overlaps():
    district = tianhe()
    codes = [f"440106{i:03d}" for i in range(1, 22)]
    cells = geo.synthesise_subdivisions(district, codes)
    assert sorted(cells) == codes
    assert all(
        c.geom_type in ("Polygon", "MultiPolygon") and c.is_valid and not c.is_empty
        for c in cells.values()
    )
    union = shapely.union_all(list(cells.values()))
    assert union.symmetric_difference(district).area < district.area * 1e-9  # no gaps
    assert abs(sum(c.area for c in cells.values()) - district.area) < district.area * 1e-9
    assert all(district.covers(c.representative_point()) for c in cells.values())


def test_synthesis_is_deterministic_and_seeded_by_the_codes():
    district = tianhe()
    codes = [f"440106{i:03d}" for i in range(1, 10)]
    first = geo.synthesise_subdivisions(district, codes)
    again = geo.synthesise_subdivisions(district, list(reversed(codes)))
    assert all(first[c].equals_exact(again[c], 0) for c in codes)
    other = geo.synthesise_subdivisions(district, codes[:-1] + ["440106099"])
    assert not first[codes[0]].equals(other[codes[0]])


def test_one_street_gets_the_whole_district_and_none_gets_nothing():
    square = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    assert geo.synthesise_subdivisions(square, ["110101001"]) == {"110101001": square}
    assert geo.synthesise_subdivisions(square, []) == {}
