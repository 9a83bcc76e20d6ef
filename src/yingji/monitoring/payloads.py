"""Reading payloads: the one documented wire format, parsed without Django.

MQTT topics (QoS 1):

    yingji/v1/readings/<sensor code>   one reading  {"ts": …, "value": 12.5, "unit": "mm"}
                                       or a JSON array of such objects
    yingji/v1/batch                    compact batch [["<code>", ts, value], …]
                                       (an optional 4th element is the unit)

``ts`` is epoch milliseconds (integer) or an ISO 8601 time with offset
("2026-06-01T08:00:00+08:00"); ``unit`` is optional: without it the value is in
the sensor type's canonical unit, with it the ingest converts (units.py; an unknown
or incompatible unit is a dead letter). HTTP bulk takes the same objects with a ``sensor`` key, as a JSON
array or NDJSON (one object per line). CSV replay takes ``sensor,ts,value[,unit]``.

Parsers return (records, problems): records are (code, ts_ms, value, unit|None);
a problem is (reason in Chinese, fragment) for the dead-letter table. One bad
reading never spoils the others of the same message.

Limits (`Limits`, from the settings in services.py): a message (an MQTT payload,
one NDJSON line) larger than `max_bytes` is refused unread; JSON nested deeper than
`max_depth` is refused whole (the wire format needs 2 levels; a body too deep for
the JSON decoder's recursion is refused the same way); not UTF-8 is refused; codes
and units longer than the registry allows are refused per reading; a time outside
years 1970–9999 or a value beyond a float is refused per reading. Every parser
here returns problems for bad input and raises nothing for it (a caller still
catches everything, see ingest.py).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

TOPIC_PREFIX = "yingji/v1/"
READINGS_TOPIC = TOPIC_PREFIX + "readings/"
BATCH_TOPIC = TOPIC_PREFIX + "batch"

Record = tuple[str, int, float, str | None]
Problem = tuple[str, str]

# Epoch milliseconds accepted at all (1970 to the end of year 9999): anything else
# is not a time a datetime can show or a 64-bit column can hold.
TS_MIN, TS_MAX = 0, 253_402_300_799_999
# Integer values the batch fast path takes as they are (64 bits); a larger one goes
# the slow way, where one beyond ~1e308 (no float at all) is refused with its reason.
INT_MAX = 2**63
FRAGMENT = 500  # characters of a bad message kept in the dead-letter table


@dataclass(frozen=True)
class Limits:
    """What one message may be (see the module docstring); the defaults are the
    settings' defaults."""

    max_bytes: int = 1_048_576
    max_depth: int = 16
    max_code: int = 64  # Sensor.code max_length
    max_unit: int = 16  # Sensor.unit max_length


DEFAULT_LIMITS = Limits()


def show(value: Any, limit: int = 60) -> str:
    """A value for a reason, clipped (a 1 MB string never reaches a reason whole)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}…(共 {len(text):,} 字符)"


def fragment(payload: bytes | str) -> str:
    """The start of a message as text, for the dead-letter table."""
    if isinstance(payload, str):
        return payload[:FRAGMENT]
    return payload[: FRAGMENT * 4].decode("utf-8", errors="replace")[:FRAGMENT]


def too_large(size: int, limits: Limits) -> str:
    return f"报文过大:{size:,} 字节,上限 {limits.max_bytes:,} 字节"


def too_deep(limits: Limits) -> str:
    return f"JSON 嵌套超过 {limits.max_depth} 层"


def deeper_than(data: Any, limit: int) -> bool:
    """Whether parsed JSON nests deeper than `limit` (a scalar is 0, [1] is 1);
    iterative, and stops at the first branch too deep."""
    stack = [(data, 1)] if type(data) in (list, dict) else []
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item if type(item) is list else item.values()
        stack.extend((c, depth + 1) for c in children if type(c) in (list, dict))
    return False


class _Refused(ValueError):
    """A whole message refused (too large, too deep, not UTF-8, not JSON)."""


def parse_ts(value: Any) -> int:
    """Epoch milliseconds from an integer (ms) or an ISO 8601 string with offset."""
    if isinstance(value, bool):
        raise ValueError("时间不能是布尔值")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("时间不是有限数值")
        if not TS_MIN <= value <= TS_MAX:
            raise ValueError(f"时间超出范围:{show(value)}(应为 1970 年至 9999 年的毫秒时间戳)")
        return int(value)
    if isinstance(value, str):
        try:
            if len(value) > 64:
                raise ValueError
            t = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"时间格式无法识别:{show(value)}(应为毫秒时间戳或带时区的 ISO 8601)"
            ) from None
        if t.tzinfo is None:
            raise ValueError(f"时间缺少时区:{show(value)}")
        try:
            ms = int(t.timestamp() * 1000)
        except (OverflowError, OSError, ValueError):
            ms = -1
        if not TS_MIN <= ms <= TS_MAX:
            raise ValueError(f"时间超出范围:{show(value)}")
        return ms
    raise ValueError(f"时间缺失或类型不对:{show(value)}")


def parse_value(value: Any) -> float:
    """A finite float; strings like "NaN" and booleans are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"读数不是数值:{show(value)}")
    try:
        v = float(value)
    except OverflowError:  # an integer of hundreds of digits
        raise ValueError(f"读数超出范围:{show(value)}") from None
    if not math.isfinite(v):
        raise ValueError(f"读数不是有限数值:{show(value)}")
    return v


def _record(code: Any, ts: Any, value: Any, unit: Any, limits: Limits = DEFAULT_LIMITS) -> Record:
    if not isinstance(code, str) or not code:
        raise ValueError(f"缺少传感器编号:{show(code)}")
    if len(code) > limits.max_code:
        raise ValueError(f"传感器编号过长:{len(code):,} 个字符,上限 {limits.max_code}")
    if unit is not None and not isinstance(unit, str):
        raise ValueError(f"单位应为字符串:{show(unit)}")
    if unit is not None and len(unit) > limits.max_unit:
        raise ValueError(f"单位过长:{len(unit):,} 个字符,上限 {limits.max_unit}")
    return code, parse_ts(ts), parse_value(value), unit


def _refuse_constant(name: str) -> Any:
    # NaN/Infinity are not JSON: refuse them at parse time.
    raise ValueError(f"读数不是有限数值:{name}")


def _loads(payload: bytes | str, limits: Limits = DEFAULT_LIMITS, *, depth: bool = True) -> Any:
    """One JSON document within the limits; _Refused (with the reason) otherwise.
    `depth=False` leaves the depth check to the caller (the batch form checks only
    the rows off its fast path: a fast-path row is flat)."""
    if len(payload) > limits.max_bytes:
        raise _Refused(too_large(len(payload), limits))
    if isinstance(payload, bytes):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Refused(f"报文不是 UTF-8 编码(第 {exc.start + 1} 字节无效)") from None
    try:
        data = json.loads(payload, parse_constant=_refuse_constant)
    except RecursionError:  # deeper than the decoder goes: far beyond max_depth
        raise _Refused(too_deep(limits)) from None
    except json.JSONDecodeError as exc:
        raise _Refused(f"JSON 无法解析:{str(exc)[:200]}") from None
    except ValueError as exc:  # NaN/Infinity, or an integer of more than 4,300 digits
        text = str(exc)
        raise _Refused(text if "有限数值" in text else "JSON 无法解析:整数位数过多") from None
    if depth and type(data) in (list, dict) and deeper_than(data, limits.max_depth):
        raise _Refused(too_deep(limits))
    return data


def parse_mqtt(
    topic: str, payload: bytes, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[Record], list[Problem]]:
    """Parse one MQTT message (see the module docstring)."""
    batch = topic == BATCH_TOPIC
    try:
        data = _loads(payload, limits, depth=not batch)
    except _Refused as exc:
        return [], [(str(exc), fragment(payload))]
    records: list[Record] = []
    problems: list[Problem] = []
    if batch:
        if not isinstance(data, list):
            return [], [("批量报文应为数组 [[编号, 时间, 读数], …]", fragment(payload))]
        append = records.append
        for i, row in enumerate(data):
            # Fast path for the common row: ["code", int ms, finite number] (the batch
            # form is the high-rate one; NaN/Infinity never get past _loads, v - v == 0
            # refuses an overflowed 1e999, and the bounds refuse integers no float or
            # 64-bit column holds).
            if type(row) is list and len(row) == 3:
                code, ts, value = row
                tv = type(value)
                if (
                    type(code) is str
                    and code
                    and type(ts) is int
                    and TS_MIN <= ts <= TS_MAX
                    and (
                        (tv is float and value - value == 0)
                        or (tv is int and -INT_MAX < value < INT_MAX)
                    )
                ):
                    append((code, ts, float(value), None))
                    continue
            if type(row) in (list, dict) and deeper_than(row, limits.max_depth - 1):
                return [], [(too_deep(limits), fragment(payload))]
            try:
                if not isinstance(row, list) or len(row) not in (3, 4):
                    raise ValueError("批量报文的每项应为 [编号, 时间, 读数(, 单位)]")
                records.append(
                    _record(row[0], row[1], row[2], row[3] if len(row) == 4 else None, limits)
                )
            except ValueError as exc:
                problems.append((f"第 {i + 1} 项:{exc}", _dump(row)))
        return records, problems
    if topic.startswith(READINGS_TOPIC):
        code = topic[len(READINGS_TOPIC) :]
        items = data if isinstance(data, list) else [data]
        for i, item in enumerate(items):
            try:
                if not isinstance(item, dict):
                    raise ValueError('读数报文应为对象 {"ts":…, "value":…}')
                records.append(
                    _record(code, item.get("ts"), item.get("value"), item.get("unit"), limits)
                )
            except ValueError as exc:
                where = f"第 {i + 1} 项:" if isinstance(data, list) else ""
                problems.append((f"{where}{exc}", _dump(item)))
        return records, problems
    shown = topic if len(topic) <= 200 else f"{topic[:200]}…"
    return [], [
        (f"未知主题 {shown}(应为 {READINGS_TOPIC}<编号> 或 {BATCH_TOPIC})", fragment(payload))
    ]


def _dump(item: Any) -> str:
    """A bad item as JSON for the dead-letter table (at most FRAGMENT characters)."""
    try:
        return json.dumps(item, ensure_ascii=False, default=str)[:FRAGMENT]
    except (RecursionError, ValueError):  # within max_depth this does not happen
        return "(无法显示)"


def parse_objects(
    items: Iterable[Any], where: str = "", limits: Limits = DEFAULT_LIMITS
) -> tuple[list[Record], list[Problem]]:
    """HTTP objects {"sensor", "ts", "value", "unit"?}."""
    records: list[Record] = []
    problems: list[Problem] = []
    for i, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise ValueError('每条读数应为对象 {"sensor":…, "ts":…, "value":…}')
            records.append(
                _record(
                    item.get("sensor"), item.get("ts"), item.get("value"), item.get("unit"), limits
                )
            )
        except ValueError as exc:
            problems.append((f"{where}第 {i + 1} 条:{exc}", _dump(item)))
    return records, problems


class BodyRefused(ValueError):
    """An HTTP body refused as a whole; `status` is 413 (too large) or 422."""

    def __init__(self, reason: str, status: int = 422, sample: str = "") -> None:
        super().__init__(reason)
        self.status, self.sample = status, sample


def parse_body(
    body: bytes, content_type: str, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[Record], list[Problem]]:
    """An HTTP bulk body: JSON array (application/json) or NDJSON. `limits.max_bytes`
    is the size of the whole body here. BodyRefused when the body as a whole cannot
    be read (too large, not UTF-8, not JSON, nested too deep); a bad NDJSON line or
    object is a problem of its own and the rest is stored."""
    if len(body) > limits.max_bytes:
        raise BodyRefused(too_large(len(body), limits), 413, fragment(body))
    if "ndjson" in content_type or "jsonlines" in content_type:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BodyRefused(
                f"报文不是 UTF-8 编码(第 {exc.start + 1} 字节无效)", sample=fragment(body)
            ) from None
        records: list[Record] = []
        problems: list[Problem] = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = _loads(line, limits)
            except _Refused as exc:
                problems.append((f"第 {n} 行:{exc}", line[:FRAGMENT]))
                continue
            r, p = parse_objects([item], where=f"第 {n} 行 ", limits=limits)
            records += r
            problems += p
        return records, problems
    try:
        data = _loads(body, limits)
    except _Refused as exc:
        raise BodyRefused(str(exc), sample=fragment(body)) from None
    if not isinstance(data, list):
        data = [data]
    return parse_objects(data, limits=limits)


def encode_reading(ts_ms: int, value: float, unit: str | None = None) -> bytes:
    """One reading for yingji/v1/readings/<code>."""
    body: dict[str, Any] = {"ts": ts_ms, "value": value}
    if unit:
        body["unit"] = unit
    return json.dumps(body, separators=(",", ":")).encode()


def encode_batch(rows: Iterable[tuple[str, int, float]]) -> bytes:
    """A compact batch for yingji/v1/batch."""
    return json.dumps([[c, t, v] for c, t, v in rows], separators=(",", ":")).encode()
