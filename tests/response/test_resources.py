"""Nearest resources for an incident, dispatch orders and shelter allocation (database)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from yingji.response import dispatch, resources, services
from yingji.response.models import Helipad, Hospital, RescueTeam, Shelter, StockItem, Warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def teams(db):
    return {
        "near": RescueTeam.objects.create(
            name="天河站", capabilities=["排涝", "水上救援"], lon=113.362, lat=23.125, members=40
        ),
        "far": RescueTeam.objects.create(
            name="番禺站", capabilities=["排涝"], lon=113.384, lat=22.938, members=30
        ),
        "search": RescueTeam.objects.create(
            name="搜救队", capabilities=["城市搜救"], lon=113.361, lat=23.124
        ),
    }


def test_nearest_teams_by_capability(incident, teams):
    found = resources.nearest_resources(incident.lon, incident.lat, ["排涝"], k=5, kind="team")
    assert [r["name"] for r in found] == ["天河站", "番禺站"]
    assert found[0]["distance_km"] < 1 < found[1]["distance_km"]


def test_warehouses_hospitals_and_helipads_are_resources_too(incident):
    w = Warehouse.objects.create(name="仓库", lon=113.37, lat=23.13)
    StockItem.objects.create(warehouse=w, name="冲锋舟", category="水上救援", quantity=5)
    StockItem.objects.create(warehouse=w, name="帐篷", category="生活保障", quantity=0)
    Hospital.objects.create(name="医院", lon=113.30, lat=23.13)
    Helipad.objects.create(name="停机坪", lon=113.31, lat=23.13)
    assert [
        r["kind"] for r in resources.nearest_resources(incident.lon, incident.lat, ["冲锋舟"])
    ] == ["warehouse"]
    assert (
        resources.nearest_resources(incident.lon, incident.lat, ["生活保障"]) == []
    )  # out of stock
    assert (
        resources.nearest_resources(incident.lon, incident.lat, ["医疗救治"])[0]["name"] == "医院"
    )
    assert (
        resources.nearest_resources(incident.lon, incident.lat, ["直升机起降"])[0]["name"]
        == "停机坪"
    )


def test_dispatched_team_walks_its_states_and_is_busy_meanwhile(incident, teams, people, at):
    order = resources.dispatch_team(
        incident, teams["near"], task="排涝", user=people["duty"], at=at
    )
    assert order.distance_km < 1
    found = resources.nearest_resources(incident.lon, incident.lat, ["排涝"], kind="team")
    assert [r["name"] for r in found] == ["番禺站"]  # the busy team is not offered again
    with pytest.raises(ValidationError, match="正在执行"):
        resources.dispatch_team(incident, teams["near"], user=people["duty"])
    with pytest.raises(dispatch.OrderTransitionError):
        resources.advance_order(order, dispatch.ON_SCENE, user=people["duty"])
    for i, state in enumerate((dispatch.EN_ROUTE, dispatch.ON_SCENE, dispatch.RETURNED), start=1):
        resources.advance_order(
            order, state, user=people["duty"], at=at + dt.timedelta(minutes=10 * i)
        )
    order.refresh_from_db()
    assert order.on_scene_at == at + dt.timedelta(minutes=20) and order.state == dispatch.RETURNED
    texts = list(
        incident.timeline.filter(kind__startswith="dispatch").values_list("text", flat=True)
    )
    assert "调派天河站" in texts[0] and texts[-1] == "天河站已返回"
    assert (
        resources.nearest_resources(incident.lon, incident.lat, ["排涝"], kind="team")[0]["name"]
        == "天河站"
    )


def test_shelter_allocation_opens_shelters_and_counts_occupancy(incident, people, at):
    near = Shelter.objects.create(
        name="近", lon=113.362, lat=23.125, capacity=300, occupancy=100, is_open=True
    )
    far = Shelter.objects.create(name="远", lon=113.40, lat=23.16, capacity=5000)
    result = resources.allocate_shelters(incident, 1000, user=people["duty"], at=at)
    assert [(a.shelter.name, a.people) for a in result["allocations"]] == [("近", 200), ("远", 800)]
    near.refresh_from_db()
    far.refresh_from_db()
    assert near.occupancy == 300 and far.occupancy == 800 and far.is_open
    assert "远800人(新开放)" in incident.timeline.get(kind="shelters").text
    short = resources.allocate_shelters(incident, 5000, user=people["duty"], at=at)
    assert short["unplaced"] == 800


def test_closed_incidents_take_no_dispatch_or_shelters(incident, teams, people):
    services.close_incident(incident, user=people["duty"])
    with pytest.raises(ValidationError, match="已结案"):
        resources.dispatch_team(incident, teams["near"], user=people["duty"])
    with pytest.raises(ValidationError, match="已结案"):
        resources.allocate_shelters(incident, 10, user=people["duty"])
