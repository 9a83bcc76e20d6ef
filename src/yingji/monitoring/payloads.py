"""Reading payloads: the one documented wire format, parsed without Django.

MQTT topics (QoS 1):

    yingji/v1/readings/<sensor code>   one reading  {"ts": …, "value": 12.5, "unit": "mm"}
                                       or a JSON array of such objects
    yingji/v1/batch                    compact batch [["<code>", ts, value], …]
                                       (an optional 4th element is the unit)

``ts`` is epoch milliseconds (integer) or an ISO 8601 time with offset
("2026-06-01T08:00:00+08:00"); ``unit`` is optional and, when given, must be the
sensor's unit. HTTP bulk takes the same objects with a ``sensor`` key, as a JSON
array or NDJSON (one object per line). CSV replay takes ``sensor,ts,value[,unit]``.

Parsers return (records, problems): records are (code, ts_ms, value, unit|None);
a problem is (reason in Chinese, fragment) for the dead-letter table. One bad
reading never spoils the others of the same message.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable
from typing import Any

TOPIC_PREFIX = "yingji/v1/"
READINGS_TOPIC = TOPIC_PREFIX + "readings/"
BATCH_TOPIC = TOPIC_PREFIX + "batch"

Record = tuple[str, int, float, str | None]
Problem = tuple[str, str]


def parse_ts(value: Any) -> int:
    """Epoch milliseconds from an integer (ms) or an ISO 8601 string with offset."""
    if isinstance(value, bool):
        raise ValueError("时间不能是布尔值")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError("时间不是有限数值")
        return int(value)
    if isinstance(value, str):
        try:
            t = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"时间格式无法识别:{value!r}(应为毫秒时间戳或带时区的 ISO 8601)"
            ) from None
        if t.tzinfo is None:
            raise ValueError(f"时间缺少时区:{value!r}")
        return int(t.timestamp() * 1000)
    raise ValueError(f"时间缺失或类型不对:{value!r}")


def parse_value(value: Any) -> float:
    """A finite float; strings like "NaN" and booleans are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"读数不是数值:{value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"读数不是有限数值:{value!r}")
    return v


def _record(code: Any, ts: Any, value: Any, unit: Any) -> Record:
    if not isinstance(code, str) or not code:
        raise ValueError(f"缺少传感器编号:{code!r}")
    if unit is not None and not isinstance(unit, str):
        raise ValueError(f"单位应为字符串:{unit!r}")
    return code, parse_ts(ts), parse_value(value), unit


def _loads(payload: bytes | str) -> Any:
    # NaN/Infinity are not JSON: refuse them at parse time.
    def refuse(name: str) -> Any:
        raise ValueError(f"读数不是有限数值:{name}")

    return json.loads(payload, parse_constant=refuse)


def parse_mqtt(topic: str, payload: bytes) -> tuple[list[Record], list[Problem]]:
    """Parse one MQTT message (see the module docstring)."""
    text = payload.decode("utf-8", errors="replace")
    try:
        data = _loads(payload)
    except ValueError as exc:
        reason = str(exc) if "有限数值" in str(exc) else f"JSON 无法解析:{exc}"
        return [], [(reason, text[:500])]
    records: list[Record] = []
    problems: list[Problem] = []
    if topic == BATCH_TOPIC:
        if not isinstance(data, list):
            return [], [("批量报文应为数组 [[编号, 时间, 读数], …]", text[:500])]
        append = records.append
        for i, row in enumerate(data):
            # Fast path for the common row: ["code", int ms, finite number] (the batch
            # form is the high-rate one; NaN/Infinity never get past _loads, and
            # v - v == 0 refuses an overflowed 1e999).
            if type(row) is list and len(row) == 3:
                code, ts, value = row
                tv = type(value)
                if (
                    type(code) is str
                    and code
                    and type(ts) is int
                    and (tv is float or tv is int)
                    and value - value == 0
                ):
                    append((code, ts, float(value), None))
                    continue
            try:
                if not isinstance(row, list) or len(row) not in (3, 4):
                    raise ValueError("批量报文的每项应为 [编号, 时间, 读数(, 单位)]")
                records.append(_record(row[0], row[1], row[2], row[3] if len(row) == 4 else None))
            except ValueError as exc:
                problems.append((f"第 {i + 1} 项:{exc}", json.dumps(row, ensure_ascii=False)[:500]))
        return records, problems
    if topic.startswith(READINGS_TOPIC):
        code = topic[len(READINGS_TOPIC) :]
        items = data if isinstance(data, list) else [data]
        for i, item in enumerate(items):
            try:
                if not isinstance(item, dict):
                    raise ValueError('读数报文应为对象 {"ts":…, "value":…}')
                records.append(_record(code, item.get("ts"), item.get("value"), item.get("unit")))
            except ValueError as exc:
                where = f"第 {i + 1} 项:" if isinstance(data, list) else ""
                problems.append((f"{where}{exc}", json.dumps(item, ensure_ascii=False)[:500]))
        return records, problems
    return [], [(f"未知主题 {topic}(应为 {READINGS_TOPIC}<编号> 或 {BATCH_TOPIC})", text[:500])]


def parse_objects(items: Iterable[Any], where: str = "") -> tuple[list[Record], list[Problem]]:
    """HTTP objects {"sensor", "ts", "value", "unit"?}."""
    records: list[Record] = []
    problems: list[Problem] = []
    for i, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise ValueError('每条读数应为对象 {"sensor":…, "ts":…, "value":…}')
            records.append(
                _record(item.get("sensor"), item.get("ts"), item.get("value"), item.get("unit"))
            )
        except ValueError as exc:
            problems.append(
                (
                    f"{where}第 {i + 1} 条:{exc}",
                    json.dumps(item, ensure_ascii=False, default=str)[:500],
                )
            )
    return records, problems


def parse_body(body: bytes, content_type: str) -> tuple[list[Record], list[Problem]]:
    """An HTTP bulk body: JSON array (application/json) or NDJSON."""
    if "ndjson" in content_type or "jsonlines" in content_type:
        records: list[Record] = []
        problems: list[Problem] = []
        for n, line in enumerate(body.decode("utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = _loads(line)
            except ValueError as exc:
                problems.append((f"第 {n} 行:JSON 无法解析:{exc}", line[:500]))
                continue
            r, p = parse_objects([item], where=f"第 {n} 行 ")
            records += r
            problems += p
        return records, problems
    try:
        data = _loads(body)
    except ValueError as exc:
        return [], [(f"JSON 无法解析:{exc}", body[:500].decode("utf-8", errors="replace"))]
    if not isinstance(data, list):
        data = [data]
    return parse_objects(data)


def encode_reading(ts_ms: int, value: float, unit: str | None = None) -> bytes:
    """One reading for yingji/v1/readings/<code>."""
    body: dict[str, Any] = {"ts": ts_ms, "value": value}
    if unit:
        body["unit"] = unit
    return json.dumps(body, separators=(",", ":")).encode()


def encode_batch(rows: Iterable[tuple[str, int, float]]) -> bytes:
    """A compact batch for yingji/v1/batch."""
    return json.dumps([[c, t, v] for c, t, v in rows], separators=(",", ":")).encode()
