"""Response on the command screen: incidents, dispatches, shelters, cards by area,
resources per street, the duty shift — and a drill's screen showing only the
drill's objects, each marked 演练, while the normal screen leaves them out."""

import datetime as dt

import pytest
from django.test import Client

from yingji.core import command, regions, scope
from yingji.core.models import Department
from yingji.response import command as feeds
from yingji.response import resources, services
from yingji.response.models import Drill, DutyShift, RescueTeam, Shelter, Warehouse

from .conftest import TIANHE, make_user

pytestmark = pytest.mark.django_db


def ctx(user, now, drill=None):
    return command.Context(user=user, scope=scope.scope_for(user), now=now, drill=drill)


def layer(update, key):
    change = update["f"][key]
    return command.apply_change({}, change)


@pytest.fixture
def drill(tianhe, people, at):
    """A running drill with its warning and its incident injected."""
    d = Drill.objects.create(
        title="天河防汛演练",
        scenario=[
            {
                "at": 0,
                "kind": "alert",
                "event": "暴雨红色预警信号",
                "level": "red",
                "area_codes": ["440106001"],
            },
            {"at": 5, "kind": "incident", "title": "演练:石牌内涝", "type": "暴雨"},
        ],  # fmt: skip
        scheduled_at=at,
        status=Drill.Status.RUNNING,
        started_at=at,
        injected=[0, 1],
        created_by=people["duty"],
    )
    services.register_incident(
        services.IncidentInput(
            title="演练:石牌内涝",
            incident_type="暴雨",
            occurred_at=at,
            lon=TIANHE[0] + 0.01,
            lat=TIANHE[1],
            is_exercise=True,
            source="drill",
            source_ref=f"DRILL-{d.pk}-1",
        ),
        drill=d,
        check=False,
        at=at,
    )
    return d


def test_a_drills_screen_shows_only_the_drills_objects_marked_as_exercise(
    incident, drill, people, at
):
    client = Client()
    client.force_login(people["duty"])
    team = RescueTeam.objects.create(name="天河抢险队", lon=113.35, lat=23.13, members=20)
    real_team = RescueTeam.objects.create(name="越秀抢险队", lon=113.27, lat=23.13, members=20)
    drill_incident = drill.incidents.get()
    resources.dispatch_team(drill_incident, team, check=False, at=at)
    resources.dispatch_team(incident, real_team, check=False, at=at)

    drill_update = client.get(f"/command/update?drill={drill.pk}").json()
    assert drill_update["mode"] == "drill"
    shown = layer(drill_update, "incidents")
    assert list(shown) == [str(drill_incident.pk)] and shown[str(drill_incident.pk)]["dr"] == 1
    lines = layer(drill_update, "dispatches")
    assert len(lines) == 1 and "天河抢险队" in next(iter(lines.values()))["tx"]
    assert all(m["dr"] == 1 for m in lines.values())
    warned = layer(drill_update, "drill_warnings")
    assert [m["rg"] for m in warned.values()] == ["440106001"]
    # No sensor or stored warning belongs to a drill: those layers are not on its screen.
    for key in ("events", "sensors", "warnings", "resources"):
        assert key not in drill_update["f"]
    timeline = drill_update["f"][command.TIMELINE_KEY]["data"]
    assert {e["k"] for e in timeline} == {"注入", "事件"} and all(e["dr"] for e in timeline)
    assert any("预警信息:暴雨红色预警信号" in e["t"] for e in timeline)
    page = client.get(f"/command/?drill={drill.pk}").content.decode()
    assert "演练 · 天河防汛演练" in page and "【演练】指挥大屏" in page

    normal = client.get("/command/update").json()
    shown = layer(normal, "incidents")
    assert list(shown) == [str(incident.pk)] and "dr" not in shown[str(incident.pk)]
    lines = layer(normal, "dispatches")
    assert ["越秀抢险队" in m["tx"] for m in lines.values()] == [True]
    assert "drill_warnings" not in normal["f"]


def test_incidents_show_their_level_and_fall_back_to_the_street_centre(tianhe, people, at):
    placed = services.register_incident(
        services.IncidentInput(
            title="无坐标事件", incident_type="暴雨", occurred_at=at, address="石牌"
        ),
        user=people["duty"],
        at=at,
    )
    placed.street = tianhe["street"]
    placed.level = "II"
    placed.save()
    marks = {m["id"]: m for m in feeds.incident_marks(ctx(people["duty"], at))}
    assert marks[placed.pk]["pt"] == [113.36, 23.125]
    assert marks[placed.pk]["lv"] == "II" and "Ⅱ级(重大)" in marks[placed.pk]["ti"]


def test_shelters_show_occupancy_and_fill_and_the_figure_counts_the_people(incident, people, at):
    Shelter.objects.create(name="体育中心", lon=113.33, lat=23.14, capacity=1000)
    Shelter.objects.create(name="天河小学", lon=113.36, lat=23.125, capacity=100)
    result = resources.allocate_shelters(incident, 95, check=False, at=at)
    assert result["unplaced"] == 0
    c = ctx(people["duty"], at)
    marks = {m["tx"].split(" · ")[0]: m for m in feeds.shelter_marks(c)}
    school = marks["天河小学"]
    assert school["n"] == 95 and school["lv"] == "red"  # nearly full
    assert "在场 95 人 / 容量 100 人" in school["tx"]
    assert "体育中心" not in marks  # not needed, not opened
    figures = {f["t"]: f["v"] for f in feeds.figures(c)}
    assert figures["避护场所在场人数"] == 95


def test_unacknowledged_cards_are_counted_by_area_and_overdue_ones_are_red(
    incident, people, red_plan, at
):
    activation = services.activate(red_plan, incident, "II", user=people["duty"], at=at)
    issued = activation.cards.filter(state="issued")
    total = issued.count()
    assert total > 0
    soon = at + dt.timedelta(minutes=1)
    panel = feeds.cards_panel(ctx(people["duty"], soon))
    assert sum(int(r["v"].split()[0]) for r in panel["rows"]) == total
    assert all(r["l"] == "orange" for r in panel["rows"])  # within the time to acknowledge
    city = next(r for r in panel["rows"] if r["t"] == "市直部门")
    municipal = issued.filter(department__region__isnull=True).count()
    assert city["v"] == f"{municipal} 张"
    card = issued.filter(department__region__isnull=True).first()
    services.acknowledge(card, user=people["duty"], at=soon)
    late = at + dt.timedelta(hours=2)
    panel = feeds.cards_panel(ctx(people["duty"], late))
    city = next(r for r in panel["rows"] if r["t"] == "市直部门")
    assert city["v"] == f"{municipal - 1} 张" and city["l"] == "red" and "超时" in city["d"]
    figures = {f["t"]: f["v"] for f in feeds.figures(ctx(people["duty"], late))}
    assert figures[f"未签收行动卡(超时 {total - 1})"] == total - 1


def test_cards_of_a_street_office_are_a_badge_at_the_street(incident, people, red_plan, at):
    office = Department.objects.create(
        name="石牌街道应急办", kind="street_office", region_id="440106001"
    )
    activation = services.activate(red_plan, incident, "II", user=people["duty"], at=at)
    card = activation.cards.first()
    card.department = office
    card.save()
    marks = {m["id"]: m for m in feeds.card_marks(ctx(people["duty"], at))}
    assert marks["440106001"]["at"] == "440106001" and marks["440106001"]["n"] >= 1
    assert feeds.CITY not in marks  # municipal bureaus have no place on the map


def test_resources_are_counted_per_street_once_until_a_register_changes(tianhe, people, at):
    regions.invalidate_index()
    feeds.forget_resources()
    RescueTeam.objects.create(name="石牌抢险队", lon=113.35, lat=23.12, members=10)
    RescueTeam.objects.create(name="石牌志愿队", lon=113.36, lat=23.13, members=10, available=False)
    Warehouse.objects.create(name="石牌仓库", lon=113.37, lat=23.12)
    Warehouse.objects.create(name="城外仓库", lon=114.9, lat=24.9)  # in no street
    c = ctx(people["duty"], at)
    got = feeds.resource_marks(c)
    assert got["more"] == 1
    [street] = got["items"]
    assert street["at"] == "440106001" and street["n"] == 3
    assert street["c"] == [2, 1, 1, 0, 0, 0]  # teams, available, warehouses, shelters…
    RescueTeam.objects.create(name="新队伍", lon=113.35, lat=23.13, members=5)
    [street] = feeds.resource_marks(c)["items"]
    assert street["n"] == 4 and street["c"][:2] == [3, 2]
    feeds.forget_resources()


def test_the_duty_panel_names_the_officer_and_leader_on_shift(people, at):
    profile = people["duty"].profile
    profile.full_name, profile.phone = "王值班", "13800000001"
    profile.save()
    DutyShift.objects.create(
        starts_at=at - dt.timedelta(hours=1),
        ends_at=at + dt.timedelta(hours=23),
        officer=people["duty"],
        leader=people["leader"],
        period="汛期",
    )
    rows = {r["t"]: r for r in feeds.duty_panel(ctx(people["duty"], at))["rows"]}
    assert rows["值班员"]["v"] == "王值班" and "13800000001" in rows["值班员"]["d"]
    assert rows["带班领导"]["v"] == "leader"
    assert rows["联合值守"]["v"] == "汛期"
    later = at + dt.timedelta(days=2)
    assert feeds.duty_panel(ctx(people["duty"], later)) == {
        "rows": [],
        "empty": "当前时段没有排班",
    }


def test_a_district_user_sees_only_their_districts_incidents(incident, people, at):
    from yingji.core.models import Region

    elsewhere = Region.objects.create(code="440104", name="越秀区", level="district")
    other = services.register_incident(
        services.IncidentInput(
            title="越秀事件", incident_type="暴雨", occurred_at=at, lon=113.27, lat=23.13
        ),
        user=people["duty"],
        at=at,
    )
    other.district = elsewhere
    other.save()
    user = make_user("yuexiu", role="district_staff")
    user.profile.region = elsewhere
    user.profile.save()
    # The screen is for the whole city (403 for district staff), but a feed reads
    # through the scope all the same.
    titles = {m["ti"].split(" · ")[0] for m in feeds.incident_marks(ctx(user, at))}
    assert titles == {"越秀事件"}
    everyone = {m["ti"].split(" · ")[0] for m in feeds.incident_marks(ctx(people["duty"], at))}
    assert everyone == {"天河区暴雨内涝", "越秀事件"}
