"""Excel ledgers: validation with a row-by-row report, all-or-nothing unless
"import the valid rows" is chosen, re-import idempotence, export round trip."""

import io

import pytest
from openpyxl import Workbook

from yingji.risk import creditcode, ledger
from yingji.risk.models import Enterprise, Hazard, HazardEvent, RiskAssessment, RiskPoint

from .conftest import TIANHE_POINT

C1 = creditcode.make("91440106", 101)
C2 = creditcode.make("91440105", 102)


def xlsx(headers, rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ENT_HEADERS = [
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
]


def enterprises_file(extra=()):
    return xlsx(
        ENT_HEADERS,
        [
            [
                C1,
                "天河化工厂",
                "天河区石牌",
                TIANHE_POINT[0],
                TIANHE_POINT[1],
                "WGS84",
                "C2614",
                "危险化学品生产、重大危险源",
                "是",
                "",
            ],
            [C2, "海珠建筑公司", "海珠区", 113.32, 23.09, "", "4710", "建筑施工", "否", ""],
            *extra,
        ],
    )


def test_enterprises_import_locates_and_derives_the_supervising_department(gz):
    report = ledger.import_ledger("enterprises", enterprises_file())
    assert report.written and report.created == 2 and not report.errors
    chem = Enterprise.objects.get(credit_code=C1)
    assert chem.district_id == "440106" and chem.street_id.startswith("440106")
    assert chem.supervising_department.name == "危化处" and chem.has_major_hazard_installation
    assert chem.key_categories == ["hc_production", "major_hazard_installation"]
    assert Enterprise.objects.get(credit_code=C2).supervising_department.name == "市住房城乡建设局"


def test_reimporting_the_same_enterprise_file_changes_nothing(gz):
    ledger.import_ledger("enterprises", enterprises_file())
    stamps = dict(Enterprise.objects.values_list("credit_code", "updated_at"))
    again = ledger.import_ledger("enterprises", enterprises_file())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert dict(Enterprise.objects.values_list("credit_code", "updated_at")) == stamps


def test_a_department_named_in_the_file_overrides_the_table(gz):
    data = xlsx(ENT_HEADERS, [[C1, "天河化工厂", "", None, None, "", "2614", "", "否", "基础处"]])
    ledger.import_ledger("enterprises", data)
    e = Enterprise.objects.get()
    assert e.supervising_department.name == "基础处" and e.supervision_overridden


BAD = [
    ["91440106MA59UQ9L7K", "坏代码", "", None, None, "", "2614", "", "否", ""],
    [creditcode.make("91440106", 7), "坏行业", "", None, None, "", "E2614", "", "否", ""],
    [creditcode.make("91440106", 8), "坏领域", "", None, None, "", "2614", "烟花", "也许", ""],
    [C1, "重复", "", 113.3, None, "", "2614", "", "否", "不存在处"],
]


def test_invalid_rows_are_each_reported_and_nothing_is_written(gz):
    report = ledger.import_ledger("enterprises", enterprises_file(BAD))
    assert not report.written and Enterprise.objects.count() == 0
    found = {(e.row, e.column) for e in report.errors}
    assert found == {
        (4, "统一社会信用代码"),
        (5, "行业代码"),
        (6, "重点行业领域"),
        (6, "涉及重大危险源"),
        (7, "统一社会信用代码"),
        (7, "纬度"),
        (7, "监管部门"),
    }
    texts = [str(e) for e in report.errors]
    assert "第4行“统一社会信用代码”列:统一社会信用代码校验位错误" in texts[0]
    assert any("与第2行重复" in t for t in texts)
    assert "未导入任何数据" in report.summary()


def test_import_the_valid_rows_skips_the_bad_ones(gz):
    report = ledger.import_ledger("enterprises", enterprises_file(BAD), valid_only=True)
    assert report.written and report.created == 2 and report.error_rows == 4
    assert Enterprise.objects.count() == 2
    assert "跳过有错误的 4 行" in report.summary()


def test_a_file_missing_a_required_column_or_not_excel_is_refused(gz):
    report = ledger.import_ledger("enterprises", xlsx(["单位名称"], [["x"]]))
    assert {e.column for e in report.errors} == {"统一社会信用代码", "行业代码"}
    assert (
        ledger.import_ledger("enterprises", b"not excel").errors[0].message.startswith("文件不是")
    )


RP_HEADERS = [
    "风险点编号",
    "统一社会信用代码",
    "公共场所名称",
    "风险点名称",
    "评估方法",
    "L",
    "E",
    "C/S",
    "评估日期",
    "管控措施",
    "管控责任人",
]


def points_file(l_value=6):
    return xlsx(
        RP_HEADERS,
        [
            ["FX-1", C1, "", "液氯储罐区", "LEC", l_value, 6, 7, "2024-01-10", "双人巡检", "李四"],
            ["FX-2", C1, "", "装卸台", "LS", 2, None, 3, "2024-01-10", "", ""],
            ["FX-3", "", "天河体育中心", "看台", "LS", 4, None, 5, "2024/1/12", "", ""],
        ],
    )


def test_risk_points_import_grades_and_the_enterprise_takes_the_highest(gz):
    ledger.import_ledger("enterprises", enterprises_file())
    report = ledger.import_ledger("risk_points", points_file())
    assert report.created == 3 and not report.errors
    assert dict(RiskPoint.objects.values_list("code", "grade")) == {
        "FX-1": "orange",
        "FX-2": "yellow",
        "FX-3": "red",
    }
    assert Enterprise.objects.get(credit_code=C1).grade == "orange"


def test_reimporting_risk_points_adds_no_history_and_a_change_adds_one(gz):
    ledger.import_ledger("enterprises", enterprises_file())
    ledger.import_ledger("risk_points", points_file())
    again = ledger.import_ledger("risk_points", points_file())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert RiskAssessment.objects.count() == 3
    changed = ledger.import_ledger("risk_points", points_file(l_value=10))
    assert changed.updated == 1 and RiskAssessment.objects.count() == 4
    assert Enterprise.objects.get(credit_code=C1).grade == "red"
    assert list(RiskPoint.objects.get(code="FX-1").assessments.values_list("grade", flat=True)) == [
        "red",
        "orange",
    ]


def test_risk_point_errors_name_the_factor_and_the_unknown_enterprise(gz):
    data = xlsx(
        RP_HEADERS,
        [
            ["FX-9", C2, "", "x", "LEC", 6, 6, 8, "2024-01-10", "", ""],
            ["FX-8", "", "", "y", "LS", 1, None, 1, "2024-13-01", "", ""],
        ],
    )
    report = ledger.import_ledger("risk_points", data)
    assert {(e.row, e.column) for e in report.errors} == {
        (2, "统一社会信用代码"),
        (3, "公共场所名称"),
        (3, "评估日期"),
    }
    data = xlsx(RP_HEADERS, [["FX-9", "", "广场", "x", "LEC", 6, 6, 8, "2024-01-10", "", ""]])
    report = ledger.import_ledger("risk_points", data)
    assert [(e.row, e.column) for e in report.errors] == [(2, "C/S")]


HZ_HEADERS = [
    "隐患编号",
    "统一社会信用代码",
    "隐患等级",
    "来源",
    "类别",
    "隐患描述",
    "发现日期",
    "整改期限",
    "状态",
]


def hazards_file(extra=()):
    return xlsx(
        HZ_HEADERS,
        [
            [
                "YH-1",
                C1,
                "一般隐患",
                "企业自查",
                "消防安全",
                "灭火器过期",
                "2024-03-01",
                "2024-03-15",
                "整改中",
            ],
            [
                "YH-2",
                C1,
                "重大事故隐患",
                "明查暗访",
                "",
                "储罐无紧急切断",
                "2024-03-02",
                "2024-06-30",
                "已交办",
            ],
            [
                "YH-3",
                C2,
                "general",
                "public_report",
                "other",
                "脚手架未设防护",
                "2024-03-03",
                "",
                "",
            ],
            *extra,
        ],
    )


def test_hazard_ledger_imports_with_copies_of_the_enterprise(gz):
    ledger.import_ledger("enterprises", enterprises_file())
    report = ledger.import_ledger("hazards", hazards_file())
    assert report.created == 3 and not report.errors
    h = Hazard.objects.get(code="YH-1")
    assert (h.state, h.category, h.district_id, h.department.name) == (
        "rectifying",
        "fire",
        "440106",
        "危化处",
    )
    assert Hazard.objects.get(code="YH-3").state == "reported"
    assert HazardEvent.objects.filter(action="import").count() == 3


def test_reimporting_the_hazard_ledger_changes_nothing_and_exports_round_trip(gz):
    ledger.import_ledger("enterprises", enterprises_file())
    ledger.import_ledger("hazards", hazards_file())
    again = ledger.import_ledger("hazards", hazards_file())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert HazardEvent.objects.count() == 3
    exported = ledger.export_ledger("hazards", Hazard.objects.all())
    back = ledger.import_ledger("hazards", exported)
    assert (back.created, back.updated, back.unchanged, back.errors) == (0, 0, 3, [])
    ent = ledger.import_ledger(
        "enterprises", ledger.export_ledger("enterprises", Enterprise.objects.all())
    )
    assert (ent.created, ent.updated, ent.unchanged) == (0, 0, 2)


def test_hazard_rows_with_problems_are_named_and_the_state_is_not_rewritten(gz):
    ledger.import_ledger("enterprises", enterprises_file())
    ledger.import_ledger("hazards", hazards_file())
    bad = xlsx(
        HZ_HEADERS,
        [
            [
                "YH-1",
                C1,
                "一般隐患",
                "企业自查",
                "消防安全",
                "灭火器过期",
                "2024-03-01",
                "2024-03-15",
                "已销号",
            ],
            [
                "YH-4",
                "91350100M000100Y43",
                "一般隐患",
                "路过",
                "",
                "",
                "2024-03-01",
                "2024-02-01",
                "",
            ],
        ],
    )
    report = ledger.import_ledger("hazards", bad)
    assert {(e.row, e.column) for e in report.errors} == {
        (2, "状态"),
        (3, "统一社会信用代码"),
        (3, "来源"),
        (3, "隐患描述"),
        (3, "整改期限"),
    }
    assert Hazard.objects.get(code="YH-1").state == "rectifying"


def test_changed_hazard_rows_update_in_place(gz):
    ledger.import_ledger("enterprises", enterprises_file())
    ledger.import_ledger("hazards", hazards_file())
    data = xlsx(
        HZ_HEADERS,
        [
            [
                "YH-1",
                C1,
                "一般隐患",
                "企业自查",
                "消防安全",
                "灭火器过期且缺失",
                "2024-03-01",
                "2024-03-20",
                "整改中",
            ]
        ],
    )
    report = ledger.import_ledger("hazards", data)
    assert report.updated == 1
    h = Hazard.objects.get(code="YH-1")
    assert h.description == "灭火器过期且缺失" and str(h.deadline) == "2024-03-20"


@pytest.mark.parametrize("kind", ["enterprises", "risk_points", "hazards"])
def test_templates_have_the_required_columns(kind):
    report = ledger.read_workbook(ledger.template(kind), kind)
    assert report == ([], [])


def test_date_cells_and_numbers_from_excel_are_read(gz):
    import datetime as dt

    ledger.import_ledger("enterprises", enterprises_file())
    data = xlsx(
        HZ_HEADERS,
        [
            [
                "YH-9",
                C1,
                "一般隐患",
                "企业自查",
                "",
                "无",
                dt.date(2024, 3, 1),
                dt.datetime(2024, 3, 15),
                "",
            ]
        ],
    )
    report = ledger.import_ledger("hazards", data)
    assert report.created == 1, report.errors
    h = Hazard.objects.get(code="YH-9")
    assert (str(h.found_on), str(h.deadline)) == ("2024-03-01", "2024-03-15")


def test_web_import_runs_as_a_job_shows_progress_and_keeps_the_valid_rows_choice(
    client, gz, people
):
    from yingji.risk import importprogress, imports
    from yingji.risk.models import LedgerImport

    client.force_login(people["supervisor"])
    enterprises_ok = ledger.import_ledger("enterprises", enterprises_file())
    assert enterprises_ok.written
    data = hazards_file(
        extra=[
            [
                "YH-BAD",
                "91440106000000000X",
                "一般隐患",
                "企业自查",
                "消防安全",
                "无名企业",
                "2026-03-02",
                "",
                "已上报",
            ]
        ]
    )
    # All or nothing: one bad row, nothing written; the page (after the job) says so.
    r = client.post("/risk/ledgers/", {"kind": "hazards", "file": io.BytesIO(data)}, follow=True)
    page = r.content.decode()
    assert "未导入任何数据" in page and "不在企业名录中" in page and Hazard.objects.count() == 0
    # "Import the valid rows": the good ones are written, the bad one listed.
    r = client.post(
        "/risk/ledgers/",
        {"kind": "hazards", "file": io.BytesIO(data), "valid_only": "1"},
        follow=True,
    )
    page = r.content.decode()
    assert "跳过有错误的 1 行" in page and Hazard.objects.count() == 3
    record = LedgerImport.objects.order_by("-pk").first()
    assert (record.status, record.created) == ("done", 3)
    assert not imports.workbook_path(record).exists() and not imports.progress_path(record).exists()

    # While a job runs, the page shows rows validated of the total and polls itself.
    running = LedgerImport.objects.create(kind="hazards", filename="大台账.xlsx")
    importprogress.write(
        imports.progress_path(running), importprogress.Snapshot("validate", 30_000, 100_000, 0)
    )
    page = client.get(f"/risk/ledgers/imports/{running.pk}/").content.decode()
    assert "已校验 30,000 / 100,000 行(30%)" in page and 'hx-trigger="every 1s"' in page
    importprogress.write(
        imports.progress_path(running), importprogress.Snapshot("write", 5_000, 100_000, 0)
    )
    fragment = client.get(
        f"/risk/ledgers/imports/{running.pk}/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "已写入 5,000 / 100,000 行(5%)" in fragment and "<html" not in fragment


def test_an_import_reports_each_phase_up_to_every_row(gz):
    ledger.import_ledger("enterprises", enterprises_file())
    seen = []
    report = ledger.import_ledger("hazards", hazards_file(), track=lambda *a: seen.append(a))
    assert report.written
    phases = [p for p, _, _ in seen]
    assert phases.index("validate") < phases.index("write")
    assert ("validate", 3, 3) in seen and seen[-1] == ("write", 3, 3)


def test_a_job_that_fails_is_recorded_as_failed_not_left_running(client, gz, people):
    from yingji.risk import imports
    from yingji.risk.models import LedgerImport

    record = LedgerImport.objects.create(
        kind="hazards", filename="丢失.xlsx"
    )  # its workbook is gone
    imports.run(record.pk)
    record.refresh_from_db()
    assert record.status == "failed" and "导入出错" in record.errors[0]["message"]
    client.force_login(people["supervisor"])
    page = client.get(f"/risk/ledgers/imports/{record.pk}/").content.decode()
    # the progress no longer polls (the page's other htmx, the menu's badges, aside)
    assert "未导入任何数据" in page and 'hx-trigger="every 1s"' not in page
