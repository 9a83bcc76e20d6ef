"""Pages and API of incident command."""

import datetime as dt
import io
import json

import pytest
from django.urls import reverse
from docx import Document

from yingji.core.models import Notification
from yingji.response import services
from yingji.response.models import ActionCard, Incident, RescueTeam, Shelter

from .conftest import TIANHE, make_user

pytestmark = pytest.mark.django_db


def test_pages_need_login_and_a_scope(client, people):
    assert client.get(reverse("response:desk")).status_code == 302
    client.force_login(make_user("nobody", role="other"))
    assert client.get(reverse("response:desk")).status_code == 403
    client.force_login(people["jiaoyu"])  # department staff go to their own cards
    assert client.get(reverse("response:desk"))["Location"] == reverse("response:my_cards")


def test_desk_register_activate_and_acknowledge_through_the_pages(client, tianhe, red_plan, people):
    client.force_login(people["duty"])
    r = client.post(
        reverse("response:incident_create"),
        {
            "title": "石牌桥隧道积水",
            "incident_type": "内涝",
            "lon": TIANHE[0],
            "lat": TIANHE[1],
            "deaths": "3",
            "injured": "0",
            "economic_loss": "0",
            "evacuated": "0",
            "missing": "0",
        },
    )
    incident = Incident.objects.get()
    assert r.status_code == 302 and incident.level == "III"
    html = client.get(reverse("response:incident", args=[incident.pk])).content.decode()
    assert "Ⅲ级(较大)" in html and "启动三级响应" in html and "石牌街道" in html
    client.post(
        reverse("response:activate", args=[incident.pk]), {"plan": red_plan.pk, "level": "III"}
    )
    assert ActionCard.objects.filter(activation__incident=incident).count() > 0
    html = client.get(reverse("response:desk")).content.decode()
    assert "组织防御会商" in html and "石牌桥隧道积水" in html
    # 市教育局 has no card at level III; its staff cannot acknowledge someone else's
    card = ActionCard.objects.get(title="组织防御会商")
    client.force_login(people["jiaoyu"])
    # the incident is out of 市教育局's scope, and so are its cards (issue 13)
    assert client.post(reverse("response:card_action", args=[card.pk, "ack"])).status_code == 404
    card.refresh_from_db()
    assert card.state == "issued"


def test_department_sees_and_acknowledges_its_cards(client, incident, red_plan, people):
    act = services.activate(red_plan, incident, "II", user=people["duty"])
    client.force_login(people["jiaoyu"])
    html = client.get(reverse("response:my_cards")).content.decode()
    assert "停课" in html and "停运" not in html
    card = act.cards.get(title="停课")
    client.post(
        reverse("response:card_action", args=[card.pk, "ack"]),
        {"next": reverse("response:my_cards")},
    )
    client.post(reverse("response:card_action", args=[card.pk, "complete"]), {"result": "已停课"})
    card.refresh_from_db()
    assert card.state == "completed" and card.result == "已停课"


def test_bad_form_input_is_a_message_not_a_crash(client, tianhe, people):
    client.force_login(people["duty"])
    r = client.post(
        reverse("response:incident_create"),
        {"title": "x", "incident_type": "火灾", "deaths": "三"},
        follow=True,
    )
    assert "应为整数" in r.content.decode() and not Incident.objects.exists()


def test_situation_report_is_a_word_document(client, incident, red_plan, people):
    services.activate(red_plan, incident, "IV", user=people["duty"])
    client.force_login(people["leader"])
    r = client.get(reverse("response:sitrep", args=[incident.pk]))
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    text = "\n".join(p.text for p in Document(io.BytesIO(r.content)).paragraphs)
    assert "关于天河区暴雨内涝的情况报告" in text and "四级响应" in text


def test_api_incident_activation_cards_and_errors(client, tianhe, red_plan, people):
    client.force_login(people["duty"])
    r = client.post(
        "/api/v1/response/incidents",
        json.dumps(
            {
                "title": "API接报",
                "incident_type": "暴雨",
                "lon": TIANHE[0],
                "lat": TIANHE[1],
                "injured": 60,
            }
        ),
        content_type="application/json",
    )
    assert r.status_code == 201
    body = r.json()
    assert body["level"] == "II" and body["street"] == "石牌街道"
    assert body["proposals"][0]["level"] == "II"
    r = client.post(
        f"/api/v1/response/incidents/{body['id']}/activations",
        json.dumps({"plan_id": red_plan.pk, "level": "II"}),
        content_type="application/json",
    )
    assert r.status_code == 201
    act = r.json()
    stop = next(c for c in act["cards"] if c["title"] == "停课")
    assert stop["state"] == "issued" and stop["limit_minutes"] == 30
    r = client.post(
        f"/api/v1/response/cards/{stop['id']}/complete",
        json.dumps({"result": ""}),
        content_type="application/json",
    )
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/response/activations/{act['id']}/level",
        json.dumps({"level": "V"}),
        content_type="application/json",
    )
    assert r.status_code in (400, 422)
    client.force_login(people["jiaoyu"])
    r = client.post(f"/api/v1/response/activations/{act['id']}/stand-down")
    assert r.status_code == 403
    r = client.post(f"/api/v1/response/cards/{stop['id']}/ack")
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    r = client.post(f"/api/v1/response/cards/{stop['id']}/ack")
    assert r.status_code == 422
    assert Notification.objects.filter(recipient=people["jiaoyu"]).exists()


def test_api_nearest_dispatch_and_shelters(client, incident, people, at):
    RescueTeam.objects.create(name="近队", capabilities=["排涝"], lon=113.362, lat=23.125)
    RescueTeam.objects.create(name="远队", capabilities=["排涝"], lon=113.5, lat=23.3)
    Shelter.objects.create(name="场所", lon=113.36, lat=23.12, capacity=100)
    client.force_login(people["duty"])
    r = client.get(
        "/api/v1/response/resources/nearest",
        {"lon": TIANHE[0], "lat": TIANHE[1], "capability": "排涝"},
    )
    assert [x["name"] for x in r.json()] == ["近队", "远队"]
    team_id = r.json()[0]["id"]
    r = client.post(
        f"/api/v1/response/incidents/{incident.pk}/dispatches",
        json.dumps({"team_id": team_id}),
        content_type="application/json",
    )
    order = r.json()
    assert r.status_code == 201 and order["state"] == "ordered"
    r = client.post(
        f"/api/v1/response/dispatches/{order['id']}/state",
        json.dumps({"state": "returned"}),
        content_type="application/json",
    )
    assert r.status_code == 422 and "已返回" in json.dumps(r.json(), ensure_ascii=False)
    r = client.post(
        f"/api/v1/response/incidents/{incident.pk}/shelters",
        json.dumps({"evacuees": 150}),
        content_type="application/json",
    )
    assert r.json()["unplaced"] == 50 and r.json()["allocations"][0]["people"] == 100


def test_map_layers_show_incidents_and_shelters(client, incident):
    Shelter.objects.create(
        name="华南农业大学中心避难场所", lon=113.359, lat=23.16, capacity=25000, is_open=True
    )
    client.force_login(make_user("viewer", role="leader"))
    layers = {layer["key"] for layer in client.get("/api/v1/geo/layers").json()}
    assert {
        "incidents",
        "rescue_teams",
        "shelters",
        "helipads",
        "hospitals",
        "warehouses",
    } <= layers
    feats = client.get("/api/v1/geo/layers/incidents").json()["features"]
    assert feats[0]["properties"]["name"] == "天河区暴雨内涝"
    assert feats[0]["geometry"]["coordinates"] == [
        pytest.approx(TIANHE[0]),
        pytest.approx(TIANHE[1]),
    ]
    shelters = client.get("/api/v1/geo/layers/shelters", {"bbox": "113.3,23.1,113.4,23.2"}).json()[
        "features"
    ]
    assert shelters[0]["properties"]["status"] == "已开放"
    assert (
        client.get("/api/v1/geo/layers/shelters", {"bbox": "113.0,22.0,113.1,22.1"}).json()[
            "features"
        ]
        == []
    )


def test_drill_pages_hide_a_blind_scenario_until_it_ends(client, red_plan, people):
    client.force_login(people["duty"])
    r = client.post(
        reverse("response:drill_create"),
        {
            "title": "双盲演练",
            "plan": red_plan.pk,
            "blind": "1",
            "scheduled_at": (dt.datetime.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "scenario": json.dumps(
                [{"at": 0, "kind": "alert", "event": "暴雨红色预警信号", "level": "red"}]
            ),
        },
    )
    assert r.status_code == 302
    url = r["Location"]
    assert "暴雨红色预警信号" in client.get(url).content.decode()
    client.force_login(people["jiaoyu"])
    assert "情景在演练结束前不公开" in client.get(url).content.decode()
    client.force_login(people["duty"])
    r = client.post(reverse("response:drill_create"), {"title": "x", "scenario": "[{"}, follow=True)
    assert "不是有效的 JSON" in r.content.decode()


def test_openapi_schema_lists_the_response_api(client, people):
    client.force_login(people["duty"])
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/response/incidents/{incident_id}/activations" in paths
    assert "/api/v1/response/resources/nearest" in paths


def test_api_plan_structure_round_trip_as_a_draft(client, red_plan, people):
    client.force_login(people["duty"])
    structure = client.get(f"/api/v1/response/plans/{red_plan.pk}").json()
    structure["title"] = "复制预案"
    r = client.post(
        "/api/v1/response/plans", json.dumps(structure), content_type="application/json"
    )
    assert r.status_code == 201, r.json()
    assert r.json()["status"] == "draft"
    r = client.post(
        "/api/v1/response/plans",
        json.dumps({"title": "", "cards": []}),
        content_type="application/json",
    )
    assert r.status_code == 422 and "缺少预案名称" in json.dumps(r.json(), ensure_ascii=False)


def test_api_drill_lifecycle_and_roster(client, tianhe, red_plan, people):
    services.build_roster(
        dt.date(2024, 10, 1),
        2,
        [people["duty"]],
        [people["leader"]],
        list(red_plan.owner.__class__.objects.filter(name="三防处")),
    )
    client.force_login(people["duty"])
    shifts = client.get("/api/v1/response/roster", {"start": "2024-10-01", "days": 2}).json()
    assert [s["period"] for s in shifts] == ["国庆", "国庆"] and shifts[0]["departments"] == [
        "三防处"
    ]
    r = client.post(
        "/api/v1/response/drills",
        json.dumps(
            {
                "title": "API演练",
                "plan_id": red_plan.pk,
                "blind": True,
                "scenario": [
                    {
                        "at": 0,
                        "kind": "incident",
                        "title": "演练内涝",
                        "type": "内涝",
                        "lon": TIANHE[0],
                        "lat": TIANHE[1],
                    }
                ],
            }
        ),
        content_type="application/json",
    )
    assert r.status_code == 201
    drill_id = r.json()["id"]
    r = client.post(f"/api/v1/response/drills/{drill_id}/advance")
    assert r.json()["injected"] == [0] and r.json()["status"] == "running"
    incident = Incident.objects.get()
    assert incident.is_exercise and incident.source == Incident.Source.DRILL
    r = client.post(f"/api/v1/response/drills/{drill_id}/finish")
    assert r.json()["status"] == "finished"
    rep = client.get(f"/api/v1/response/drills/{drill_id}/report").json()
    assert rep["blind"] and rep["total"] == 0 and rep["decision_minutes"] is None
    r = client.post(
        "/api/v1/response/drills",
        json.dumps({"title": "坏", "scenario": [{"kind": "x"}]}),
        content_type="application/json",
    )
    assert r.status_code == 422 and "第 1 步" in json.dumps(r.json(), ensure_ascii=False)


def test_incidents_are_scoped_to_region_and_department(client, incident, red_plan, people, at):
    from yingji.core.models import Department, Region

    elsewhere = Region.objects.create(
        code="440111", name="白云区", level="district", parent=Region.objects.get(code="440100")
    )
    other = services.register_incident(
        services.IncidentInput(title="白云区火灾", incident_type="火灾", occurred_at=at),
        user=people["duty"],
    )
    other.district = elsewhere
    other.save()
    tianhe_gov, _ = Department.objects.get_or_create(
        name="天河区政府", defaults={"kind": "district_gov", "region_id": "440106"}
    )
    tianhe_staff = make_user("tianhe", role="district_staff", department=tianhe_gov)
    tianhe_staff.profile.region_id = "440106"
    tianhe_staff.profile.save()
    client.force_login(tianhe_staff)
    titles = [i["title"] for i in client.get("/api/v1/response/incidents").json()]
    assert titles == ["天河区暴雨内涝"]
    assert client.get(f"/api/v1/response/incidents/{other.pk}").status_code == 404
    # 市教育局 sees an incident once it has an action card for it
    client.force_login(people["jiaoyu"])
    assert client.get("/api/v1/response/incidents").json() == []
    services.activate(red_plan, incident, "II", user=people["duty"], at=at)
    assert [i["title"] for i in client.get("/api/v1/response/incidents").json()] == [
        "天河区暴雨内涝"
    ]
    client.force_login(people["leader"])
    assert len(client.get("/api/v1/response/incidents").json()) == 2
