"""Excel ledgers (台账) in and out: the enterprise list, the risk-point list and
the hazard ledger.

An import reads every row first and reports every problem as (row, column,
reason). Nothing is written unless every row passes, or the user chose "import
the valid rows" (then the rows with problems are skipped and listed). Rows are
matched by their natural key (credit code, risk-point code, hazard code) and
written only when something differs, so importing the same file again changes
nothing. The whole write is one transaction.

The hazard ledger is the big one (100,000 rows): it is read once, compared
against the database in chunks and written with bulk operations.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from openpyxl import Workbook

from yingji.core import departments as core_departments
from yingji.core import geo, inputlimits, regions
from yingji.risk import cells, creditcode, grading, services, xlsxread
from yingji.risk.categories import HAZARD_CATEGORIES, KEY_CATEGORIES, parse_categories
from yingji.risk.hazardflow import STATE_LABELS
from yingji.risk.models import (
    Enterprise,
    Hazard,
    HazardEvent,
    LedgerImport,
    RiskAssessment,
    RiskPoint,
)
from yingji.risk.supervision import normalise_industry

CHUNK = 900  # below SQLite's bound-parameter limit
Progress = Callable[[int, int], None]
Track = Callable[[str, int, int], None]  # (phase "read"/"validate"/"write", done, total)

ENTERPRISE_COLUMNS = [
    "统一社会信用代码",
    "单位名称",
    "地址",
    "经度",
    "纬度",
    "坐标系",
    "行业代码",
    "重点行业领域",
    "涉及重大危险源",
    "监管部门",
    "安全负责人",
    "联系电话",
    "从业人数",
    "所属区",
    "所属镇街",
    "风险等级",
]
RISK_POINT_COLUMNS = [
    "风险点编号",
    "统一社会信用代码",
    "公共场所名称",
    "风险点名称",
    "部位",
    "经度",
    "纬度",
    "危险有害因素",
    "管控措施",
    "管控责任人",
    "责任人电话",
    "评估方法",
    "L",
    "E",
    "C/S",
    "评估日期",
    "风险值",
    "风险等级",
]
HAZARD_COLUMNS = [
    "隐患编号",
    "统一社会信用代码",
    "单位名称",
    "隐患等级",
    "来源",
    "类别",
    "隐患描述",
    "隐患部位",
    "发现日期",
    "整改期限",
    "整改责任人",
    "状态",
    "所属区",
    "挂牌督办",
]
# Columns written on export for reading only; an import ignores them.
DERIVED = {"所属区", "所属镇街", "风险等级", "风险值", "单位名称", "挂牌督办"}
REQUIRED = {
    "enterprises": ["统一社会信用代码", "单位名称", "行业代码"],
    "risk_points": ["风险点编号", "风险点名称", "评估方法", "L", "C/S", "评估日期"],
    "hazards": ["隐患编号", "统一社会信用代码", "隐患等级", "来源", "隐患描述", "发现日期"],
}
COLUMNS = {
    "enterprises": ENTERPRISE_COLUMNS,
    "risk_points": RISK_POINT_COLUMNS,
    "hazards": HAZARD_COLUMNS,
}
SHEET_TITLES = {"enterprises": "企业名录", "risk_points": "风险点清单", "hazards": "隐患台账"}
CRS = {
    "": "wgs84",
    "WGS84": "wgs84",
    "WGS-84": "wgs84",
    "GCJ02": "gcj02",
    "GCJ-02": "gcj02",
    "BD09": "bd09",
    "BD-09": "bd09",
}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"第{self.row}行" + (f"“{self.column}”列" if self.column else "")
        return f"{where}:{self.message}"

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message, "text": str(self)}


@dataclass
class ImportReport:
    """What an import found and did."""

    kind: str
    filename: str
    total: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    written: bool = False
    valid_only: bool = False
    created_keys: list[str] = field(default_factory=list)
    updated_keys: list[str] = field(default_factory=list)

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})

    def summary(self) -> str:
        if not self.written:
            return (
                f"{self.filename}:共 {self.total} 行,{self.error_rows} 行有错误,未导入任何数据"
                "(可修改后重新导入,或选择“仅导入有效行”)"
            )
        skipped = f",跳过有错误的 {self.error_rows} 行" if self.errors else ""
        return (
            f"{self.filename}:共 {self.total} 行,新增 {self.created},更新 {self.updated},"
            f"未变化 {self.unchanged}{skipped}"
        )


# ---------------------------------------------------------------- reading


def read_workbook(
    data: bytes, kind: str, progress: Progress | None = None, *, filename: str = "台账.xlsx"
) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
    """(rows as (Excel row number, {header: value}), file-level errors);
    `progress(rows read, 0)` every 5,000 rows. A workbook over the limits
    (YINGJI_XLSX_MAX_BYTES, the zip checks) is refused before it is unpacked."""
    try:
        stream = xlsxread.read_rows(
            data, SHEET_TITLES[kind], name=filename, limits=inputlimits.zip_limits()
        )
        first = next(stream, None)
    except xlsxread.XlsxLimitError as exc:
        return [], [RowError(0, "", str(exc))]
    except (xlsxread.XlsxError, ValueError):
        return [], [RowError(0, "", "文件不是有效的 Excel (.xlsx) 文件")]
    if first is None or not any(cells.text(h) for h in first[1]):
        return [], [RowError(1, "", "工作表为空,缺少表头")]
    names = [cells.text(h) for h in first[1]]
    missing = [c for c in REQUIRED[kind] if c not in names]
    if missing:
        return [], [RowError(first[0], c, "缺少必需的列") for c in missing]
    index = {name: i for i, name in enumerate(names) if name in COLUMNS[kind]}
    rows = []
    try:
        for number, values in stream:
            if all(v is None or cells.text(v) == "" for v in values):
                continue
            rows.append(
                (
                    number,
                    {name: (values[i] if i < len(values) else None) for name, i in index.items()},
                )
            )
            if progress and len(rows) % 5000 == 0:
                progress(len(rows), 0)
    except (xlsxread.XlsxError, ValueError):
        return [], [RowError(0, "", "文件不是有效的 Excel (.xlsx) 文件(内容损坏)")]
    return rows, []


class _Row:
    """Collects one row's problems while its cells are read."""

    def __init__(self, number: int, values: dict[str, Any], errors: list[RowError]):
        self.number, self.values, self.errors, self.ok = number, values, errors, True

    def get(self, column: str, parse: Callable[[Any], Any] = cells.text, **kw: Any) -> Any:
        try:
            return parse(self.values.get(column), **kw)
        except cells.CellError as exc:
            self.fail(column, str(exc))
            return None

    def fail(self, column: str, message: str) -> None:
        self.ok = False
        self.errors.append(RowError(self.number, column, message))

    def required_text(self, column: str) -> str:
        value = cells.text(self.values.get(column))
        if not value:
            self.fail(column, "不能为空")
        return value


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _in_chunks(queryset, field_name: str, keys: Iterable[str]):
    keys = sorted(set(keys))
    for chunk in _chunks(keys):
        yield from queryset.filter(**{f"{field_name}__in": chunk})


def _duplicate(seen: dict[str, int], key: str, row: _Row, column: str) -> bool:
    if key in seen:
        row.fail(column, f"与第{seen[key]}行重复")
        return True
    seen[key] = row.number
    return False


# ---------------------------------------------------------------- enterprises


def _parse_enterprises(rows, errors) -> list[tuple[int, dict]]:
    parsed, seen = [], {}
    for number, values in rows:
        row = _Row(number, values, errors)
        code = creditcode.normalise(row.required_text("统一社会信用代码"))
        if code:
            problem = creditcode.problem(code)
            if problem:
                row.fail("统一社会信用代码", problem)
            else:
                _duplicate(seen, code, row, "统一社会信用代码")  # records the error itself
        name = row.required_text("单位名称")
        industry_raw = row.required_text("行业代码")
        industry = ""
        if industry_raw:
            industry, problem = normalise_industry(industry_raw)
            if problem:
                row.fail("行业代码", problem)
        categories, unknown = parse_categories(cells.text(values.get("重点行业领域")))
        if unknown:
            row.fail(
                "重点行业领域",
                f"无法识别:{'、'.join(unknown)}(可选:{'、'.join(KEY_CATEGORIES.values())})",
            )
        lon = row.get("经度", cells.number, minimum=73, maximum=136)
        lat = row.get("纬度", cells.number, minimum=3, maximum=54)
        if (lon is None) != (lat is None):
            row.fail("经度" if lon is None else "纬度", "经度和纬度须同时填写")
        crs_text = cells.text(values.get("坐标系")).upper()
        if crs_text not in CRS:
            row.fail("坐标系", f"“{crs_text}”不是可选坐标系(WGS84、GCJ02、BD09)")
        dept_name = cells.text(values.get("监管部门"))
        dept = core_departments.resolve(dept_name) if dept_name else None
        if dept_name and dept is None:
            row.fail("监管部门", f"未知部门“{dept_name}”")
        major = row.get("涉及重大危险源", cells.boolean)
        employees = row.get("从业人数", cells.integer)
        if row.ok:
            parsed.append(
                (
                    number,
                    {
                        "credit_code": code,
                        "name": name,
                        "address": cells.text(values.get("地址")),
                        "lon": lon,
                        "lat": lat,
                        "crs": CRS[crs_text],
                        "industry_code": industry,
                        "key_categories": categories,
                        "has_major_hazard_installation": bool(major),
                        "override": dept,
                        "contact_person": cells.text(values.get("安全负责人")),
                        "contact_phone": cells.text(values.get("联系电话")),
                        "employees": employees or None,
                    },
                )
            )
    return parsed


def _write_enterprises(
    parsed, report: ImportReport, progress: Progress | None, touched: dict[int, int]
) -> None:
    existing = {
        e.credit_code: e
        for e in _in_chunks(
            Enterprise.objects.all(), "credit_code", [v["credit_code"] for _, v in parsed]
        )
    }
    for i, (number, v) in enumerate(parsed):
        e = existing.get(v["credit_code"]) or Enterprise(credit_code=v["credit_code"])
        before = _enterprise_state(e) if e.pk else None
        e.name, e.address, e.industry_code = v["name"], v["address"], v["industry_code"]
        e.key_categories = v["key_categories"]
        e.has_major_hazard_installation = v["has_major_hazard_installation"]
        e.contact_person, e.contact_phone, e.employees = (
            v["contact_person"],
            v["contact_phone"],
            v["employees"],
        )
        if v["lon"] is not None:
            wlon, wlat = geo.to_wgs84(v["lon"], v["lat"], v["crs"])
            if e.lon is None or abs(e.lon - wlon) > 1e-7 or abs(e.lat - wlat) > 1e-7:
                found = regions.lookup(wlon, wlat)
                e.lon, e.lat = round(wlon, 7), round(wlat, 7)
                e.district, e.street = found["district"], found["street"]
        if v["override"] is not None:
            e.supervision_overridden, e.supervising_department = True, v["override"]
        services.apply_derived(e)
        if before is None:
            e.save()
            report.created += 1
            report.created_keys.append(e.credit_code)
        elif _enterprise_state(e) != before:
            e.save()
            services.sync_hazard_copies(e)
            report.updated += 1
            report.updated_keys.append(e.credit_code)
        else:
            report.unchanged += 1
        touched[e.pk] = number
        if progress and i % 500 == 0:
            progress(i, len(parsed))


def _enterprise_state(e: Enterprise) -> tuple:
    return (
        e.name,
        e.address,
        e.industry_code,
        tuple(e.key_categories or ()),
        e.has_major_hazard_installation,
        e.contact_person,
        e.contact_phone,
        e.employees,
        e.lon,
        e.lat,
        e.district_id,
        e.street_id,
        e.supervision_overridden,
        e.supervising_department_id,
    )


# ---------------------------------------------------------------- risk points

METHODS = {"lec": "LEC", "ls": "LS"}


def _parse_risk_points(rows, errors) -> list[tuple[int, dict]]:
    parsed, seen = [], {}
    codes = {cells.text(v.get("统一社会信用代码")).upper() for _, v in rows} - {""}
    enterprises = {
        e.credit_code: e for e in _in_chunks(Enterprise.objects.all(), "credit_code", codes)
    }
    for number, values in rows:
        row = _Row(number, values, errors)
        code = row.required_text("风险点编号")
        if code:
            _duplicate(seen, code, row, "风险点编号")
        name = row.required_text("风险点名称")
        credit = cells.text(values.get("统一社会信用代码")).upper()
        site = cells.text(values.get("公共场所名称"))
        enterprise = enterprises.get(credit) if credit else None
        if credit and enterprise is None:
            row.fail("统一社会信用代码", f"企业“{credit}”不在企业名录中(请先导入企业)")
        if not credit and not site:
            row.fail("公共场所名称", "无所属企业时须填写公共场所名称")
        method = row.get("评估方法", cells.choice, options=METHODS)
        lk = row.get("L", cells.number, required=True)
        ex = row.get("E", cells.number)
        cs = row.get("C/S", cells.number, required=True)
        day = row.get("评估日期", cells.date, required=True)
        result = None
        if row.ok:
            try:
                if method == "lec":
                    if ex is None:
                        raise grading.AssessmentError("LEC法须填写E(暴露频繁程度)")
                    result = grading.lec(lk, ex, cs)
                else:
                    result = grading.ls(lk, cs)
            except grading.AssessmentError as exc:
                column = "E" if "E" in str(exc)[:2] else ("C/S" if str(exc)[:1] in "CS" else "L")
                row.fail(column, str(exc))
        lon = row.get("经度", cells.number, minimum=73, maximum=136)
        lat = row.get("纬度", cells.number, minimum=3, maximum=54)
        if row.ok:
            parsed.append(
                (
                    number,
                    {
                        "code": code,
                        "enterprise": enterprise,
                        "site_name": site,
                        "name": name,
                        "location": cells.text(values.get("部位")),
                        "lon": lon,
                        "lat": lat,
                        "hazard_factors": cells.text(values.get("危险有害因素")),
                        "control_measures": cells.text(values.get("管控措施")),
                        "responsible_person": cells.text(values.get("管控责任人")),
                        "responsible_phone": cells.text(values.get("责任人电话")),
                        "method": method,
                        "L": lk,
                        "E": ex if method == "lec" else None,
                        "CS": cs,
                        "assessed_on": day,
                        "grade": result.grade if result else "",
                    },
                )
            )
    return parsed


POINT_FIELDS = [
    "enterprise_id",
    "site_name",
    "name",
    "location",
    "hazard_factors",
    "control_measures",
    "responsible_person",
    "responsible_phone",
]


def _write_risk_points(
    parsed, report: ImportReport, progress: Progress | None, touched: dict[int, int]
) -> None:
    existing = {
        p.code: p
        for p in _in_chunks(RiskPoint.objects.all(), "code", [v["code"] for _, v in parsed])
    }
    touched_enterprises = set()
    for i, (number, v) in enumerate(parsed):
        point = existing.get(v["code"]) or RiskPoint(code=v["code"])
        created = point.pk is None
        values = dict(v, enterprise_id=v["enterprise"].pk if v["enterprise"] else None)
        changed = created or any(getattr(point, f) != values[f] for f in POINT_FIELDS)
        for f in POINT_FIELDS:
            setattr(point, f, values[f])
        if v["lon"] is not None and (point.lon != v["lon"] or point.lat != v["lat"]):
            point.lon, point.lat = v["lon"], v["lat"]
            found = regions.lookup(v["lon"], v["lat"])
            point.district, point.street = found["district"], found["street"]
            changed = True
        elif point.district_id is None and v["enterprise"] is not None:
            point.district_id, point.street_id = (
                v["enterprise"].district_id,
                v["enterprise"].street_id,
            )
            changed = True
        if changed:
            point.save()
        latest = None if created else point.assessments.order_by("-assessed_on", "-id").first()
        same = latest is not None and (
            latest.method,
            latest.likelihood,
            latest.exposure,
            latest.consequence,
            latest.assessed_on,
        ) == (v["method"], v["L"], v["E"], v["CS"], v["assessed_on"])
        if not same:
            services.assess(
                point,
                method=v["method"],
                likelihood=v["L"],
                exposure=v["E"],
                consequence=v["CS"],
                assessed_on=v["assessed_on"],
                note="台账导入",
            )
            changed = True
        if created:
            report.created += 1
            report.created_keys.append(point.code)
        elif changed:
            report.updated += 1
            report.updated_keys.append(point.code)
        else:
            report.unchanged += 1
        touched[point.pk] = number
        if changed and point.enterprise_id:
            touched_enterprises.add(point.enterprise_id)
        if progress and i % 500 == 0:
            progress(i, len(parsed))
    for enterprise in Enterprise.objects.filter(pk__in=touched_enterprises):
        services.refresh_enterprise_grade(enterprise)


# ---------------------------------------------------------------- hazards

LEVELS = dict(Hazard.Level.choices)
SOURCES = dict(Hazard.Source.choices)
STATES = {k.value: v for k, v in STATE_LABELS.items()}
HAZARD_FIELDS = [
    "enterprise_id",
    "level",
    "source",
    "category",
    "description",
    "location",
    "found_on",
    "deadline",
    "responsible_person",
]


COPIED = ["district", "street", "industry_code", "department"]
FIELD_LABELS = {
    "enterprise_id": "单位",
    "level": "隐患等级",
    "source": "来源",
    "category": "类别",
    "description": "隐患描述",
    "location": "隐患部位",
    "found_on": "发现日期",
    "deadline": "整改期限",
    "responsible_person": "整改责任人",
}


def _parse_hazards(rows, errors, progress: Progress | None = None) -> list[tuple[int, dict]]:
    parsed, seen = [], {}
    credit_codes = {cells.text(v.get("统一社会信用代码")).upper() for _, v in rows} - {""}
    enterprises = {
        row[0]: row
        for row in _in_chunks_values(
            Enterprise.objects.all(),
            "credit_code",
            credit_codes,
            [
                "credit_code",
                "pk",
                "district_id",
                "street_id",
                "industry_code",
                "supervising_department_id",
            ],
        )
    }
    existing_states = {
        code: state
        for code, state in _in_chunks_values(
            Hazard.objects.all(),
            "code",
            [cells.text(v.get("隐患编号")) for _, v in rows],
            ["code", "state"],
        )
    }
    total = len(rows)
    for i, (number, values) in enumerate(rows):
        row = _Row(number, values, errors)
        code = row.required_text("隐患编号")
        if code:
            _duplicate(seen, code, row, "隐患编号")
        credit = row.required_text("统一社会信用代码").upper()
        enterprise = enterprises.get(credit)
        if credit and enterprise is None:
            row.fail("统一社会信用代码", f"企业“{credit}”不在企业名录中(请先导入企业)")
        level = row.get("隐患等级", cells.choice, options=LEVELS)
        source = row.get("来源", cells.choice, options=SOURCES)
        category = row.get("类别", cells.choice, options=HAZARD_CATEGORIES, default="other")
        description = row.required_text("隐患描述")
        found_on = row.get("发现日期", cells.date, required=True)
        deadline = row.get("整改期限", cells.date)
        if found_on and deadline and deadline < found_on:
            row.fail("整改期限", f"整改期限{deadline}早于发现日期{found_on}")
        state = row.get("状态", cells.choice, options=STATES, default="reported")
        if code in existing_states and state and state != existing_states[code]:
            row.fail(
                "状态",
                f"隐患已在系统中为“{STATES[existing_states[code]]}”,"
                "状态只能通过整改流程变更,不能由台账改写",
            )
        if state and state not in ("reported",) and deadline is None and row.ok:
            row.fail("整改期限", "已交办的隐患须填写整改期限")
        if row.ok:
            parsed.append(
                (
                    number,
                    {
                        "code": code,
                        "enterprise": enterprise,
                        "enterprise_id": enterprise[1],
                        "level": level,
                        "source": source,
                        "category": category,
                        "description": description,
                        "location": cells.text(values.get("隐患部位")),
                        "found_on": found_on,
                        "deadline": deadline,
                        "responsible_person": cells.text(values.get("整改责任人")),
                        "state": state,
                    },
                )
            )
        if progress and i % 5000 == 0:
            progress(i, total)
    return parsed


def _in_chunks_values(queryset, field_name: str, keys, fields: list[str]):
    keys = sorted(set(keys) - {""})
    for chunk in _chunks(keys):
        yield from queryset.filter(**{f"{field_name}__in": chunk}).values_list(*fields)


def _insert(model, objs: list) -> None:
    """INSERT many rows with one prepared statement (executemany): bulk_create
    splits into SQLite's 999-parameter batches and renders SQL per batch, which
    dominates a 100,000-row import. No signals, as with bulk_create."""
    if not objs:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    rows = [[f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields] for obj in objs]
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def _write_hazards(parsed, report: ImportReport, progress: Progress | None, user: Any) -> None:
    codes = [v["code"] for _, v in parsed]
    existing = {
        h.code: h
        for h in _in_chunks(
            Hazard.objects.only("pk", "code", "state", *HAZARD_FIELDS, *COPIED), "code", codes
        )
    }
    new, changed, what = [], [], {}
    for _, v in parsed:
        h = existing.get(v["code"])
        if h is None:
            _, pk, district, street, industry, dept = v["enterprise"]
            new.append(
                Hazard(
                    code=v["code"],
                    enterprise_id=pk,
                    district_id=district,
                    street_id=street,
                    industry_code=industry,
                    department_id=dept,
                    state=v["state"],
                    **{f: v[f] for f in HAZARD_FIELDS if f != "enterprise_id"},
                )
            )
        elif any(getattr(h, f) != v[f] for f in HAZARD_FIELDS):
            what[h.pk] = [FIELD_LABELS[f] for f in HAZARD_FIELDS if getattr(h, f) != v[f]]
            for f in HAZARD_FIELDS:
                setattr(h, f, v[f])
            # The ledger's copies follow the (possibly different) enterprise.
            _, _, h.district_id, h.street_id, h.industry_code, h.department_id = v["enterprise"]
            changed.append(h)
        else:
            report.unchanged += 1
    now = timezone.now()
    done = 0
    for batch in _chunks(new, 5000):
        for h in batch:
            h.created_at = h.updated_at = now
        _insert(Hazard, batch)
        done += len(batch)
        if progress:
            progress(done, len(parsed))
    report.created = len(new)
    report.created_keys = [h.code for h in new]
    label = services._label(user)
    actor = user if getattr(user, "is_authenticated", False) else None
    # Each hazard's history (its timeline) records the import: bulk writes send no
    # signals, so the events are written here, in bulk too.
    events = []
    if new:
        created = dict(
            _in_chunks_values(Hazard.objects.all(), "code", [h.code for h in new], ["code", "pk"])
        )
        events += [
            HazardEvent(
                hazard_id=created[h.code],
                action="import",
                to_state=h.state,
                on=h.found_on,
                actor=actor,
                actor_label=label,
                comment="台账导入",
            )
            for h in new
        ]
    today = timezone.localdate()
    events += [
        HazardEvent(
            hazard_id=h.pk,
            action="import",
            from_state=h.state,
            to_state=h.state,
            on=today,
            actor=actor,
            actor_label=label,
            comment=f"台账导入更新:{'、'.join(what[h.pk])}",
        )
        for h in changed
    ]
    for batch in _chunks(events, 5000):
        for e in batch:
            e.at = now
        _insert(HazardEvent, batch)
    for batch in _chunks(changed, 1000):
        for h in batch:
            h.updated_at = now
        Hazard.objects.bulk_update(batch, HAZARD_FIELDS + COPIED + ["updated_at"])
    report.updated = len(changed)
    report.updated_keys = [h.code for h in changed]


# ---------------------------------------------------------------- scope

# What each ledger's rows are matched by, and where the referenced enterprise is.
KEYS = {
    "enterprises": ("credit_code", "统一社会信用代码", "的企业"),
    "risk_points": ("code", "风险点编号", "的风险点"),
    "hazards": ("code", "隐患编号", "的隐患"),
}


def _editable(kind: str, user: Any):
    return {
        "enterprises": services.editable_enterprises,
        "risk_points": services.editable_risk_points,
        "hazards": services.editable_hazards,
    }[kind](user)


def _models(kind: str):
    return {"enterprises": Enterprise, "risk_points": RiskPoint, "hazards": Hazard}[kind]


def _place(row: tuple) -> str:
    """'属番禺区,' for a refusal (the district, else the street, else the department)."""
    district, street, department = row
    if district or street:
        return f"属{district or street},"
    return f"属{department}监管," if department else ""


def _scope_errors(kind: str, parsed: list[tuple[int, dict]], user: Any) -> list[RowError]:
    """Rows that would change a record outside the user's scope (one matched by
    key, or the enterprise a row attaches to): each named, as "隐患编号 … 属越秀区,
    不在您的管辖范围". The system (no user) may change everything."""
    if not parsed or _changes_everything(user):
        return []
    errors: list[RowError] = []
    key, column, noun = KEYS[kind]
    model = _models(kind)
    places = (
        ["district__name", "street__name", "supervising_department__name"]
        if kind == "enterprises"
        else (
            ["district__name", "street__name", "enterprise__supervising_department__name"]
            if kind == "risk_points"
            else ["district__name", "street__name", "department__name"]
        )
    )
    keys = [v[key] for _, v in parsed]
    allowed = {k for (k,) in _in_chunks_values(_editable(kind, user), key, keys, [key])}
    outside = {
        k: _place(tuple(rest))
        for k, *rest in _in_chunks_values(model.objects.all(), key, keys, [key, *places])
        if k not in allowed
    }
    for number, v in parsed:
        if v[key] in outside:
            errors.append(
                RowError(
                    number, column, f"{column} {v[key]} {noun}{outside[v[key]]}不在您的管辖范围"
                )
            )
    if kind != "enterprises":
        credits = {_credit(v) for _, v in parsed} - {""}
        mine = {
            c
            for (c,) in _in_chunks_values(
                services.editable_enterprises(user), "credit_code", credits, ["credit_code"]
            )
        }
        theirs = {
            c: _place(tuple(rest))
            for c, *rest in _in_chunks_values(
                Enterprise.objects.all(),
                "credit_code",
                credits - mine,
                ["credit_code", "district__name", "street__name", "supervising_department__name"],
            )
        }
        for number, v in parsed:
            credit = _credit(v)
            if credit in theirs:
                errors.append(
                    RowError(
                        number,
                        "统一社会信用代码",
                        f"统一社会信用代码 {credit} 的企业{theirs[credit]}不在您的管辖范围",
                    )
                )
    return errors


def _changes_everything(user: Any) -> bool:
    """The system (no user) and those who edit everything: no row to check."""
    from yingji.core.scope import scope_or_system

    return scope_or_system(user).editing().edits_all


def _credit(v: dict) -> str:
    e = v.get("enterprise")
    if e is None:
        return ""
    return e[0] if isinstance(e, tuple) else e.credit_code


def _written_outside(
    kind: str, touched: dict[int, int], user: Any, report: ImportReport
) -> list[RowError]:
    """After writing (inside the transaction): rows whose record the user could no
    longer change, such as an enterprise located, or supervised, outside their
    scope. Any such row refuses the whole import."""
    if not touched or kind == "hazards" or _changes_everything(user):
        # A hazard's district, street and department are its enterprise's, checked above.
        return []
    key, column, noun = KEYS[kind]
    allowed = {
        pk for (pk,) in _in_chunks_values(_editable(kind, user), "pk", list(touched), ["pk"])
    }
    rows = _models(kind).objects.filter(pk__in=[pk for pk in touched if pk not in allowed])
    places = (
        ("district__name", "street__name", "supervising_department__name")
        if kind == "enterprises"
        else ("district__name", "street__name", "enterprise__supervising_department__name")
    )
    return [
        RowError(
            touched[pk],
            column,
            f"导入后{column} {k} {noun}{_place(tuple(rest))}不在您的管辖范围",
        )
        for pk, k, *rest in rows.values_list("pk", key, *places)
    ]


class _Refused(Exception):
    """Raised inside the write transaction to undo it."""

    def __init__(self, errors: list[RowError]):
        super().__init__("")
        self.errors = errors


# ---------------------------------------------------------------- entry point


def import_ledger(
    kind: str,
    data: bytes,
    *,
    filename: str = "台账.xlsx",
    user: Any = None,
    valid_only: bool = False,
    progress: Progress | None = None,
    record: LedgerImport | None = None,
    track: Track | None = None,
) -> ImportReport:
    """Validate every row, then write all of them (or, with `valid_only`, the
    valid ones) in one transaction. `progress(done, total)` is called as rows are
    validated and written; `track(phase, done, total)` also names the phase."""
    if kind not in COLUMNS:
        raise ValueError(f"未知的台账类别:{kind}")

    def step(phase: str) -> Progress | None:
        if progress is None and track is None:
            return None

        def call(done: int, total: int) -> None:
            if progress and phase != "read":
                progress(done, total)
            if track:
                track(phase, done, total)

        return call

    if record is None:  # every import is recorded, whoever starts it (page, API, command)
        record = LedgerImport.objects.create(
            kind=kind,
            filename=filename[:200],
            valid_only=valid_only,
            started_by=user if getattr(user, "is_authenticated", False) else None,
        )
    report = ImportReport(kind=kind, filename=filename, valid_only=valid_only)
    rows, file_errors = read_workbook(data, kind, step("read"), filename=filename)
    report.total = len(rows)
    if file_errors:
        report.errors = file_errors
        _finish(record, report)
        return report
    if record is not None:
        record.total_rows = len(rows)
        record.save(update_fields=["total_rows"])
    errors: list[RowError] = []
    validated, written = step("validate"), step("write")
    if validated:
        validated(0, len(rows))
    if kind == "enterprises":
        parsed = _parse_enterprises(rows, errors)
    elif kind == "risk_points":
        parsed = _parse_risk_points(rows, errors)
    else:
        parsed = _parse_hazards(rows, errors, validated)
    refused = _scope_errors(kind, parsed, user)
    if refused:
        bad = {e.row for e in refused}
        parsed = [(n, v) for n, v in parsed if n not in bad]
        errors += refused
    if validated:
        validated(len(rows), len(rows))
    report.errors = sorted(errors, key=lambda e: (e.row, e.column))
    if errors and not valid_only:
        _finish(record, report)
        return report
    if written:
        written(0, len(parsed))
    touched: dict[int, int] = {}  # pk → row number
    try:
        with transaction.atomic():
            if kind == "enterprises":
                _write_enterprises(parsed, report, written, touched)
            elif kind == "risk_points":
                _write_risk_points(parsed, report, written, touched)
            else:
                _write_hazards(parsed, report, written, user)
            outside = _written_outside(kind, touched, user, report)
            if outside:
                raise _Refused(outside)
    except _Refused as exc:
        report.errors = sorted(report.errors + exc.errors, key=lambda e: (e.row, e.column))
        report.created = report.updated = report.unchanged = 0
        report.created_keys, report.updated_keys = [], []
        _finish(record, report)
        return report
    report.written = True
    if written:
        written(len(parsed), len(parsed))
    _finish(record, report)
    return report


def _finish(record: LedgerImport, report: ImportReport) -> None:
    record.status = LedgerImport.Status.DONE if report.written else LedgerImport.Status.FAILED
    record.total_rows, record.processed_rows = report.total, report.total
    record.created, record.updated, record.unchanged = (
        report.created,
        report.updated,
        report.unchanged,
    )
    record.errors = [e.as_dict() for e in report.errors[:2000]]
    # The import's one audit entry (this save's) lists the keys it changed; each
    # record's own history has its change too (its audit entries, or for hazards
    # written in bulk, their timeline).
    record.changed_keys = {"created": report.created_keys, "updated": report.updated_keys}
    record.finished_at = timezone.now()
    record.save()


# ---------------------------------------------------------------- export


def _grade_label(code: str) -> str:
    return grading.GRADE_LABELS.get(code, "")


def export_ledger(kind: str, queryset) -> bytes:
    """The ledger as an .xlsx workbook in the import's own columns (re-importable)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_TITLES[kind])
    sheet.append(COLUMNS[kind])
    if kind == "enterprises":
        for e in (
            queryset.select_related("district", "street", "supervising_department")
            .defer("district__boundary", "street__boundary")
            .iterator(chunk_size=2000)
        ):
            sheet.append(
                [
                    e.credit_code,
                    e.name,
                    e.address,
                    e.lon,
                    e.lat,
                    "WGS84",
                    e.industry_code,
                    "、".join(KEY_CATEGORIES.get(c, c) for c in e.key_categories or []),
                    "是" if e.has_major_hazard_installation else "否",
                    e.supervising_department.name
                    if e.supervision_overridden and e.supervising_department
                    else "",
                    e.contact_person,
                    e.contact_phone,
                    e.employees,
                    e.district.name if e.district else "",
                    e.street.name if e.street else "",
                    _grade_label(e.grade),
                ]
            )
    elif kind == "risk_points":
        latest: dict[int, RiskAssessment] = {}
        for a in (
            RiskAssessment.objects.filter(risk_point__in=queryset)
            .order_by("risk_point_id", "assessed_on", "id")
            .iterator(chunk_size=2000)
        ):
            latest[a.risk_point_id] = a
        for p in queryset.select_related("enterprise").iterator(chunk_size=2000):
            a = latest.get(p.pk)
            sheet.append(
                [
                    p.code,
                    p.enterprise.credit_code if p.enterprise else "",
                    p.site_name,
                    p.name,
                    p.location,
                    p.lon,
                    p.lat,
                    p.hazard_factors,
                    p.control_measures,
                    p.responsible_person,
                    p.responsible_phone,
                    METHODS.get(a.method, "") if a else "",
                    a.likelihood if a else None,
                    a.exposure if a else None,
                    a.consequence if a else None,
                    a.assessed_on if a else None,
                    a.score if a else None,
                    _grade_label(p.grade),
                ]
            )
    else:
        for h in (
            queryset.select_related("enterprise", "district")
            .defer("district__boundary")
            .iterator(chunk_size=5000)
        ):
            sheet.append(
                [
                    h.code,
                    h.enterprise.credit_code,
                    h.enterprise.name,
                    LEVELS[h.level],
                    SOURCES[h.source],
                    HAZARD_CATEGORIES.get(h.category, h.category),
                    h.description,
                    h.location,
                    h.found_on,
                    h.deadline,
                    h.responsible_person,
                    STATES[h.state],
                    h.district.name if h.district else "",
                    "是" if h.listed else "否",
                ]
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template(kind: str) -> bytes:
    """An empty workbook with the right columns."""
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLES[kind]
    sheet.append([c for c in COLUMNS[kind] if c not in DERIVED or c == "单位名称"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
