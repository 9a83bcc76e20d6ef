"""Reading Excel cells as ledgers write them (pure; no Django).

Each parser takes the raw cell value and returns the value, raising CellError
with a Chinese reason; the ledger adds the row and column.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping


class CellError(ValueError):
    """The cell cannot be read; the message says why."""


def text(value: object) -> str:
    """The cell as stripped text ('' for empty); 2614.0 → '2614'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip()


def date(value: object, *, required: bool = False) -> dt.date | None:
    """A date from a date cell or text like 2024-03-04, 2024/3/4, 2024年3月4日."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        # An Excel date cell read as its serial number (days since 1899-12-30).
        if not 1 <= value < 2958466:
            raise CellError(f"“{value:g}”不是日期")
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
    raw = text(value)
    if not raw:
        if required:
            raise CellError("不能为空")
        return None
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", raw)
    if not m:
        raise CellError(f"“{raw}”不是日期(应如 2024-03-04)")
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise CellError(f"“{raw}”不是有效日期") from None


def number(
    value: object,
    *,
    required: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float | None:
    """A number within [minimum, maximum]."""
    raw = text(value)
    if not raw:
        if required:
            raise CellError("不能为空")
        return None
    try:
        result = float(raw)
    except ValueError:
        raise CellError(f"“{raw}”不是数字") from None
    if minimum is not None and result < minimum or maximum is not None and result > maximum:
        raise CellError(f"{raw} 超出范围({minimum:g}~{maximum:g})")
    return result


def integer(value: object, *, minimum: int = 0) -> int:
    """A whole number ≥ minimum; empty counts as 0."""
    raw = text(value)
    if not raw:
        return 0
    try:
        result = int(float(raw))
    except ValueError:
        raise CellError(f"“{raw}”不是整数") from None
    if result != float(raw) or result < minimum:
        raise CellError(f"“{raw}”须为不小于{minimum}的整数")
    return result


def boolean(value: object) -> bool:
    raw = text(value)
    if raw in ("", "否", "无", "N", "n", "0", "false", "False", "FALSE"):
        return False
    if raw in ("是", "有", "Y", "y", "1", "true", "True", "TRUE"):
        return True
    raise CellError(f"“{raw}”应为“是”或“否”")


def choice(value: object, options: Mapping[str, str], *, default: str | None = None) -> str:
    """A code from its code or its Chinese label (options: code → label)."""
    raw = text(value)
    if not raw and default is not None:
        return default
    if raw in options:
        return raw
    for code, label in options.items():
        if raw == label:
            return code
    allowed = "、".join(options.values())
    raise CellError(f"“{raw}”不是可选值({allowed})" if raw else f"不能为空(可选:{allowed})")
