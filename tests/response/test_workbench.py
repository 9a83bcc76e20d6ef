"""Incident command on the workbench and in the search box, as the people who use
them see it: action cards for a department and for a street office (not for
another district's), the duty desk's items and incidents awaiting a plan for the
duty officer, drills about to start for their organiser, the leader's figure of
incidents under an active response, incidents and plans found by name within
scope."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.workbench_items import figures, hits, workbench
from yingji.core.models import Department, Region, Role
from yingji.core.scope import scope_for
from yingji.core.workbench import Context
from yingji.response import drills, services
from yingji.response import workbench as response_workbench
from yingji.response.models import ActionCard

from .conftest import make_user

pytestmark = pytest.mark.django_db
STEP = [{"at": 0, "kind": "alert", "event": "暴雨红色预警信号", "level": "red"}]


def _local(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def _staff(username, region_code, department=None):
    user = make_user(username, Role.DISTRICT_STAFF, department)
    user.profile.region_id = region_code
    user.profile.save()
    return user


@pytest.fixture
def places(tianhe, people):
    """石牌街道 (天河区) and 北京街道 (越秀区) with their offices and accounts; 天河区政府."""
    district = tianhe["district"]
    yuexiu = Region.objects.create(
        code="440104", name="越秀区", level="district", parent=district.parent
    )
    beijing = Region.objects.create(
        code="440104001", name="北京街道", level="street", parent=yuexiu
    )
    shipai_office = Department.objects.create(
        name="石牌街道应急办", kind="street_office", region=tianhe["street"]
    )
    Department.objects.create(name="北京街道应急办", kind="street_office", region=beijing)
    tianhe_gov = Department.objects.create(name="天河区政府", kind="district_gov", region=district)
    return {
        "shipai_office": shipai_office,
        "shipai": _staff("shipai", "440106001"),
        "beijing": _staff("beijing", "440104001"),
        "tianhe": _staff("tianhe_staff", "440106", tianhe_gov),
        "yuexiu": _staff("yuexiu_staff", "440104"),
        "supervisor": make_user("supervisor", Role.SUPERVISOR),
    }


@pytest.fixture
def responding(incident, red_plan, people, places):
    """The red rainstorm plan at level II for 天河区暴雨内涝 (area: 石牌街道), just now."""
    activation = services.activate(red_plan, incident, "II", user=people["duty"])
    return activation


def test_a_department_sees_its_cards_to_acknowledge_then_to_report(client, people, responding):
    card = responding.cards.get(title="停课")
    client.force_login(people["jiaoyu"])
    (item,) = workbench(client, source="response.cards")
    assert (item.kind, item.title, item.urgency, item.action) == (
        "待签收行动卡",
        "停课",
        "紧急",
        "签收",
    )
    assert item.deadline == f"期限 {_local(card.issued_at + dt.timedelta(minutes=10))}"
    assert item.detail == (
        "天河区暴雨内涝 · 《广州市防御暴雨内涝应急预案(示例)》二级响应 · 市教育局 · 签收时限 10 分钟"
    )
    page = client.get(item.url)
    assert page.status_code == 200
    assert f'id="card-{card.pk}"' in page.content.decode()
    client.post(f"/response/cards/{card.pk}/ack/", {"next": "/"})
    (item,) = workbench(client, source="response.cards")
    assert (item.kind, item.urgency, item.action) == ("待反馈行动卡", "即将到期", "反馈")
    assert item.deadline == f"期限 {_local(card.issued_at + dt.timedelta(minutes=30))}"
    client.post(f"/response/cards/{card.pk}/complete/", {"result": "全市已停课", "next": "/"})
    assert workbench(client, source="response.cards") == []
    # another department's cards are not theirs
    client.force_login(people["jiaotong"])
    assert [i.title for i in workbench(client, source="response.cards")] == ["停运"]


def test_a_street_office_gets_its_street_card_and_another_district_nothing(
    client, places, responding
):
    street = responding.cards.filter(department=places["shipai_office"]).order_by("issued_at")
    client.force_login(places["shipai"])
    items = workbench(client, source="response.cards")
    # the street's cards of levels IV and II, the one due first first
    assert [i.title for i in items] == ["逐户转移群众并上报人数", "组织易涝点和低洼地巡查"]
    assert {i.title for i in items} == {c.title for c in street}
    assert all(i.urgency == "紧急" and "石牌街道应急办" in i.detail for i in items)
    assert client.get(items[0].url).status_code == 200
    client.force_login(places["tianhe"])  # the district office: the district's card
    assert [i.title for i in workbench(client, source="response.cards")] == ["转移危险区域群众"]
    for other in ("beijing", "yuexiu"):
        client.force_login(places[other])
        assert workbench(client, source="response.cards") == []


def test_a_stood_down_response_leaves_no_card_waiting(client, people, responding):
    services.stand_down(responding, user=people["duty"])
    client.force_login(people["jiaoyu"])
    assert workbench(client, source="response.cards") == []


def test_the_duty_officer_sees_the_desk_and_incidents_awaiting_a_plan(
    client, people, places, incident, red_plan
):
    services.record_desk_item(
        source="alert",
        source_ref="GZ-1",
        hazard="暴雨",
        level="red",
        region_codes=["440106001"],
        title="暴雨红色预警信号",
    )
    services.record_desk_item(
        source="alert",
        source_ref="GZ-2",
        hazard="暴雨",
        level="yellow",
        region_codes=["440104"],
        title="暴雨黄色预警信号",
    )
    client.force_login(people["duty"])
    items = workbench(client)
    mine = [(i.source, i.title, i.urgency) for i in items if i.source.startswith("response.")]
    assert mine[0] == ("response.desk", "暴雨红色预警信号", "紧急")  # red: urgent, first
    assert set(mine[1:]) == {
        ("response.desk", "暴雨黄色预警信号", ""),
        ("response.incidents", incident.title, ""),
    }
    red = items[[i.title for i in items].index("暴雨红色预警信号")]
    assert red.level == "red" and red.kind == "值班待办" and red.action == "处置"
    assert red.detail.startswith("预警信息 · 天河区石牌街道 · 建议启动《")
    assert client.get(red.url).status_code == 200
    (waiting,) = workbench(client, source="response.incidents")
    assert waiting.kind == "待启动预案" and "天河区石牌街道" in waiting.detail
    page = client.get(waiting.url).content.decode()
    assert 'id="proposals"' in page and "启动" in page
    services.activate(red_plan, incident, "II", user=people["duty"])
    assert workbench(client, source="response.incidents") == []
    # a supervisor reads the desk but does not act on it; a department never sees it
    for user in (places["supervisor"], people["jiaoyu"]):
        client.force_login(user)
        assert workbench(client, source="response.desk") == []
        assert workbench(client, source="response.incidents") == []


def test_a_drill_about_to_start_waits_for_its_organiser(client, people, red_plan):
    now = timezone.now()
    soon = drills.create_drill(
        title="暴雨红色预警桌面推演",
        plan=red_plan,
        scenario=STEP,
        scheduled_at=now + dt.timedelta(hours=2),
        blind=False,
        user=people["duty"],
    )
    drills.create_drill(
        title="下月综合演练",
        plan=None,
        scenario=STEP,
        scheduled_at=now + dt.timedelta(days=20),
        blind=False,
        user=people["duty"],
    )
    client.force_login(people["duty"])
    (item,) = workbench(client, source="response.drills")
    assert (item.kind, item.title, item.urgency) == (
        "待开始演练",
        "暴雨红色预警桌面推演",
        "即将到期",
    )
    assert item.deadline == f"期限 {_local(soon.scheduled_at)}"
    assert client.get(item.url).status_code == 200
    client.force_login(people["leader"])
    assert workbench(client, source="response.drills") == []


def test_the_leader_sees_incidents_under_an_active_response(client, people, places, responding):
    drill_incident = services.register_incident(
        services.IncidentInput(
            title="演练:天河区内涝",
            incident_type="暴雨",
            occurred_at=timezone.now(),
            lon=113.3612,
            lat=23.1247,
            is_exercise=True,
        ),
        user=people["duty"],
    )
    services.activate(responding.plan, drill_incident, "IV", user=people["duty"])
    client.force_login(people["leader"])
    figure = figures(client)["应急响应中"]
    assert (figure.value, figure.detail) == ("1", "二级响应 1 · 另有演练 1")
    listed = client.get(figure.url).content.decode()
    assert "天河区暴雨内涝" in listed
    services.stand_down(responding, user=people["duty"])
    assert figures(client)["应急响应中"].value == "0"
    client.force_login(places["tianhe"])
    assert "应急响应中" not in figures(client)


def test_incidents_and_plans_are_found_within_scope(client, people, places, responding):
    client.force_login(places["tianhe"])
    found = hits(client, "暴雨内涝")["突发事件"]
    assert [t for t, _ in found] == ["天河区暴雨内涝"]
    assert client.get(found[0][1]).status_code == 200
    assert [t for t, _ in hits(client, "天河区石牌")["突发事件"]] == ["天河区暴雨内涝"]  # by place
    plan = hits(client, "暴雨内涝应急")["应急预案"]
    assert plan == [(responding.plan.title, f"/response/plans/{responding.plan.pk}/")]
    assert client.get(plan[0][1]).status_code == 200
    client.force_login(places["yuexiu"])  # another district: not its incident
    assert "突发事件" not in hits(client, "暴雨内涝")
    assert client.get(found[0][1]).status_code == 404
    client.force_login(people["jiaoyu"])  # a department with a card in it
    assert [t for t, _ in hits(client, "暴雨内涝")["突发事件"]] == ["天河区暴雨内涝"]


def test_cards_are_read_in_one_query_however_many(people, places, responding):
    duty = people["duty"]
    ActionCard.objects.update(department=duty.profile.department)
    ctx = Context(user=duty, scope=scope_for(duty), now=timezone.now(), profile=duty.profile)
    with CaptureQueriesContext(connection) as queries:
        items = response_workbench.card_items(ctx)
    assert len(items) == responding.cards.count() > 10
    assert len(queries) == 1


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_chromium_a_street_office_acknowledges_its_card_from_the_workbench(
    live_server, logged_in_page, places, responding
):
    card = responding.cards.get(department=places["shipai_office"], title="逐户转移群众并上报人数")
    page = logged_in_page(places["shipai"])
    page.goto(f"{live_server.url}/")
    first = page.locator("li.work-item").first
    assert "逐户转移群众并上报人数" in first.inner_text() and "紧急" in first.inner_text()
    first.locator("a.button", has_text="签收").click()
    page.wait_for_url(f"**/response/cards/mine/#card-{card.pk}")
    page.locator(f"#card-{card.pk} button", has_text="签收").click()
    page.wait_for_selector(".messages li.success")
    card.refresh_from_db()
    assert card.state == "acknowledged" and card.acknowledged_by == places["shipai"]
    page.goto(f"{live_server.url}/")
    item = page.locator("li.work-item", has_text="逐户转移群众并上报人数")
    assert "待反馈行动卡" in item.inner_text()
    page.close()
