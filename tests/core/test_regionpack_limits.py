"""Region packs within limits: a file over YINGJI_REGIONPACK_MAX_BYTES is refused
from its size, JSON nested too deep and a CSV field beyond the csv module's limit
are problems of their file (listed, nothing imported), never exceptions."""

import pytest

from yingji.core import regionpack, regions


def problems(paths, **kwargs) -> list[str]:
    with pytest.raises(regionpack.RegionPackError) as caught:
        regionpack.read_pack(paths, **kwargs)
    return [str(p) for p in caught.value.problems]


def test_a_file_over_the_limit_is_refused_unread(tmp_path):
    path = tmp_path / "大区划.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}' + " " * 2000)
    assert problems([path], max_bytes=1000) == [
        "文件 大区划.geojson:文件过大:2,045 字节(0.0 MB),上限 1,000 字节(0.0 MB)"
    ]


def test_deep_json_and_a_huge_csv_field_are_problems_of_their_file(tmp_path):
    deep = tmp_path / "深.geojson"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    wide = tmp_path / "宽.csv"
    wide.write_text('code,name\n440100,"' + "广" * 200_000 + '"\n', encoding="utf-8")
    found = problems([deep, wide])
    assert found[0] == "文件 深.geojson:JSON 嵌套过深,无法读取"
    assert found[1].startswith("文件 宽.csv 第 ") and "CSV 格式错误" in found[1]


def test_the_setting_is_the_import_s_limit(db, tmp_path, settings):
    settings.YINGJI_REGIONPACK_MAX_BYTES = 100
    path = tmp_path / "区划.csv"
    path.write_text("code,name\n440100,广州市\n" + "\n" * 200, encoding="utf-8")
    with pytest.raises(regionpack.RegionPackError, match="上限 100 字节"):
        regions.import_files([path])
