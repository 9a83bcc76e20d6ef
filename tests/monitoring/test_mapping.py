"""Column mapping of third-party layouts, pure (no database): headers guessed in
Chinese and English, a --map spec, the problems named by file, line and field."""

import pytest

from yingji.monitoring import mapping

TYPES = {"water_level": "water_level", "水位计": "water_level", "rain": "rain"}
UNITS = {"water_level": "m", "rain": "mm"}


def test_common_headers_are_recognised_in_chinese_and_english():
    header = ["测站编码", "站名", "纬度", "经度", "单位", "常年高值"]
    assert mapping.guess(header) == {
        "code": 0,
        "name": 1,
        "lat": 2,
        "lon": 3,
        "unit": 4,
        "typical_high": 5,
    }
    header = ["Station_ID", "Name", "Latitude", "Longitude", "Typical Range High"]
    assert mapping.guess(header) == {"code": 0, "name": 1, "lat": 2, "lon": 3, "typical_high": 4}
    assert mapping.guess(["reference", "label", "lat", "long"])["code"] == 0


def test_a_map_spec_overrides_the_guess_and_names_a_missing_column():
    spec = mapping.parse_spec("code=站码,name=站名,lat=纬度")
    assert spec == {"code": "站码", "name": "站名", "lat": "纬度"}
    header = ["编号", "站码", "站名", "纬度", "经度"]
    cols = mapping.resolve(header, spec, "站表.csv")
    assert (cols["code"], cols["name"], cols["lat"], cols["lon"]) == (1, 2, 3, 4)
    with pytest.raises(mapping.MappingError, match=r"站表\.csv:没有列「站号」\(字段 编号\)"):
        mapping.resolve(header, {"code": "站号"}, "站表.csv")
    with pytest.raises(mapping.MappingError, match="字段「colour」未知"):
        mapping.parse_spec("colour=颜色")
    with pytest.raises(mapping.MappingError, match=r"站表\.csv:未指定名称所在的列"):
        mapping.resolve(["站码", "备注"], None, "站表.csv")


def test_station_rows_report_file_line_and_field_and_keep_stations_without_coordinates():
    header = ["站码", "站名", "纬度", "经度", "常年高值"]
    rows = [
        (2, ("A1", "一号站", "23.1", "113.3", "2.5")),
        (3, ("A2", "二号站", "北纬23", "113.3", "")),
        (4, ("A3", "三号站", "", "", "")),
        (5, ("A1", "重复站", "23.1", "113.3", "")),
        (6, ("A4", "四号站", "23.1", "113.3", "高")),
    ]
    cols = mapping.resolve(header, None, "站表.csv")
    out = mapping.parse_stations(
        header, rows, cols, "站表.csv", types=TYPES, default_units=UNITS, default_type="水位计"
    )
    assert [s.code for s in out.stations] == ["A1", "A3"]
    assert out.stations[0].typical_high == 2.5 and out.stations[0].unit == "m"
    assert not out.stations[1].has_coords
    assert [str(p) for p in out.problems] == [
        "站表.csv 第 3 行「纬度」:不是数值「北纬23」",
        "站表.csv 第 5 行「编号(站码)」:与第 2 行重复",
        "站表.csv 第 6 行「常年高值」:不是数值「高」",
    ]


def test_a_readings_line_names_what_is_wrong():
    header = ["station", "time", "parameter", "value", "unit"]
    cols = mapping.resolve(header, None, "r.csv", mapping.READING_FIELDS)
    labels = mapping.reading_labels(header, cols)
    times = mapping.TimeParser()
    ok = mapping.parse_reading(["A1", "2026-07-01 08:00", "水位", "1.2", "m"], cols, labels, times)
    assert ok == ("A1", 1782864000000, 1.2, "m", "水位")  # 08:00 at UTC+08:00
    iso = mapping.parse_reading(["A1", "2026-07-01T00:00:00Z", "", "1", ""], cols, labels, times)
    assert iso[1] == 1782864000000
    for cells, message in [
        (
            ["A1", "2026-07-01 08:00", "", "1.2|1.3", "m"],
            "「读数(value)」:一格中有多个读数「1.2|1.3」",
        ),
        (["A1", "2026-07-01 08:00", "", "", "m"], "「读数(value)」:为空"),
        (["A1", "昨天", "", "1", "m"], "「时间(time)」:无法识别的时间「昨天」"),
        (["", "2026-07-01 08:00", "", "1", "m"], "「测站(station)」:为空"),
        (["A1", "2026-07-01 08:00", "", "nan", "m"], "不是有限数值"),
    ]:
        with pytest.raises(mapping.LineProblem) as err:
            mapping.parse_reading(cells, cols, labels, times)
        assert message in str(err.value)
