"""Monitoring use cases: the sensor registry, ingest (validate → store → evaluate →
alarms → regional levels), the notification pipeline, acknowledge and silence,
rollups and retention.

The hot path (`Ingestor.ingest`) touches the ORM only for alarms, which change
rarely; readings go to the database through one staged bulk write per batch
(executemany on SQLite, COPY on PostgreSQL) and `INSERT … ON CONFLICT DO NOTHING
RETURNING`, so a duplicate (same sensor and time) is stored once and only new
readings reach the rule engine (a redelivered message never counts rain twice).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import math
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from yingji.core import (
    audit,
    departments,
    geo,
    metrics,
    outbox,
    partitioning,
    regioncodes,
    regions,
)
from yingji.core.models import Profile, Region, Role
from yingji.monitoring import events, folding, lifecycle, payloads, timeparts, units
from yingji.monitoring.models import (
    TYPE_HAZARDS,
    TYPE_UNITS,
    Alarm,
    AlarmEvent,
    AlarmGroup,
    AlarmRule,
    DeadLetter,
    Event,
    IngestToken,
    RegionalLevel,
    Rollup,
    Sensor,
    SensorType,
    Silence,
)
from yingji.monitoring.partitions import Partition, sensor_key
from yingji.monitoring.rules import (
    LEVEL_LABELS,
    Change,
    CompositeRule,
    Engine,
    Rule,
    level_name,
    level_number,
)

log = logging.getLogger(__name__)

# Readings older than this or further in the future are refused (dead letters).
MAX_AGE = dt.timedelta(days=getattr(settings, "YINGJI_MONITORING_MAX_AGE_DAYS", 7))
MAX_AHEAD = dt.timedelta(minutes=5)
RAW_RETENTION = dt.timedelta(days=getattr(settings, "YINGJI_MONITORING_RAW_DAYS", 30))
MINUTE_RETENTION = dt.timedelta(days=getattr(settings, "YINGJI_MONITORING_MINUTE_DAYS", 180))
POLICY = lifecycle.GroupPolicy()
ACTOR = "监测报警引擎"


def limits(max_bytes_setting: str = "YINGJI_MONITORING_MAX_MESSAGE_BYTES") -> payloads.Limits:
    """The payload limits from the settings (docs/monitoring.md, "Limits"):
    `max_bytes` is one MQTT message or NDJSON line, or with
    YINGJI_MONITORING_HTTP_MAX_BYTES a whole HTTP body."""
    d = payloads.DEFAULT_LIMITS
    return payloads.Limits(
        max_bytes=int(getattr(settings, max_bytes_setting, d.max_bytes)),
        max_depth=int(getattr(settings, "YINGJI_MONITORING_MAX_DEPTH", d.max_depth)),
    )


class MonitoringError(ValueError):
    """Bad input, with a message in Chinese naming what and where."""


def now_ms() -> int:
    return int(time.time() * 1000)


def _dt(ms: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


# ------------------------------------------------------------ sensor registry

SENSOR_COLUMNS = (
    "code",
    "name",
    "type",
    "unit",
    "lon",
    "lat",
    "crs",
    "department",
    "linked_to",
    "status",
)
HEADER_ALIASES = {
    "编号": "code",
    "名称": "name",
    "类型": "type",
    "单位": "unit",
    "经度": "lon",
    "纬度": "lat",
    "坐标系": "crs",
    "权属部门": "department",
    "关联企业/风险点": "linked_to",
    "状态": "status",
}


@dataclass
class SensorImport:
    created: int = 0
    updated: int = 0

    def summary(self) -> str:
        return f"新增 {self.created} 个、更新 {self.updated} 个传感器"


def excel_rows(
    data: bytes, filename: str, limit_setting: str = "YINGJI_XLSX_MAX_BYTES"
) -> Iterator[tuple]:
    """The first sheet's rows of an uploaded workbook, judged by the upload limits
    (size, zip-bomb ratio) before it is opened; a clear error for a file that is not
    a workbook."""
    import openpyxl

    from yingji.core import inputlimits

    if problem := inputlimits.archive_problem(data, filename, limit_setting):
        raise MonitoringError(problem)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not xlsx
        raise MonitoringError(
            f"{filename}:不是有效的 Excel (.xlsx) 文件({type(exc).__name__})"
        ) from None
    yield from wb.active.iter_rows(values_only=True)


def _rows_from_file(path: Path) -> list[dict[str, Any]]:
    from yingji.core import inputlimits

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise MonitoringError(f"{path.name}:无法读取文件({exc.strerror or exc})") from None
    if problem := inputlimits.size_problem(size, path.name):  # before it is read
        raise MonitoringError(problem)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        rows = list(excel_rows(path.read_bytes(), path.name))
        header = [str(h or "").strip() for h in rows[0]] if rows else []
        return [
            dict(zip(header, r, strict=False)) for r in rows[1:] if any(v is not None for v in r)
        ]
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise MonitoringError(f"{path.name}:无法识别文件编码(应为 UTF-8 或 GB18030)")
    return list(csv.DictReader(io.StringIO(text)))


def import_sensors(path: str | Path) -> SensorImport:
    """Import a sensor register (CSV or Excel; columns code,name,type,unit,lon,lat
    [,crs,department,linked_to,status] or their Chinese headers). All or nothing:
    every problem is reported with its line before anything is written."""
    path = Path(path)
    rows = _rows_from_file(path)
    problems: list[str] = []
    clean: list[dict[str, Any]] = []
    types = {c.value for c in SensorType}
    type_by_label = {c.label: c.value for c in SensorType}
    status_by_label = {c.label: c.value for c in Sensor.Status} | {
        c.value: c.value for c in Sensor.Status
    }
    for n, raw_row in enumerate(rows, 2):
        row = {
            HEADER_ALIASES.get(str(k).strip(), str(k).strip()): (
                str(v).strip() if v is not None else ""
            )
            for k, v in raw_row.items()
            if k is not None
        }
        where = f"{path.name} 第 {n} 行"
        missing = [c for c in ("code", "name", "type", "lon", "lat") if not row.get(c)]
        if missing:
            problems.append(f"{where}:缺少 {', '.join(missing)}")
            continue
        stype = type_by_label.get(row["type"], row["type"])
        if stype not in types:
            problems.append(f"{where}:未知传感器类型「{row['type']}」")
            continue
        try:
            lon, lat = float(row["lon"]), float(row["lat"])
        except ValueError:
            problems.append(f"{where}:经纬度不是数值({row['lon']}, {row['lat']})")
            continue
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            problems.append(f"{where}:经纬度超出范围({lon}, {lat})")
            continue
        dept = None
        if row.get("department"):
            dept = departments.resolve(row["department"])
            if dept is None:
                problems.append(f"{where}:未知部门「{row['department']}」")
                continue
        if row.get("unit"):
            # Readings are stored in the type's canonical unit; a register naming
            # another (mm for a water level) would have bare readings misread.
            try:
                num, den, b = units.conversion(row["unit"], stype)
            except units.UnitError as exc:
                problems.append(f"{where}:{exc}")
                continue
            if (num, b) != (den, 0.0):
                problems.append(
                    f"{where}:单位「{row['unit']}」不是{SensorType(stype).label}的存储单位 "
                    f"{TYPE_UNITS[stype]}(读数一律以 {TYPE_UNITS[stype]} 保存;"
                    f"设备以其他单位上报时,请在读数中注明 unit)"
                )
                continue
        status = status_by_label.get(row.get("status") or "online")
        if status is None:
            problems.append(f"{where}:未知状态「{row['status']}」")
            continue
        crs = (row.get("crs") or "wgs84").lower()
        if crs not in ("wgs84", "gcj02", "bd09"):
            problems.append(f"{where}:坐标系应为 wgs84、gcj02 或 bd09,实为「{crs}」")
            continue
        named, bad = _named_thresholds(row)
        if bad:
            problems.append(f"{where}:{bad}")
            continue
        clean.append(
            {
                "thresholds": named,
                "code": row["code"],
                "name": row["name"],
                "type": stype,
                "unit": TYPE_UNITS[stype],
                "lon": lon,
                "lat": lat,
                "crs": crs,
                "department": dept,
                "linked_to": row.get("linked_to", ""),
                "status": status,
                "where": where,
            }
        )
    if problems:
        raise MonitoringError("导入未执行:\n" + "\n".join(problems))
    result = SensorImport()
    codes = [c["code"] for c in clean]
    with transaction.atomic():
        for item in clean:
            item.pop("where")
            crs = item.pop("crs")
            item["lon"], item["lat"] = geo.to_wgs84(item["lon"], item["lat"], crs)
            named = item.pop("thresholds")
            sensor, created = Sensor.objects.update_or_create(code=item.pop("code"), defaults=item)
            if named:  # the register's named thresholds; others set on the page are kept
                sensor.thresholds = {**(sensor.thresholds or {}), **named}
                sensor.save(update_fields=["thresholds"])
            result.created += created
            result.updated += not created
        locate(Sensor.objects.filter(code__in=codes))
    return result


THRESHOLD_PREFIXES = ("阈值:", "阈值:", "threshold:")


def _named_thresholds(row: dict[str, str]) -> tuple[dict[str, float], str]:
    """A register row's named thresholds: columns 「阈值:警戒水位」 (or
    threshold:name), empty cells left out. Returns (thresholds, problem)."""
    named: dict[str, float] = {}
    for key, text in row.items():
        prefix = next((p for p in THRESHOLD_PREFIXES if key.startswith(p)), None)
        if prefix is None or not text:
            continue
        name = key[len(prefix) :].strip()
        try:
            value = float(text)
        except ValueError:
            return {}, f"阈值「{name}」不是数值({text})"
        if not math.isfinite(value):
            return {}, f"阈值「{name}」不是有限数值({text})"
        named[name] = value
    return named, ""


def locate(sensors: Iterable[Sensor] | None = None) -> int:
    """Set district and street of sensors from their coordinates (the one region
    lookup, vectorised). Returns how many changed."""
    items = list(sensors) if sensors is not None else list(Sensor.objects.all())
    if not items:
        return 0
    found = regions.lookup_codes_many([s.lon for s in items], [s.lat for s in items])
    changed = []
    for s, d, st in zip(items, found["district"], found["street"], strict=True):
        if (s.district_id, s.street_id) != (d, st):
            s.district_id, s.street_id = d, st
            changed.append(s)
    for s in changed:
        s.save(update_fields=["district", "street"])
    return len(changed)


# ------------------------------------------------------------------ rules


def rule_spec(rule: AlarmRule, code_to_id: dict[str, int] | None = None) -> Rule:
    """The engine's view of a stored rule."""
    ids = None
    if rule.sensor_codes:
        code_to_id = (
            code_to_id if code_to_id is not None else dict(Sensor.objects.values_list("code", "id"))
        )
        ids = frozenset(code_to_id[c] for c in rule.sensor_codes if c in code_to_id)
    return Rule(
        id=rule.pk,
        name=rule.name,
        metric=rule.metric,
        thresholds=(rule.blue, rule.yellow, rule.orange, rule.red),
        threshold_refs=(
            rule.blue_ref or None,
            rule.yellow_ref or None,
            rule.orange_ref or None,
            rule.red_ref or None,
        ),
        direction=rule.direction,
        sensor_type=rule.sensor_type or None,
        sensor_ids=ids,
        window_s=rule.window_s,
        hysteresis=rule.hysteresis,
        for_s=rule.for_s,
        escalate_every_s=rule.escalate_every_s,
    )


def lacking_thresholds(rules: Iterable[AlarmRule]) -> dict[int, tuple[int, int]]:
    """For each rule that references sensor thresholds: (sensors it cannot evaluate
    for lack of a referenced threshold, sensors it watches otherwise)."""
    specs = [rule_spec(r) for r in rules if r.metric != "composite"]
    specs = [r for r in specs if r.refs]
    if not specs:
        return {}
    out: dict[int, tuple[int, int]] = {}
    rows = list(Sensor.objects.values_list("id", "type", "thresholds"))
    for spec in specs:
        watched = [t for pk, stype, t in rows if spec.applies(pk, stype)]
        lacking = sum(not spec.evaluable(t) for t in watched)
        out[spec.id] = (lacking, len(watched))
    return out


def build_engine(sensors: Sequence[Sensor] | None = None, restore: bool = True) -> Engine:
    """An engine over every sensor and active rule, with active alarms restored
    (`restore=False`: starting clear, as a historical replay does)."""
    sensors = (
        list(sensors)
        if sensors is not None
        else list(
            Sensor.objects.only("id", "code", "type", "street_id", "district_id", "thresholds")
        )
    )
    code_to_id = {s.code: s.pk for s in sensors}
    stored = list(AlarmRule.objects.filter(active=True))
    plain = [rule_spec(r, code_to_id) for r in stored if r.metric != "composite"]
    comps = [
        CompositeRule(r.pk, r.name, child=r.child_id, k=r.k, level=level_number(r.composite_level))
        for r in stored
        if r.metric == "composite" and r.child_id
    ]
    engine = Engine(
        [s.pk for s in sensors],
        [s.type for s in sensors],
        plain,
        comps,
        areas=[s.street_id or s.district_id for s in sensors],
        thresholds=[s.thresholds for s in sensors],
    )
    if not restore:
        return engine
    live = Alarm.objects.filter(state__in=lifecycle.ACTIVE_STATES, replayed=False)
    for a in live.filter(sensor__isnull=False):
        engine.restore(
            a.rule_id, a.sensor_id, level_number(a.level), (a.fired_at or a.started_at).timestamp()
        )
    for a in live.filter(area__isnull=False):
        engine.area_levels[(a.rule_id, a.area_id)] = level_number(a.level)
    return engine


# ----------------------------------------------------------------- ingest


@dataclass
class IngestStats:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    alarm_changes: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, other: IngestStats) -> None:
        self.received += other.received
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.alarm_changes += other.alarm_changes
        self.reasons += other.reasons[:20]


def storable(text: str, limit: int) -> str:
    """`text` clipped to `limit` characters, as any database stores it: a NUL
    (PostgreSQL refuses it in text) and lone surrogates (not UTF-8) are escaped."""
    text = text[:limit]
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text[:limit]


def dead_letters(problems: Sequence[payloads.Problem], source: str, topic: str = "") -> None:
    """Keep rejected input with its reason (bulk: never audited row by row)."""
    if not problems:
        return
    at = timezone.now()
    DeadLetter.objects.bulk_create(
        [
            DeadLetter(
                received_at=at,
                source=source,
                topic=storable(topic, 200),
                payload=storable(fragment, payloads.FRAGMENT),
                reason=storable(reason, 300),
            )
            for reason, fragment in problems
        ]
    )


def store_readings(rows: Sequence[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Write readings; return those that were new (duplicates are skipped)."""
    if not rows:
        return []
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS monitoring_stage "
                "(sensor_id bigint, ts_ms bigint, value double precision)"
            )
            cur.execute("DELETE FROM monitoring_stage")
            with cur.cursor.copy(
                "COPY monitoring_stage (sensor_id, ts_ms, value) FROM STDIN"
            ) as cp:
                for row in rows:
                    cp.write_row(row)
            cur.execute(
                "INSERT INTO monitoring_reading (sensor_id, ts_ms, value) "
                "SELECT sensor_id, ts_ms, value FROM monitoring_stage "
                "ON CONFLICT DO NOTHING RETURNING sensor_id, ts_ms, value"
            )
        else:
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS monitoring_stage "
                "(sensor_id integer, ts_ms integer, value real)"
            )
            cur.execute("DELETE FROM monitoring_stage")
            cur.executemany("INSERT INTO monitoring_stage VALUES (%s, %s, %s)", rows)
            # WHERE true: SQLite's parser needs it before ON CONFLICT in INSERT … SELECT.
            cur.execute(
                "INSERT INTO monitoring_reading (sensor_id, ts_ms, value) "
                "SELECT sensor_id, ts_ms, value FROM monitoring_stage WHERE true "
                "ON CONFLICT DO NOTHING RETURNING sensor_id, ts_ms, value"
            )
        if connection.vendor == "postgresql":
            return cur.fetchall()  # already (int, int, float)
        return [(int(a), int(b), float(c)) for a, b, c in cur.fetchall()]


# How often a running ingest path checks for edited rules and sensors, and, when
# readings name an unknown sensor, for newly registered ones.
RELOAD_CHECK_S = 10.0
UNKNOWN_CHECK_S = 5.0


class Ingestor:
    """One ingest path's state: the sensor map and the rule engine. Used by the
    MQTT worker, the HTTP endpoint, CSV replay and the simulation."""

    def __init__(
        self, touch_interval: float | None = 0.0, partition: Partition | None = None
    ) -> None:
        # A partition evaluates only the sensors it owns (see partitions.py); the
        # default is the whole stream.
        self.partition = partition or Partition()
        # Each sensor's latest time/value (and offline → online) is written to its row
        # at most every `touch_interval` seconds: 0 writes it with every batch (HTTP,
        # replay); None leaves it to the owner, who calls flush_latest() (the MQTT
        # worker does, from a thread of its own every second: at 20,000 readings/s the
        # UPDATE of thousands of sensor rows per batch cost as much as storing the
        # readings, and in line it delayed every alarm behind it).
        # These columns are a display cache: readings and alarms are never deferred.
        self.touch_interval = touch_interval
        self._latest: dict[int, tuple[int, float]] = {}
        self._latest_lock = threading.Lock()
        self._touched_at = time.monotonic()
        self.reload()

    def reload(self) -> None:
        """Re-read sensors and rules (new sensors, edited rules). The first time,
        rolling sums are rebuilt from stored readings; after that the new engine
        takes over the running one's state (Engine.adopt), so an edit costs no
        replay, unless a new rule needs a longer window than was kept."""
        self._fingerprint = self.fingerprint()
        sensors = list(
            Sensor.objects.only(
                "id", "code", "type", "unit", "street_id", "district_id", "status", "thresholds"
            )
        )
        self.sensors = {s.code: s for s in sensors}
        self.by_id = {s.pk: s for s in sensors}
        if not self.partition.whole:
            sensors = [
                s
                for s in sensors
                if self.partition.owns(sensor_key(s.code, s.street_id, s.district_id))
            ]
        self.owned = None if self.partition.whole else {s.pk for s in sensors}
        old = getattr(self, "engine", None)
        self.engine = build_engine(sensors)
        self.checked_at = time.monotonic()
        if old is None or not self.engine.adopt(old):
            self._warm()

    @staticmethod
    def fingerprint() -> str:
        """What the engine is built from: the rules, and each sensor's type, unit,
        area and named thresholds (a change of any reloads the engine)."""
        h = hashlib.blake2b(digest_size=16)
        h.update(repr(list(AlarmRule.objects.order_by("pk").values_list())).encode())
        for row in (
            Sensor.objects.order_by("pk")
            .values_list("id", "code", "type", "unit", "street_id", "district_id", "thresholds")
            .iterator(5000)
        ):
            h.update(repr(row).encode())
        return h.hexdigest()

    def reload_if_changed(self, every_s: float = RELOAD_CHECK_S) -> bool:
        """Reload when rules or sensors changed (checked at most every `every_s`):
        the running workers pick up an edited rule within that time."""
        if time.monotonic() - self.checked_at < every_s:
            return False
        self.checked_at = time.monotonic()
        if self.fingerprint() == self._fingerprint:
            return False
        self.reload()
        return True

    def _warm(self) -> None:
        """Replay stored readings of the longest window, so rolling sums survive a
        restart (changes from the replay are discarded: alarms were restored)."""
        longest = max(
            (st.rule.window_s for st in self.engine.states.values() if st.rule.metric == "sum"),
            default=0,
        )
        if not longest:
            return
        since = now_ms() - longest * 1000
        rows = np.array(list(_readings_since(since)), dtype=np.float64).reshape(-1, 3)
        if len(rows):
            idx = np.array([self.engine.index_of.get(int(s), -1) for s in rows[:, 0]])
            keep = idx >= 0
            self.engine.process(idx[keep], rows[keep, 1] / 1000.0, rows[keep, 2])

    def ingest(
        self,
        records: Sequence[payloads.Record],
        problems: Sequence[payloads.Problem] = (),
        *,
        source: str,
        topic: str = "",
    ) -> IngestStats:
        """Validate, store, evaluate and apply alarm changes, in one transaction."""
        stats = IngestStats(received=len(records) + len(problems))
        bad = list(problems)
        if any(r[0] not in self.sensors for r in records):
            # Perhaps a sensor registered since we loaded: look (at most every few
            # seconds; a device that keeps sending an unknown code costs one cheap
            # fingerprint check then, not a rebuild).
            self.reload_if_changed(UNKNOWN_CHECK_S)
        elif self.touch_interval is not None:  # HTTP, replay: no tick, check here
            self.reload_if_changed()
        now = now_ms()
        lo, hi = now - MAX_AGE.total_seconds() * 1000, now + MAX_AHEAD.total_seconds() * 1000
        rows: list[tuple[int, int, float]] = []
        append = rows.append
        owned, part, sensors = self.owned, self.partition, self.sensors
        for code, ts, value, unit in records:
            sensor = sensors.get(code)
            if owned is not None and (
                sensor.pk not in owned if sensor is not None else not part.owns(code)
            ):
                stats.received -= 1  # another partition's reading
                continue
            if sensor is not None and lo <= ts <= hi:
                if unit is None:
                    append((sensor.pk, ts, value))
                    continue
                # A reading that names its unit is stored in its type's canonical unit
                # (units.py; cached: a multiplication per reading); an unknown or
                # incompatible unit is a dead letter with the reason, never stored.
                try:
                    append((sensor.pk, ts, units.to_canonical(value, unit, sensor.type)))
                    continue
                except units.UnitError as exc:
                    fragment = f"{code[:200]},{ts},{value},{unit[:50]}"
                    bad.append((f"传感器「{code}」:{exc}", fragment))
                    continue
            fragment = f"{code[:200]},{ts},{value},{(unit or '')[:50]}"
            if sensor is None:
                shown = code if len(code) <= 64 else f"{code[:64]}…(共 {len(code):,} 字符)"
                bad.append((f"未知传感器「{shown}」", fragment))
            elif ts > hi:
                bad.append((f"时间在未来:{_dt(ts).astimezone():%Y-%m-%d %H:%M:%S}", fragment))
            elif ts < lo:
                bad.append(
                    (
                        f"时间过早(超过 {MAX_AGE.days} 天):{_dt(ts).astimezone():%Y-%m-%d %H:%M:%S}",
                        fragment,
                    )
                )
        with transaction.atomic(), audit.acting_as(None, ACTOR):
            dead_letters(bad, source, topic)
            new = store_readings(rows)
            stats.rejected = len(bad)
            stats.stored = len(new)
            metrics.readings_stored(len(new))
            stats.duplicates = len(rows) - len(new)
            stats.reasons = [r for r, _ in bad[:20]]
            if new:
                arr = np.array(new, dtype=np.float64)
                index_of = self.engine.index_of
                idx = np.fromiter((index_of[s] for s, _, _ in new), dtype=np.int64, count=len(new))
                changes = self.engine.process(
                    idx, arr[:, 1] / 1000.0, arr[:, 2], received_at=time.time()
                )
                stats.alarm_changes = len(changes)
                if changes:
                    apply_changes(changes, self.by_id)
        self._note_latest(new)  # committed
        if (
            self.touch_interval is not None
            and time.monotonic() - self._touched_at >= self.touch_interval
        ):
            try:
                self.flush_latest()
            except Exception:  # a display cache: the readings are stored, keep going
                log.exception("writing sensors' latest readings failed")
        return stats

    def _note_latest(self, rows: Sequence[tuple[int, int, float]]) -> None:
        with self._latest_lock:
            latest = self._latest
            for s, t, v in rows:
                seen = latest.get(s)
                if seen is None or t >= seen[0]:
                    latest[s] = (t, v)

    def flush_latest(self) -> int:
        """Write the sensors' latest time and value noted since the last flush;
        returns how many sensors (thread-safe: the MQTT worker calls it from its
        own thread, with a database connection of that thread)."""
        self._touched_at = time.monotonic()
        with self._latest_lock:
            latest, self._latest = self._latest, {}
        if not latest:
            return 0
        try:
            with transaction.atomic():
                _touch_sensors(latest)
        except Exception:
            self._note_latest([(s, t, v) for s, (t, v) in latest.items()])  # next time
            raise
        return len(latest)

    def tick(self, at: dt.datetime | None = None) -> int:
        """Periodic work: edited rules or sensors, no-data rules, then the
        notification pipeline."""
        self.reload_if_changed()
        at = at or timezone.now()
        with transaction.atomic(), audit.acting_as(None, ACTOR):
            changes = self.engine.check_no_data(at.timestamp())
            if changes:
                apply_changes(changes, self.by_id)
                Sensor.objects.filter(
                    pk__in=[c.sensor for c in changes if c.sensor], status=Sensor.Status.ONLINE
                ).update(status=Sensor.Status.OFFLINE)
        return run_pipeline(at) + len(changes)


@dataclass
class ReplayStats:
    readings: int = 0
    stored: int = 0
    rejected: int = 0
    raised: int = 0  # alarms that fired
    resolved: int = 0  # of them, resolved by the data
    open_at_end: int = 0  # still active when the data ended (resolved by the replay)
    notifications: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    reasons: list[str] = field(default_factory=list)

    def summary(self) -> str:
        span = ""
        if self.first_ms is not None and self.last_ms is not None:
            a, b = timezone.localtime(_dt(self.first_ms)), timezone.localtime(_dt(self.last_ms))
            span = f"({a:%Y-%m-%d %H:%M}–{b:%m-%d %H:%M})"
        told = f",通知 {self.notifications} 条" if self.notifications else ",未通知任何人"
        return (
            f"回放 {self.readings} 条读数{span}:新入库 {self.stored},拒收 {self.rejected};"
            f"报警 {self.raised} 条,其中数据内解除 {self.resolved} 条、"
            f"数据截止时仍在报警 {self.open_at_end} 条{told}"
        )


REPLAY_FRAME_S = 60  # a replay evaluates a minute of data at a time (as dry runs do)
REPLAY_END_NOTE = "回放结束,数据截止"


def replay_history(
    rows: Sequence[payloads.Record], *, notify: bool = False, frame_s: int = REPLAY_FRAME_S
) -> ReplayStats:
    """Feed a past day's readings through the active rules on the readings' own
    clock: alarms are raised and resolved as the data says, marked replayed (回放),
    kept apart from the live ones (their own active keys and events, no regional
    level), and their times are the readings' times. Nobody is told (no
    notification, escalation, reminder, warning draft or desk item) unless `notify`,
    and then on the data's clock: an alarm escalates after 30 data minutes
    unacknowledged, not at once. Readings are stored like any others (a duplicate
    once); no-data rules are not evaluated (a file holds some sensors, not the
    silence of the rest). Alarms still active when the data ends are resolved at
    the last reading (REPLAY_END_NOTE) and their events closed, so nothing replayed
    lingers on the live board."""
    stats = ReplayStats(readings=len(rows))
    sensors = list(Sensor.objects.all())
    by_code = {s.code: s for s in sensors}
    by_id = {s.pk: s for s in sensors}
    engine = build_engine(sensors, restore=False)
    limit = now_ms() + int(MAX_AHEAD.total_seconds() * 1000)
    good: list[tuple[int, int, float]] = []
    bad: list[payloads.Problem] = []
    for code, ts, value, unit in rows:
        sensor = by_code.get(code)
        fragment = f"{code[:200]},{ts},{value},{(unit or '')[:50]}"
        if sensor is None:
            bad.append((f"未知传感器「{code[:64]}」", fragment))
            continue
        if ts > limit:
            bad.append((f"时间在未来:{_dt(ts).astimezone():%Y-%m-%d %H:%M:%S}", fragment))
            continue
        try:
            good.append((sensor.pk, ts, units.to_canonical(value, unit, sensor.type)))
        except units.UnitError as exc:
            bad.append((f"传感器「{code}」:{exc}", fragment))
    good.sort(key=lambda r: r[1])
    stats.rejected = len(bad)
    stats.reasons = [r for r, _ in bad[:20]]
    if good:
        stats.first_ms, stats.last_ms = good[0][1], good[-1][1]
    before = Alarm.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    if good:  # past days get their own partitions, not DEFAULT (PostgreSQL)
        partitioning.ensure_covering(timeparts.READINGS, good[0][1], good[-1][1])
    token = events.announce_replayed.set(notify)
    try:
        with audit.acting_as(None, ACTOR):
            dead_letters(bad, "replay")
            start = 0
            while start < len(good):
                frame = good[start][1] // (frame_s * 1000)
                end = start
                while end < len(good) and good[end][1] // (frame_s * 1000) == frame:
                    end += 1
                chunk = good[start:end]
                start = end
                at = _dt(chunk[-1][1])
                with transaction.atomic():
                    stats.stored += metrics.readings_stored(len(store_readings(chunk)), "replay")
                    arr = np.array(chunk, dtype=np.float64)
                    idx = np.fromiter(
                        (engine.index_of[s] for s, _, _ in chunk), np.int64, len(chunk)
                    )
                    changes = engine.process(idx, arr[:, 1] / 1000.0, arr[:, 2])
                    if changes:
                        apply_changes(changes, by_id, replay=True)
                    if notify:
                        stats.notifications += run_pipeline(at, replayed=True)
                    folding.close_quiet_events(at, replayed=True)
            if stats.last_ms is not None:
                _end_replay(_dt(stats.last_ms), notify, stats)
    finally:
        events.announce_replayed.reset(token)
    fired = Alarm.objects.filter(replayed=True, pk__gt=before, fired_at__isnull=False)
    stats.raised = fired.count()
    ended = fired.filter(events__note=REPLAY_END_NOTE).distinct().count()
    stats.open_at_end = ended
    stats.resolved = fired.filter(state=lifecycle.RESOLVED).count() - ended
    return stats


def _end_replay(at: dt.datetime, notify: bool, stats: ReplayStats) -> None:
    """Resolve the replay's alarms still active when its data ends, close its events."""
    with transaction.atomic():
        folded: dict[int, dt.datetime] = {}
        for alarm in Alarm.objects.select_related("rule", "sensor").filter(
            replayed=True, state__in=lifecycle.OPEN_STATES
        ):
            _transition(
                alarm, lifecycle.RESOLVED, alarm.level, at, None, REPLAY_END_NOTE, folded=folded
            )
        for event_id, when in folded.items():
            folding.refresh_event(event_id, when)
        if notify:
            stats.notifications += run_pipeline(at, replayed=True)
        for event in Event.objects.filter(replayed=True, state=Event.State.OPEN):
            folding.close_event(event, REPLAY_END_NOTE, at)


def _readings_since(since_ms: int) -> Iterable[tuple[int, int, float]]:
    """Stored readings since a time, in time order (for warming the engine)."""
    from yingji.monitoring.models import Reading

    return (
        Reading.objects.filter(ts_ms__gte=since_ms)
        .order_by("ts_ms")
        .values_list("sensor_id", "ts_ms", "value")
        .iterator(chunk_size=20000)
    )


def _touch_sensors(latest: dict[int, tuple[int, float]]) -> None:
    """Latest time and value per sensor (bulk UPDATE, not audited: bulk data);
    an offline sensor that reports again is back online."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # One statement for the whole batch (thousands of sensors per batch).
            ids, times, vals = zip(*[(s, t, v) for s, (t, v) in latest.items()], strict=True)
            cur.execute(
                "UPDATE monitoring_sensor s SET last_seen_ms = x.t, last_value = x.v, "
                "status = CASE WHEN s.status = 'offline' THEN 'online' ELSE s.status END "
                "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::bigint[]) AS t, "
                "unnest(%s::float8[]) AS v) x "
                "WHERE s.id = x.id AND (s.last_seen_ms IS NULL OR s.last_seen_ms <= x.t)",
                [list(ids), list(times), list(vals)],
            )
            return
        cur.executemany(
            "UPDATE monitoring_sensor SET last_seen_ms = %s, last_value = %s, "
            "status = CASE WHEN status = 'offline' THEN 'online' ELSE status END "
            "WHERE id = %s AND (last_seen_ms IS NULL OR last_seen_ms <= %s)",
            [(t, v, s, t) for s, (t, v) in latest.items()],
        )


# ----------------------------------------------------------------- alarms


def _active_key(change: Change, replay: bool = False) -> str:
    key = (
        f"{change.rule}:s{change.sensor}"
        if change.sensor is not None
        else f"{change.rule}:a{change.area}"
    )
    # A replayed alarm never takes the place of the live one of the same subject.
    return f"replay:{key}" if replay else key


def apply_changes(
    changes: Sequence[Change], sensors: dict[int, Sensor] | None = None, replay: bool = False
) -> list[Alarm]:
    """Turn engine changes into alarm transitions (one active alarm per subject and
    rule), then refresh the regional levels they touch. `replay`: the changes of a
    historical replay (alarms marked replayed, apart from the live ones, and no
    regional level: the map shows now, not a past day)."""
    touched: list[Alarm] = []
    rules = {r.pk: r for r in AlarmRule.objects.filter(pk__in={c.rule for c in changes})}
    areas: set[tuple[str, str]] = set()
    # The events the changes touch, refreshed once each at the end (when last changed).
    folded: dict[int, dt.datetime] = {}
    for c in changes:
        rule = rules.get(c.rule)
        if rule is None:
            continue
        key = _active_key(c, replay)
        alarm = Alarm.objects.filter(active_key=key).first()
        current = alarm.state if alarm else None
        old_level = level_number(alarm.level) if alarm else 0
        level_rose = c.level > old_level
        new_state = lifecycle.on_engine_change(current, c.state, level_rose)
        at = _dt(c.at * 1000)
        if alarm is None:
            if new_state is None:
                continue
            sensor = (sensors or {}).get(c.sensor) if c.sensor is not None else None
            if c.sensor is not None and sensor is None:
                sensor = Sensor.objects.get(pk=c.sensor)
            alarm = _new_alarm(rule, sensor, c, key, at)
            alarm.replayed = replay
        level = level_name(c.level) or alarm.level
        if new_state is None and level == alarm.level:
            continue
        _transition(
            alarm,
            new_state or alarm.state,
            level,
            at,
            c.value,
            note=lifecycle.TRANSITIONS.get((current, new_state), "级别变化")
            if new_state
            else f"级别变为{LEVEL_LABELS.get(level, level)}",
            folded=folded,
        )
        touched.append(alarm)
        for code in (alarm.street_code, alarm.district_code):
            if code and not replay:
                areas.add((code, alarm.hazard))
    for event_id, at in folded.items():
        folding.refresh_event(event_id, at)
    if areas:
        update_regional_levels(areas)
    return touched


def _new_alarm(
    rule: AlarmRule, sensor: Sensor | None, c: Change, key: str, at: dt.datetime
) -> Alarm:
    if sensor is not None:
        district, street = sensor.district_id or "", sensor.street_id or ""
        hazard = TYPE_HAZARDS.get(sensor.type, "other")
    else:
        district = regioncodes.district_of(c.area) or ""
        street = c.area if c.area and c.area != district else ""
        child = rule.child
        hazard = TYPE_HAZARDS.get(child.sensor_type, "other") if child else "other"
    return Alarm(
        rule=rule,
        sensor=sensor,
        area_id=c.area,
        district_code=district,
        street_code=street,
        hazard=hazard,
        state="",
        level=level_name(c.level) or "",
        active_key=key,
        started_at=at,
        value=c.value,
    )


def _transition(
    alarm: Alarm,
    state: str,
    level: str,
    at: dt.datetime,
    value: float | None,
    note: str,
    user: Any = None,
    folded: dict[int, dt.datetime] | None = None,
) -> None:
    """Move an alarm to `state`/`level`, record it and fold it into its event: at
    once, or, given `folded`, by noting the event there ({event id: latest time})
    for the caller to refresh once for a whole batch."""
    previous = alarm.state or None
    if state != (alarm.state or None):
        lifecycle.check(previous, state)
    alarm.state = state
    alarm.level = level or alarm.level
    if level_number(alarm.level) > level_number(alarm.max_level):
        alarm.max_level = alarm.level
    if value is not None:
        alarm.value = value
    if state == lifecycle.FIRING and alarm.fired_at is None:
        alarm.fired_at = at
    if state == lifecycle.FIRING and previous == lifecycle.ACKNOWLEDGED:
        alarm.acknowledged_at = None  # must be acknowledged again
        alarm.escalated_at = None
        alarm.fired_at = at
    if state == lifecycle.ACKNOWLEDGED:
        alarm.acknowledged_at, alarm.acknowledged_by = at, user
    if state == lifecycle.RESOLVED:
        alarm.resolved_at, alarm.active_key = at, None
    alarm.save()
    # The alarm's own history (the alarm row itself is audited): a bulk insert, so
    # the history is not audited a second time.
    AlarmEvent.objects.bulk_create(
        [AlarmEvent(alarm=alarm, at=at, state=state, level=alarm.level, note=note[:300])]
    )
    if state != previous and events.announced(alarm.replayed):
        payload = dict(
            alarm_id=alarm.pk,
            state=state,
            previous=previous,
            level=alarm.level,
            rule=alarm.rule.name,
            sensor_id=alarm.sensor_id,
            region_codes=[c for c in (alarm.district_code, alarm.street_code) if c],
            at=at,
        )
        transaction.on_commit(lambda: events.alarm_state_changed.send(sender=Alarm, **payload))
    if folded is None:
        folding.fold(alarm, at)
        return
    event_id = folding.assign(alarm, at)
    if event_id is not None and (event_id not in folded or folded[event_id] < at):
        folded[event_id] = at


def acknowledge(alarm: Alarm, user: Any, note: str = "") -> Alarm:
    """A person takes the alarm: reminders and escalation stop."""
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update().get(pk=alarm.pk)
        lifecycle.check(alarm.state, lifecycle.ACKNOWLEDGED)
        _transition(
            alarm,
            lifecycle.ACKNOWLEDGED,
            alarm.level,
            timezone.now(),
            None,
            note=note or f"{user.get_username()} 确认",
            user=user,
        )
    return alarm


def silence(alarm: Alarm, user: Any, minutes: int, reason: str) -> Alarm:
    """Silence one alarm for `minutes` (it still counts for the regional level)."""
    if not 1 <= minutes <= 7 * 24 * 60:
        raise MonitoringError("静默时长应在 1 分钟到 7 天之间")
    if not reason.strip():
        raise MonitoringError("请填写静默原因")
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update().get(pk=alarm.pk)
        lifecycle.check(alarm.state, lifecycle.SILENCED)
        alarm.silenced_until = timezone.now() + dt.timedelta(minutes=minutes)
        _transition(
            alarm,
            lifecycle.SILENCED,
            alarm.level,
            timezone.now(),
            None,
            note=f"{user.get_username()} 静默 {minutes} 分钟:{reason}"[:300],
            user=user,
        )
    return alarm


def update_regional_levels(areas: Iterable[tuple[str, str]]) -> None:
    """Recompute the highest active level of each (region code, hazard) and publish
    a change."""
    at = timezone.now()
    for code, hazard in sorted(areas):
        region = Region.objects.filter(pk=code).only("code", "level").first()
        if region is None:
            continue
        field_name = "district_code" if region.level == "district" else "street_code"
        active = list(
            Alarm.objects.filter(
                **{field_name: code},
                hazard=hazard,
                state__in=lifecycle.ACTIVE_STATES,
                replayed=False,
            ).values_list("pk", "level")
        )
        top = max((level_number(lv) for _, lv in active), default=0)
        level = level_name(top)
        ids = sorted(pk for pk, lv in active if level_number(lv) == top) if top else []
        row = RegionalLevel.objects.filter(region=region, hazard=hazard).first()
        previous = (row.level or None) if row else None
        # Derived state, recomputed from the (audited) alarms: written in bulk.
        if row is None:
            RegionalLevel.objects.bulk_create(
                [
                    RegionalLevel(
                        region=region,
                        hazard=hazard,
                        level=level or "",
                        alarm_ids=ids,
                        updated_at=at,
                    )
                ]
            )
        else:
            RegionalLevel.objects.filter(pk=row.pk).update(
                level=level or "", alarm_ids=ids, updated_at=at
            )
        if previous != level:
            payload = dict(
                region_code=code,
                region_level=region.level,
                level=level,
                previous=previous,
                hazard=hazard,
                alarm_ids=ids,
                at=at,
            )
            transaction.on_commit(
                lambda p=payload: events.regional_level_changed.send(sender=RegionalLevel, **p)
            )


# --------------------------------------------------------------- pipeline


def _view(a: Alarm) -> lifecycle.AlarmView:
    return lifecycle.AlarmView(
        a.pk,
        a.rule_id,
        a.sensor_id,
        a.district_code,
        a.street_code,
        a.hazard,
        a.state,
        level_number(a.level),
        a.started_at,
    )


def _silences(at: dt.datetime) -> list[lifecycle.SilenceView]:
    return [
        lifecycle.SilenceView(
            s.rule_id, s.sensor_id, s.region_code, s.hazard, s.starts_at, s.ends_at
        )
        for s in Silence.objects.filter(starts_at__lte=at, ends_at__gt=at)
    ]


def _recipients(alarm: Alarm) -> list:
    dept = alarm.rule.notify_department or (alarm.sensor.department if alarm.sensor_id else None)
    return [dept] if dept else []


def _send(departments_: Iterable, subject: str, body: str, key: str, source: Any) -> int:
    sent = 0
    depts = {d.pk: d for d in departments_ if d is not None}
    for d in depts.values():  # one key per department: notify_department keys its
        # mailbox as "<key>:dept", which would otherwise be shared by all of them
        sent += len(
            outbox.notify_department(
                d, subject=subject, body=body, dedupe_key=f"{key}:d{d.pk}", source=source
            )
        )
    if not sent:  # nobody reachable owns it: the duty officers
        duty = [
            p.user for p in Profile.objects.select_related("user").filter(role=Role.DUTY_OFFICER)
        ]
        sent += len(
            outbox.notify_users(duty, subject=subject, body=body, dedupe_key=key, source=source)
        )
    return sent


def _describe(a: Alarm) -> str:
    where = a.sensor.name if a.sensor_id else (a.area.name if a.area_id else "")
    return (
        f"【{LEVEL_LABELS.get(a.level, a.level)}】{a.rule.name} · {where} · 值 {a.value:g}"
        if a.value is not None
        else f"{a.rule.name} · {where}"
    )


REPLAY_GROUP = ":replay"  # suffix of a replay's notification groups
REPLAY_SUBJECT = "【回放】"


def run_pipeline(
    at: dt.datetime | None = None, policy: lifecycle.GroupPolicy = POLICY, replayed: bool = False
) -> int:
    """dispatch → group → inhibit → silence → notify; resolved notices of alarms
    that were notified; then escalations, reminders and expired silences. Returns
    the number of notifications queued. The live pipeline never touches replayed
    alarms; `replayed=True` is a replay run with --notify, on the data's clock
    (`at`), over its own alarms and groups, subjects marked 【回放】."""
    at = at or timezone.now()
    queued = 0
    mark = REPLAY_SUBJECT if replayed else ""
    suffix = REPLAY_GROUP if replayed else ""
    with transaction.atomic(), audit.acting_as(None, ACTOR):
        # Silences that ran out: back to firing.
        for alarm in Alarm.objects.filter(
            state=lifecycle.SILENCED, silenced_until__lte=at, replayed=replayed
        ):
            _transition(alarm, lifecycle.FIRING, alarm.level, at, None, "静默到期,仍在报警")
        active = list(
            Alarm.objects.select_related(
                "rule",
                "sensor",
                "area",
                "sensor__department",
                "rule__notify_department",
                "rule__escalate_to",
            ).filter(state__in=(lifecycle.FIRING, lifecycle.ACKNOWLEDGED), replayed=replayed)
        )
        silences = _silences(at)
        by_id = {a.pk: a for a in active}
        groups: dict[str, list[lifecycle.AlarmView]] = defaultdict(list)
        for a in active:  # dispatch
            v = _view(a)
            groups[lifecycle.group_key(v) + suffix].append(v)
        for key, views in groups.items():
            views = lifecycle.inhibit(views)
            views = [
                v
                for v in views
                if not lifecycle.silenced(v, silences, at)
                and not (by_id[v.id].sensor_id and by_id[v.id].sensor.status == "maintenance")
            ]
            if not views:
                continue
            group, _ = AlarmGroup.objects.get_or_create(key=key, defaults={"first_at": at})
            fp = lifecycle.fingerprint(views)
            if not lifecycle.group_due(
                at, group.first_at, group.last_sent_at, fp != group.last_fingerprint, policy
            ):
                continue
            alarms = [by_id[v.id] for v in sorted(views, key=lambda v: (-v.level, v.id))]
            district = Region.objects.filter(pk=key.split(":")[0]).first()
            from yingji.monitoring.models import HAZARD_LABELS

            subject = (
                f"{mark}监测报警:{district.name if district else ''}"
                f"{HAZARD_LABELS.get(alarms[0].hazard, '')} {len(alarms)} 条"
            )
            body = "\n".join(_describe(a) for a in alarms)
            depts = [d for a in alarms for d in _recipients(a)]
            queued += _send(
                depts, subject, body, f"monitoring:group:{key}:{fp}:{at:%Y%m%d%H%M}", alarms[0]
            )
            group.last_sent_at, group.last_fingerprint = at, fp
            group.save()
            Alarm.objects.filter(
                pk__in=[a.pk for a in alarms], last_notified_at__isnull=True
            ).update(last_notified_at=at)
        mine = AlarmGroup.objects.filter(key__endswith=REPLAY_GROUP)
        if not replayed:
            mine = AlarmGroup.objects.exclude(key__endswith=REPLAY_GROUP)
        mine.exclude(key__in=list(groups)).delete()
        queued += _resolved_notices(at, policy, silences, replayed)
        for a in active:
            if a.state != lifecycle.FIRING or any(
                lifecycle.silenced(_view(a), silences, at) for _ in (0,)
            ):
                continue
            rule = a.rule
            if lifecycle.escalation_due(
                a.state,
                a.fired_at,
                a.escalated_at is not None,
                at,
                dt.timedelta(minutes=rule.escalate_after_min),
            ):
                target = [rule.escalate_to] if rule.escalate_to else []
                queued += _send(
                    target,
                    f"{mark}报警升级:{rule.name} {rule.escalate_after_min} 分钟未确认",
                    _describe(a),
                    f"monitoring:escalate:{a.pk}:{a.fired_at:%Y%m%d%H%M%S}",
                    a,
                )
                a.escalated_at = at
                a.save(update_fields=["escalated_at"])
                AlarmEvent.objects.bulk_create(
                    [
                        AlarmEvent(
                            alarm=a,
                            at=at,
                            state=a.state,
                            level=a.level,
                            note=f"{rule.escalate_after_min} 分钟未确认,已升级",
                        )
                    ]
                )
            elif lifecycle.reminder_due(
                a.state, a.last_notified_at, at, dt.timedelta(minutes=rule.remind_every_min)
            ):
                a.reminders += 1
                queued += _send(
                    _recipients(a),
                    f"{mark}报警提醒(第 {a.reminders} 次):{rule.name}",
                    _describe(a),
                    f"monitoring:remind:{a.pk}:{a.reminders}",
                    a,
                )
                a.last_notified_at = at
                a.save(update_fields=["reminders", "last_notified_at"])
    return queued


RESOLVED_NOTICE_WITHIN = dt.timedelta(days=1)


def _resolved_notices(
    at: dt.datetime,
    policy: lifecycle.GroupPolicy,
    silences: Sequence[lifecycle.SilenceView],
    replayed: bool = False,
) -> int:
    """Tell the recipients of a firing notice that the alarm has resolved (已恢复):
    grouped like the firing notices (district and hazard), through the outbox, to
    the rule's or sensor's department and, if it was escalated, the escalation
    department (the duty officers when none is reachable, as for firing).

    An alarm is due when it was notified (``last_notified_at``) before it resolved;
    stamping ``last_notified_at`` afterwards marks it told, and the dedupe key (the
    group and its alarms) keeps a rerun from sending twice. Silence and
    maintenance windows in force swallow the notice (it is still marked told)."""
    from django.db.models import F

    from yingji.monitoring.models import HAZARD_LABELS

    resolved = list(
        Alarm.objects.select_related(
            "rule",
            "sensor",
            "area",
            "sensor__department",
            "rule__notify_department",
            "rule__escalate_to",
        ).filter(
            state=lifecycle.RESOLVED,
            last_notified_at__isnull=False,
            last_notified_at__lt=F("resolved_at"),
            resolved_at__lte=at,
            resolved_at__gte=at - RESOLVED_NOTICE_WITHIN,
            replayed=replayed,
        )
    )
    groups: dict[str, list[Alarm]] = defaultdict(list)
    for a in resolved:
        groups[lifecycle.group_key(_view(a)) + (REPLAY_GROUP if replayed else "")].append(a)
    queued = 0
    for key, alarms in groups.items():
        if not lifecycle.resolved_due(at, (a.resolved_at for a in alarms), policy):
            continue
        told = [
            a
            for a in alarms
            if not lifecycle.silenced(_view(a), silences, at)
            and not (a.sensor_id and a.sensor.status == Sensor.Status.MAINTENANCE)
        ]
        if told:
            told.sort(key=lambda a: (-level_number(a.max_level), a.pk))
            district = Region.objects.filter(pk=key.split(":")[0]).first()
            subject = (
                f"{REPLAY_SUBJECT if replayed else ''}监测报警已恢复:{district.name if district else ''}"
                f"{HAZARD_LABELS.get(told[0].hazard, '')} {len(told)} 条"
            )
            body = "\n".join(
                f"已恢复 · {a.rule.name} · "
                f"{a.sensor.name if a.sensor_id else (a.area.name if a.area_id else '')}"
                f" · 最高{LEVEL_LABELS.get(a.max_level, '')}"
                f" · 恢复于 {timezone.localtime(a.resolved_at):%m-%d %H:%M}"
                for a in told
            )
            depts = [
                d
                for a in told
                for d in (*_recipients(a), a.rule.escalate_to if a.escalated_at else None)
            ]
            views = [_view(a) for a in told]
            queued += _send(
                depts,
                subject,
                body,
                f"monitoring:resolved:{key}:{lifecycle.fingerprint(views)}",
                told[0],
            )
        Alarm.objects.filter(pk__in=[a.pk for a in alarms]).update(last_notified_at=at)
        AlarmEvent.objects.bulk_create(
            [
                AlarmEvent(
                    alarm=a,
                    at=at,
                    state=a.state,
                    level=a.level,
                    note="已发送恢复通知" if a in told else "恢复未通知(静默或维护中)",
                )
                for a in alarms
            ]
        )
    return queued


def retire_rule_alarms(rule: AlarmRule, at: dt.datetime | None = None) -> int:
    """A rule switched off: its open alarms resolve (they would otherwise stay open,
    as no engine evaluates the rule any more) and the regional levels follow.
    Those told an alarm fired then get the resolved notice. Returns how many."""
    at = at or timezone.now()
    areas: set[tuple[str, str]] = set()
    n = 0
    with transaction.atomic():
        for alarm in Alarm.objects.select_for_update().filter(
            rule=rule, state__in=lifecycle.OPEN_STATES
        ):
            _transition(alarm, lifecycle.RESOLVED, alarm.level, at, None, "规则已停用")
            areas.update((c, alarm.hazard) for c in (alarm.street_code, alarm.district_code) if c)
            n += 1
        if areas:
            update_regional_levels(areas)
    return n


# ------------------------------------------------------- rollups, retention


def rollup(since_ms: int, until_ms: int) -> int:
    """Minute and hour rollups of readings in [since, until) (upserts)."""
    n = 0
    for period, width in (("minute", 60_000), ("hour", 3_600_000)):
        lo = since_ms - since_ms % width
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO monitoring_rollup (sensor_id, period, start_ms, count, total, minimum, maximum) "
                f"SELECT sensor_id, %s, ts_ms - (ts_ms %% {width}), COUNT(*), SUM(value), MIN(value), MAX(value) "
                "FROM monitoring_reading WHERE ts_ms >= %s AND ts_ms < %s "
                f"GROUP BY sensor_id, ts_ms - (ts_ms %% {width}) "
                "ON CONFLICT (sensor_id, period, start_ms) DO UPDATE SET count = excluded.count, "
                "total = excluded.total, minimum = excluded.minimum, maximum = excluded.maximum",
                [period, lo, until_ms],
            )
            n += cur.rowcount
    return n


def apply_retention(at: dt.datetime | None = None) -> dict[str, Any]:
    """Raw readings and minute rollups past their retention go (hour rollups are
    kept); dead letters are kept as long as raw readings. On PostgreSQL, where both
    tables are partitioned by time (timeparts.py), the partitions wholly past the
    cut are dropped and rows deleted only in DEFAULT; the partition straddling the
    cut goes whole at a later run (rows are kept their retention and at most a day
    more, a month for minute rollups). The counts are the rows deleted,
    `*_partitions_dropped` the partitions dropped (their rows are not counted:
    counting a day of readings would cost what the drop saves). Elsewhere: DELETE
    at the cut, every row counted."""
    from yingji.monitoring.models import Reading

    at = at or timezone.now()
    at_ms = int(at.timestamp() * 1000)
    raw_cut = int((at - RAW_RETENTION).timestamp() * 1000)
    minute_cut = int((at - MINUTE_RETENTION).timestamp() * 1000)
    done: dict[str, Any] = {}
    kept = partitioning.retain(timeparts.READINGS, at_ms)
    if kept is None:
        done["readings"] = Reading.objects.filter(ts_ms__lt=raw_cut)._raw_delete(Reading.objects.db)
    else:
        done["readings"], done["reading_partitions_dropped"] = kept.deleted, kept.dropped
    kept = partitioning.retain(timeparts.MINUTE_ROLLUPS, at_ms)
    if kept is None:
        done["minute_rollups"] = Rollup.objects.filter(
            period="minute", start_ms__lt=minute_cut
        )._raw_delete(Rollup.objects.db)
    else:
        done["minute_rollups"], done["minute_partitions_dropped"] = kept.deleted, kept.dropped
    done["dead_letters"] = DeadLetter.objects.filter(
        received_at__lt=at - RAW_RETENTION
    )._raw_delete(DeadLetter.objects.db)
    return done


def alarm_filter(scope: Any) -> Q:
    """The alarms a scope covers (the sensor's department, or the alarm's district or
    street), as a filter: one rule for the live page, the workbench and the API."""
    if scope.sees_all:
        return Q()
    if not (scope.region_codes or scope.department_ids):
        return Q(pk__isnull=True)  # matches nothing
    return scope.q(department_field="sensor__department", region_field="district_code") | scope.q(
        region_field="street_code"
    )


def sensor_filter(scope: Any) -> Q:
    """The sensors a scope covers (their department, district or street)."""
    if scope.sees_all:
        return Q()
    return scope.q(department_field="department", region_field="district__code") | scope.q(
        region_field="street__code"
    )


def visible_alarms(user: Any):
    """Alarms the user's scope covers (department of the sensor, or region)."""
    from yingji.core.scope import scope_for

    return Alarm.objects.select_related("rule", "sensor", "area").filter(
        alarm_filter(scope_for(user))
    )


def visible_sensors(user: Any):
    from yingji.core.scope import scope_for

    return Sensor.objects.filter(sensor_filter(scope_for(user)))


def can_handle(user: Any, alarm: Alarm) -> bool:
    """May the user acknowledge or silence the alarm? Duty officers, leaders and
    the owning department or region."""
    from yingji.core.scope import scope_for

    scope = scope_for(user)
    if scope.sees_all:
        return True
    dept = alarm.sensor.department_id if alarm.sensor_id else None
    return scope.can_edit_department(dept) or scope.covers_region(
        alarm.street_code or alarm.district_code
    )


Q_ACTIVE = Q(state__in=lifecycle.ACTIVE_STATES)


# ------------------------------------------------- HTTP ingest and tokens

_shared: Ingestor | None = None
_shared_lock = threading.Lock()


def shared_ingestor() -> Ingestor:
    """The web process's ingestor (the HTTP bulk endpoint), built once."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Ingestor()
        return _shared


def ingest_http(body: bytes, content_type: str) -> IngestStats:
    """Parse and ingest an HTTP bulk body (JSON array or NDJSON). A body refused
    as a whole (too large, not UTF-8, not JSON, nested too deep) is dead-lettered
    and raises payloads.BodyRefused (the endpoint answers 413 or 422 with the
    reason); anything the parser did not foresee is refused the same way."""
    limit = limits("YINGJI_MONITORING_HTTP_MAX_BYTES")
    try:
        records, problems = payloads.parse_body(body, content_type, limit)
    except payloads.BodyRefused as exc:
        refuse_http(str(exc), exc.sample)
        raise
    except Exception as exc:  # never a 500 for what a client sent
        log.exception("HTTP ingest body could not be parsed")
        reason = f"报文无法解析:{type(exc).__name__}"
        refuse_http(reason, payloads.fragment(body))
        raise payloads.BodyRefused(reason) from None
    ing = shared_ingestor()
    with _ingest_lock:
        return ing.ingest(records, problems, source="http")


_ingest_lock = threading.Lock()


def refuse_http(reason: str, sample: str = "") -> None:
    """Dead-letter an HTTP body refused as a whole."""
    dead_letters([(reason, sample)], "http")


def issue_token(name: str, department: Any = None) -> str:
    """Create an ingest token; the plain token is shown once and never stored."""
    token = secrets.token_urlsafe(32)
    IngestToken.objects.create(
        name=name, department=department, token_sha256=hashlib.sha256(token.encode()).hexdigest()
    )
    return token


def check_token(token: str) -> IngestToken | None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    return IngestToken.objects.filter(token_sha256=digest, active=True).first()


def scope_for_user(user: Any):
    """The user's scope (re-exported so callers need one import)."""
    from yingji.core.scope import scope_for

    return scope_for(user)
