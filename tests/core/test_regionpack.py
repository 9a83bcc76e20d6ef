"""Reading and validating region packs (pure, no database)."""

import json
from pathlib import Path

import pytest
import shapely
from shapely.geometry import box, mapping

from yingji.core import geo, regionpack
from yingji.core.regionpack import RegionPackError, read_pack

GUANGZHOU = Path(regionpack.__file__).parent / "data" / "regions" / "guangzhou"


def feature(code, name, geometry=None, **props):
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, **props},
        "geometry": geometry,
    }


def write_geojson(path: Path, features) -> Path:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def square(x=113.3, y=23.1, size=0.1):
    return mapping(box(x, y, x + size, y + size))


def problems_of(paths, **kwargs) -> list[str]:
    with pytest.raises(RegionPackError) as info:
        read_pack(paths, **kwargs)
    return [str(p) for p in info.value.problems]


def test_the_shipped_guangzhou_pack_is_valid():
    pack = read_pack(
        [GUANGZHOU / "guangzhou_districts_wgs84.geojson", GUANGZHOU / "guangzhou_streets.csv"]
    )
    assert [len(pack.by_level(level)) for level in regionpack.LEVELS] == [1, 11, 178, 0]
    assert {r.parent for r in pack.by_level("district")} == {"440100"}
    assert all(r.parent == r.code[:6] for r in pack.by_level("street"))
    assert pack.records[0].code == "440100"  # parents come first
    assert pack.by_level("district")[0].geometry.geom_type == "MultiPolygon"


def test_parent_and_level_are_derived_from_the_code(tmp_path):
    path = write_geojson(
        tmp_path / "p.geojson",
        [
            feature("440100", "广州市", square(size=1)),
            feature("440106", "天河区", square()),
            feature("440106001", "五山街道", square(size=0.01)),
            feature("440106001001", "某社区", None),
        ],
    )
    records = {r.code: r for r in read_pack([path]).records}
    assert [(records[c].level, records[c].parent) for c in sorted(records)] == [
        ("city", None),
        ("district", "440100"),
        ("street", "440106"),
        ("community", "440106001"),
    ]


def test_a_bad_code_names_the_file_feature_and_property(tmp_path):
    path = write_geojson(
        tmp_path / "bad.geojson",
        [feature("440100", "广州市", square()), feature("4401", "短代码", square())],
    )
    assert problems_of([path]) == [
        "文件 bad.geojson 第 2 个要素(features[1]) 属性 code:"
        "区划代码须为 6、9 或 12 位数字,实为 '4401'"
    ]


def test_a_level_that_contradicts_the_code_is_refused(tmp_path):
    path = write_geojson(
        tmp_path / "lv.geojson",
        [
            feature("440100", "广州市", square()),
            feature("440106", "天河区", square(), level="street"),
        ],
    )
    [problem] = problems_of([path])
    assert problem.startswith("文件 lv.geojson 第 2 个要素(features[1]) 属性 level:")
    assert "区级(district)" in problem


def test_a_parent_missing_from_pack_and_database_is_refused(tmp_path):
    path = write_geojson(tmp_path / "orphan.geojson", [feature("440106", "天河区", square())])
    [problem] = problems_of([path])
    assert problem == (
        "文件 orphan.geojson 第 1 个要素(features[0]):"
        "上级区划 440100 既不在本数据包中,也不在已有区划中"
    )
    assert read_pack([path], existing_codes={"440100"}).records[0].parent == "440100"


def test_a_parent_of_the_wrong_level_is_refused(tmp_path):
    path = write_geojson(
        tmp_path / "p.geojson",
        [
            feature("440100", "广州市", square()),
            feature("440106001", "五山街道", square(), parent="440100"),
        ],
    )
    [problem] = problems_of([path])
    assert "features[1]" in problem and "上级区划 440100 的层级应为区级" in problem


def test_duplicate_codes_name_both_places(tmp_path):
    geo_path = write_geojson(tmp_path / "d.geojson", [feature("440100", "广州市", square())])
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("code,name\n440100,广州\n", encoding="utf-8")
    assert problems_of([geo_path, csv_path]) == [
        "文件 d.csv 第 2 行:区划代码 440100 重复,已见于文件 d.geojson 第 1 个要素(features[0])"
    ]


def test_csv_problems_name_line_and_column(tmp_path):
    path = tmp_path / "streets.csv"
    path.write_text(
        "code,name,district_code,lon,lat\n"
        "440106001,五山街道,440106,113.34,23.15\n"
        "44010600X,坏代码,440106,,\n"
        "440106003,,440106,,\n"
        "440106004,车陂街道,440106,113.4,\n"
        "440106005,石牌街道,440106,113.4,abc\n"
        "440106006,多一列,440106,1,2,3\n",
        encoding="utf-8",
    )
    assert problems_of([path], existing_codes={"440106"}) == [
        "文件 streets.csv 第 3 行 code 列:区划代码须为 6、9 或 12 位数字,实为 '44010600X'",
        "文件 streets.csv 第 4 行 name 列:缺少名称",
        "文件 streets.csv 第 5 行 lat 列:经度与纬度须同时填写",
        "文件 streets.csv 第 6 行 lon/lat 列:经纬度不是数值:113.4, abc",
        "文件 streets.csv 第 7 行:应有 5 列,实有 6 列",
    ]


def test_csv_header_problems_name_the_header_line(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("id,title\n1,x\n", encoding="utf-8")
    assert problems_of([path]) == ["文件 h.csv 第 1 行(表头):缺少列 code, name"]


def test_every_problem_is_reported_at_once(tmp_path):
    path = write_geojson(
        tmp_path / "many.geojson",
        [
            feature("440100", "", square()),
            feature("abc", "X", square()),
            feature("440106", "天河区", {"type": "Point", "coordinates": [113.3, 23.1]}),
            feature("440105", "海珠区", square(), crs="epsg3857"),
        ],
    )
    found = problems_of([path])
    assert len(found) == 4
    assert [p.split(":")[0] for p in found] == [
        "文件 many.geojson 第 1 个要素(features[0]) 属性 name",
        "文件 many.geojson 第 2 个要素(features[1]) 属性 code",
        "文件 many.geojson 第 3 个要素(features[2]) geometry",
        "文件 many.geojson 第 4 个要素(features[3]) 属性 crs",
    ]


def test_projected_coordinates_are_refused(tmp_path):
    path = write_geojson(
        tmp_path / "m.geojson",
        [feature("440100", "广州市", mapping(box(12600000, 2640000, 12610000, 2650000)))],
    )
    [problem] = problems_of([path])
    assert problem.startswith("文件 m.geojson 第 1 个要素(features[0]) geometry:坐标超出经纬度范围")


def test_gcj02_boundaries_are_converted_to_wgs84(tmp_path):
    wgs = box(113.30, 23.10, 113.40, 23.20)
    gcj = shapely.transform(wgs, lambda xy: [geo.wgs84_to_gcj02(x, y) for x, y in xy])
    path = write_geojson(
        tmp_path / "amap.geojson", [feature("440100", "广州市", mapping(gcj), crs="gcj02")]
    )
    converted = read_pack([path]).records[0].geometry
    assert converted.symmetric_difference(wgs).area < wgs.area * 1e-6
    assert not converted.equals(gcj)


def test_csv_points_in_bd09_are_converted(tmp_path):
    lon, lat = geo.wgs84_to_bd09(113.3612, 23.1247)
    path = tmp_path / "pts.csv"
    path.write_text(
        f"code,name,lon,lat,crs\n440100,广州市,{lon!r},{lat!r},bd09\n", encoding="utf-8"
    )
    record = read_pack([path]).records[0]
    assert abs(record.lon - 113.3612) < 1e-6 and abs(record.lat - 23.1247) < 1e-6


def test_a_slightly_invalid_polygon_is_repaired_with_a_note(tmp_path):
    # a square whose top edge crosses itself in a small loop: area changes by 0.1 %
    ring = [(0, 0), (1, 0), (1, 1), (0.4, 1), (0.5, 0.99), (0.5, 1.01), (0, 1), (0, 0)]
    ring = [(113 + x / 10, 23 + y / 10) for x, y in ring]
    path = write_geojson(
        tmp_path / "fix.geojson",
        [feature("440100", "广州市", {"type": "Polygon", "coordinates": [ring]})],
    )
    pack = read_pack([path])
    assert pack.records[0].geometry.is_valid
    [note] = pack.notes
    assert note.place == "文件 fix.geojson 第 1 个要素(features[0]) geometry"
    assert "已自动修复" in note.message


def test_a_bow_tie_polygon_is_refused(tmp_path):
    bow_tie = [(113.0, 23.0), (113.1, 23.1), (113.1, 23.0), (113.0, 23.1), (113.0, 23.0)]
    path = write_geojson(
        tmp_path / "bow.geojson",
        [feature("440100", "广州市", {"type": "Polygon", "coordinates": [bow_tie]})],
    )
    [problem] = problems_of([path])
    assert problem.startswith("文件 bow.geojson 第 1 个要素(features[0]) geometry:几何无效")
    assert "超过 1%" in problem


def test_malformed_json_names_line_and_column(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [}', encoding="utf-8")
    [problem] = problems_of([path])
    assert problem.startswith("文件 broken.geojson 第 2 行第 15 列:不是有效的 JSON")


def test_unsupported_file_types_and_missing_files_are_named(tmp_path):
    other = tmp_path / "regions.xlsx"
    other.write_bytes(b"x")
    assert problems_of([other, tmp_path / "gone.csv"]) == [
        "文件 regions.xlsx:只支持 .geojson/.json 与 .csv 文件",
        f"文件 {tmp_path / 'gone.csv'}:文件不存在",
    ]


def test_gb18030_csv_from_excel_is_read(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("code,name\n440100,广州市\n".encode("gb18030"))
    assert read_pack([path]).records[0].name == "广州市"
