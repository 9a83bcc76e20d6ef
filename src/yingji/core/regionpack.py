"""Read and validate a region pack, pure (no Django).

A pack is one or more files describing administrative divisions:

- GeoJSON FeatureCollection (.geojson, .json): one Feature per region with
  properties `code`, `name`, optional `level`, optional `parent`, optional `crs`
  ("wgs84" default, "gcj02" or "bd09": converted to WGS-84), optional `source`
  (where the boundary comes from); geometry Polygon, MultiPolygon or null.
- CSV (.csv, UTF-8 or GB18030): columns `code,name` and optionally `level`,
  `parent_code` (or `district_code`, as in the NBS streets file), `lon,lat` (a
  representative point) and `crs` for that point.

Levels follow the code (GB/T 2260 + NBS): 6 digits ending in 00 is a city, other
6 digits a district, 9 digits a street or town, 12 digits a community or village.
A missing parent is derived from the code prefix.

`read_pack` checks everything before it returns and raises `RegionPackError`
listing every problem with its place (file, feature or line, property or column),
so nothing half-valid ever reaches the database. A file larger than `max_bytes`
(the setting YINGJI_REGIONPACK_MAX_BYTES) is refused from its size before it is
read; JSON nested too deep to decode and CSV fields beyond the csv module's limit
are problems of their file, never exceptions.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from yingji.core import geo
from yingji.core.regioncodes import level_of, parent_of

LEVELS = ("city", "district", "street", "community")
LEVEL_LABELS = {"city": "市", "district": "区", "street": "镇街", "community": "村居"}
# Chinese level names accepted on input, beside the English values.
_LEVEL_ALIASES = {
    "市": "city",
    "区": "district",
    "县": "district",
    "区县": "district",
    "镇街": "street",
    "街道": "street",
    "镇": "street",
    "乡": "street",
    "乡镇": "street",
    "村居": "community",
    "社区": "community",
    "村": "community",
}
_PARENT_LEVEL = {"district": "city", "street": "district", "community": "street"}
NAME_MAX_LENGTH = 64  # Region.name max_length
SOURCE_MAX_LENGTH = 200  # Region.boundary_source max_length
# make_valid may repair a geometry only when the area moves by at most this share.
MAX_REPAIR_AREA_CHANGE = 0.01
DEFAULT_MAX_BYTES = 100 * 1024 * 1024  # one file of a pack


@dataclass(frozen=True)
class Problem:
    """One finding, with the place it was found."""

    place: str
    message: str

    def __str__(self) -> str:
        return f"{self.place}:{self.message}"


class RegionPackError(ValueError):
    """The pack is invalid; `problems` lists every problem with its place."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"区划数据包有 {len(self.problems)} 处问题,未导入任何数据:\n{lines}")


@dataclass(frozen=True)
class RegionRecord:
    """One validated region, coordinates in WGS-84."""

    code: str
    name: str
    level: str
    parent: str | None
    geometry: BaseGeometry | None = None
    lon: float | None = None
    lat: float | None = None
    source: str = ""
    file: str = ""
    place: str = ""


@dataclass
class RegionPack:
    """The validated content of a pack: records with parents before children,
    and notes on what was repaired on the way (not errors)."""

    records: list[RegionRecord]
    notes: list[Problem] = field(default_factory=list)

    def by_level(self, level: str) -> list[RegionRecord]:
        """The records of one level, in code order."""
        return [r for r in self.records if r.level == level]


def _check_code(raw: Any, problems: list[Problem], place: str) -> str | None:
    if isinstance(raw, bool) or raw is None or raw == "":
        problems.append(Problem(place, "缺少区划代码"))
        return None
    code = str(raw).strip() if isinstance(raw, str | int) else None
    if code is None or level_of(code) is None:
        problems.append(Problem(place, f"区划代码须为 6、9 或 12 位数字,实为 {raw!r}"))
        return None
    return code


def _check_name(raw: Any, problems: list[Problem], place: str) -> str | None:
    name = raw.strip() if isinstance(raw, str) else ""
    if not name:
        problems.append(Problem(place, "缺少名称"))
        return None
    if len(name) > NAME_MAX_LENGTH:
        problems.append(Problem(place, f"名称超过 {NAME_MAX_LENGTH} 字"))
        return None
    return name


def _check_level(raw: Any, code: str | None, problems: list[Problem], place: str) -> str | None:
    derived = level_of(code) if code else None
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return derived
    text = str(raw).strip()
    level = text.lower() if text.lower() in LEVELS else _LEVEL_ALIASES.get(text)
    if level is None:
        problems.append(Problem(place, f"层级 {text!r} 无效,应为 city/district/street/community"))
        return None
    if derived is not None and level != derived:
        problems.append(
            Problem(
                place,
                f"层级 {text} 与代码 {code}({len(code)} 位)不符,该代码应为"
                f"{LEVEL_LABELS[derived]}级({derived})",
            )
        )
        return None
    return level


def _check_parent(raw: Any, code: str | None, problems: list[Problem], place: str) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return parent_of(code) if code else None
    parent = str(raw).strip() if isinstance(raw, str | int) and not isinstance(raw, bool) else ""
    if level_of(parent) is None:
        problems.append(Problem(place, f"上级代码须为 6、9 或 12 位数字,实为 {raw!r}"))
        return None
    return parent


def _check_crs(raw: Any, problems: list[Problem], place: str) -> str | None:
    if raw is None or raw == "":
        return "wgs84"
    try:
        return geo.normalise_crs(str(raw))
    except ValueError:
        problems.append(Problem(place, f"坐标系 {raw!r} 不支持,应为 wgs84、gcj02 或 bd09"))
        return None


def _coordinates_in_range(geometry: BaseGeometry) -> bool:
    minx, miny, maxx, maxy = geometry.bounds
    # Written so that NaN fails every comparison and is reported too.
    return -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90


def _check_geometry(
    raw: Any, crs: str | None, problems: list[Problem], notes: list[Problem], place: str
) -> BaseGeometry | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        kind = raw.get("type") if isinstance(raw, dict) else type(raw).__name__
        problems.append(Problem(place, f"几何类型须为 Polygon 或 MultiPolygon,实为 {kind}"))
        return None
    try:
        geometry = shapely.geometry.shape(raw)
    except Exception as exc:  # shapely raises many types for malformed coordinates
        problems.append(Problem(place, f"几何坐标无法解析:{exc}"))
        return None
    if geometry.is_empty:
        problems.append(Problem(place, "几何为空"))
        return None
    if not _coordinates_in_range(geometry):
        problems.append(Problem(place, "坐标超出经纬度范围(经度 ±180、纬度 ±90),是否为投影坐标?"))
        return None
    if crs is None:
        return None  # the crs problem is already reported
    geometry = geo.geometry_to_wgs84(geometry, crs)
    if geometry.is_valid:
        return geometry
    reason = shapely.is_valid_reason(geometry)
    repaired = geo.polygonal(shapely.make_valid(geometry))
    area = geometry.area
    change = abs(repaired.area - area) / area if area > 0 else math.inf
    if repaired.is_empty or change > MAX_REPAIR_AREA_CHANGE:
        shown = "无法估计" if math.isinf(change) else f"{change:.1%}"
        problems.append(
            Problem(place, f"几何无效({reason}),自动修复会使面积变化 {shown}(超过 1%),请修正源数据")
        )
        return None
    notes.append(Problem(place, f"几何无效({reason}),已自动修复,面积变化 {change:.3%}"))
    return repaired


def _file_problem(path: Path, message: str) -> RegionPackError:
    return RegionPackError([Problem(f"文件 {path.name}", message)])


# ------------------------------------------------------------------------- GeoJSON


def _read_geojson(path: Path, problems: list[Problem], notes: list[Problem]) -> list[RegionRecord]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except RecursionError:
        problems.append(Problem(f"文件 {path.name}", "JSON 嵌套过深,无法读取"))
        return []
    except json.JSONDecodeError as exc:
        problems.append(
            Problem(
                f"文件 {path.name} 第 {exc.lineno} 行第 {exc.colno} 列",
                f"不是有效的 JSON:{exc.msg}",
            )
        )
        return []
    except UnicodeDecodeError:
        problems.append(Problem(f"文件 {path.name}", "GeoJSON 须为 UTF-8 编码"))
        return []
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        problems.append(Problem(f"文件 {path.name}", "须为 GeoJSON FeatureCollection"))
        return []
    # Old-style (2008) GeoJSON may name a projected CRS; only lon/lat data is accepted.
    declared = data.get("crs")
    named_crs = ""
    if isinstance(declared, dict) and isinstance(declared.get("properties"), dict):
        named_crs = str(declared["properties"].get("name") or "")
    if named_crs and not any(k in named_crs.upper() for k in ("CRS84", "4326")):
        problems.append(
            Problem(
                f"文件 {path.name} crs",
                f"坐标参考系 {named_crs} 不支持:"
                "请使用经纬度(WGS-84,或在要素属性 crs 中注明 gcj02/bd09)",
            )
        )
        return []
    features = data.get("features")
    if not isinstance(features, list):
        problems.append(Problem(f"文件 {path.name} features", "缺少 features 数组"))
        return []
    records = []
    for i, feature in enumerate(features):
        where = f"文件 {path.name} 第 {i + 1} 个要素(features[{i}])"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(Problem(where, "不是 GeoJSON Feature"))
            continue
        props = feature.get("properties")
        if not isinstance(props, dict):
            problems.append(Problem(f"{where} properties", "缺少 properties 对象"))
            continue
        before = len(problems)
        code = _check_code(props.get("code"), problems, f"{where} 属性 code")
        name = _check_name(props.get("name"), problems, f"{where} 属性 name")
        level = _check_level(props.get("level"), code, problems, f"{where} 属性 level")
        parent = _check_parent(props.get("parent"), code, problems, f"{where} 属性 parent")
        crs = _check_crs(props.get("crs"), problems, f"{where} 属性 crs")
        geometry = _check_geometry(
            feature.get("geometry"), crs, problems, notes, f"{where} geometry"
        )
        source = str(props.get("source") or "").strip()[:SOURCE_MAX_LENGTH]
        if len(problems) == before:
            records.append(
                RegionRecord(
                    code=code,
                    name=name,
                    level=level,
                    parent=parent,
                    geometry=geometry,
                    source=source,
                    file=path.name,
                    place=where,
                )
            )
    return records


# ----------------------------------------------------------------------------- CSV

_CSV_COLUMNS = {"code", "name", "level", "parent_code", "district_code", "lon", "lat", "crs"}


def _decode(path: Path) -> str | None:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _check_point(
    row: dict[str, str], problems: list[Problem], where: str
) -> tuple[float, float] | None:
    lon_text, lat_text = row.get("lon", "").strip(), row.get("lat", "").strip()
    if not lon_text and not lat_text:
        return None
    if not lon_text or not lat_text:
        missing = "lon" if not lon_text else "lat"
        problems.append(Problem(f"{where} {missing} 列", "经度与纬度须同时填写"))
        return None
    try:
        lon, lat = float(lon_text), float(lat_text)
    except ValueError:
        problems.append(Problem(f"{where} lon/lat 列", f"经纬度不是数值:{lon_text}, {lat_text}"))
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        problems.append(Problem(f"{where} lon/lat 列", f"经纬度超出范围:{lon_text}, {lat_text}"))
        return None
    crs = _check_crs(row.get("crs", "").strip(), problems, f"{where} crs 列")
    return geo.to_wgs84(lon, lat, crs) if crs else None


def _read_csv(path: Path, problems: list[Problem]) -> list[RegionRecord]:
    text = _decode(path)
    if text is None:
        problems.append(Problem(f"文件 {path.name}", "无法识别编码,请保存为 UTF-8"))
        return []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _csv_records(path, reader, problems)
    except csv.Error as exc:  # e.g. a field beyond csv.field_size_limit()
        problems.append(Problem(f"文件 {path.name} 第 {reader.line_num} 行", f"CSV 格式错误:{exc}"))
        return []


def _csv_records(path: Path, reader: Any, problems: list[Problem]) -> list[RegionRecord]:
    header_row = next(reader, None)
    if header_row is None:
        problems.append(Problem(f"文件 {path.name}", "文件为空"))
        return []
    header = [h.strip().lower() for h in header_row]
    where_header = f"文件 {path.name} 第 1 行(表头)"
    missing = [c for c in ("code", "name") if c not in header]
    if missing:
        problems.append(Problem(where_header, f"缺少列 {', '.join(missing)}"))
        return []
    if "parent_code" in header and "district_code" in header:
        problems.append(Problem(where_header, "parent_code 与 district_code 只能有一列"))
        return []
    duplicated = sorted({h for h in header if h in _CSV_COLUMNS and header.count(h) > 1})
    if duplicated:
        problems.append(Problem(where_header, f"列名重复:{', '.join(duplicated)}"))
        return []
    parent_column = "district_code" if "district_code" in header else "parent_code"
    records = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        where = f"文件 {path.name} 第 {line} 行"
        if len(values) != len(header):
            problems.append(Problem(where, f"应有 {len(header)} 列,实有 {len(values)} 列"))
            continue
        row = dict(zip(header, values, strict=True))
        before = len(problems)
        code = _check_code(row["code"], problems, f"{where} code 列")
        name = _check_name(row["name"], problems, f"{where} name 列")
        level = _check_level(row.get("level"), code, problems, f"{where} level 列")
        parent = _check_parent(
            row.get(parent_column), code, problems, f"{where} {parent_column} 列"
        )
        point = _check_point(row, problems, where)
        if len(problems) == before:
            lon, lat = point if point else (None, None)
            records.append(
                RegionRecord(
                    code=code,
                    name=name,
                    level=level,
                    parent=parent,
                    lon=lon,
                    lat=lat,
                    file=path.name,
                    place=where,
                )
            )
    return records


# ---------------------------------------------------------------------------- pack


def read_pack(
    paths: Iterable[str | Path],
    *,
    existing_codes: Iterable[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> RegionPack:
    """Read every file of a pack and validate it as a whole.

    A parent must be in the pack or among `existing_codes` (regions already in
    the database); a file larger than `max_bytes` is refused unread. Raises
    RegionPackError with every problem found.
    """
    problems: list[Problem] = []
    notes: list[Problem] = []
    records: list[RegionRecord] = []
    paths = [Path(p) for p in paths]
    if not paths:
        raise RegionPackError([Problem("数据包", "没有给出任何文件")])
    for path in paths:
        if not path.is_file():
            problems.append(Problem(f"文件 {path}", "文件不存在"))
        elif (size := path.stat().st_size) > max_bytes:
            problems.append(
                Problem(
                    f"文件 {path.name}",
                    f"文件过大:{size:,} 字节({size / 1048576:.1f} MB),"
                    f"上限 {max_bytes:,} 字节({max_bytes / 1048576:.1f} MB)",
                )
            )
        elif path.suffix.lower() in (".geojson", ".json"):
            records.extend(_read_geojson(path, problems, notes))
        elif path.suffix.lower() == ".csv":
            records.extend(_read_csv(path, problems))
        else:
            problems.append(Problem(f"文件 {path.name}", "只支持 .geojson/.json 与 .csv 文件"))

    first_seen: dict[str, RegionRecord] = {}
    for record in records:
        if record.code in first_seen:
            problems.append(
                Problem(
                    record.place,
                    f"区划代码 {record.code} 重复,已见于{first_seen[record.code].place}",
                )
            )
        else:
            first_seen[record.code] = record
    known_levels = {code: level_of(code) for code in existing_codes}
    known_levels.update({code: r.level for code, r in first_seen.items()})
    for record in first_seen.values():
        if record.level == "city":
            if record.parent is not None:
                problems.append(Problem(record.place, "市级区划不设上级(平台不含省级区划)"))
            continue
        if record.parent is None:
            problems.append(Problem(record.place, "缺少上级区划"))
            continue
        if record.parent not in known_levels:
            problems.append(
                Problem(record.place, f"上级区划 {record.parent} 既不在本数据包中,也不在已有区划中")
            )
            continue
        wanted = _PARENT_LEVEL.get(record.level)
        if known_levels[record.parent] != wanted:
            problems.append(
                Problem(
                    record.place,
                    f"上级区划 {record.parent} 的层级应为{LEVEL_LABELS.get(wanted or '', '无')}级",
                )
            )
    if problems:
        raise RegionPackError(problems)
    ordered = sorted(first_seen.values(), key=lambda r: (LEVELS.index(r.level), r.code))
    return RegionPack(records=ordered, notes=notes)
