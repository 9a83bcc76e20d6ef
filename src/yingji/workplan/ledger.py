"""The Excel task ledger (任务台账): export the plan as a workbook, let departments
fill in 进度(%) and 最新进展 offline, and import it back as progress reports.

An import is all or nothing: every row is checked first, every problem is named
by sheet, row and column header, and nothing is written unless the whole file is
valid. A row becomes a report only when its progress or text differs from the
lead department's latest report, so importing the same file twice files once.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from yingji.core import audit
from yingji.core.models import Department
from yingji.core.scope import scope_for
from yingji.workplan import services
from yingji.workplan.models import OWNERS_PENDING, Assignment, Plan, ProgressReport, Task

SHEET = "台账"
NOTES_SHEET = "说明"
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 5000

ID = "任务ID"
BASE = "基准报告ID"
PERCENT = "进度(%)"
TEXT = "最新进展"
# (header, column width); the last two are hidden machine columns.
COLUMNS = [
    ("序号", 6),
    ("部分", 18),
    ("任务内容", 60),
    ("牵头单位", 16),
    ("配合单位", 24),
    ("完成时限", 12),
    ("周期", 8),
    ("状态", 8),
    (PERCENT, 9),
    (TEXT, 50),
    ("督办次数", 9),
    (ID, 10),
    (BASE, 10),
]
HEADERS = [h for h, _ in COLUMNS]
EDITABLE = {PERCENT, TEXT}


@dataclass(frozen=True)
class LedgerIssue:
    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"工作表“{self.sheet}”" if self.sheet else ""
        if self.row is not None:
            where += f"第{self.row}行"
        if self.column:
            where += f"“{self.column}”"
        return f"{where}:{self.message}" if where else self.message

    def as_dict(self) -> dict:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "message": self.message,
            "text": str(self),
        }


class LedgerImportError(Exception):
    """The file cannot be imported; `issues` lists every problem found."""

    def __init__(self, issues: list[LedgerIssue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


@dataclass
class ImportResult:
    reports: list[ProgressReport] = field(default_factory=list)
    unchanged: int = 0
    rows: int = 0

    @property
    def created(self) -> int:
        return len(self.reports)


# ---------------------------------------------------------------- export


def _latest_lead_reports(
    task_ids: list[int], before: dt.datetime | None = None
) -> dict[int, ProgressReport]:
    """The lead department's latest report per task (optionally before a time)."""
    qs = ProgressReport.objects.filter(
        task_id__in=task_ids, addressed_to=ProgressReport.AddressedTo.OFFICE
    )
    if before is not None:
        qs = qs.filter(reported_at__lt=before)
    latest: dict[int, ProgressReport] = {}
    for r in qs.order_by("task_id", "-reported_at", "-pk"):
        latest.setdefault(r.task_id, r)
    return latest


def export_ledger(plan: Plan, as_of: dt.date, user=None) -> bytes:
    """The plan's tasks as they stood on `as_of`, one row each, as .xlsx bytes.
    With a user, only the tasks that user's department sees."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    tasks = Task.objects.filter(plan=plan)
    rows = services.task_rows(tasks if user is None else services.visible_tasks(user, tasks), as_of)
    latest = _latest_lead_reports([r.task.pk for r in rows], services.end_of_day(as_of))

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(HEADERS)
    header_fill = PatternFill("solid", fgColor="DDE6F0")
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    col = {h: i + 1 for i, h in enumerate(HEADERS)}
    wrap = Alignment(vertical="top", wrap_text=True)
    for r in rows:
        task, d = r.task, r.derived
        due = (
            d.next_milestone.due
            if d.next_milestone
            else max((m.due for m in r.milestones), default=None)
        )
        report = latest.get(task.pk)
        ws.append(
            [
                task.number,
                task.section.title,
                task.text,
                "、".join(r.lead) or OWNERS_PENDING,
                "、".join([*r.co, *task.collective_owners]),
                due,
                task.get_recurrence_display() if task.recurrence else "",
                d.label,
                report.percent if report else None,
                report.text if report else None,
                r.notices,
                task.pk,
                report.pk if report else None,
            ]
        )
        n = ws.max_row
        for cell in ws[n]:
            cell.alignment = wrap
        ws.cell(n, col["完成时限"]).number_format = "yyyy-mm-dd"
        ws.cell(n, col[PERCENT]).number_format = "0"
        for h in EDITABLE:
            ws.cell(n, col[h]).protection = Protection(locked=False)

    for (header, width), i in zip(COLUMNS, range(1, len(COLUMNS) + 1), strict=True):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = width
        if header in (ID, BASE):
            ws.column_dimensions[letter].hidden = True
    ws.freeze_panes = "B2"
    last = ws.max_row
    if last > 1:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{last}"
        pct = get_column_letter(col[PERCENT])
        dv = DataValidation(
            type="whole",
            operator="between",
            formula1="0",
            formula2="100",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="进度",
            error="进度应为0–100的整数",
        )
        dv.add(f"{pct}2:{pct}{last}")
        ws.add_data_validation(dv)
    # Protection keeps the task ids and the plan's own columns from being edited by
    # accident; only 进度 and 最新进展 are unlocked. No password: it is a guard rail.
    ws.protection.sheet = True
    ws.protection.autoFilter = False
    ws.protection.sort = False
    ws.protection.formatColumns = False
    ws.protection.formatRows = False

    notes = wb.create_sheet(NOTES_SHEET)
    for line in (
        ("工作要点", plan.title),
        ("数据截至", as_of),
        ("导出时间", timezone.localtime().replace(tzinfo=None, microsecond=0)),
        ("填写说明", "请只填写“进度(%)”(0–100的整数)和“最新进展”两列,其余列和隐藏列请勿修改。"),
        (
            "",
            "导入后,进度或进展有变化的行将以该任务牵头单位的名义报送一次进展;未变化的行不重复报送。",
        ),
        ("", "进度填100表示任务已全部完成,未完成的节点将记为完成。"),
        ("", "导出后如该任务已有新的进展报送,导入时会提示重新导出,以免覆盖他人报送的内容。"),
    ):
        notes.append(line)
    notes["B2"].number_format = "yyyy-mm-dd"
    notes["B3"].number_format = "yyyy-mm-dd hh:mm:ss"
    notes.column_dimensions["A"].width = 12
    notes.column_dimensions["B"].width = 90
    for cell in notes["A"]:
        cell.font = Font(bold=True)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- import


def _norm_text(value) -> str:
    if value is None:
        return ""
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _shown(value) -> str:
    text = _norm_text(value)
    return text if len(text) <= 20 else text[:19] + "…"


def _parse_percent(value) -> int | None:
    """The cell as a whole percent; None when blank. Raises ValueError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError
        number = int(value)
    else:
        text = str(value).strip().removesuffix("%").strip()
        if not text.isascii() or not text.isdigit():
            raise ValueError
        number = int(text)
    if not 0 <= number <= 100:
        raise ValueError
    return number


def _parse_id(value) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.isascii() and text.isdigit():
        return int(text)
    raise ValueError


def _read_sheet(data: bytes, filename: str = "台账.xlsx") -> tuple[str, list[tuple]]:
    """The ledger sheet's name and its rows (header first), or LedgerImportError.
    A workbook over the zip limits (core/safezip.py) is refused before it is
    unpacked."""
    from openpyxl import load_workbook

    from yingji.core import inputlimits

    if len(data) > MAX_BYTES:
        raise LedgerImportError(
            [LedgerIssue("", None, None, f"文件超过{MAX_BYTES // 1024 // 1024}MB,请只上传台账")]
        )
    if problem := inputlimits.archive_problem(data, filename):
        raise LedgerImportError([LedgerIssue("", None, None, problem)])
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not xlsx
        raise LedgerImportError(
            [LedgerIssue("", None, None, "文件不是有效的Excel(.xlsx)文件,请上传导出的台账")]
        ) from exc
    try:
        candidates = [wb[SHEET]] if SHEET in wb.sheetnames else wb.worksheets
        for ws in candidates:
            # One row past the limit, so that an oversized sheet is reported, not cut.
            rows = list(ws.iter_rows(max_row=MAX_ROWS + 2, values_only=True))
            if ws.title == SHEET or (rows and ID in [_norm_text(v) for v in rows[0]]):
                return ws.title, rows
    finally:
        wb.close()
    raise LedgerImportError(
        [LedgerIssue("", None, None, f"找不到工作表“{SHEET}”,请上传平台导出的台账")]
    )


@dataclass
class _Row:
    number: int
    task: Task
    lead: Department
    percent: int
    text: str


def _lead_ids(task_ids: list[int]) -> dict[int, int]:
    """Each task's lead department id (the first lead named for the whole task)."""
    leads: dict[int, int] = {}
    for task_id, dept_id in (
        Assignment.objects.filter(
            task_id__in=task_ids, clause__isnull=True, role=Assignment.Role.LEAD
        )
        .order_by("task_id", "position")
        .values_list("task_id", "department_id")
    ):
        leads.setdefault(task_id, dept_id)
    return leads


def _read_rows(
    plan: Plan, sheet: str, table: list[tuple], user, issues: list[LedgerIssue]
) -> tuple[list[_Row], int, int]:
    """Check every row; return the rows that change something, the count of
    unchanged rows and the count of rows read."""
    rows = iter(table)
    header = [_norm_text(v) for v in next(rows, ())]
    where = {h: i for i, h in enumerate(header) if h}
    missing = [h for h in (ID, PERCENT, TEXT) if h not in where]
    if missing:
        issues.append(
            LedgerIssue(
                sheet,
                1,
                None,
                "缺少列" + "、".join(f"“{h}”" for h in missing) + ",请使用平台导出的台账",
            )
        )
        return [], 0, 0

    parsed = []  # (row number, task id, percent or None, text, base report id, percent valid)
    seen: dict[int, int] = {}
    for number, values in enumerate(rows, start=2):
        if number > MAX_ROWS + 1:
            issues.append(LedgerIssue(sheet, number, None, f"台账超过{MAX_ROWS}行"))
            break

        def cell(h, values=values):
            i = where.get(h)
            return values[i] if i is not None and i < len(values) else None

        raw_id, raw_pct, raw_text = cell(ID), cell(PERCENT), cell(TEXT)
        if all(_norm_text(v) == "" for v in values):
            continue
        try:
            task_id = _parse_id(raw_id)
        except ValueError:
            issues.append(
                LedgerIssue(
                    sheet, number, ID, f"应为任务编号,实际为“{_shown(raw_id)}”,请勿修改隐藏列"
                )
            )
            continue
        if task_id is None:
            issues.append(LedgerIssue(sheet, number, ID, "缺少任务ID,请勿删除或修改隐藏列"))
            continue
        if task_id in seen:
            issues.append(LedgerIssue(sheet, number, ID, f"与第{seen[task_id]}行是同一任务"))
            continue
        seen[task_id] = number
        percent, valid = None, True
        try:
            percent = _parse_percent(raw_pct)
        except ValueError:
            valid = False
            issues.append(
                LedgerIssue(sheet, number, PERCENT, f"应为0–100的整数,实际为“{_shown(raw_pct)}”")
            )
        try:
            base_id = _parse_id(cell(BASE))
        except ValueError:
            base_id = None  # only a guard against stale files; a mangled one skips it
        parsed.append((number, task_id, percent, _norm_text(raw_text), base_id, valid))

    tasks = Task.objects.select_related("plan").in_bulk([p[1] for p in parsed])
    latest = _latest_lead_reports(list(tasks))
    leads = _lead_ids(list(tasks))
    departments = Department.objects.in_bulk(set(leads.values()))
    scope = scope_for(user)
    changes, unchanged = [], 0
    for number, task_id, percent, text, base_id, valid in parsed:
        task = tasks.get(task_id)
        if task is None:
            issues.append(LedgerIssue(sheet, number, ID, f"任务ID {task_id} 不存在"))
            continue
        if task.plan_id != plan.pk:
            issues.append(
                LedgerIssue(
                    sheet,
                    number,
                    ID,
                    f"第{task.number}项任务属于另一工作要点“{task.plan.title}”,不是“{plan.title}”",
                )
            )
            continue
        if not valid:
            continue
        current = latest.get(task.pk)
        if percent is None and not text:
            unchanged += 1  # left blank: nothing to report
            continue
        if current is not None and percent == current.percent and text == _norm_text(current.text):
            unchanged += 1
            continue
        if percent is None:
            issues.append(LedgerIssue(sheet, number, PERCENT, "填写了最新进展,请同时填写进度"))
            continue
        if not text:
            issues.append(LedgerIssue(sheet, number, TEXT, "请填写最新进展"))
            continue
        lead = departments.get(leads.get(task.pk))
        if lead is None:
            issues.append(
                LedgerIssue(sheet, number, None, f"第{task.number}项任务没有牵头单位,不能报送进展")
            )
            continue
        if not scope.can_edit_department(lead.pk):
            issues.append(LedgerIssue(sheet, number, None, _refusal(user, task)))
            continue
        if current is not None and base_id is not None and current.pk != base_id:
            issues.append(
                LedgerIssue(
                    sheet,
                    number,
                    None,
                    f"第{task.number}项任务在导出后已有新的进展报送"
                    f"({services.local_date(current.reported_at):%Y-%m-%d}),请重新导出台账后填写",
                )
            )
            continue
        changes.append(_Row(number, task, lead, percent, text))
    return changes, unchanged, len(parsed)


def _refusal(user, task: Task) -> str:
    """Why this user may not fill in this row. Rows are filed in the lead
    department's name, so only whoever may act for the lead department may."""
    dept = services.can_report(user, task)
    if dept is not None:
        return (
            f"您所在部门“{dept}”是第{task.number}项任务的配合单位;台账按牵头单位报送,"
            "请在任务页面向牵头处室报送配合进展"
        )
    own = services.user_department(user)
    if own is None:
        return f"您的账号未关联部门,不能导入第{task.number}项任务的进展"
    return f"您所在部门“{own}”不是第{task.number}项任务的牵头单位,不能导入该任务的进展"


def import_ledger(
    plan: Plan,
    data: bytes,
    user,
    *,
    reported_at: dt.datetime | None = None,
    filename: str = "台账.xlsx",
) -> ImportResult:
    """Import a filled-in ledger: one progress report per changed row, in the
    row's lead department's name, all in one transaction. Raises
    LedgerImportError listing every problem; then nothing is written."""
    sheet, table = _read_sheet(data, filename)
    issues: list[LedgerIssue] = []
    with transaction.atomic(), audit.acting_as(user):
        changes, unchanged, count = _read_rows(plan, sheet, table, user, issues)
        if issues:
            raise LedgerImportError(issues)
        when = reported_at or timezone.now()
        result = ImportResult(unchanged=unchanged, rows=count)
        for row in changes:
            try:
                result.reports.append(
                    services.file_report(
                        row.task,
                        user,
                        percent=row.percent,
                        text=row.text,
                        department=row.lead,
                        reported_at=when,
                    )
                )
            except (PermissionDenied, ValidationError) as exc:
                # Checked above; a rule services enforce that this module does not
                # know of still names its row, and the transaction rolls back.
                raise LedgerImportError(
                    [
                        LedgerIssue(
                            sheet, row.number, None, "; ".join(getattr(exc, "messages", [str(exc)]))
                        )
                    ]
                ) from exc
    return result
