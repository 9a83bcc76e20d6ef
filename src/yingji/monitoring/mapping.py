"""Column mapping for third-party sensor networks, pure (no Django): which column of
a station list or a readings file is which field, guessed from common Chinese and
English headers or given (`--map code=站码,lat=纬度`, or the import page's choices),
and the parsing of one row under a mapping. Every problem names the file, the line
and the field (its Chinese label and the column it came from).

Station rows become `Station` records (what would be stored); readings lines become
`(code, ts_ms, value, unit, parameter)` or a `LineProblem`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# field → (Chinese label, required, headers that mean it). Headers are compared
# normalised (lower case, without spaces, underscores, hyphens, dots, brackets).
STATION_FIELDS: dict[str, tuple[str, bool, tuple[str, ...]]] = {
    "code": (
        "编号",
        True,
        (
            "code",
            "编号",
            "站码",
            "测站编码",
            "测站编号",
            "站号",
            "站点编号",
            "设备编号",
            "传感器编号",
            "stationid",
            "stationcode",
            "stcd",
            "reference",
            "ref",
            "sensor",
            "id",
        ),
    ),
    "name": ("名称", True, ("name", "名称", "站名", "测站名称", "站点名称", "stationname", "stnm")),
    "type": ("类型", False, ("type", "类型", "传感器类型", "监测类型", "sensortype", "parameter")),
    "unit": ("单位", False, ("unit", "units", "单位", "计量单位")),
    "lon": ("经度", False, ("lon", "lng", "long", "longitude", "经度", "东经", "x")),
    "lat": ("纬度", False, ("lat", "latitude", "纬度", "北纬", "y")),
    "crs": ("坐标系", False, ("crs", "坐标系", "srid")),
    "region": (
        "区划代码",
        False,
        ("region", "regioncode", "区划代码", "行政区划代码", "区县代码", "adcode", "addvcd"),
    ),
    "department": ("权属部门", False, ("department", "权属部门", "管理单位", "owner")),
    "typical_high": (
        "常年高值",
        False,
        ("typicalhigh", "typicalrangehigh", "常年高值", "高值", "上限", "high", "max"),
    ),
    "typical_low": (
        "常年低值",
        False,
        ("typicallow", "typicalrangelow", "常年低值", "低值", "下限", "low", "min"),
    ),
}
READING_FIELDS: dict[str, tuple[str, bool, tuple[str, ...]]] = {
    "sensor": (
        "测站",
        True,
        (
            "sensor",
            "station",
            "code",
            "编号",
            "站码",
            "测站编码",
            "测站",
            "stationid",
            "stationreference",
            "stcd",
            "reference",
        ),
    ),
    "ts": (
        "时间",
        True,
        ("ts", "time", "datetime", "timestamp", "时间", "观测时间", "监测时间", "tm", "datetime"),
    ),
    "parameter": ("参数", False, ("parameter", "参数", "监测项目", "要素", "type")),
    "value": ("读数", True, ("value", "读数", "数值", "观测值", "监测值", "reading", "z", "drp")),
    "unit": ("单位", False, ("unit", "units", "单位", "unitname")),
}

MAX_CELL = 200  # characters in one cell (a code is ≤ 64, a name ≤ 100)
_NORMALISE = re.compile(r"[\s_\-./()()\[\]【】]+")
CST = dt.timezone(dt.timedelta(hours=8), "UTC+08:00")


class MappingError(ValueError):
    """A mapping that cannot apply (unknown field, column not in the file, a
    required field without a column), in Chinese, naming the file."""


def normalise(header: str) -> str:
    return _NORMALISE.sub("", str(header or "")).lower()


def parse_spec(spec: str, fields: Mapping[str, tuple] = STATION_FIELDS) -> dict[str, str]:
    """`code=站码,name=站名` → {"code": "站码", "name": "站名"}."""
    result: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in (spec or "").split(","))):
        key, sep, column = part.partition("=")
        key, column = key.strip(), column.strip()
        if not sep or not column:
            raise MappingError(f"--map 的「{part}」应为 字段=列名")
        if key not in fields:
            raise MappingError(f"--map 的字段「{key}」未知(可用:{', '.join(fields)})")
        result[key] = column
    return result


def guess(header: Sequence[str], fields: Mapping[str, tuple] = STATION_FIELDS) -> dict[str, int]:
    """field → column index from the headers (first match in alias order wins;
    each column serves one field)."""
    norm = [normalise(h) for h in header]
    taken: set[int] = set()
    found: dict[str, int] = {}
    for key, (label, _required, aliases) in fields.items():
        for alias in (normalise(label), *map(normalise, aliases)):
            idx = next((i for i, h in enumerate(norm) if h == alias and i not in taken), None)
            if idx is not None:
                found[key] = idx
                taken.add(idx)
                break
    return found


def resolve(
    header: Sequence[str],
    given: Mapping[str, str] | None,
    filename: str,
    fields: Mapping[str, tuple] = STATION_FIELDS,
    *,
    guess_rest: bool = True,
) -> dict[str, int]:
    """The column index of each field: the given ones (column names, or 1-based
    numbers), the rest guessed. Raises MappingError naming the file and column."""
    columns = {str(h).strip(): i for i, h in enumerate(header)}
    result = guess(header, fields) if guess_rest else {}
    chosen: dict[str, int] = {}
    for key, column in (given or {}).items():
        if key not in fields:
            raise MappingError(f"{filename}:未知字段「{key}」")
        if column == "":
            result.pop(key, None)
            continue
        if column in columns:
            chosen[key] = columns[column]
        elif column.isdigit() and 1 <= int(column) <= len(header):
            chosen[key] = int(column) - 1
        else:
            raise MappingError(
                f"{filename}:没有列「{column}」(字段 {fields[key][0]});文件的列为:"
                + "、".join(str(h) for h in header)
            )
    # A column given for one field is no longer guessed for another.
    result = {k: i for k, i in result.items() if i not in chosen.values()} | chosen
    missing = [
        fields[k][0] for k, (_l, required, _a) in fields.items() if required and k not in result
    ]
    if missing:
        raise MappingError(f"{filename}:未指定{'、'.join(missing)}所在的列")
    return result


@dataclass(frozen=True)
class Problem:
    """One bad row: where, which field (label and column) and why."""

    filename: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.filename} 第 {self.line} 行"
        return f"{where}「{self.field}」:{self.reason}" if self.field else f"{where}:{self.reason}"


@dataclass
class Station:
    line: int
    code: str
    name: str
    type: str
    unit: str
    lon: float | None
    lat: float | None
    crs: str = "wgs84"
    region: str = ""
    department: str = ""
    typical_high: float | None = None
    typical_low: float | None = None

    @property
    def has_coords(self) -> bool:
        return self.lon is not None and self.lat is not None


@dataclass
class StationParse:
    stations: list[Station] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _cell(row: Sequence, idx: int | None) -> str:
    if idx is None or idx >= len(row):
        return ""
    v = row[idx]
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v).strip()


def _number(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise ValueError
    return v


def parse_stations(
    header: Sequence[str],
    rows: Iterable[tuple[int, Sequence]],
    columns: Mapping[str, int],
    filename: str,
    *,
    types: Mapping[str, str],
    default_units: Mapping[str, str],
    default_type: str = "",
) -> StationParse:
    """Station rows under a mapping. `types` maps a type value or label (or a
    network's parameter name) to the registry's type; `default_type` serves rows
    without a type column. Coordinates may be missing (both empty): the station is
    kept with lon/lat None and the caller decides (skip, or the region's centre)."""
    out = StationParse()

    def label(key: str) -> str:
        idx = columns.get(key)
        col = str(header[idx]).strip() if idx is not None and idx < len(header) else ""
        name = STATION_FIELDS[key][0]
        return f"{name}({col})" if col and col != name else name

    seen: dict[str, int] = {}
    for line, row in rows:
        v = {k: _cell(row, i) for k, i in columns.items()}
        bad = [k for k, text in v.items() if len(text) > MAX_CELL]
        if bad:
            out.problems.append(
                Problem(filename, line, label(bad[0]), f"内容过长(超过 {MAX_CELL} 个字符)")
            )
            continue
        missing = [k for k in ("code", "name") if not v.get(k)]
        if missing:
            out.problems.append(Problem(filename, line, label(missing[0]), "为空"))
            continue
        if len(v["code"]) > 64:
            out.problems.append(Problem(filename, line, label("code"), "超过 64 个字符"))
            continue
        if v["code"] in seen:
            out.problems.append(
                Problem(filename, line, label("code"), f"与第 {seen[v['code']]} 行重复")
            )
            continue
        raw_type = v.get("type") or default_type
        stype = types.get(raw_type) or types.get(normalise(raw_type))
        if not stype:
            out.problems.append(
                Problem(
                    filename,
                    line,
                    label("type") if v.get("type") else "类型",
                    f"未知传感器类型「{raw_type}」" if raw_type else "为空(请指定类型列或默认类型)",
                )
            )
            continue
        lon = lat = None
        if v.get("lon") or v.get("lat"):
            try:
                lon, lat = _number(v.get("lon", "")), _number(v.get("lat", ""))
            except ValueError:
                key = "lon" if not _is_number(v.get("lon", "")) else "lat"
                out.problems.append(
                    Problem(filename, line, label(key), f"不是数值「{v.get(key, '')}」")
                )
                continue
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                out.problems.append(
                    Problem(filename, line, label("lon"), f"经纬度超出范围({lon}, {lat})")
                )
                continue
        limits: dict[str, float | None] = {}
        for key in ("typical_high", "typical_low"):
            text = v.get(key, "")
            try:
                limits[key] = _number(text) if text else None
            except ValueError:
                out.problems.append(Problem(filename, line, label(key), f"不是数值「{text}」"))
                break
        else:
            crs = (v.get("crs") or "wgs84").lower()
            if crs not in ("wgs84", "gcj02", "bd09"):
                out.problems.append(
                    Problem(
                        filename, line, label("crs"), f"应为 wgs84、gcj02 或 bd09,实为「{crs}」"
                    )
                )
                continue
            out.stations.append(
                Station(
                    line=line,
                    code=v["code"],
                    name=v["name"][:100],
                    type=stype,
                    unit=(v.get("unit") or default_units.get(stype, ""))[:16],
                    lon=lon,
                    lat=lat,
                    crs=crs,
                    region=v.get("region", ""),
                    department=v.get("department", ""),
                    **limits,
                )
            )
            seen[v["code"]] = line
    return out


def _is_number(text: str) -> bool:
    try:
        _number(text)
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------- readings


class LineProblem(ValueError):
    """A bad readings line: the field (label) and the reason."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"「{field}」:{reason}")
        self.field, self.reason = field, reason


class TimeParser:
    """Times of a readings file: epoch milliseconds (or seconds, 10 digits), ISO 8601
    with an offset, or a local time without one (taken in `tz`, the bureau's
    UTC+08:00 by default). Cached per distinct text: a network's file repeats each
    time once per station."""

    def __init__(self, tz: dt.tzinfo = CST, cache_size: int = 100_000):
        self.tz, self.cache, self.cache_size = tz, {}, cache_size

    def __call__(self, text: str) -> int:
        ms = self.cache.get(text)
        if ms is not None:
            return ms
        ms = self._parse(text)
        if len(self.cache) < self.cache_size:
            self.cache[text] = ms
        return ms

    def _parse(self, text: str) -> int:
        if not text:
            raise ValueError("为空")
        if text.isdigit():
            n = int(text)
            ms = n * 1000 if len(text) == 10 else n
        else:
            try:
                if len(text) > 40:
                    raise ValueError
                t = dt.datetime.fromisoformat(text.replace("/", "-"))
            except ValueError:
                raise ValueError(f"无法识别的时间「{text[:40]}」") from None
            if t.tzinfo is None:
                t = t.replace(tzinfo=self.tz)
            ms = int(t.timestamp() * 1000)
        if not 0 <= ms <= 253_402_300_799_999:
            raise ValueError(f"时间超出范围「{text[:40]}」")
        return ms


def parse_value(text: str) -> float:
    """One reading's value; the network's known defects named."""
    if not text:
        raise ValueError("为空")
    if "|" in text:
        raise ValueError(f"一格中有多个读数「{text[:40]}」")
    try:
        v = float(text)
    except ValueError:
        raise ValueError(f"不是数值「{text[:40]}」") from None
    if not math.isfinite(v):
        raise ValueError(f"不是有限数值「{text[:40]}」")
    return v


def reading_labels(header: Sequence[str], columns: Mapping[str, int]) -> dict[str, str]:
    """field → the label a problem names: 读数(value)."""
    out = {}
    for key, (name, _r, _a) in READING_FIELDS.items():
        idx = columns.get(key)
        col = str(header[idx]).strip() if idx is not None and idx < len(header) else ""
        out[key] = f"{name}({col})" if col and col != name else name
    return out


def parse_reading(
    row: Sequence[str],
    columns: Mapping[str, int],
    labels: Mapping[str, str],
    times: TimeParser,
) -> tuple[str, int, float, str, str]:
    """(code, ts_ms, value, unit, parameter) of one line, or LineProblem."""
    n = len(row)
    i = columns["sensor"]
    code = row[i].strip() if i < n else ""
    if not code:
        raise LineProblem(labels["sensor"], "为空")
    if len(code) > 64:
        raise LineProblem(labels["sensor"], "超过 64 个字符")
    i = columns["ts"]
    try:
        ts = times(row[i].strip() if i < n else "")
    except ValueError as exc:
        raise LineProblem(labels["ts"], str(exc)) from None
    i = columns["value"]
    try:
        value = parse_value(row[i].strip() if i < n else "")
    except ValueError as exc:
        raise LineProblem(labels["value"], str(exc)) from None
    i = columns.get("unit")
    unit = row[i].strip() if i is not None and i < n else ""
    if len(unit) > 16:
        raise LineProblem(labels["unit"], "超过 16 个字符")
    i = columns.get("parameter")
    parameter = row[i].strip() if i is not None and i < n else ""
    return code, ts, value, unit, parameter[:MAX_CELL]


def reading_parser(columns: Mapping[str, int], labels: Mapping[str, str], times: TimeParser):
    """`parse_reading` with the columns bound (the import's hot loop: about twice as
    fast as passing them per line)."""
    ci, ti, vi = columns["sensor"], columns["ts"], columns["value"]
    ui, pi = columns.get("unit"), columns.get("parameter")
    width = max(i for i in (ci, ti, vi, ui, pi) if i is not None) + 1
    ts_l, value_l = labels["ts"], labels["value"]
    cache = times.cache

    def parse(row: Sequence[str]) -> tuple[str, int, float, str, str]:
        if len(row) < width:
            return parse_reading(row, columns, labels, times)  # its own messages
        code = row[ci].strip()
        if not code or len(code) > 64:
            return parse_reading(row, columns, labels, times)
        text = row[ti]
        ts = cache.get(text)
        if ts is None:
            try:
                ts = times(text.strip())
            except ValueError as exc:
                raise LineProblem(ts_l, str(exc)) from None
        text = row[vi]
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or "|" in text:
            try:
                value = parse_value(text.strip())
            except ValueError as exc:
                raise LineProblem(value_l, str(exc)) from None
        unit = row[ui].strip() if ui is not None else ""
        if len(unit) > 16:
            raise LineProblem(labels["unit"], "超过 16 个字符")
        return code, ts, value, unit, (row[pi].strip()[:MAX_CELL] if pi is not None else "")

    return parse
