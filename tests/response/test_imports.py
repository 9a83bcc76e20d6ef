"""Plan .docx import into a draft, and the Excel resource import (all or nothing,
errors naming file, sheet, row and column)."""

import io

import pytest
from docx import Document
from openpyxl import Workbook

from yingji.response import plandoc, resource_import
from yingji.response.models import EmergencyPlan, RescueTeam, Shelter, StockItem

pytestmark = pytest.mark.django_db


def docx_bytes(paragraphs, table=None):
    doc = Document()
    for p in paragraphs:
        doc.add_paragraph(p)
    if table:
        t = doc.add_table(rows=0, cols=2)
        for a, b in table:
            row = t.add_row().cells
            row[0].text, row[1].text = a, b
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


PLAN = [
    "广州市防御台风应急预案",
    "一、总则",
    "二、组织机构",
    "市三防指挥部:三防处牵头,成员单位:指挥处、市水务局",
    "三、分级响应",
    "(一)四级响应",
    "台风蓝色预警信号发布时启动",
    "三防指挥中心:加强值守,30分钟内报告雨情",
    "(二)一级响应",
    "市教育局:全市停课,1小时内完成通知",
]


def test_docx_becomes_a_draft_with_groups_cards_limits_and_triggers(red_plan):
    plan = plandoc.import_docx(
        io.BytesIO(docx_bytes(PLAN, table=[("市交通运输局", "公共交通停运,2小时内")])),
        filename="台风预案.docx",
    )
    assert plan.status == EmergencyPlan.Status.DRAFT and plan.title == "广州市防御台风应急预案"
    group = plan.groups.get()
    assert group.name == "市三防指挥部" and group.lead.name == "三防处"
    assert set(group.members.values_list("name", flat=True)) == {"指挥处", "市水务局"}
    cards = {c.department.name: c for c in plan.card_templates.select_related("department")}
    assert (
        cards["三防指挥中心"].response_level == "IV" and cards["三防指挥中心"].limit_minutes == 30
    )
    assert cards["市教育局"].response_level == "I" and cards["市教育局"].limit_minutes == 60
    assert cards["市交通运输局"].limit_minutes == 120  # read from a table row
    trig = plan.triggers.get()
    assert (trig.source, trig.hazard, trig.min_level, trig.response_level) == (
        "alert",
        "台风",
        "blue",
        "IV",
    )


def test_unknown_department_names_its_paragraph_and_imports_nothing(red_plan):
    bad = [*PLAN, "市天气局:发布预报"]
    with pytest.raises(plandoc.PlanDocError) as err:
        plandoc.import_docx(io.BytesIO(docx_bytes(bad)), filename="台风预案.docx")
    assert "台风预案.docx" in str(err.value) and f"第 {len(bad)} 段:未知的单位“市天气局”" in str(
        err.value
    )
    assert EmergencyPlan.objects.count() == 1  # only the shipped plan


def test_not_a_docx_is_a_clear_error():
    with pytest.raises(plandoc.PlanDocError, match="x.docx:无法读取 Word 文档"):
        plandoc.import_docx(io.BytesIO(b"not a zip"), filename="x.docx")


def test_limits_in_minutes_and_hours():
    assert plandoc.limit_minutes("30分钟内到位") == 30
    assert plandoc.limit_minutes("2小时内完成") == 120
    assert plandoc.limit_minutes("及时处置") is None


def xlsx(sheets):
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def test_excel_import_upserts_every_registry():
    data = xlsx(
        {
            "救援队伍": [
                ["名称", "类别", "人数", "能力", "经度", "纬度"],
                ["蓝天救援队", "社会力量", 80, "水上救援、城市搜救", 113.38, 23.16],
            ],
            "物资仓库": [
                ["仓库", "经度", "纬度", "物资", "类别", "数量", "单位"],
                ["一号库", 113.33, 23.30, "冲锋舟", "水上救援", 40, "艘"],
                ["一号库", 113.33, 23.30, "帐篷", "生活保障", 100, "顶"],
            ],
            "避护场所": [
                ["名称", "经度", "纬度", "容纳人数", "设施"],
                ["奥体中心", 113.55, 23.17, 30000, "供水,供电"],
            ],
        }
    )
    summary = resource_import.import_workbook(data, filename="资源.xlsx")
    assert "救援队伍 1 行" in summary
    team = RescueTeam.objects.get()
    assert team.kind == "social" and team.capabilities == ["水上救援", "城市搜救"]
    assert StockItem.objects.count() == 2
    assert Shelter.objects.get().facilities == ["供水", "供电"]
    data.seek(0)
    resource_import.import_workbook(data, filename="资源.xlsx")  # again: updates, no duplicates
    assert RescueTeam.objects.count() == 1 and StockItem.objects.count() == 2


def test_excel_errors_name_file_sheet_row_and_column_and_nothing_is_written():
    data = xlsx(
        {
            "救援队伍": [
                ["名称", "人数", "能力", "经度", "纬度"],
                ["好队", 10, "排涝", 113.3, 23.1],
                ["坏队", "十", "排涝", 200, 23.1],
            ],
            "医院": [["名称", "纬度"], ["某医院", 23.1]],
        }
    )
    with pytest.raises(resource_import.ImportProblems) as err:
        resource_import.import_workbook(data, filename="资源.xlsx")
    problems = err.value.problems
    assert "资源.xlsx 工作表“救援队伍”第 3 行第 B 列(人数):“十”不是数字" in problems
    assert (
        "资源.xlsx 工作表“救援队伍”第 3 行第 D 列(经度):经度 200 超出中国范围(73–136)" in problems
    )
    assert "资源.xlsx 工作表“医院”第 1 行:缺少列“经度”" in problems
    assert not RescueTeam.objects.exists()
