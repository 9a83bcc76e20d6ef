"""Leaders' duty lists, 巡查 turned into hazards, the fulfilment summary, and the
responsibility letters from template to signed scan — scoped."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from yingji.core.models import Department, DepartmentKind, Profile, Role
from yingji.responsibility import leaders, letters, services
from yingji.responsibility.models import DutyItem, DutyList, Leader, Letter

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def lead(world):
    zonghe = Department.objects.create(name="综合处")
    from django.contrib.auth.models import User

    u = User.objects.create_user("zonghe", password="pw-123456")
    Profile.objects.create(user=u, role=Role.DEPT_STAFF, department=zonghe, full_name="综合同志")
    return u


@pytest.fixture
def tianhe_leader(world):
    leader = Leader.objects.create(
        name="黄志强", post="天河区区长", side="government", region=world["regions"]["440106"]
    )
    work = DutyList.objects.create(leader=leader, year=2022, kind="work", patrols_required=4)
    DutyItem.objects.create(duty_list=work, text="汛前三防检查", due=dt.date(2022, 4, 15))
    DutyItem.objects.create(duty_list=work, text="年度会议", due=dt.date(2022, 1, 31))
    return leader


def test_a_patrol_problem_becomes_a_hazard_and_the_summary_counts(
    world, tianhe_leader, monkeypatch
):
    from yingji.risk import services as risk
    from yingji.risk.models import Hazard

    monkeypatch.setattr(services, "today", lambda: dt.date(2022, 7, 10))
    monkeypatch.setattr(leaders, "today", lambda: dt.date(2022, 7, 10))
    enterprise = risk.save_enterprise(
        credit_code="91440106MA5ABCDE1X",
        name="天河某化工有限公司",
        industry_code="C2614",
        lon=113.36,
        lat=23.17,
        address="天河区",
    )
    item = tianhe_leader.lists.get().items.get(text="年度会议")
    leaders.complete_item(world["tianhe"], item, dt.date(2022, 1, 20))
    with pytest.raises(services.PermissionDenied):
        leaders.complete_item(world["panyu"], item, dt.date(2022, 1, 20))
    patrol, hazards = leaders.record_patrol(
        world["tianhe"],
        tianhe_leader,
        on=dt.date(2022, 5, 6),
        place="天河某化工有限公司",
        region=world["regions"]["440106"],
        problems=[(enterprise, "储罐区可燃气体报警器失效")],
    )
    (hazard,) = hazards
    stored = Hazard.objects.get(pk=hazard.pk)
    assert (stored.origin_type.model, stored.origin_id) == ("patrol", str(patrol.pk))
    assert "黄志强(天河区区长)巡查发现" in hazard.description
    (area,) = leaders.summary(world["tianhe"], 2022)
    ((_, f),) = area["leaders"]
    assert (f.on_time, f.overdue, f.patrols, f.patrols_required) == (1, 1, 1, 2)
    assert leaders.summary(world["panyu"], 2022) == []
    client = Client()
    client.force_login(world["tianhe"])
    page = client.get("/responsibility/leaders/?year=2022").content.decode()
    assert "黄志强" in page and "差 1 次" in page
    detail = client.get(f"/responsibility/leaders/{tianhe_leader.pk}/?year=2022").content.decode()
    assert "逾期未完成" in detail and "按时完成" in detail
    client.force_login(world["panyu"])
    assert client.get(f"/responsibility/leaders/{tianhe_leader.pk}/").status_code == 404


def test_letters_from_template_to_signed_scan(world, lead):
    template = letters.save_template(
        lead,
        2022,
        "2022年度安全生产和消防工作责任书",
        [{"code": "A1", "text": "事故双下降", "weight": 50}],
    )
    with pytest.raises(services.PermissionDenied):
        letters.save_template(world["tianhe"], 2022, "x", [{"code": "A", "text": "y"}])
    assert letters.draft_letters(lead, template) == 2  # 天河区政府, 番禺区政府
    letter = Letter.objects.get(party__name="天河区政府")
    assert letter.indicators == template.indicators
    with pytest.raises(services.ValidationError, match="不能“签订”"):
        letters.move(world["tianhe"], letter, "sign")
    letters.move(lead, letter, "issue")
    with pytest.raises(services.PermissionDenied):
        letters.move(world["panyu"], letter, "sign", signed_on=dt.date(2022, 2, 20), signed_by="x")
    with pytest.raises(services.ValidationError) as refused:
        letters.move(
            world["tianhe"], letter, "sign", signed_on=dt.date(2022, 2, 20), signed_by="某区长"
        )
    assert "scan" in refused.value.message_dict
    client = Client()
    client.force_login(world["tianhe"])
    answer = client.post(
        f"/responsibility/letters/{letter.pk}/",
        {
            "action": "sign",
            "signed_on": "2022-02-20",
            "signed_by": "某区长",
            "scan": SimpleUploadedFile("责任书.pdf", PDF, content_type="application/pdf"),
        },
        follow=True,
    )
    assert "天河区政府:已签订" in answer.content.decode()
    letter.refresh_from_db()
    assert letter.state == "signed" and letter.scan.name.startswith("responsibility/letters/")
    assert client.get(letter.scan.url).status_code == 200
    from yingji.responsibility import assessment
    from yingji.responsibility.models import Sheet

    iset = assessment.ensure_set(2022)
    assessment.open_sheets(iset)
    Sheet.objects.filter(indicator_set=iset, department=letter.party).update(total=91.5, rank=1)
    page = client.get("/responsibility/letters/?year=2022").content.decode()
    assert "天河区政府" in page and "番禺区政府" not in page
    assert "91.5 分 · 组内第 1" in page
    client.force_login(world["panyu"])
    assert client.get(letter.scan.url).status_code == 404
    assert DepartmentKind.DISTRICT_GOV == Letter.objects.get(party__name="番禺区政府").party.kind


def test_the_api_records_completions_patrols_and_moves_letters_in_scope(world, lead, tianhe_leader):
    client = Client()
    client.force_login(world["tianhe"])
    rows = client.get("/api/v1/responsibility/leaders?year=2022").json()
    assert [r["name"] for r in rows] == ["黄志强"] and rows[0]["side_label"] == "政府"
    item = tianhe_leader.lists.get().items.get(text="年度会议")
    done = client.post(
        f"/api/v1/responsibility/leaders/items/{item.pk}/done",
        {"done_on": "2022-01-20"},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["state_label"] == "按时完成"
    patrol = client.post(
        f"/api/v1/responsibility/leaders/{tianhe_leader.pk}/patrols",
        {"on": "2022-05-06", "place": "天河某商场"},
        content_type="application/json",
    )
    assert patrol.status_code == 200 and patrol.json()["hazard_codes"] == []
    client.force_login(world["panyu"])
    assert client.get("/api/v1/responsibility/leaders?year=2022").json() == []
    refused = client.post(
        f"/api/v1/responsibility/leaders/items/{item.pk}/done",
        {"done_on": "2022-01-21"},
        content_type="application/json",
    )
    assert refused.status_code == 404
    template = letters.save_template(lead, 2022, "责任书", [{"code": "A1", "text": "事故双下降"}])
    letters.draft_letters(lead, template)
    letter = Letter.objects.get(party__name="天河区政府")
    client.force_login(lead)
    moved = client.post(
        f"/api/v1/responsibility/letters/{letter.pk}/transitions",
        {"action": "issue"},
        content_type="application/json",
    )
    assert moved.json()["state_label"] == "已印发待签"
    again = client.post(
        f"/api/v1/responsibility/letters/{letter.pk}/transitions",
        {"action": "issue"},
        content_type="application/json",
    )
    assert again.status_code == 422 and "不能“印发”" in str(again.json())
    client.force_login(world["tianhe"])
    signed = client.post(
        f"/api/v1/responsibility/letters/{letter.pk}/sign",
        {
            "signed_on": "2022-02-20",
            "signed_by": "某区长",
            "scan": SimpleUploadedFile("责任书.pdf", PDF, content_type="application/pdf"),
        },
    )
    assert signed.status_code == 200 and signed.json()["has_scan"] is True
    assert [x["party"] for x in client.get("/api/v1/responsibility/letters?year=2022").json()] == [
        "天河区政府"
    ]
