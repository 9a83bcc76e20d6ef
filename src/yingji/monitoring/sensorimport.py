"""Imports from third-party sensor networks: a station list in any CSV or Excel
layout (under a column mapping, mapping.py) and a readings file.

Stations: `plan_stations` reads and checks everything and computes each sensor as
it would be stored (coordinates in WGS-84, district and street, the department, the
unit and typical range in the canonical unit) without writing; `apply_stations`
writes a plan in one transaction, audited (one audit entry per sensor created or
changed, written in bulk through the audit chain). A user creates or changes only
sensors within what they may edit (their department, or their district or street
before and after the import); a command (no user) may change every sensor.

Readings: `import_readings` stores the good lines through the bulk path (COPY into
a staging table on PostgreSQL, then `INSERT … ON CONFLICT DO NOTHING`), dead-letters
each bad line with its file, line and reason, and counts stored, duplicate and
dead-lettered readings; `strict=True` refuses the whole file at the first bad line.
Values are converted to the sensor type's canonical unit (units.py).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from yingji.core import audit, departments, geo, inputlimits, metrics, partitioning, regions
from yingji.monitoring import mapping, pgcopy, services, timeparts
from yingji.monitoring.models import TYPE_UNITS, DeadLetter, Sensor, SensorType
from yingji.monitoring.units import UnitError, canonical_unit, to_canonical

MonitoringError = services.MonitoringError

# ------------------------------------------------------------------ units


class Converter:
    """Unit conversion for many values: each (unit, type) pair is asked once and
    kept as the affine map it is (a·x + b, checked at a third point; a pair that is
    not affine is asked per value)."""

    def __init__(self) -> None:
        self.maps: dict[tuple[str, str], tuple[float, float] | None | Exception] = {}

    def __call__(self, value: float, unit: str, sensor_type: str) -> float:
        key = (unit, sensor_type)
        m = self.maps.get(key, self)
        if m is self:
            m = self.maps[key] = self._fit(unit, sensor_type)
        if isinstance(m, Exception):
            raise m
        if m is None:
            return to_canonical(value, unit, sensor_type)
        return m[0] * value + m[1]

    def affine(self, unit: str, sensor_type: str):
        """(a, b) for the pair, None when not affine, or the UnitError."""
        key = (unit, sensor_type)
        if key not in self.maps:
            self.maps[key] = self._fit(unit, sensor_type)
        return self.maps[key]

    @staticmethod
    def _fit(unit: str, sensor_type: str):
        try:
            b = to_canonical(0.0, unit, sensor_type)
            a = to_canonical(1.0, unit, sensor_type) - b
            probe = to_canonical(1000.0, unit, sensor_type)
        except UnitError as exc:
            return exc
        except (TypeError, ValueError) as exc:
            return exc
        return (a, b) if abs(a * 1000.0 + b - probe) <= 1e-9 * max(1.0, abs(probe)) else None


# ------------------------------------------------------------------ reading files


@dataclass
class Table:
    """A station list as read: its header and (line number, cells) rows."""

    filename: str
    header: list[str]
    rows: list[tuple[int, tuple]]


def _decode(raw: bytes, filename: str) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise MonitoringError(f"{filename}:无法识别文件编码(应为 UTF-8 或 GB18030)")


def _is_excel(filename: str) -> bool:
    return filename.lower().endswith((".xlsx", ".xlsm"))


def _csv_rows(text: str, filename: str) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text))
    try:
        yield from reader
    except csv.Error as exc:
        raise MonitoringError(f"{filename} 第 {reader.line_num} 行:CSV 格式错误({exc})") from None


def read_table(data: bytes, filename: str) -> Table:
    """A station list (CSV in UTF-8 or GB18030, or .xlsx), within the upload limits."""
    if problem := inputlimits.size_problem(len(data), filename):
        raise MonitoringError(problem)
    rows = (
        services.excel_rows(data, filename, "YINGJI_XLSX_MAX_BYTES")
        if _is_excel(filename)
        else (_csv_rows(_decode(data, filename), filename))
    )
    header: list[str] | None = None
    body: list[tuple[int, tuple]] = []
    for n, row in enumerate(rows, 1):
        if header is None:
            header = [str(h if h is not None else "").strip() for h in row]
            continue
        if any(v not in (None, "") for v in row):
            body.append((n, tuple(row)))
    if not header or not any(header):
        raise MonitoringError(f"{filename}:没有表头(第一行应为列名)")
    return Table(filename, header, body)


def read_path(path: str | Path, limit_setting: str = "YINGJI_XLSX_MAX_BYTES") -> bytes:
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise MonitoringError(f"{path.name}:无法读取文件({exc.strerror or exc})") from None
    if problem := inputlimits.size_problem(size, path.name, limit_setting):  # before reading
        raise MonitoringError(problem)
    return path.read_bytes()


# ------------------------------------------------------------------ stations

TYPES = (
    {c.value: c.value for c in SensorType}
    | {c.label: c.value for c in SensorType}
    | {mapping.normalise(c.value): c.value for c in SensorType}
    # the parameter names of hydrology and weather networks
    | {
        "雨量": "rain",
        "降雨量": "rain",
        "降水量": "rain",
        "rainfall": "rain",
        "precipitation": "rain",
        "水位": "water_level",
        "河道水位": "water_level",
        "level": "water_level",
        "waterlevel": "water_level",
        "stage": "water_level",
        "积水": "waterlogging",
        "积水深度": "waterlogging",
        "风速": "wind_speed",
        "windspeed": "wind_speed",
        "温度": "temperature",
        "气温": "temperature",
    }
)
NO_COORDS = {"skip": "跳过", "region": "放在所在区划的中心"}


@dataclass
class PlannedSensor:
    """One sensor as it would be stored."""

    line: int
    code: str
    name: str
    type: str
    unit: str
    lon: float
    lat: float
    district_id: str | None
    street_id: str | None
    department_id: int | None
    typical_high: float | None
    typical_low: float | None
    thresholds: dict[str, float]
    action: str  # "create" / "update" / "same"
    placed: bool = False  # at its region's centre (no coordinates in the file)
    file_unit: str = ""

    @property
    def type_label(self) -> str:
        return SensorType(self.type).label

    @property
    def action_label(self) -> str:
        return {"create": "新增", "update": "更新", "same": "无变化"}[self.action]


@dataclass
class StationPlan:
    filename: str
    header: list[str]
    columns: dict[str, int]
    sensors: list[PlannedSensor] = field(default_factory=list)
    problems: list[mapping.Problem] = field(default_factory=list)
    skipped: list[mapping.Problem] = field(default_factory=list)  # no coordinates
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> dict[str, int]:
        c = {"create": 0, "update": 0, "same": 0}
        for s in self.sensors:
            c[s.action] += 1
        return c


@dataclass
class StationResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    placed: int = 0

    def summary(self) -> str:
        text = f"新增 {self.created} 个、更新 {self.updated} 个传感器"
        if self.unchanged:
            text += f",{self.unchanged} 个无变化"
        if self.placed:
            text += f";{self.placed} 个无坐标的测站放在所在区划的中心"
        if self.skipped:
            text += f";{self.skipped} 个无坐标的测站已跳过"
        return text


# The typical range is kept among the sensor's named thresholds (Sensor.thresholds,
# in the canonical unit), where a rule can reference it by name.
THRESHOLD_NAMES = {"typical_high": "常年高值", "typical_low": "常年低值"}


def _region_centres(codes: set[str]) -> dict[str, tuple[float, float]]:
    from yingji.core.models import Region

    out = {}
    for code, lon, lat, boundary in Region.objects.filter(code__in=codes).values_list(
        "code", "centroid_lon", "centroid_lat", "boundary"
    ):
        if lon is None or lat is None:
            if not boundary:
                continue
            from shapely.geometry import shape

            point = shape(boundary).representative_point()
            lon, lat = point.x, point.y
        out[code] = (float(lon), float(lat))
    return out


def _editing(user: Any):
    from yingji.core.scope import scope_or_system

    return scope_or_system(user).editing()


def _place(code: str | None) -> str:
    return (regions.describe([code]) if code else "") or "未知区域"


def _may_edit(scope, department_id, district_id, street_id) -> bool:
    if scope.edits_all:
        return True
    return scope.can_edit_department(department_id) or any(
        code and scope.covers_region(code) for code in (street_id, district_id)
    )


def plan_stations(
    table: Table,
    given: Mapping[str, str] | None = None,
    *,
    user: Any = None,
    no_coords: str = "skip",
    default_type: str = "",
) -> StationPlan:
    """Everything checked and each sensor computed as it would be stored; nothing
    written. Raises MonitoringError when the mapping cannot apply."""
    try:
        columns = mapping.resolve(table.header, given, table.filename)
    except mapping.MappingError as exc:
        raise MonitoringError(str(exc)) from None
    if no_coords not in NO_COORDS:
        raise MonitoringError(f"无坐标测站的处理应为 {' 或 '.join(NO_COORDS)}")
    plan = StationPlan(table.filename, table.header, columns, rows=len(table.rows))
    parsed = mapping.parse_stations(
        table.header,
        table.rows,
        columns,
        table.filename,
        types=TYPES,
        default_units=TYPE_UNITS,
        default_type=default_type,
    )
    plan.problems = parsed.problems
    stations = []
    centres = _region_centres(
        {s.region for s in parsed.stations if not s.has_coords and s.region}
        if no_coords == "region"
        else set()
    )
    for s in parsed.stations:
        if s.has_coords:
            try:
                s.lon, s.lat = geo.to_wgs84(s.lon, s.lat, s.crs)
            except ValueError as exc:
                plan.problems.append(mapping.Problem(table.filename, s.line, "经纬度", str(exc)))
                continue
            stations.append((s, False))
        elif no_coords == "region" and s.region in centres:
            s.lon, s.lat = centres[s.region]
            stations.append((s, True))
        else:
            reason = "无坐标,已跳过"
            if no_coords == "region":
                reason = (
                    f"无坐标,区划代码「{s.region}」未知,已跳过"
                    if s.region
                    else "无坐标且无区划代码,已跳过"
                )
            plan.skipped.append(mapping.Problem(table.filename, s.line, "", f"{s.code} {reason}"))
    if not stations:
        return plan
    found = regions.lookup_codes_many([s.lon for s, _ in stations], [s.lat for s, _ in stations])
    codes = [s.code for s, _ in stations]
    existing = {}
    for i in range(0, len(codes), 5000):
        for sensor in Sensor.objects.filter(code__in=codes[i : i + 5000]):
            existing[sensor.code] = sensor
    depts: dict[str, int | None] = {}
    scope = _editing(user)
    convert = Converter()
    for (s, placed), district, street in zip(
        stations, found["district"], found["street"], strict=True
    ):
        if placed and s.region:  # the region said where it is
            district = district or (s.region[:6] if len(s.region) >= 6 else None)
        dept_id = None
        if s.department:
            if s.department not in depts:
                d = departments.resolve(s.department)
                depts[s.department] = d.pk if d else None
            dept_id = depts[s.department]
            if dept_id is None:
                plan.problems.append(
                    mapping.Problem(
                        table.filename, s.line, "权属部门", f"未知部门「{s.department}」"
                    )
                )
                continue
        unit = canonical_unit(s.type) or s.unit
        try:
            high = convert(s.typical_high, s.unit, s.type) if s.typical_high is not None else None
            low = convert(s.typical_low, s.unit, s.type) if s.typical_low is not None else None
            convert(0.0, s.unit, s.type)
        except UnitError as exc:
            plan.problems.append(mapping.Problem(table.filename, s.line, "单位", str(exc)))
            continue
        old = existing.get(s.code)
        if old is not None:
            dept_id = dept_id if s.department else old.department_id
            if not _may_edit(scope, old.department_id, old.district_id, old.street_id):
                plan.problems.append(
                    mapping.Problem(
                        table.filename, s.line, "编号", f"传感器 {s.code} 不在您的管辖范围,不能修改"
                    )
                )
                continue
        if not _may_edit(scope, dept_id, district, street):
            plan.problems.append(
                mapping.Problem(
                    table.filename,
                    s.line,
                    "经纬度",
                    f"测站 {s.code} 位于您的管辖范围之外({_place(street or district)})",
                )
            )
            continue
        item = PlannedSensor(
            line=s.line,
            code=s.code,
            name=s.name,
            type=s.type,
            unit=unit,
            lon=round(s.lon, 7),
            lat=round(s.lat, 7),
            district_id=district,
            street_id=street,
            department_id=dept_id,
            typical_high=high,
            typical_low=low,
            thresholds=_thresholds(old.thresholds if old is not None else {}, high, low),
            action="create",
            placed=placed,
            file_unit=s.unit if s.unit != unit else "",
        )
        if old is not None:
            item.action = "update" if _changes(old, item) else "same"
        plan.sensors.append(item)
    return plan


def _values(p: PlannedSensor) -> dict[str, Any]:
    v = {
        "name": p.name,
        "type": p.type,
        "unit": p.unit,
        "lon": p.lon,
        "lat": p.lat,
        "district_id": p.district_id,
        "street_id": p.street_id,
        "department_id": p.department_id,
        "thresholds": p.thresholds,
    }
    return v


def _thresholds(old: dict, high: float | None, low: float | None) -> dict[str, float]:
    """The sensor's named thresholds with the file's typical range set (others kept)."""
    out = dict(old or {})
    for key, value in (("typical_high", high), ("typical_low", low)):
        if value is not None:
            out[THRESHOLD_NAMES[key]] = round(value, 9)
    return out


def _changes(old: Sensor, p: PlannedSensor) -> list[str]:
    return [k for k, v in _values(p).items() if getattr(old, k) != v]


def apply_stations(plan: StationPlan, *, user: Any = None) -> StationResult:
    """Write a checked plan in one transaction, audited. Refused (MonitoringError)
    while the plan has problems."""
    if plan.problems:
        raise MonitoringError(
            "导入未执行:\n"
            + "\n".join(str(p) for p in plan.problems[:50])
            + (f"\n……共 {len(plan.problems)} 处问题" if len(plan.problems) > 50 else "")
        )
    from django.contrib.contenttypes.models import ContentType

    from yingji.core.models import AuditEntry

    result = StationResult(
        skipped=len(plan.skipped), placed=sum(1 for p in plan.sensors if p.placed)
    )
    label = (user.get_username() if user is not None else None) or "传感器导入"
    ct = ContentType.objects.get_for_model(Sensor)
    now = timezone.now()
    with transaction.atomic(), audit.acting_as(user, label):
        actor, actor_label = audit.current_actor()
        actor = actor if getattr(actor, "pk", None) else None
        fields = [f for f in Sensor._meta.concrete_fields if not f.primary_key]
        defaults = {f.attname: f.get_default() for f in fields}
        new = [
            defaults | {"code": p.code} | _values(p) for p in plan.sensors if p.action == "create"
        ]
        updates = {p.code: p for p in plan.sensors if p.action == "update"}
        entries = []
        with audit.suspended():  # the entries below, in bulk
            pks = _insert_sensors(new, fields)
            olds = []
            codes = list(updates)
            for i in range(0, len(codes), 5000):
                olds += list(Sensor.objects.filter(code__in=codes[i : i + 5000]))
            befores = {s.pk: audit.snapshot(s) for s in olds}
            for s in olds:
                for k, v in _values(updates[s.code]).items():
                    setattr(s, k, v)
            if olds:
                changed = [f.removesuffix("_id") for f in _values(plan.sensors[0])]
                Sensor.objects.bulk_update(olds, changed, batch_size=2000)
        order = [f.attname for f in fields]
        for pk, row in zip(pks, new, strict=True):
            after = {"id": pk} | {k: row[k] for k in order}
            entries.append(
                (pk, f"{row['name']}({row['code']})", "create", None, after, sorted(after))
            )
        for s in olds:
            after = audit.snapshot(s)
            before = befores[s.pk]
            entries.append(
                (
                    s,
                    "update",
                    before,
                    after,
                    sorted(k for k in after if before.get(k) != after.get(k)),
                )
            )
        audit.write(
            [
                AuditEntry(
                    content_type=ct,
                    object_pk=str(pk),
                    object_repr=text[:200],
                    action=action,
                    actor=actor,
                    actor_label=actor_label[:64],
                    at=now,
                    before=before,
                    after=after,
                    changed_fields=changed,
                )
                for pk, text, action, before, after, changed in entries
            ]
        )
    result.created, result.updated = len(new), len(olds)
    result.unchanged = sum(1 for p in plan.sensors if p.action == "same")
    return result


def _insert_sensors(rows: list[dict[str, Any]], fields: list) -> list[int]:
    """Insert new sensors (rows of attname → value); their pks in order.
    PostgreSQL: COPY, then the ids by code (Django's bulk insert sends every column
    as an array and builds a model instance per row, several times slower)."""
    if not rows:
        return []
    if connection.vendor != "postgresql" or len(rows) < 1000:
        objs = [Sensor(**row) for row in rows]
        Sensor.objects.bulk_create(objs, batch_size=2000)
        if any(o.pk is None for o in objs):  # a backend without RETURNING on bulk insert
            ids = dict(
                Sensor.objects.filter(code__in=[o.code for o in objs]).values_list("code", "pk")
            )
            return [ids[o.code] for o in objs]
        return [o.pk for o in objs]
    table = connection.ops.quote_name(Sensor._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    names = [f.attname for f in fields]
    as_json = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
    with connection.cursor() as cur:
        with cur.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(
                    [
                        json.dumps(row[n], ensure_ascii=False) if n in as_json else row[n]
                        for n in names
                    ]
                )
    ids: dict[str, int] = {}
    codes = [row["code"] for row in rows]
    for i in range(0, len(codes), 10000):
        ids.update(Sensor.objects.filter(code__in=codes[i : i + 10000]).values_list("code", "pk"))
    return [ids[c] for c in codes]


def import_stations(
    path: str | Path,
    given: Mapping[str, str] | None = None,
    *,
    user: Any = None,
    no_coords: str = "skip",
    default_type: str = "",
) -> tuple[StationPlan, StationResult]:
    """The command's import: read, plan, apply (all or nothing)."""
    path = Path(path)
    table = read_table(read_path(path), path.name)
    plan = plan_stations(table, given, user=user, no_coords=no_coords, default_type=default_type)
    return plan, apply_stations(plan, user=user)


# ------------------------------------------------------------------ readings


@dataclass
class ReadingsResult:
    lines: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    reasons: list[str] = field(default_factory=list)  # the first ones, for the screen

    def summary(self) -> str:
        return (
            f"共 {self.lines} 行:入库 {self.stored} 条,重复 {self.duplicates} 条,"
            f"转入死信 {self.dead_lettered} 条"
        )


READINGS_LIMIT = "YINGJI_READINGS_MAX_BYTES"
CHUNK = 100_000  # readings per transaction savepoint (and per duplicate fallback)
BATCH = 10_000  # readings per write into the open COPY (PostgreSQL)


def _reading_lines(data: bytes, filename: str) -> Iterator[tuple[int, Sequence]]:
    if _is_excel(filename):
        for n, row in enumerate(services.excel_rows(data, filename, READINGS_LIMIT), 1):
            yield n, ["" if v is None else str(v) for v in row]
        return
    text = _decode(data, filename)
    reader = csv.reader(io.StringIO(text))
    n = 0
    try:
        for n, row in enumerate(reader, 1):  # noqa: B007 (n is read after the loop on error)
            yield n, row
    except csv.Error as exc:
        raise MonitoringError(f"{filename} 第 {n + 1} 行:CSV 格式错误({exc})") from None


def import_readings(
    path: str | Path,
    given: Mapping[str, str] | None = None,
    *,
    strict: bool = False,
    convert_units: bool = True,
    chunk: int = CHUNK,
) -> ReadingsResult:
    """Store a readings file's good lines; dead-letter the bad ones (or, `strict`,
    refuse the file at the first). One transaction. Imported readings are history:
    they are stored, not run through the rule engine (a running worker sees them
    in its rolling sums at its next start)."""
    path = Path(path)
    data = read_path(path, READINGS_LIMIT)
    filename = path.name
    lines = _reading_lines(data, filename)
    first = next(lines, None)
    if first is None:
        raise MonitoringError(f"{filename}:文件为空")
    header = [str(h).strip() for h in first[1]]
    try:
        columns = mapping.resolve(header, given, filename, mapping.READING_FIELDS)
    except mapping.MappingError as exc:
        raise MonitoringError(str(exc)) from None
    labels = mapping.reading_labels(header, columns)
    sensors = {
        code: (pk, stype, unit)
        for code, pk, stype, unit in Sensor.objects.values_list("code", "pk", "type", "unit")
    }
    times = mapping.TimeParser()
    convert = Converter()
    result = ReadingsResult()
    rows: list[tuple[int, int, float]] = []
    bad: list[tuple[int, str, Sequence]] = []

    sink = CopySink() if connection.vendor == "postgresql" else None
    pending = 0  # readings given to the sink and not yet counted

    def push() -> None:
        nonlocal pending
        if sink is not None and rows:
            sink.push(rows)
            pending += len(rows)
            rows.clear()

    def flush() -> None:
        nonlocal pending
        if sink is not None:
            push()
            stored = sink.close()
            given, pending = pending, 0
        else:
            stored, given = store_bulk(rows), len(rows)
            rows.clear()
        result.stored += metrics.readings_stored(stored, "import")
        result.duplicates += given - stored
        if bad:  # after the COPY is closed: nothing else may run on the connection during it
            _dead_letter(bad, filename)
            result.dead_lettered += len(bad)
            bad.clear()

    parse = mapping.reading_parser(columns, labels, times)
    maps: dict[tuple[str, str], Any] = {}  # (unit, type) → (a, b), None or the error
    parameter_types: dict[str, str | None] = {}
    append = rows.append
    with transaction.atomic(), audit.acting_as(None, "读数导入"), sink or nullcontext():
        for n, row in lines:
            if not any(row):
                continue
            result.lines += 1
            try:
                code, ts, value, unit, parameter = parse(row)
                sensor = sensors.get(code)
                if sensor is None:
                    raise mapping.LineProblem(labels["sensor"], f"未知测站「{code}」")
                pk, stype, sensor_unit = sensor
                if parameter:
                    ptype = parameter_types.get(parameter, "?")
                    if ptype == "?":
                        ptype = parameter_types[parameter] = TYPES.get(parameter) or TYPES.get(
                            mapping.normalise(parameter)
                        )
                    if ptype and ptype != stype:
                        raise mapping.LineProblem(
                            labels["parameter"],
                            f"「{parameter}」与传感器 {code} 的类型({SensorType(stype).label})不符",
                        )
                if convert_units:
                    key = (unit or sensor_unit, stype)
                    m = maps.get(key, maps)
                    if m is maps:
                        m = maps[key] = convert.affine(*key)
                    if m.__class__ is tuple:
                        value = m[0] * value + m[1]
                    elif m is None:
                        value = to_canonical(value, *key)
                    else:
                        raise mapping.LineProblem(labels["unit"], str(m))
                elif unit and unit != sensor_unit:
                    raise mapping.LineProblem(
                        labels["unit"], f"「{unit}」与传感器 {code} 的单位 {sensor_unit} 不符"
                    )
            except mapping.LineProblem as exc:
                if strict:
                    raise MonitoringError(
                        f"导入未执行:{filename} 第 {n} 行{exc}(--strict:有一行有误即不导入)"
                    ) from None
                bad.append((n, str(exc), row))
                if len(result.reasons) < 20:
                    result.reasons.append(f"第 {n} 行{exc}")
                continue
            append((pk, ts, value))
            if len(rows) >= BATCH:
                push()
                if pending >= chunk or sink is None and len(rows) >= chunk:
                    flush()
            if len(bad) >= chunk:
                flush()
        flush()
    return result


def _dead_letter(bad: Sequence[tuple[int, str, Sequence]], filename: str) -> None:
    at = timezone.now()
    DeadLetter.objects.bulk_create(
        [
            DeadLetter(
                received_at=at,
                source="csv",
                topic=services.storable(f"{filename} 第 {n} 行", 200),
                payload=services.storable(",".join(str(c) for c in row), 500),
                reason=services.storable(reason, 300),
            )
            for n, reason, row in bad
        ],
        batch_size=2000,
    )


class CopySink:
    """PostgreSQL: readings streamed into `COPY monitoring_reading … (FORMAT BINARY)`
    while the file is still being read, so the server stores one batch on the other
    core while Python parses the next (pgcopy.py: why binary). One chunk is one COPY
    under a savepoint; a chunk that meets a stored reading (a duplicate fails the
    whole COPY) is undone to the savepoint and goes again, from the batches kept,
    through a staging table and one `INSERT … ON CONFLICT DO NOTHING`.

    Nothing else may run on the connection while a COPY is open: callers write dead
    letters and the like only after `close()`.
    """

    SQL = "COPY monitoring_reading (sensor_id, ts_ms, value) FROM STDIN (FORMAT BINARY)"

    def __init__(self) -> None:
        self._cursor = connection.cursor()
        self._parts: list[bytes] = []
        self._copy: Any = None
        self._stack: ExitStack | None = None
        self._savepoint: str | None = None
        self._failed = False
        self._count = 0
        self._span: tuple[int, int] | None = None  # the chunk's keys, min and max
        # Which days have partitions (PostgreSQL, partitioned readings): answered
        # from memory while the COPY is open; a batch of a day without one ends
        # the COPY, the partition is made (under the chunk's savepoint) and a new
        # COPY goes on, so past days do not pile up in DEFAULT.
        self._coverage = partitioning.Coverage(timeparts.READINGS)

    def push(self, rows: Sequence[tuple[int, int, float]]) -> None:
        import psycopg

        sensors, ts, values = zip(*rows, strict=True)
        lo, hi = min(ts), max(ts)
        self._span = (
            (lo, hi) if self._span is None else (min(lo, self._span[0]), max(hi, self._span[1]))
        )
        part = pgcopy.readings(sensors, ts, values)
        self._parts.append(part)
        self._count += len(rows)
        if self._failed:
            return
        try:
            if self._savepoint is None:
                self._savepoint = transaction.savepoint()
            if not self._coverage.covers(lo, hi):
                self._end_copy()
                self._coverage.ensure(lo, hi)
            if self._stack is None:
                self._stack = ExitStack()
                self._copy = self._stack.enter_context(self._cursor.cursor.copy(self.SQL))
                self._copy.write(pgcopy.HEADER)
            self._copy.write(part)
        except psycopg.Error as exc:  # the server refused mid-stream (a duplicate)
            self._undo(exc)

    def _end_copy(self) -> None:
        if self._stack is not None:
            self._copy.write(pgcopy.TRAILER)
            self._stack.close()
            self._stack = self._copy = None

    def close(self) -> int:
        """End the chunk; how many of its readings were new."""
        import psycopg

        if self._savepoint is not None and not self._failed:
            try:
                self._end_copy()
                transaction.savepoint_commit(self._savepoint)
            except psycopg.Error as exc:
                self._undo(exc)
        stored = self._count if not self._failed else self._staged()
        self._parts, self._count, self._failed, self._span = [], 0, False, None
        self._stack = self._copy = self._savepoint = None
        return stored

    def _undo(self, exc: BaseException) -> None:
        self._failed = True
        if self._stack is not None:
            try:
                self._stack.__exit__(type(exc), exc, exc.__traceback__)
            except Exception:  # the COPY's own failure, already in hand
                pass
            self._stack = None
        transaction.savepoint_rollback(self._savepoint)

    def _staged(self) -> int:
        if self._span is not None:  # partitions made under the savepoint went with it
            self._coverage.ensure(*self._span)
        with connection.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS monitoring_import_stage "
                "(sensor_id bigint, ts_ms bigint, value double precision)"
            )
            cur.execute("TRUNCATE monitoring_import_stage")
            with cur.cursor.copy("COPY monitoring_import_stage FROM STDIN (FORMAT BINARY)") as cp:
                cp.write(pgcopy.HEADER)
                for part in self._parts:
                    cp.write(part)
                cp.write(pgcopy.TRAILER)
            cur.execute(
                "INSERT INTO monitoring_reading (sensor_id, ts_ms, value) "
                "SELECT sensor_id, ts_ms, value FROM monitoring_import_stage "
                "ON CONFLICT DO NOTHING"
            )
            return cur.rowcount

    def __exit__(self, *exc: Any) -> None:  # an import refused mid-chunk: end the COPY
        if self._stack is not None:
            try:
                self._stack.__exit__(*exc) if exc[0] else self._stack.close()
            finally:
                self._stack = None

    def __enter__(self) -> CopySink:
        return self


def store_bulk(rows: Sequence[tuple[int, int, float]]) -> int:
    """SQLite: write readings, duplicates skipped; how many were new (through a
    staging table and one INSERT … ON CONFLICT DO NOTHING). PostgreSQL: CopySink."""
    if not rows:
        return 0
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS monitoring_import_stage "
            "(sensor_id integer, ts_ms integer, value real)"
        )
        cur.execute("DELETE FROM monitoring_import_stage")
        cur.executemany("INSERT INTO monitoring_import_stage VALUES (%s, %s, %s)", rows)
        # WHERE true: SQLite's parser needs it before ON CONFLICT in INSERT … SELECT.
        cur.execute(
            "INSERT INTO monitoring_reading (sensor_id, ts_ms, value) "
            "SELECT sensor_id, ts_ms, value FROM monitoring_import_stage WHERE true "
            "ON CONFLICT DO NOTHING"
        )
        cur.execute("SELECT changes()")
        return cur.fetchone()[0]
