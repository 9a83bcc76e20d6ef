"""Resource registries from Excel (.xlsx), all or nothing.

One sheet per registry, first row the headers (order free, names as below).
Rows are upserted by name. Every problem names the file, the sheet, the row
and the column (letter and header); nothing is written unless the whole
workbook is accepted.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.db import transaction
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from yingji.core import inputlimits
from yingji.response.models import Helipad, Hospital, RescueTeam, Shelter, StockItem, Warehouse

TEAM_KINDS = {"专业队伍": "professional", "社会力量": "social", "基层队伍": "grassroots"}

# sheet → {header: (field, parser, required)}
SHEETS: dict[str, dict[str, tuple[str, str, bool]]] = {
    "救援队伍": {
        "名称": ("name", "text", True),
        "类别": ("kind", "team_kind", False),
        "人数": ("members", "int", False),
        "能力": ("capabilities", "list", True),
        "驻地": ("base", "text", False),
        "经度": ("lon", "lon", True),
        "纬度": ("lat", "lat", True),
        "值班电话": ("phone", "text", False),
    },
    "物资仓库": {
        "仓库": ("name", "text", True),
        "地址": ("address", "text", False),
        "经度": ("lon", "lon", True),
        "纬度": ("lat", "lat", True),
        "物资": ("item", "text", False),
        "类别": ("category", "text", False),
        "数量": ("quantity", "float", False),
        "单位": ("unit", "text", False),
    },
    "避护场所": {
        "名称": ("name", "text", True),
        "类别": ("grade", "text", False),
        "地址": ("address", "text", False),
        "经度": ("lon", "lon", True),
        "纬度": ("lat", "lat", True),
        "容纳人数": ("capacity", "int", True),
        "面积": ("area_m2", "float", False),
        "设施": ("facilities", "list", False),
    },
    "直升机停机坪": {
        "名称": ("name", "text", True),
        "经度": ("lon", "lon", True),
        "纬度": ("lat", "lat", True),
        "类型": ("surface", "text", False),
    },
    "医院": {
        "名称": ("name", "text", True),
        "等级": ("grade", "text", False),
        "经度": ("lon", "lon", True),
        "纬度": ("lat", "lat", True),
        "床位": ("beds", "int", False),
    },
}


class ImportProblems(ValueError):
    """Every problem of a workbook."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            ";".join(problems[:20])
            + (f";另有 {len(problems) - 20} 处错误" if len(problems) > 20 else "")
        )


def _parse(kind: str, value: Any) -> Any:
    """Parse one cell; ValueError with a Chinese reason."""
    text = "" if value is None else str(value).strip()
    if kind == "text":
        return text
    if kind == "list":
        return [
            p.strip() for p in text.replace(",", "、").replace(",", "、").split("、") if p.strip()
        ]
    if kind == "team_kind":
        if not text:
            return "professional"
        if text not in TEAM_KINDS:
            raise ValueError(f"应为 {'、'.join(TEAM_KINDS)} 之一")
        return TEAM_KINDS[text]
    if text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"“{text}”不是数字") from None
    if kind == "int":
        if number < 0 or number != int(number):
            raise ValueError(f"“{text}”应为非负整数")
        return int(number)
    if kind == "lon" and not 73 <= number <= 136:
        raise ValueError(f"经度 {text} 超出中国范围(73–136)")
    if kind == "lat" and not 3 <= number <= 54:
        raise ValueError(f"纬度 {text} 超出中国范围(3–54)")
    return number


def read_workbook(data: bytes, filename: str) -> tuple[dict[str, list[dict]], list[str]]:
    """Rows per known sheet, and every problem found (a workbook over the limits is
    refused before it is unpacked, see core/inputlimits.py)."""
    if problem := inputlimits.archive_problem(data, filename):
        return {}, [problem]
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a broken file
        return {}, [f"{filename}:无法读取 Excel 文件({type(exc).__name__}),请使用 .xlsx 格式"]
    out: dict[str, list[dict]] = {}
    problems: list[str] = []
    known = [n for n in wb.sheetnames if n in SHEETS]
    if not known:
        problems.append(f"{filename}:没有可识别的工作表(应为 {'、'.join(SHEETS)})")
    for name in known:
        spec = SHEETS[name]
        rows = wb[name].iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        cols = {h: i for i, h in enumerate(header) if h in spec}
        for h, (_, _, required) in spec.items():
            if required and h not in cols:
                problems.append(f"{filename} 工作表“{name}”第 1 行:缺少列“{h}”")
        if any(h not in cols for h, (_, _, r) in spec.items() if r):
            continue
        parsed = []
        for r, row in enumerate(rows, start=2):
            if row is None or all(v in (None, "") for v in row):
                continue
            record = {"_row": r}
            for h, (field, kind, required) in spec.items():
                if h not in cols:
                    continue
                i = cols[h]
                value = row[i] if i < len(row) else None
                where = f"{filename} 工作表“{name}”第 {r} 行第 {get_column_letter(i + 1)} 列({h})"
                try:
                    v = _parse(kind, value)
                except ValueError as exc:
                    problems.append(f"{where}:{exc}")
                    continue
                if required and v in (None, "", []):
                    problems.append(f"{where}:不能为空")
                    continue
                record[field] = v
            parsed.append(record)
        out[name] = parsed
    return out, problems


def _save_teams(rows: list[dict]) -> int:
    for r in rows:
        RescueTeam.objects.update_or_create(
            name=r["name"],
            defaults={
                k: r[k]
                for k in ("kind", "members", "capabilities", "base", "lon", "lat", "phone")
                if r.get(k) is not None
            },
        )
    return len(rows)


def _save_warehouses(rows: list[dict]) -> int:
    for r in rows:
        w, _ = Warehouse.objects.update_or_create(
            name=r["name"],
            defaults={"address": r.get("address", ""), "lon": r["lon"], "lat": r["lat"]},
        )
        if r.get("item"):
            StockItem.objects.update_or_create(
                warehouse=w,
                name=r["item"],
                defaults={
                    "category": r.get("category", ""),
                    "quantity": r.get("quantity") or 0,
                    "unit": r.get("unit", ""),
                },
            )
    return len(rows)


def _simple(model: Any, fields: tuple[str, ...]) -> Callable[[list[dict]], int]:
    def save(rows: list[dict]) -> int:
        for r in rows:
            model.objects.update_or_create(
                name=r["name"], defaults={k: r[k] for k in fields if r.get(k) not in (None, "")}
            )
        return len(rows)

    return save


SAVERS = {
    "救援队伍": _save_teams,
    "物资仓库": _save_warehouses,
    "避护场所": _simple(
        Shelter, ("grade", "address", "lon", "lat", "capacity", "area_m2", "facilities")
    ),
    "直升机停机坪": _simple(Helipad, ("lon", "lat", "surface")),
    "医院": _simple(Hospital, ("grade", "lon", "lat", "beds")),
}


@transaction.atomic
def import_workbook(upload: Any, *, filename: str | None = None) -> str:
    """Import every known sheet or nothing; returns a one-line Chinese summary."""
    filename = filename or getattr(upload, "name", "Excel 文件")
    if problem := inputlimits.upload_too_large(upload):
        raise ImportProblems([problem])  # from its size, before it is read
    data = upload.read() if hasattr(upload, "read") else bytes(upload)
    sheets, problems = read_workbook(data, filename)
    if problems:
        raise ImportProblems(problems)
    counts = {name: SAVERS[name](rows) for name, rows in sheets.items()}
    return f"{filename}:已导入 " + ",".join(f"{name} {n} 行" for name, n in counts.items())
