"""Drills: scripted injection marked as exercise, blind mode, the report; and the
simulated red rainstorm from alert to incident, plan, cards, teams and shelters."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from yingji.core.models import Notification
from yingji.response import drills, drillscore, resources, services
from yingji.response.models import DeskItem, Drill, Incident, RescueTeam, Shelter

pytestmark = pytest.mark.django_db

SCENARIO = [
    {
        "at": 0,
        "kind": "alert",
        "event": "暴雨红色预警信号",
        "level": "red",
        "area_codes": ["440106001"],
    },
    {"at": 5, "kind": "alarm", "rule": "rainstorm", "level": "red", "region_codes": ["440106001"]},
    {
        "at": 30,
        "kind": "report",
        "text": "石牌桥积水1.2米,转移群众600人",
        "injured": 1,
        "evacuated": 600,
    },
]


def minutes(at, n):
    return at + dt.timedelta(minutes=n)


def test_scenario_problems_name_the_step():
    assert drillscore.check_scenario(
        [{"at": 0, "kind": "alert", "level": "red"}, {"at": -1, "kind": "flood"}]
    ) == [
        "第 1 步(预警信息):缺少 event",
        "第 2 步:类型应为 alert、alarm、incident 或 report,实为 'flood'",
    ]
    assert drillscore.due_steps(SCENARIO, 6, [0]) == [1]


def test_blind_drill_tells_nobody_but_an_open_drill_does(red_plan, people, at):
    blind = drills.create_drill(
        title="双盲演练",
        plan=red_plan,
        scenario=SCENARIO,
        scheduled_at=at,
        blind=True,
        user=people["duty"],
    )
    assert not Notification.objects.filter(subject__contains="演练通知").exists()
    assert not drills.can_see_scenario(blind, people["jiaoyu"])
    assert drills.can_see_scenario(blind, people["duty"])
    drills.create_drill(
        title="桌面推演",
        plan=red_plan,
        scenario=SCENARIO,
        scheduled_at=at,
        blind=False,
        user=people["duty"],
    )
    assert Notification.objects.filter(
        recipient=people["jiaoyu"], subject__contains="演练通知"
    ).exists()
    with pytest.raises(ValidationError):
        drills.create_drill(
            title="x", plan=red_plan, scenario=[], scheduled_at=at, blind=True, user=people["duty"]
        )


def test_blind_red_rainstorm_drill_end_to_end_produces_its_report(tianhe, red_plan, people, at):
    team = RescueTeam.objects.create(
        name="天河消防救援站",
        capabilities=["排涝", "水上救援"],
        lon=113.352,
        lat=23.137,
        members=45,
    )
    Shelter.objects.create(
        name="华南理工大学五山校区中心避难场所",
        grade="中心",
        lon=113.343,
        lat=23.153,
        capacity=25000,
    )
    drill = drills.create_drill(
        title="红色暴雨双盲演练",
        plan=red_plan,
        scenario=SCENARIO,
        scheduled_at=at,
        blind=True,
        user=people["duty"],
    )
    assert drills.tick(minutes(at, -1)) == 0  # not yet
    assert drills.tick(minutes(at, 1)) == 1  # the alert
    item = DeskItem.objects.get()
    assert item.is_exercise and item.proposals[0]["level"] == "II"
    # the duty officer registers the incident from the alert and activates the proposed plan
    incident = services.accept_desk_item(item, user=people["duty"], at=minutes(at, 2))
    assert incident.is_exercise and incident.drill == drill and incident.street.name == "石牌街道"
    proposal = services.incident_proposals(incident)[0]
    act = services.activate(
        red_plan, incident, proposal["level"], user=people["duty"], at=minutes(at, 4)
    )
    assert Notification.objects.filter(
        recipient=people["jiaoyu"], subject__startswith="【演练】【行动卡】"
    ).exists()
    services.acknowledge(act.cards.get(title="停课"), user=people["jiaoyu"], at=minutes(at, 8))
    services.complete(
        act.cards.get(title="停课"), result="已通知停课", user=people["jiaoyu"], at=minutes(at, 20)
    )
    services.acknowledge(act.cards.get(title="停运"), user=people["jiaotong"], at=minutes(at, 30))
    nearest = resources.nearest_resources(incident.lon, incident.lat, ["水上救援"], kind="team")
    assert nearest[0]["id"] == team.pk
    resources.dispatch_team(incident, team, user=people["duty"], at=minutes(at, 10))
    resources.allocate_shelters(incident, 600, user=people["duty"], at=minutes(at, 35))
    assert drills.tick(minutes(at, 31)) == 2  # the alarm and the follow-up report
    alarm = DeskItem.objects.get(source="alarm")
    assert alarm.is_exercise and alarm.title == "【演练】监测报警:暴雨(红色)"
    assert alarm.proposals[0]["level"] == "II"
    incident.refresh_from_db()
    assert incident.evacuated == 600
    drills.finish(drill, user=people["duty"], at=minutes(at, 60))

    rep = drills.report(drill)
    cards = {c.title: c for c in rep["score"].cards}
    assert cards["停课"].ack_minutes == 4.0 and cards["停课"].ack_on_time
    assert cards["停课"].completion_minutes == 16.0 and cards["停课"].completion_on_time
    assert cards["停运"].ack_minutes == 26.0 and cards["停运"].ack_on_time is False
    assert cards["停运"].completion_minutes is None
    assert rep["decision_minutes"] == 4.0
    assert rep["score"].not_completed == rep["score"].total - 1
    kinds = list(incident.timeline.values_list("kind", flat=True))
    for k in (
        "registered",
        "activated",
        "card_ack",
        "card_done",
        "dispatch",
        "shelters",
        "report",
        "stood_down",
    ):
        assert k in kinds
    assert all(t.startswith("【演练】") for t in incident.timeline.values_list("text", flat=True))
    assert Drill.objects.get().status == Drill.Status.FINISHED
    assert Incident.objects.get().status == Incident.Status.STOOD_DOWN
