"""Registering incidents, follow-up reports re-computing the level, the timeline."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yingji.response import services
from yingji.response.models import Incident

from .conftest import TIANHE, make_user

pytestmark = pytest.mark.django_db


def test_registration_finds_district_and_street_and_a_first_level(incident):
    assert incident.category == "自然灾害"
    assert incident.district.name == "天河区" and incident.street.name == "石牌街道"
    assert incident.level == "IV" and incident.status == Incident.Status.REGISTERED
    first = incident.timeline.get()
    assert (
        "天河区石牌街道" in first.text and "Ⅳ级(一般)" in first.text and first.actor_label == "duty"
    )


def test_gcj02_input_is_stored_as_wgs84(tianhe, people, at):
    from yingji.core import geo

    gcj = geo.wgs84_to_gcj02(*TIANHE)
    inc = services.register_incident(
        services.IncidentInput(
            title="x", incident_type="火灾", occurred_at=at, lon=gcj[0], lat=gcj[1], crs="gcj02"
        ),
        user=people["duty"],
    )
    assert inc.lon == pytest.approx(TIANHE[0], abs=1e-5) and inc.street.code == "440106001"


def test_unknown_type_and_unauthorised_users_are_refused(tianhe, people, at):
    with pytest.raises(ValidationError, match="未知的事件类型"):
        services.register_incident(
            services.IncidentInput(title="x", incident_type="陨石", occurred_at=at),
            user=people["duty"],
        )
    with pytest.raises(PermissionDenied):
        services.register_incident(
            services.IncidentInput(title="x", incident_type="火灾", occurred_at=at),
            user=people["jiaoyu"],
        )


def test_follow_up_report_raises_the_level_and_proposes_plans(incident, people, red_plan):
    services.add_report(
        incident,
        text="石牌桥隧道积水,3人死亡",
        deaths=3,
        missing=0,
        injured=4,
        economic_loss=200,
        evacuated=800,
        user=people["duty"],
    )
    incident.refresh_from_db()
    assert incident.level == "III" and incident.deaths == 3
    changed = incident.timeline.get(kind="level_changed")
    assert "Ⅳ级(一般)调整为Ⅲ级(较大)" in changed.text
    assert red_plan.title in changed.text and "三级响应" in changed.text


def test_follow_up_can_lower_the_level_again(incident, people):
    services.add_report(
        incident,
        text="初报",
        deaths=12,
        missing=0,
        injured=0,
        economic_loss=0,
        evacuated=0,
        user=people["duty"],
    )
    services.add_report(
        incident,
        text="核实:误报,实为2人",
        deaths=2,
        missing=0,
        injured=0,
        economic_loss=0,
        evacuated=0,
        user=people["duty"],
    )
    incident.refresh_from_db()
    assert incident.level == "IV"
    assert [e.data["to"] for e in incident.timeline.filter(kind="level_changed")] == ["II", "IV"]


def test_district_staff_cannot_file_reports(incident):
    with pytest.raises(PermissionDenied):
        services.add_report(
            incident,
            text="x",
            deaths=0,
            missing=0,
            injured=0,
            economic_loss=0,
            evacuated=0,
            user=make_user("someone"),
        )


def test_incident_cannot_close_while_responding(incident, people, red_plan):
    services.activate(red_plan, incident, "IV", user=people["duty"])
    with pytest.raises(ValidationError, match="终止响应"):
        services.close_incident(incident, user=people["duty"])
