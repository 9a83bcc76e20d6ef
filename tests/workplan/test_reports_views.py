"""Bulletin and ledger pages (/plans/…) and their API router."""

import datetime as dt
import io
from urllib.parse import unquote

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from ninja.testing import TestClient
from openpyxl import load_workbook

from tests.workplan.test_bulletins import JUNE, build_world
from tests.workplan.test_ledger import edit
from yingji.workplan import bulletins, ledger
from yingji.workplan.api_reports import router
from yingji.workplan.models import Bulletin, ProgressReport

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def world(db):
    return build_world()


def logged_in(client, user):
    client.force_login(user)
    return client


def upload(data: bytes, name: str = "台账.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=XLSX)


# ---------------------------------------------------------------- bulletin pages


def test_a_supervisor_generates_the_june_bulletin_from_the_list_page(client, world):
    c = logged_in(client, world.supervisor)
    url = reverse("workplan:bulletins", args=[world.plan.pk])
    page = c.get(url)
    assert page.status_code == 200 and "生成月度通报" in page.content.decode()
    response = c.post(url, {"period": "monthly", "month": "6"}, follow=True)
    b = Bulletin.objects.get()
    assert (b.period, b.as_of, b.label) == ("monthly", JUNE, "2022年6月")
    body = response.content.decode()
    assert "已生成2022年6月通报" in body and reverse("workplan:bulletin", args=[b.pk]) in body


def test_quarterly_and_any_date_can_be_generated(client, world):
    c = logged_in(client, world.supervisor)
    url = reverse("workplan:bulletins", args=[world.plan.pk])
    c.post(url, {"period": "quarterly", "quarter": "2"})
    c.post(url, {"period": "monthly", "as_of": "2022-06-15"})
    assert sorted((b.period, b.as_of) for b in Bulletin.objects.all()) == [
        ("monthly", dt.date(2022, 6, 15)),
        ("quarterly", JUNE),
    ]


def test_a_bad_date_is_explained_not_stored(client, world):
    c = logged_in(client, world.supervisor)
    url = reverse("workplan:bulletins", args=[world.plan.pk])
    body = c.post(url, {"period": "monthly", "as_of": "2022-13-01"}, follow=True).content.decode()
    assert "日期格式应为" in body and not Bulletin.objects.exists()


def test_department_staff_read_bulletins_but_cannot_generate(client, world):
    c = logged_in(client, world.command_staff)
    url = reverse("workplan:bulletins", args=[world.plan.pk])
    assert "生成月度通报" not in c.get(url).content.decode()
    assert c.post(url, {"period": "monthly", "month": "6"}).status_code == 403
    assert not Bulletin.objects.exists()


def test_the_bulletin_page_shows_the_score_table_and_the_late_task(client, world):
    b = bulletins.generate(world.plan, "monthly", JUNE)
    body = (
        logged_in(client, world.command_staff)
        .get(reverse("workplan:bulletin", args=[b.pk]))
        .content.decode()
    )
    assert "落实情况通报(2022年6月)" in body
    assert 'id="scores-table"' in body and "报送及时率" in body
    assert "完善城市安全风险监测预警平台" in body
    assert reverse("workplan:bulletin_docx", args=[b.pk]) in body


def test_the_bulletin_downloads_as_word(client, world):
    b = bulletins.generate(world.plan, "monthly", JUNE)
    response = logged_in(client, world.supervisor).get(
        reverse("workplan:bulletin_docx", args=[b.pk])
    )
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "落实情况通报(2022年6月).docx" in unquote(response["Content-Disposition"])
    doc = docx.Document(io.BytesIO(response.content))
    assert doc.paragraphs[0].text == b.data["title"]


def test_pages_need_a_login(client, world):
    response = client.get(reverse("workplan:bulletins", args=[world.plan.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


# ---------------------------------------------------------------- ledger pages


def test_the_ledger_downloads_as_of_a_date(client, world):
    c = logged_in(client, world.supervisor)
    response = c.get(reverse("workplan:ledger_export", args=[world.plan.pk]) + "?as_of=2022-06-05")
    assert response["Content-Type"] == XLSX
    ws = load_workbook(io.BytesIO(response.content))[ledger.SHEET]
    assert ws.cell(5, 8).value == "未启动"  # task 4's first report, 100 %, came on 10 June
    assert (
        c.get(reverse("workplan:ledger_export", args=[world.plan.pk]) + "?as_of=junk").status_code
        == 400
    )


def test_importing_a_filled_ledger_reports_how_many_were_filed(client, world):
    c = logged_in(client, world.command_staff)
    data = edit(
        ledger.export_ledger(world.plan, JUNE, user=world.command_staff),
        {1: {"进度(%)": 80, "最新进展": "平台试运行"}},
    )
    url = reverse("workplan:ledger_import", args=[world.plan.pk])
    assert "导出台账" in c.get(url).content.decode()
    response = c.post(url, {"file": upload(data)})
    body = response.content.decode()
    assert response.status_code == 200
    assert "新报送进展 1 份" in body and "2 行无变化" in body
    assert ProgressReport.objects.filter(text="平台试运行", department=world.command).exists()


def test_import_errors_are_listed_with_row_and_column(client, world):
    before = ProgressReport.objects.count()
    data = edit(
        ledger.export_ledger(world.plan, JUNE),
        {1: {"进度(%)": "八十"}, 3: {"进度(%)": 90, "最新进展": "不是本部门的任务"}},
    )
    response = logged_in(client, world.command_staff).post(
        reverse("workplan:ledger_import", args=[world.plan.pk]), {"file": upload(data)}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "第2行“进度(%)”:应为0–100的整数,实际为“八十”" in body
    assert "不是第3项任务的牵头单位" in body and "共发现 2 处问题" in body
    assert ProgressReport.objects.count() == before


def test_uploading_something_else_is_refused(client, world):
    response = logged_in(client, world.supervisor).post(
        reverse("workplan:ledger_import", args=[world.plan.pk]),
        {"file": upload(b"hello", "note.txt")},
    )
    assert response.status_code == 400 and "不是有效的Excel" in response.content.decode()


# ---------------------------------------------------------------- API


def test_api_lists_generates_and_reads_bulletins(world):
    api = TestClient(router)
    path = f"/plans/{world.plan.pk}/bulletins"
    refused = api.post(
        path, json={"period": "monthly", "as_of": "2022-06-30"}, user=world.command_staff
    )
    assert refused.status_code == 403
    made = api.post(path, json={"period": "monthly", "as_of": "2022-06-30"}, user=world.supervisor)
    assert made.status_code == 201 and made.json()["label"] == "2022年6月"
    listed = api.get(path, user=world.command_staff).json()
    assert [b["as_of"] for b in listed] == ["2022-06-30"]
    one = api.get(f"/bulletins/{listed[0]['id']}", user=world.command_staff).json()
    assert one["data"]["overdue"][0]["workdays_late"] == 21
    doc = api.get(f"/bulletins/{listed[0]['id']}/docx", user=world.command_staff)
    assert doc.status_code == 200 and doc.content[:2] == b"PK"


def test_api_scores_as_of_a_date(world):
    got = (
        TestClient(router)
        .get(f"/plans/{world.plan.pk}/scores?as_of=2022-06-30", user=world.supervisor)
        .json()
    )
    assert got["weights"]["on_time"] == 0.5
    assert got["scores"][0]["department"] == "风险监测和综合减灾处"


def test_api_ledger_round_trip_and_errors(world):
    api = TestClient(router)
    exported = api.get(
        f"/plans/{world.plan.pk}/ledger.xlsx?as_of=2022-06-30", user=world.supervisor
    )
    assert exported.status_code == 200
    good = edit(exported.content, {3: {"进度(%)": 65, "最新进展": "制度已报审"}})
    done = api.post(
        f"/plans/{world.plan.pk}/ledger", FILES={"file": upload(good)}, user=world.supervisor
    )
    assert done.status_code == 200 and done.json()["created"] == 1
    bad = edit(exported.content, {4: {"进度(%)": "八十"}})
    refused = api.post(
        f"/plans/{world.plan.pk}/ledger", FILES={"file": upload(bad)}, user=world.supervisor
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0] == {
        "sheet": "台账",
        "row": 5,
        "column": "进度(%)",
        "message": "应为0–100的整数,实际为“八十”",
        "text": "工作表“台账”第5行“进度(%)”:应为0–100的整数,实际为“八十”",
    }
