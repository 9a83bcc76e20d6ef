"""Activation down to the street offices (镇街应急办) and district offices of the
activation's area: one card each, with its own time limits, acknowledgement by
street staff and escalation."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from yingji.core.models import Department, Notification, Region, Role
from yingji.response import addressees, cards, plans, services
from yingji.response.models import CardTemplate, EmergencyPlan

from .conftest import make_user

pytestmark = pytest.mark.django_db


def test_areas_resolve_to_their_streets_and_districts():
    streets = ["440106001", "440106002", "440104001"]
    assert addressees.streets_in(["440106"], streets) == ["440106001", "440106002"]
    assert addressees.streets_in(["440100"], streets) == sorted(streets)
    assert addressees.districts_in(["440104001", "440106"], ["440104", "440106", "440111"]) == [
        "440104",
        "440106",
    ]
    assert addressees.normalise(["440106001", "440106", "440104001"]) == ["440104001", "440106"]
    assert addressees.addressee_of("各镇街") == addressees.AREA_STREETS


@pytest.fixture
def streets(tianhe):
    """Tianhe's 石牌 (with office), 五山 (with office) and 猎德 (none), 越秀's 北京街 (with office)."""
    district, shipai = tianhe["district"], tianhe["street"]
    wushan = Region.objects.create(
        code="440106002", name="五山街道", level="street", parent=district
    )
    Region.objects.create(code="440106003", name="猎德街道", level="street", parent=district)
    yuexiu = Region.objects.create(
        code="440104", name="越秀区", level="district", parent=district.parent
    )
    beijing = Region.objects.create(
        code="440104001", name="北京街道", level="street", parent=yuexiu
    )
    offices = {
        r.code: Department.objects.create(
            name=f"{r.name}应急办", kind="street_office", region=r, email=f"{r.code}@example.org"
        )
        for r in (shipai, wushan, beijing)
    }
    Department.objects.create(name="天河区政府", kind="district_gov", region=district)
    return offices


@pytest.fixture
def area_plan(db):
    return plans.save_structure(
        {
            "title": "内涝防御属地响应",
            "groups": [{"name": "现场组", "members": ["受影响区域镇街"]}],
            "cards": [
                {
                    "level": "IV",
                    "department": "受影响区域镇街",
                    "title": "组织积水点巡查",
                    "ack": 10,
                    "limit": 30,
                },
                {
                    "level": "IV",
                    "to": "area_districts",
                    "title": "区级部署",
                    "ack": 15,
                    "limit": 60,
                },
            ],
        },
        status=EmergencyPlan.Status.ACTIVE,
    )


def test_plan_structure_keeps_the_area_addressees(area_plan):
    assert set(area_plan.card_templates.values_list("addressee", flat=True)) == {
        "area_streets",
        "area_districts",
    }
    data = plans.structure_of(area_plan)
    assert data["cards"][0]["department"] == "受影响区域镇街应急办"
    assert data["groups"][0]["members"] == ["受影响区域镇街应急办"]
    assert CardTemplate.objects.filter(department__isnull=True).count() == 2


def test_activation_for_a_district_sends_each_street_office_its_card(
    streets, area_plan, incident, people, at
):
    act = services.activate(
        area_plan, incident, "IV", user=people["duty"], at=at, area_codes=["440106"]
    )
    street_cards = act.cards.filter(title="组织积水点巡查")
    assert sorted(c.department.name for c in street_cards) == ["五山街道应急办", "石牌街道应急办"]
    assert all(c.ack_minutes == 10 and c.limit_minutes == 30 for c in street_cards)
    assert act.cards.get(title="区级部署").department.name == "天河区政府"
    assert Notification.objects.filter(
        address="440106002@example.org", subject__contains="组织积水点巡查"
    ).exists()
    assert not Notification.objects.filter(address="440104001@example.org").exists()
    assert "猎德街道" in incident.timeline.get(kind="cards_unaddressed").text


def test_by_default_the_area_is_the_incidents_street(streets, area_plan, incident, people, at):
    act = services.activate(area_plan, incident, "IV", user=people["duty"], at=at)
    assert act.area_codes == ["440106001"]
    assert [c.department.name for c in act.cards.filter(title="组织积水点巡查")] == [
        "石牌街道应急办"
    ]


def test_street_staff_acknowledge_their_card_and_late_ones_escalate(
    streets, area_plan, incident, people, at, client
):
    act = services.activate(
        area_plan, incident, "IV", user=people["duty"], at=at, area_codes=["440106"]
    )
    shipai_staff = make_user("shipai", Role.DISTRICT_STAFF)
    shipai_staff.profile.region_id = "440106001"
    shipai_staff.profile.save()
    mine = act.cards.get(department=streets["440106001"])
    other = act.cards.get(department=streets["440106002"])
    with pytest.raises(PermissionDenied):
        services.acknowledge(other, user=shipai_staff, at=at + dt.timedelta(minutes=3))
    services.acknowledge(mine, user=shipai_staff, at=at + dt.timedelta(minutes=5))
    client.force_login(shipai_staff)
    assert "组织积水点巡查" in client.get("/response/cards/mine/").content.decode()
    services.escalate_overdue(at + dt.timedelta(minutes=11))
    other.refresh_from_db()
    mine.refresh_from_db()
    assert other.escalation_level == 1 and mine.escalation_level == 0
    note = Notification.objects.get(recipient=people["duty"], subject__contains="五山街道应急办")
    assert "未签收" in note.subject
    assert mine.state == cards.ACKNOWLEDGED
    wushan_staff = make_user("wushan", Role.DISTRICT_STAFF)
    wushan_staff.profile.region_id = "440106002"
    wushan_staff.profile.save()
    assert incident in services.visible_incidents(
        wushan_staff
    )  # in 石牌, but 五山 has a card for it
