"""The cross-district writes of issue 13, as 天河区 staff: each refused naming the
record, nothing changed; the same writes in scope go through, recorded (the
import's log with its keys, each record's history). Records: tests/scope_world.py."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from tests.scope_world import BAIYUN, PANYU, POINTS, TIANHE, YUEXIU
from yingji.core import audit
from yingji.risk import creditcode
from yingji.risk.models import Accident, Enterprise, Hazard, HazardEvent, LedgerImport

from .test_ledger import xlsx

NEW_TIANHE = creditcode.make("91440106", 901)
NEW_PANYU = creditcode.make("91440113", 902)
ENTERPRISE_HEADERS = ["统一社会信用代码", "单位名称", "行业代码", "经度", "纬度"]
HAZARD_HEADERS = ["隐患编号", "统一社会信用代码", "隐患等级", "来源", "隐患描述", "发现日期"]


@pytest.fixture
def w(two_districts, db):
    return two_districts


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def body(response) -> str:
    return json.dumps(response.json(), ensure_ascii=False)


def enterprise_rows(*rows) -> bytes:
    return xlsx(ENTERPRISE_HEADERS, [list(r) for r in rows])


def hazard_rows(*rows) -> bytes:
    return xlsx(HAZARD_HEADERS, [list(r) for r in rows])


def upload(client, kind: str, data: bytes, **extra):
    return client.post(
        f"/api/v1/risk/ledgers/{kind}", {"file": SimpleUploadedFile(f"{kind}.xlsx", data), **extra}
    )


def test_an_enterprise_of_another_district_is_not_renamed_or_moved(w):
    panyu = w.enterprises[PANYU]
    r = client_for(w.users["th"]).post(
        "/api/v1/risk/enterprises",
        {
            "credit_code": panyu.credit_code,
            "name": "天河改名公司",
            "industry_code": "C2614",
            "lon": POINTS[TIANHE][0],
            "lat": POINTS[TIANHE][1],
        },
        content_type="application/json",
    )
    assert r.status_code == 403
    assert r.json()["detail"] == (
        f"统一社会信用代码 {panyu.credit_code} 的企业属番禺区,不在您的管辖范围"
    )
    panyu.refresh_from_db()
    assert (panyu.name, panyu.district_id) == ("番禺某化工有限公司", PANYU)
    assert Hazard.objects.get(pk=w.hazards[PANYU].pk).district_id == PANYU


def test_a_new_enterprise_outside_the_district_is_refused_and_not_kept(w):
    r = client_for(w.users["th"]).post(
        "/api/v1/risk/enterprises",
        {
            "credit_code": creditcode.make("91440113", 903),
            "name": "番禺新设公司",
            "industry_code": "C2614",
            "lon": POINTS[PANYU][0],
            "lat": POINTS[PANYU][1],
        },
        content_type="application/json",
    )
    assert r.status_code == 403
    assert r.json()["detail"].startswith("保存后统一社会信用代码")
    assert r.json()["detail"].endswith("的企业属番禺区,不在您的管辖范围")
    assert not Enterprise.objects.filter(name="番禺新设公司").exists()


def test_own_district_enterprise_is_saved_and_audited(w):
    th = w.users["th"]
    own = w.enterprises[TIANHE]
    r = client_for(th).post(
        "/api/v1/risk/enterprises",
        {"credit_code": own.credit_code, "name": "天河新名公司", "industry_code": "C2614"},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["name"] == "天河新名公司"
    entry = audit.history(own).first()
    assert entry.actor == th and "name" in entry.changed_fields


def test_an_accident_of_another_district_keeps_its_deaths(w):
    r = client_for(w.users["th"]).post(
        "/api/v1/risk/accidents",
        {
            "code": "SG-440113",
            "occurred_at": "2025-02-10T09:00:00+08:00",
            "accident_type": "fall",
            "deaths": 0,
        },
        content_type="application/json",
    )
    assert r.status_code == 403
    assert r.json()["detail"] == "事故编号 SG-440113 的事故属番禺区,不在您的管辖范围"
    assert Accident.objects.get(code="SG-440113").deaths == 1


def test_department_staff_may_not_record_accidents_they_could_not_read(w):
    r = client_for(w.users["weihua"]).post(
        "/api/v1/risk/accidents",
        {"code": "SG-X", "occurred_at": "2025-02-10T09:00:00+08:00", "accident_type": "fall"},
        content_type="application/json",
    )
    assert r.status_code == 403 and not Accident.objects.filter(code="SG-X").exists()
    page = client_for(w.users["weihua"]).get("/risk/accidents/").content.decode()
    assert "录入事故" not in page
    assert "录入事故" in client_for(w.users["th"]).get("/risk/accidents/").content.decode()


def test_ledger_rows_of_other_districts_are_refused_row_by_row_and_nothing_is_written(w):
    th = w.users["th"]
    baiyun, yuexiu = w.enterprises[BAIYUN], w.hazards[YUEXIU]
    r = upload(client_for(th), "enterprises", enterprise_rows([baiyun.credit_code, "改名", "2614"]))
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "row": 2,
            "column": "统一社会信用代码",
            "message": f"统一社会信用代码 {baiyun.credit_code} 的企业属白云区,不在您的管辖范围",
            "text": f"第2行“统一社会信用代码”列:统一社会信用代码 {baiyun.credit_code} 的企业"
            "属白云区,不在您的管辖范围",
        }
    ]
    r = upload(
        client_for(th),
        "hazards",
        hazard_rows(
            [
                yuexiu.code,
                w.enterprises[TIANHE].credit_code,
                "重大事故隐患",
                "企业自查",
                "改写",
                "2025-03-03",
            ]
        ),
    )
    assert r.status_code == 422
    assert [e["message"] for e in r.json()["errors"]] == [
        "隐患编号 YH-440104 的隐患属越秀区,不在您的管辖范围"
    ]
    assert Enterprise.objects.get(pk=baiyun.pk).name == "白云某化工有限公司"
    assert Hazard.objects.get(pk=yuexiu.pk).description == "越秀储罐区泄漏报警失灵"
    # both attempts are on record, refused, as 天河's
    records = LedgerImport.objects.filter(started_by=th).order_by("pk")
    assert [(x.kind, x.status) for x in records] == [
        ("enterprises", "failed"),
        ("hazards", "failed"),
    ]
    assert "不在您的管辖范围" in records[1].errors[0]["message"]


def test_a_hazard_row_may_not_attach_to_another_districts_enterprise(w):
    r = upload(
        client_for(w.users["th"]),
        "hazards",
        hazard_rows(
            [
                "YH-NEW-1",
                w.enterprises[PANYU].credit_code,
                "一般隐患",
                "企业自查",
                "新隐患",
                "2025-03-03",
            ]
        ),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["message"] == (
        f"统一社会信用代码 {w.enterprises[PANYU].credit_code} 的企业属番禺区,不在您的管辖范围"
    )
    assert not Hazard.objects.filter(code="YH-NEW-1").exists()


def test_a_row_that_would_move_an_enterprise_out_of_scope_refuses_the_whole_import(w):
    own = w.enterprises[TIANHE]
    r = upload(
        client_for(w.users["th"]),
        "enterprises",
        enterprise_rows(
            [own.credit_code, "天河某化工有限公司", "2614", *POINTS[PANYU]],
            [NEW_TIANHE, "天河新公司", "2614", *POINTS[TIANHE]],
        ),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["row"] == 2
    assert "导入后统一社会信用代码" in r.json()["errors"][0]["message"]
    assert "属番禺区" in r.json()["errors"][0]["message"]
    assert Enterprise.objects.get(pk=own.pk).district_id == TIANHE
    assert not Enterprise.objects.filter(name="天河新公司").exists()


def test_valid_only_skips_and_names_the_out_of_scope_row_and_writes_the_rest(w):
    r = upload(
        client_for(w.users["th"]),
        "enterprises",
        enterprise_rows(
            [w.enterprises[BAIYUN].credit_code, "改名", "2614"],
            [NEW_TIANHE, "天河新公司", "2614", *POINTS[TIANHE]],
        ),
        valid_only="true",
    )
    assert r.status_code == 200
    assert r.json()["created"] == 1 and r.json()["errors"][0]["row"] == 2
    assert Enterprise.objects.get(pk=w.enterprises[BAIYUN].pk).name == "白云某化工有限公司"


def test_an_api_import_in_scope_is_recorded_with_its_keys_and_each_records_history(w):
    py = w.users["py"]
    ent, hazard = w.enterprises[PANYU], w.hazards[PANYU]
    r = upload(
        client_for(py),
        "enterprises",
        enterprise_rows(
            [ent.credit_code, "番禺更名化工有限公司", "2614"],
            [NEW_PANYU, "番禺新公司", "2614", *POINTS[PANYU]],
        ),
    )
    assert r.status_code == 200 and (r.json()["created"], r.json()["updated"]) == (1, 1)
    record = LedgerImport.objects.get(started_by=py, kind="enterprises")
    assert record.status == "done"
    assert record.changed_keys == {"created": [NEW_PANYU], "updated": [ent.credit_code]}
    logged = audit.history(record).first()  # the import's one entry lists the keys
    assert logged.actor == py and logged.after["changed_keys"] == record.changed_keys
    assert audit.history(ent).first().after["name"] == "番禺更名化工有限公司"

    r = upload(
        client_for(py),
        "hazards",
        hazard_rows(
            [
                hazard.code,
                ent.credit_code,
                "重大事故隐患",
                "企业自查",
                "储罐报警器失灵",
                "2025-03-03",
            ]
        ),
    )
    assert r.status_code == 200 and r.json()["updated"] == 1
    record = LedgerImport.objects.get(started_by=py, kind="hazards")
    assert record.changed_keys == {"created": [], "updated": [hazard.code]}
    event = HazardEvent.objects.filter(hazard=hazard).order_by("-pk").first()
    assert (event.action, event.actor, event.comment) == ("import", py, "台账导入更新:隐患描述")


def test_the_command_imports_as_a_user_with_their_scope_or_as_the_system(w, tmp_path):
    path = tmp_path / "企业.xlsx"
    path.write_bytes(enterprise_rows([w.enterprises[BAIYUN].credit_code, "白云新名", "2614"]))
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("risk", "import", "enterprises", str(path), "--as", "th", stderr=err)
    assert refused.value.returncode == 2
    assert "企业.xlsx:2:统一社会信用代码: 统一社会信用代码" in err.getvalue()
    assert "属白云区,不在您的管辖范围" in err.getvalue()
    assert Enterprise.objects.get(pk=w.enterprises[BAIYUN].pk).name == "白云某化工有限公司"
    call_command("risk", "import", "enterprises", str(path), stdout=io.StringIO(), stderr=err)
    assert Enterprise.objects.get(pk=w.enterprises[BAIYUN].pk).name == "白云新名"
    assert list(
        LedgerImport.objects.filter(filename="企业.xlsx").values_list("status", flat=True)
    ) == ["done", "failed"]  # newest first: the system's, then 天河's


def test_the_ledger_page_refuses_the_same_rows(w):
    data = enterprise_rows([w.enterprises[BAIYUN].credit_code, "改名", "2614"])
    client = client_for(w.users["th"])
    r = client.post(
        "/risk/ledgers/", {"kind": "enterprises", "file": io.BytesIO(data)}, follow=True
    )
    page = r.content.decode()
    assert "属白云区,不在您的管辖范围" in page and "未导入任何数据" in page
    assert Enterprise.objects.get(pk=w.enterprises[BAIYUN].pk).name == "白云某化工有限公司"
    # another district's import reports are not 天河's to read
    theirs = LedgerImport.objects.create(
        kind="hazards", filename="番禺.xlsx", started_by=w.users["py"]
    )
    assert client.get(f"/risk/ledgers/imports/{theirs.pk}/").status_code == 404
    assert "番禺.xlsx" not in client.get("/risk/ledgers/").content.decode()
