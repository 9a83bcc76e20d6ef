"""Pages and API: lists filtered by scope, the workflow through both, accidents
with computed levels, the dashboard, reports (.docx with charts) and ledgers."""

import datetime as dt
import io
import zipfile

import pytest
from django.utils import timezone
from docx import Document

from yingji.core import layers
from yingji.risk import creditcode, reports, services
from yingji.risk.models import Accident, DecreaseTarget, Hazard

from .test_ledger import ENT_HEADERS, enterprises_file, xlsx


@pytest.fixture
def world(chem, people, gz):
    """The 天河 chemical plant and a 海珠 builder, a hazard at each, accidents in two years."""
    builder = services.save_enterprise(
        credit_code=creditcode.make("91440105", 2),
        name="海珠建筑公司",
        industry_code="4710",
        lon=113.32,
        lat=23.09,
    )
    h1 = services.create_hazard(
        chem,
        description="液氯储罐泄漏报警失灵",
        source="self_inspection",
        found_on=dt.date(2025, 1, 6),
    )
    h2 = services.create_hazard(
        builder, description="脚手架缺防护", source="public_report", found_on=dt.date(2025, 1, 7)
    )
    for year, deaths in ((2024, [1, 2, 0]), (2025, [1])):
        for i, d in enumerate(deaths):
            services.save_accident(
                code=f"SG{year}-{i}",
                occurred_at=timezone.make_aware(dt.datetime(year, 2, 10 + i, 9)),
                accident_type="fall",
                deaths=d,
                enterprise=chem,
            )
    return {"chem": chem, "builder": builder, "h1": h1, "h2": h2}


def login(client, user):
    client.force_login(user)
    return client


def test_district_staff_see_only_their_district_hazards(client, world, people):
    login(client, people["tianhe"])
    page = client.get("/risk/hazards/").content.decode()
    assert world["h1"].code in page and world["h2"].code not in page
    api = client.get("/api/v1/risk/hazards").json()
    assert [h["code"] for h in api["results"]] == [world["h1"].code]
    assert client.get(f"/risk/hazards/{world['h2'].pk}/").status_code == 404


def test_department_staff_see_what_they_supervise(client, world, people):
    login(client, people["weihua"])
    codes = [h["code"] for h in client.get("/api/v1/risk/hazards").json()["results"]]
    assert codes == [world["h1"].code]
    assert [e["name"] for e in client.get("/api/v1/risk/enterprises").json()] == [
        "广州某化工有限公司"
    ]


def test_hazard_list_filters_combine(client, world, people):
    login(client, people["supervisor"])
    get = lambda q: [h["code"] for h in client.get(f"/api/v1/risk/hazards?{q}").json()["results"]]  # noqa: E731
    assert get("district=440105") == [world["h2"].code]
    assert get("industry=C") == [world["h1"].code]
    assert get("industry=47&state=reported") == [world["h2"].code]
    assert get("overdue=1") == []
    services.transition(world["h1"], "assign", people["weihua"], deadline=dt.date(2025, 1, 20))
    assert get("overdue=1&as_of=2025-02-01&district=440106") == [world["h1"].code]
    assert client.get("/api/v1/risk/hazards?state=nonsense").status_code == 422


def test_workflow_through_the_api_with_refusals(client, world, people):
    h = world["h1"]
    login(client, people["haizhu"])
    assert (
        client.post(
            f"/api/v1/risk/hazards/{h.pk}/transitions",
            {"action": "assign"},
            content_type="application/json",
        ).status_code
        == 404
    )  # not visible
    login(client, people["duty"])
    r = client.post(
        f"/api/v1/risk/hazards/{h.pk}/transitions",
        {"action": "assign"},
        content_type="application/json",
    )
    assert r.status_code == 403 and "无权" in r.json()["detail"]
    login(client, people["weihua"])
    r = client.post(
        f"/api/v1/risk/hazards/{h.pk}/transitions",
        {"action": "assign", "deadline": "2025-02-28"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["state"] == "assigned"
    r = client.post(
        f"/api/v1/risk/hazards/{h.pk}/transitions",
        {"action": "submit", "comment": "x"},
        content_type="application/json",
    )
    assert r.status_code == 422 and "已交办" in str(r.json()["detail"])
    moves = client.get(f"/api/v1/risk/hazards/{h.pk}/transitions").json()
    assert [m["action"] for m in moves] == ["start"]


def test_workflow_through_the_pages(client, world, people):
    h = world["h1"]
    login(client, people["tianhe"])
    page = client.get(f"/risk/hazards/{h.pk}/").content.decode()
    assert "交办整改" in page and "已上报" in page
    assert "上报 → 已上报" in page  # the timeline speaks Chinese
    client.post(f"/risk/hazards/{h.pk}/do/assign/", {"deadline": "2025-02-28", "comment": ""})
    client.post(f"/risk/hazards/{h.pk}/do/start/", {"comment": ""})
    r = client.post(f"/risk/hazards/{h.pk}/do/submit/", {"comment": ""}, follow=True)
    assert "须填写说明" in r.content.decode()
    client.post(f"/risk/hazards/{h.pk}/do/submit/", {"comment": "已维修"})
    h.refresh_from_db()
    assert h.state == "submitted"


def test_a_hazard_is_reported_from_the_page_and_the_api(client, world, people):
    login(client, people["tianhe"])
    r = client.post(
        "/risk/hazards/new/",
        {
            "credit_code": world["chem"].credit_code,
            "level": "major",
            "source": "unannounced_visit",
            "category": "fire",
            "description": "消防泵故障",
            "found_on": "2025-03-03",
        },
    )
    assert r.status_code == 302
    assert Hazard.objects.get(description="消防泵故障").level == "major"
    r = client.post(
        "/api/v1/risk/hazards",
        {
            "credit_code": world["builder"].credit_code,
            "description": "越权",
            "source": "public_report",
        },
        content_type="application/json",
    )
    assert r.status_code == 422  # 海珠's builder is not in 天河's scope


def test_accident_levels_are_computed_never_typed(client, world, people):
    login(client, people["supervisor"])
    r = client.post(
        "/api/v1/risk/accidents",
        {
            "code": "SG-X",
            "occurred_at": "2025-03-01T10:00:00+08:00",
            "accident_type": "collapse",
            "deaths": 2,
            "missing": 1,
            "direct_loss": "120.5",
            "level": "general",
            "lon": 113.3612,
            "lat": 23.1247,
        },
        content_type="application/json",
    )
    assert r.status_code == 201
    body = r.json()
    assert (
        body["level"] == "larger"
        and body["level_label"] == "较大事故"
        and body["district"] == "440106"
    )
    a = Accident.objects.get(code="SG-X")
    a.deaths, a.missing = 0, 0
    a.save()
    assert Accident.objects.get(code="SG-X").level == "general"


def test_dashboard_compares_with_the_same_period_last_year(client, world, people):
    DecreaseTarget.objects.create(year=2025, max_accidents=2, max_deaths=2)
    login(client, people["supervisor"])
    data = client.get("/api/v1/risk/dashboard?as_of=2025-03-31").json()
    dd = data["decrease"]
    assert (dd["accidents"]["current"], dd["accidents"]["previous"]) == (1, 3)
    assert (dd["deaths"]["current"], dd["deaths"]["previous"]) == (1, 3)
    assert dd["verdict"] == "实现“双下降”" and dd["accidents"]["within_target"] is True
    assert dd["by_district"][0]["label"] == "天河区"
    assert dd["by_industry"][0]["label"] == "制造业"
    assert dd["by_month"][1] == {
        "month": 2,
        "accidents": 1,
        "deaths": 1,
        "prev_accidents": 3,
        "prev_deaths": 3,
    }
    # As of 10 February 2025 last year's period ends 10 February 2024: one accident.
    early = client.get("/api/v1/risk/dashboard?as_of=2025-02-10").json()["decrease"]
    assert early["accidents"]["previous"] == 1
    page = client.get("/risk/?as_of=2025-03-31").content.decode()
    assert "实现“双下降”" in page and "天河区" in page


def test_quarterly_report_docx_has_charts_tables_and_chinese_text(world):
    data = reports.quarterly_data(2025, 1)
    assert data["hazards"]["new"] == 2 and data["accidents_last_year"]["count"] == 3
    body = reports.quarterly_docx(data)
    doc = Document(io.BytesIO(body))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "2025年第1季度安全风险分析报告" in text and "隐患排查治理" in text
    assert "春节" in text  # key periods of the quarter
    assert len(doc.tables) >= 4
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        assert len([n for n in z.namelist() if n.startswith("word/media/")]) == 3


def test_chart_labels_use_the_shipped_cjk_font():
    family = reports._font()
    assert "CJK" in family
    from matplotlib import font_manager

    found = font_manager.findfont(
        font_manager.FontProperties(family=family), fallback_to_default=False
    )
    assert found.endswith("NotoSansCJKsc-Regular.otf")


def test_report_and_consultation_pages(client, world, people):
    login(client, people["supervisor"])
    html = client.get("/risk/reports/quarterly/?year=2025&quarter=1").content.decode()
    assert "data:image/png;base64," in html and "在改隐患最多的企业" in html
    r = client.get("/risk/reports/quarterly/?year=2025&quarter=1&format=docx")
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert client.get("/risk/reports/quarterly/?year=2025&quarter=5").status_code == 400
    sheet = client.get(
        "/risk/reports/consultation/?start=2025-01-28&end=2025-02-04"
    ).content.decode()
    assert "春节" in sheet and "去年同期发生事故 0 起" in sheet
    sheet = client.get(
        "/risk/reports/consultation/?start=2025-02-01&end=2025-02-28"
    ).content.decode()
    assert "去年同期发生事故 3 起" in sheet
    api = client.get("/api/v1/risk/reports/consultation?start=2025-02-01&end=2025-02-28").json()
    assert api["last_year_totals"]["deaths"] == 3


def test_ledger_upload_page_reports_rows_and_api_refuses_with_422(client, gz, people):
    login(client, people["supervisor"])
    bad = xlsx(ENT_HEADERS, [["123", "x", "", None, None, "", "2614", "", "否", ""]])
    r = client.post(
        "/risk/ledgers/",
        {"kind": "enterprises", "file": io.BytesIO(bad)},
        format="multipart",
        follow=True,
    )
    page = r.content.decode()
    assert "未导入任何数据" in page and "18位" in page
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = client.post(
        "/api/v1/risk/ledgers/enterprises",
        {"file": SimpleUploadedFile("e.xlsx", enterprises_file())},
    )
    assert r.status_code == 200 and r.json()["created"] == 2
    r = client.post("/api/v1/risk/ledgers/enterprises", {"file": SimpleUploadedFile("e.xlsx", bad)})
    assert r.status_code == 422 and r.json()["errors"][0]["row"] == 2
    r = client.get("/api/v1/risk/ledgers/enterprises/export")
    assert r.status_code == 200 and r.content[:2] == b"PK"


def test_the_map_has_four_colour_layers(client, world, people):
    services.assess(
        services.RiskPoint.objects.create(code="P1", enterprise=world["chem"], name="罐区"),
        method="ls",
        likelihood=5,
        consequence=5,
    )
    keys = [layer.key for layer in layers.all_layers()]
    assert {"risk-red", "risk-orange", "risk-yellow", "risk-blue"} <= set(keys)
    login(client, people["weihua"])
    red = client.get("/api/v1/geo/layers/risk-red").json()
    assert [f["properties"]["name"] for f in red["features"]] == ["广州某化工有限公司"]
    login(client, people["haizhu"])
    assert client.get("/api/v1/geo/layers/risk-red").json()["features"] == []


@pytest.mark.parametrize(
    "url",
    [
        "/risk/",
        "/risk/enterprises/",
        "/risk/points/",
        "/risk/hazards/",
        "/risk/accidents/",
        "/risk/ledgers/",
        "/risk/hazards/new/",
        "/risk/accidents/new/",
        "/risk/enterprises/?grade=red&industry=C",
    ],
)
def test_pages_render_for_a_supervisor(client, world, people, url):
    login(client, people["supervisor"])
    assert client.get(url).status_code == 200


def test_pages_require_login(client, db):
    assert client.get("/risk/hazards/").status_code == 302
    assert client.get("/api/v1/risk/hazards").status_code in (401, 403)


def test_evidence_is_uploaded_by_those_who_act_on_the_hazard(
    client, world, people, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.core.filesamples import JPEG

    settings.MEDIA_ROOT = tmp_path
    h = world["h1"]
    login(client, people["duty"])  # sees everything, acts on nothing
    r = client.post(
        f"/api/v1/risk/hazards/{h.pk}/evidence",
        {"file": SimpleUploadedFile("a.jpg", JPEG), "kind": "rectified"},
    )
    assert r.status_code == 403
    login(client, people["tianhe"])
    r = client.post(
        f"/api/v1/risk/hazards/{h.pk}/evidence",
        {"file": SimpleUploadedFile("after.jpg", JPEG), "kind": "rectified", "note": "整改后"},
    )
    assert r.status_code == 201 and h.evidence.get().note == "整改后"
    assert "整改佐证" in client.get(f"/risk/hazards/{h.pk}/").content.decode()


def test_dashboard_counts_states_overdue_and_open_major(client, world, people):
    services.transition(world["h1"], "assign", people["weihua"], deadline=dt.date(2025, 1, 20))
    services.create_hazard(
        world["chem"],
        description="重大",
        source="self_inspection",
        level="major",
        found_on=dt.date(2025, 1, 8),
    )
    login(client, people["supervisor"])
    data = client.get("/api/v1/risk/dashboard?as_of=2025-02-01").json()
    states = {s["state"]: s["count"] for s in data["hazard_states"]}
    assert (states["reported"], states["assigned"], states["closed"]) == (2, 1, 0)
    assert (data["open_hazards"], data["open_major"], data["overdue"]) == (3, 1, 1)
