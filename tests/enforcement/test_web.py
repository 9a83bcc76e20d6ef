"""Pages, API and the `yingji enforcement` command: a plan drawn, verified,
carried out and published, in the browser's forms and through the API."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from tests.enforcement import factories as f
from yingji.enforcement.models import Draw, Inspection, PenaltyCase, Publication
from yingji.risk.models import Hazard

pytestmark = pytest.mark.django_db
API = "/api/v1/enforcement"


@pytest.fixture
def w():
    return f.world()


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_api_plan_to_publication(w):
    api = client_for(w["handler"])
    r = api.post(
        f"{API}/plans",
        {
            "year": 2022,
            "title": "API 计划",
            "department_id": w["zhifa"].pk,
            "default_proportion": 0.1,
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    plan_id = r.json()["id"]
    assert api.post(f"{API}/plans/{plan_id}/draw").status_code == 422  # no seed yet
    api.post(
        f"{API}/plans/{plan_id}/seed-source",
        {"source": "双色球 2022002 期"},
        content_type="application/json",
    )
    r = api.post(
        f"{API}/plans/{plan_id}/seed",
        {"value": "05 09 13 21 28 30 + 11"},
        content_type="application/json",
    )
    assert len(r.json()["seed"]) == 64
    r = api.post(f"{API}/plans/{plan_id}/draw")
    assert r.status_code == 201 and r.json()["inspections"] == 5
    draw_id = r.json()["id"]
    r = api.post(f"{API}/draws/{draw_id}/verify")
    assert r.json()["ok"] and "复核一致" in r.json()["message"]
    inspections = api.get(f"{API}/inspections", {"plan_id": plan_id, "state": "planned"}).json()
    target = next(i for i in inspections if i["category"] == "hc_use")
    r = api.post(
        f"{API}/inspections/{target['id']}/record",
        {
            "inspected_on": target["window_start"],
            "summary": "现场检查",
            "findings": [{"checklist_code": "HC-01", "description": "未建立安全管理制度"}],
        },
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["outcome"] == "case" and body["findings"][0]["hazard_code"]
    assert Hazard.objects.get(code=body["findings"][0]["hazard_code"]).source == "enforcement"
    case = api.get(f"{API}/cases").json()[0]
    assert case["state"] == "filed" and "investigate" in case["available"]
    r = api.post(
        f"{API}/cases/{case['id']}/transitions",
        {"action": "decide", "comment": "x", "amount": 100},
        content_type="application/json",
    )
    assert r.status_code == 422 and "不能" in json.dumps(r.json(), ensure_ascii=False)
    assert api.post(f"{API}/inspections/{target['id']}/publish").status_code == 201
    public = Client().get(f"{API}/publications").json()
    assert (
        public[0]["result"].startswith("发现问题 1 项")
        and public[0]["credit_code"] == target["credit_code"]
    )
    stats = api.get(f"{API}/statistics", {"year": 2022, "by": "category"}).json()
    assert stats[-1]["label"] == "合计" and stats[-1]["cases"] == 1


def test_api_impossible_draw_is_422_with_explanation(w):
    for insp in w["inspectors"]:
        insp.districts.clear()
    r = client_for(w["handler"]).post(f"{API}/plans/{w['plan'].pk}/draw")
    assert r.status_code == 422
    assert "没有执法人员负责辖区" in json.dumps(r.json(), ensure_ascii=False)
    assert Draw.objects.get(plan=w["plan"]).status == "impossible"


def test_api_refuses_outsiders(w):
    assert client_for(w["other"]).post(f"{API}/plans/{w['plan'].pk}/draw").status_code == 403
    assert Client().get(f"{API}/plans").status_code == 401
    assert Client().get(f"{API}/dishonesty").status_code == 200


def test_inputs_are_public_only_after_the_windows(w):
    client_for(w["handler"]).post(f"{API}/plans/{w['plan'].pk}/draw")
    record = Draw.objects.get(plan=w["plan"])
    assert Client().get(f"{API}/draws/{record.pk}/inputs").status_code == 200  # 2022 has ended
    assert Client().get(f"{API}/draws/{record.pk}").json()["seed"] == record.seed
    record.inputs["parameters"]["slots"][-1]["end"] = "2099-12-31"
    record.save()
    assert Client().get(f"{API}/draws/{record.pk}/inputs").status_code == 403
    assert (
        Client().get(f"{API}/draws/{record.pk}").json()["seed"] == ""
    )  # seed + registers = result
    assert w["plan"].seed_salt not in Client().get(reverse("enforcement:public")).content.decode()
    assert client_for(w["handler"]).get(f"{API}/draws/{record.pk}/inputs").status_code == 200


def test_pages_draw_verify_record_and_publish(w):
    web = client_for(w["handler"])
    page = web.get(reverse("enforcement:plan", args=[w["plan"].pk]))
    assert (
        "双色球 2022001 期开奖号码" in page.content.decode()
        and w["plan"].seed in page.content.decode()
    )
    r = web.post(reverse("enforcement:plan_action", args=[w["plan"].pk, "draw"]), follow=True)
    assert "年度抽取完成:5 户" in r.content.decode()
    page = web.get(reverse("enforcement:plan", args=[w["plan"].pk])).content.decode()
    assert 'id="draw-annual"' not in page and "危险化学品使用" in page  # drawn once, labels shown
    record = Draw.objects.get(plan=w["plan"])
    r = web.post(reverse("enforcement:draw_verify", args=[record.pk]), HTTP_HX_REQUEST="true")
    assert "复核一致" in r.content.decode()
    insp = Inspection.objects.filter(draw=record, category="hc_use").first()
    page = web.get(reverse("enforcement:inspection", args=[insp.pk])).content.decode()
    assert "HC-02" in page and "GEN-01" in page  # the category's checklist and the general one
    r = web.post(
        reverse("enforcement:inspection_record", args=[insp.pk]),
        {
            "inspected_on": insp.window_start.isoformat(),
            "problem_GEN-01": "on",
            "description_GEN-01": "培训记录不全",
            "corrected_GEN-01": "on",
        },
        follow=True,
    )
    text = r.content.decode()
    assert "责令整改" in text and "免予处罚" in text and "免处罚清单" in text
    r = web.post(reverse("enforcement:inspection_publish", args=[insp.pk]), follow=True)
    assert "已于" in r.content.decode() and Publication.objects.count() == 1
    public = Client().get(reverse("enforcement:public")).content.decode()
    assert insp.enterprise.name in public and "依免处罚清单不予处罚" in public


def test_case_page_offers_only_allowed_moves(w):
    web = client_for(w["handler"])
    web.post(reverse("enforcement:plan_action", args=[w["plan"].pk, "draw"]))
    insp = Inspection.objects.filter(category="hc_use").first()
    web.post(
        reverse("enforcement:inspection_record", args=[insp.pk]),
        {"inspected_on": insp.window_start.isoformat(), "problem_HC-01": "on"},
    )
    case = PenaltyCase.objects.get()
    page = web.get(reverse("enforcement:case", args=[case.pk])).content.decode()
    assert '<option value="investigate">' in page and '<option value="decide">' not in page
    web.post(reverse("enforcement:case_transition", args=[case.pk]), {"action": "investigate"})
    r = web.post(
        reverse("enforcement:case_transition", args=[case.pk]),
        {"action": "notify", "comment": "告知书", "amount": ""},
        follow=True,
    )
    assert "须填写罚款金额" in r.content.decode()
    case.refresh_from_db()
    assert case.state == "investigating"


def test_statistics_dishonesty_and_public_pages_render(w):
    boss = client_for(w["boss"])
    e = w["enterprises"][0]
    r = boss.post(
        reverse("enforcement:dishonesty"),
        {
            "credit_code": e.credit_code,
            "decided_by": w["zhifa"].pk,
            "listed_on": "2022-09-01",
            "period_months": "12",
            "basis": "应急管理部令第11号",
            "joint_punishments": ["bidding_restriction"],
        },
        follow=True,
    )
    assert "已将" in r.content.decode()
    assert boss.get(reverse("enforcement:statistics"), {"year": 2022}).status_code == 200
    assert Client().get(reverse("enforcement:public")).status_code == 200
    assert Client().get(reverse("enforcement:plans")).status_code == 302  # staff pages need login


def test_verify_command_reports_and_fails_on_mismatch(w, tmp_path):
    client_for(w["handler"]).post(f"{API}/plans/{w['plan'].pk}/draw")
    record = Draw.objects.get(plan=w["plan"])
    out = io.StringIO()
    call_command("enforcement", "verify", str(record.pk), stdout=out)
    assert "复核一致" in out.getvalue()
    call_command("enforcement", "export", str(record.pk), str(tmp_path / "in.json"), stdout=out)
    from yingji.enforcement.draw import main

    assert main(["verify", str(tmp_path / "in.json"), record.result_sha256]) == 0
    Draw.objects.filter(pk=record.pk).update(result_sha256="0" * 64)
    with pytest.raises(CommandError, match="复核不一致"):
        call_command("enforcement", "verify", str(record.pk), stdout=io.StringIO())


def test_draw_command_and_alarm_command(w):
    out = io.StringIO()
    call_command("enforcement", "draw", str(w["plan"].pk), stdout=out)
    assert "年度抽取:5 户" in out.getvalue()
    insp = Inspection.objects.first()
    from yingji.enforcement import services

    services.record_inspection(insp, services.SYSTEM, inspected_on=insp.window_start)
    call_command(
        "enforcement",
        "alarm",
        "--date",
        (insp.publish_by + dt.timedelta(days=1)).isoformat(),
        stdout=out,
    )
    assert "逾期未公示 1 条" in out.getvalue()


def test_plan_created_in_the_browser_form(w):
    web = client_for(w["handler"])
    r = web.post(
        reverse("enforcement:plans"),
        {
            "year": 2023,
            "title": "2023年度计划",
            "department": w["zhifa"].pk,
            "default_proportion": "0.05",
            "proportions": "hc_production=0.2，城镇燃气=10%",
            "key_date_count": 2,
            "publication_workdays": 15,
        },
        follow=True,
    )
    plan = w["plan"].__class__.objects.get(year=2023)
    assert plan.proportions == {"hc_production": 0.2, "town_gas": 0.1}
    assert plan.publication_workdays == 15 and "2023年度计划" in r.content.decode()
    r = web.post(
        reverse("enforcement:plans"),
        {"year": 2023, "title": "x", "department": w["zhifa"].pk, "proportions": "城镇燃气=150%"},
        follow=True,
    )
    assert "抽查比例须在 0 与 1 之间" in r.content.decode()
    r = client_for(w["other"]).post(
        reverse("enforcement:plans"),
        {"year": 2023, "title": "x", "department": w["zhifa"].pk},
        follow=True,
    )
    assert r.status_code == 403


def test_registers_page_and_api_show_certificates_and_conflicts(w):
    from yingji.enforcement.models import ConflictDeclaration

    insp = w["inspectors"][1]
    insp.certificate_valid_to = dt.date(2020, 6, 30)
    insp.save()
    ConflictDeclaration.objects.create(
        inspector=insp,
        enterprise=w["enterprises"][0],
        reason="配偶任职",
        declared_on=dt.date(2021, 1, 1),
    )
    page = client_for(w["handler"]).get(reverse("enforcement:registers")).content.decode()
    assert "已过期" in page and "配偶任职" in page and "HC-02" in page and "MF-01" in page
    rows = {
        i["certificate_number"]: i for i in client_for(w["handler"]).get(f"{API}/inspectors").json()
    }
    assert rows["T1"]["conflicts"] == [w["enterprises"][0].credit_code]
    assert any(m["code"] == "M-HC" for m in Client().get(f"{API}/matters").json())


def test_map_layer_shows_inspections_in_scope(w):
    from django.test import RequestFactory

    from yingji.core import layers
    from yingji.risk.models import Enterprise

    Enterprise.objects.update(lon=113.33, lat=23.13)
    client_for(w["handler"]).post(f"{API}/plans/{w['plan'].pk}/draw")
    request = RequestFactory().get("/")
    request.user = w["boss"]
    layer = layers.get("enforcement_inspections")
    features = layer.loader(request, None)["features"]
    assert len(features) == 5 and "双随机抽查" in features[0]["properties"]["name"]
    assert layer.loader(request, (100.0, 10.0, 101.0, 11.0))["features"] == []
    request.user = w["other"]
    assert layer.loader(request, None)["features"] == []


def test_a_citizen_checks_a_draw_with_a_button_or_the_downloadable_verifier(w, tmp_path):
    import subprocess
    import sys

    client_for(w["handler"]).post(f"{API}/plans/{w['plan'].pk}/draw")
    record = Draw.objects.get(plan=w["plan"])
    public = Client().get(reverse("enforcement:public")).content.decode()
    assert "python -m yingji" not in public and "复核程序" in public
    check = Client().get(reverse("enforcement:public_draw_check", args=[record.pk]))
    assert check.status_code == 200 and "<b>一致</b>" in check.content.decode()
    # The verifier runs on its own, outside the platform, with the published inputs.
    verifier = tmp_path / "yingji-draw-verifier.py"
    verifier.write_bytes(Client().get(reverse("enforcement:public_verifier")).content)
    inputs = tmp_path / "inputs.json"
    inputs.write_bytes(Client().get(reverse("enforcement:draw_inputs", args=[record.pk])).content)
    done = subprocess.run(
        [sys.executable, "-I", str(verifier), "verify", str(inputs), record.result_sha256],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip().endswith("一致"), done.stderr
    # A tampered result is caught.
    Draw.objects.filter(pk=record.pk).update(result_sha256="0" * 64)
    check = Client().get(reverse("enforcement:public_draw_check", args=[record.pk]))
    assert "<b>不一致</b>" in check.content.decode()
