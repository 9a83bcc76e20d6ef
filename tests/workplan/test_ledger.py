"""The Excel task ledger (台账): export, fill in offline, import back."""

import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook

from tests.workplan.test_bulletins import JUNE, build_world, report
from yingji.workplan import ledger, services
from yingji.workplan.models import Plan, ProgressReport, Section, Task
from yingji.workplan.status import Status

D = dt.date
JULY_1 = services.at_noon(D(2022, 7, 1))


@pytest.fixture
def world(db):
    return build_world()


def sheet(data: bytes):
    return load_workbook(io.BytesIO(data))[ledger.SHEET]


def column(ws, header: str) -> int:
    return [c.value for c in ws[1]].index(header) + 1


def edit(data: bytes, changes: dict[int, dict[str, object]]) -> bytes:
    """Change cells by task number (序号) and column header, as a department would."""
    wb = load_workbook(io.BytesIO(data))
    ws = wb[ledger.SHEET]
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    for number, cells in changes.items():
        for header, value in cells.items():
            ws.cell(rows[number], column(ws, header)).value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_export_has_one_row_per_task_as_it_stood(world):
    ws = sheet(ledger.export_ledger(world.plan, JUNE))
    assert [c.value for c in ws[1]] == ledger.HEADERS
    values = {h: ws.cell(2, column(ws, h)).value for h in ledger.HEADERS}
    assert values["序号"] == 1 and values["部分"] == "一、防范化解重大安全风险"
    assert values["牵头单位"] == "应急指挥中心" and values["配合单位"] == "风险监测和综合减灾处"
    assert values["状态"] == "滞后" and values["进度(%)"] == 40
    # the lead's latest report, not the co-organiser's later one
    assert values["最新进展"] == "平台招标完成"
    assert values["完成时限"].date() == D(2022, 5, 31)
    assert values["督办次数"] == 1 and values["任务ID"] == world.tasks[0].pk
    assert ws.max_row == 5


def test_export_is_formatted_for_people(world):
    wb = load_workbook(io.BytesIO(ledger.export_ledger(world.plan, JUNE)))
    ws = wb[ledger.SHEET]
    assert ws["A1"].font.bold and ws.freeze_panes == "B2"
    id_letter = ws.cell(1, column(ws, "任务ID")).column_letter
    assert ws.column_dimensions[id_letter].hidden
    assert ws.column_dimensions["C"].width == 60
    assert ws.protection.sheet and ws.cell(2, column(ws, "任务ID")).protection.locked
    assert not ws.cell(2, column(ws, "进度(%)")).protection.locked
    notes = wb[ledger.NOTES_SHEET]
    assert notes["B1"].value == "广州市应急管理局2022年工作要点"
    assert notes["B2"].value.date() == JUNE and notes["A3"].value == "导出时间"


def test_a_department_exports_only_its_own_tasks(world):
    ws = sheet(ledger.export_ledger(world.plan, JUNE, user=world.monitor_staff))
    assert [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)] == [1, 2]


def test_round_trip_files_exactly_the_changed_rows_and_moves_the_status(world):
    t1, _, t3, _ = world.tasks
    before = ProgressReport.objects.count()
    filled = edit(
        ledger.export_ledger(world.plan, JUNE),
        {
            1: {"进度(%)": 100, "最新进展": "平台已上线运行"},
            3: {"进度(%)": "60", "最新进展": "制度已征求意见"},
        },
    )
    result = ledger.import_ledger(world.plan, filled, world.supervisor, reported_at=JULY_1)
    assert (result.created, result.unchanged, result.rows) == (2, 2, 4)
    assert ProgressReport.objects.count() == before + 2
    r1, r3 = sorted(result.reports, key=lambda r: r.task.number)
    assert (r1.department, r1.addressed_to, r1.percent) == (world.command, "office", 100)
    assert (r3.department, r3.text, r3.author) == (world.basics, "制度已征求意见", world.supervisor)
    assert services.task_state(t1, D(2022, 6, 30)).status is Status.LATE
    assert services.task_state(t1, D(2022, 7, 1)).status is Status.DONE
    assert services.task_state(t3, D(2022, 7, 1)).derived.percent == 60

    again = ledger.import_ledger(world.plan, filled, world.supervisor, reported_at=JULY_1)
    assert (again.created, again.unchanged) == (0, 4)
    assert ProgressReport.objects.count() == before + 2


def test_a_bad_cell_names_sheet_row_and_column_and_nothing_is_written(world):
    before = ProgressReport.objects.count()
    filled = edit(
        ledger.export_ledger(world.plan, JUNE),
        {
            1: {"进度(%)": "八十", "最新进展": "推进中"},
            3: {"进度(%)": 60, "最新进展": "制度已征求意见"},  # valid, yet not written either
            4: {"进度(%)": 150},
        },
    )
    with pytest.raises(ledger.LedgerImportError) as err:
        ledger.import_ledger(world.plan, filled, world.supervisor, reported_at=JULY_1)
    messages = [str(i) for i in err.value.issues]
    assert messages == [
        "工作表“台账”第2行“进度(%)”:应为0–100的整数,实际为“八十”",
        "工作表“台账”第5行“进度(%)”:应为0–100的整数,实际为“150”",
    ]
    assert ProgressReport.objects.count() == before


def test_progress_without_text_and_text_without_progress_are_refused(world):
    filled = edit(
        ledger.export_ledger(world.plan, JUNE),
        {
            1: {"最新进展": None},
            3: {"进度(%)": None, "最新进展": "新的进展"},
        },
    )
    with pytest.raises(ledger.LedgerImportError) as err:
        ledger.import_ledger(world.plan, filled, world.supervisor)
    assert [(i.row, i.column) for i in err.value.issues] == [(2, "最新进展"), (4, "进度(%)")]


def test_a_department_cannot_import_rows_of_other_departments_tasks(world):
    before = ProgressReport.objects.count()
    full = ledger.export_ledger(world.plan, JUNE)
    filled = edit(
        full,
        {
            1: {"进度(%)": 90, "最新进展": "代为填写"},  # 监测处 only co-organises task 1
            2: {"进度(%)": 60, "最新进展": "三季度研判准备中"},  # its own task
            3: {"进度(%)": 90, "最新进展": "代为填写"},  # not its task at all
        },
    )
    with pytest.raises(ledger.LedgerImportError) as err:
        ledger.import_ledger(world.plan, filled, world.monitor_staff, reported_at=JULY_1)
    rows = {i.row: str(i) for i in err.value.issues}
    assert set(rows) == {2, 4}
    assert "配合单位" in rows[2] and "不是第3项任务的牵头单位" in rows[4]
    assert ProgressReport.objects.count() == before

    own = edit(full, {2: {"进度(%)": 60, "最新进展": "三季度研判准备中"}})
    result = ledger.import_ledger(world.plan, own, world.monitor_staff, reported_at=JULY_1)
    assert [(r.task.number, r.department) for r in result.reports] == [(2, world.monitor)]


def test_a_duty_officer_reads_everything_but_imports_only_for_its_department(world):
    filled = edit(
        ledger.export_ledger(world.plan, JUNE, user=world.duty),
        {3: {"进度(%)": 70, "最新进展": "代为填写"}},
    )
    with pytest.raises(ledger.LedgerImportError):
        ledger.import_ledger(world.plan, filled, world.duty)


def test_unknown_ids_and_other_plans_tasks_are_named(world):
    other = Plan.objects.create(title="另一工作要点", year=2022, source_sha256="b" * 64)
    section = Section.objects.create(plan=other, number=1, title="一")
    stranger = Task.objects.create(plan=other, section=section, number=1, text="别的任务")
    filled = edit(
        ledger.export_ledger(world.plan, JUNE),
        {
            1: {"任务ID": 999999, "进度(%)": 50, "最新进展": "x"},
            3: {"任务ID": stranger.pk},
            4: {"任务ID": "abc"},
        },
    )
    with pytest.raises(ledger.LedgerImportError) as err:
        ledger.import_ledger(world.plan, filled, world.supervisor)
    got = {i.row: (i.column, i.message) for i in err.value.issues}
    assert got[2] == ("任务ID", "任务ID 999999 不存在")
    assert got[4][0] == "任务ID" and "另一工作要点" in got[4][1]
    assert got[5][0] == "任务ID" and "abc" in got[5][1]


def test_a_file_that_is_not_a_spreadsheet_is_refused(world):
    with pytest.raises(ledger.LedgerImportError, match="不是有效的Excel"):
        ledger.import_ledger(world.plan, b"%PDF-1.7 not a workbook", world.supervisor)


def test_a_workbook_without_the_ledger_columns_is_refused(world):
    wb = Workbook()
    wb.active.append(["姓名", "电话"])
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(ledger.LedgerImportError, match="找不到工作表“台账”"):
        ledger.import_ledger(world.plan, out.getvalue(), world.supervisor)
    wb.active.title = ledger.SHEET
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(ledger.LedgerImportError, match="缺少列“任务ID”、“进度\\(%\\)”"):
        ledger.import_ledger(world.plan, out.getvalue(), world.supervisor)


def test_a_stale_export_cannot_overwrite_a_newer_report(world):
    t3 = world.tasks[2]
    exported = ledger.export_ledger(world.plan, JUNE)
    report(t3, world.basics, D(2022, 7, 2), 55, "已完成初审")
    filled = edit(exported, {3: {"进度(%)": 60, "最新进展": "离线填写的旧进展"}})
    with pytest.raises(ledger.LedgerImportError, match="请重新导出台账"):
        ledger.import_ledger(world.plan, filled, world.supervisor)
