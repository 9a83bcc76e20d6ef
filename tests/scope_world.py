"""Two districts' worth of records for the scope tests (issue 13), built once per
test module through the real services where they are cheap:

Guangzhou's regions and departments; 天河区 and 番禺区 (and 白云区, 越秀区) with an
enterprise, a hazard and an accident each; a 番禺 risk point; the red rainstorm
plan activated for an incident in each district (with its action cards), a rescue
team, a shelter, a dispatch order, a desk item and a drill; a sensor with a firing
alarm in 番禺; a published 番禺 warning and a 番禺 draft; a 番禺区政府 inspection plan
with a draw, an inspection, a penalty case, a dishonesty listing; a look-back of
the 番禺 accident with an item; a work plan with a task of 番禺区政府 (a milestone, a
pause request, a supervision notice); a department merge suggestion; an incoming
CAP feed.

People: `th` (天河区 staff, the one who probes), `py` (番禺区 staff), `weihua`
(危化处 staff), `duty` (值班员), `leader`, `supervisor`, `admin` and `nobody` (an
account without a role).

`two_districts` (a plugin of tests/conftest.py) is a module-scoped fixture: everything is built inside a transaction
that is rolled back after the module; each test runs in a savepoint of it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

TIANHE, PANYU, BAIYUN, YUEXIU = "440106", "440113", "440111", "440104"
# A point inside each district (representative points of the shipped boundaries).
POINTS = {
    TIANHE: (113.3647, 23.1743),
    PANYU: (113.3891, 22.9717),
    BAIYUN: (113.3270, 23.2861),
    YUEXIU: (113.2741, 23.1398),
}
NAMES = {TIANHE: "天河", PANYU: "番禺", BAIYUN: "白云", YUEXIU: "越秀"}


@dataclass
class World:
    users: dict[str, User] = field(default_factory=dict)
    enterprises: dict[str, Any] = field(default_factory=dict)
    hazards: dict[str, Any] = field(default_factory=dict)
    accidents: dict[str, Any] = field(default_factory=dict)
    incidents: dict[str, Any] = field(default_factory=dict)
    activations: dict[str, Any] = field(default_factory=dict)
    cards: dict[str, Any] = field(default_factory=dict)
    alarms: dict[str, Any] = field(default_factory=dict)
    alerts: dict[str, Any] = field(default_factory=dict)
    other: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.other[key]


def _user(username: str, role: str | None, department=None, region=None) -> User:
    from yingji.core.models import Profile

    u = User.objects.create_user(username, email=f"{username}@example.org", password="pw-123456")
    if role:
        Profile.objects.create(
            user=u, role=role, department=department, region=region, full_name=username
        )
    return u


def build() -> World:
    from yingji.core import regions
    from yingji.core.departments import load_departments, resolve
    from yingji.core.models import Department, MergeSuggestion, Region, Role

    w = World()
    regions.load_pack("guangzhou")
    load_departments()
    regions.invalidate_index()
    region = {code: Region.objects.get(code=code) for code in POINTS}
    gov = {code: resolve(f"{region[code].name}政府") for code in POINTS}
    command = Department.objects.get_or_create(name="指挥中心")[0]
    w.users = {
        "th": _user("th", Role.DISTRICT_STAFF, gov[TIANHE], region[TIANHE]),
        "py": _user("py", Role.DISTRICT_STAFF, gov[PANYU], region[PANYU]),
        "weihua": _user("weihua", Role.DEPT_STAFF, resolve("危化处")),
        "duty": _user("duty", Role.DUTY_OFFICER, command),
        "duty2": _user("duty2", Role.DUTY_OFFICER, command),
        "leader": _user("leader", Role.LEADER),
        "supervisor": _user("supervisor", Role.SUPERVISOR),
        "admin": _user("admin", Role.ADMIN),
        "nobody": _user("nobody", None),
    }
    w.other.update(region=region, gov=gov, command=command)
    _risk(w)
    _response(w)
    _monitoring(w)
    _alerts(w)
    _enforcement(w)
    _workplan(w)
    _responsibility(w)
    w.other["suggestion"] = MergeSuggestion.objects.create(
        department=resolve("危化处"), candidate=resolve("基础处"), reason="名称相近(测试)"
    )
    return w


def _risk(w: World) -> None:
    from yingji.risk import creditcode, services
    from yingji.risk.models import RiskPoint

    for n, (code, (lon, lat)) in enumerate(POINTS.items(), start=1):
        e = services.save_enterprise(
            credit_code=creditcode.make(f"9144{code[2:]}", n),
            name=f"{NAMES[code]}某化工有限公司",
            industry_code="C2614",
            lon=lon,
            lat=lat,
            key_categories=["hc_production"],
            address=f"{NAMES[code]}区",
        )
        assert e.district_id == code, (code, e.district_id)
        w.enterprises[code] = e
        w.hazards[code] = services.create_hazard(
            e,
            description=f"{NAMES[code]}储罐区泄漏报警失灵",
            source="self_inspection",
            level="major",
            found_on=dt.date(2025, 3, 3),
            code=f"YH-{code}",
        )
        w.accidents[code] = services.save_accident(
            code=f"SG-{code}",
            occurred_at=timezone.make_aware(dt.datetime(2025, 2, 10, 9)),
            accident_type="fall",
            deaths=1,
            enterprise=e,
        )
    point = RiskPoint.objects.create(
        code="FX-440113", enterprise=w.enterprises[PANYU], name="番禺罐区", district_id=PANYU
    )
    services.assess(point, method="ls", likelihood=3, consequence=3)
    w.other["risk_point"] = point


def _response(w: World) -> None:
    from yingji.response import drills, plans, resources, services
    from yingji.response.models import DeskItem, RescueTeam, Shelter

    plan, _ = plans.load_red_rainstorm()
    w.other["plan"] = plan
    duty = w.users["duty"]
    for code in (TIANHE, PANYU):
        lon, lat = POINTS[code]
        incident = services.register_incident(
            services.IncidentInput(
                title=f"{NAMES[code]}区暴雨内涝",
                incident_type="暴雨",
                occurred_at=timezone.now() - dt.timedelta(hours=1),
                lon=lon,
                lat=lat,
                address=f"{NAMES[code]}区",
            ),
            user=duty,
        )
        assert incident.district_id == code
        activation = services.activate(plan, incident, "IV", user=duty)
        w.incidents[code], w.activations[code] = incident, activation
        w.cards[code] = activation.cards.order_by("pk").first()
    lon, lat = POINTS[PANYU]
    w.other["team"] = RescueTeam.objects.create(
        name="番禺救援队", lon=lon, lat=lat, department=w.other["gov"][PANYU]
    )
    w.other["shelter"] = Shelter.objects.create(
        name="番禺避护场所", lon=lon, lat=lat, capacity=500, street=None
    )
    w.other["order"] = resources.dispatch_team(
        w.incidents[PANYU], w.other["team"], task="排涝", user=duty
    )
    w.other["desk_item"] = DeskItem.objects.create(
        source="cap",
        source_ref="test-standdown",
        hazard="暴雨",
        level="blue",
        title="番禺区暴雨预警解除",
        kind=DeskItem.Kind.STAND_DOWN,
        incident=w.incidents[PANYU],
        actions=[],
    )
    w.other["drill"] = drills.create_drill(
        title="番禺防汛演练",
        plan=plan,
        scenario=[{"kind": "incident", "at": 0, "title": "番禺区内涝", "type": "暴雨"}],
        scheduled_at=timezone.now() + dt.timedelta(days=1),
        blind=False,
        user=duty,
    )


def _monitoring(w: World) -> None:
    from yingji.monitoring.models import Alarm, AlarmRule, Sensor

    lon, lat = POINTS[PANYU]
    sensor = Sensor.objects.create(
        code="RG-440113",
        name="番禺雨量站",
        type="rain",
        unit="mm",
        lon=lon,
        lat=lat,
        department=w.other["gov"][PANYU],
        district_id=PANYU,
    )
    rule = AlarmRule.objects.create(
        name="1小时雨量(测试)",
        sensor_type="rain",
        metric="sum",
        window_s=3600,
        blue=20,
        yellow=30,
        orange=50,
        red=100,
    )
    now = timezone.now()
    w.alarms[PANYU] = Alarm.objects.create(
        rule=rule,
        sensor=sensor,
        district_code=PANYU,
        hazard="rain",
        state="firing",
        level="yellow",
        max_level="yellow",
        value=35,
        active_key=f"{rule.pk}:{sensor.pk}",
        started_at=now - dt.timedelta(minutes=10),
        fired_at=now - dt.timedelta(minutes=10),
    )
    w.other.update(sensor=sensor, rule=rule)


def _alerts(w: World) -> None:
    from yingji.alerts import services
    from yingji.alerts.models import Alert, AlertArea, IncomingFeed

    services.ensure_groups()
    now = timezone.now()
    published = Alert.objects.create(
        identifier="44000041600000-test-panyu",
        sender="440100000000@example.org",
        msg_type="Alert",
        cap_status="Actual",
        state="published",
        hazard="rainstorm",
        colour="yellow",
        event="暴雨黄色预警",
        headline="番禺区暴雨黄色预警",
        description="番禺区将出现暴雨。",
        author=w.users["py"],
        approver=w.users["leader"],
        sent=now - dt.timedelta(hours=1),
        expires=now + dt.timedelta(hours=6),
    )
    AlertArea.objects.create(alert=published, kind="region", region_id=PANYU, description="番禺区")
    draft = services.create_draft(
        w.users["py"],
        services.DraftSpec(
            hazard="rainstorm",
            colour="yellow",
            description="番禺区将出现强降雨。",
            areas=[services.AreaSpec(region_code=PANYU)],
            expires=now + dt.timedelta(hours=6),
        ),
    )
    review = services.create_draft(
        w.users["py"],
        services.DraftSpec(
            hazard="rainstorm",
            colour="yellow",
            description="番禺区部分镇街将出现暴雨。",
            areas=[services.AreaSpec(region_code=PANYU)],
            expires=now + dt.timedelta(hours=6),
        ),
    )
    review = services.submit(review, w.users["py"])
    w.alerts.update(published=published, draft=draft, review=review)
    w.other["feed"] = IncomingFeed.objects.create(name="气象台(测试)", token="t" * 40)


def _enforcement(w: World) -> None:
    from yingji.enforcement import lookback, services
    from yingji.enforcement.models import (
        DishonestyListing,
        Draw,
        Inspection,
        InspectionPlan,
        PenaltyCase,
    )

    gov = w.other["gov"][PANYU]
    plan = InspectionPlan.objects.create(
        year=2025, title="番禺区2025年度双随机抽查计划", department=gov, default_proportion=0.1
    )
    services.announce_seed_source(plan, "双色球 2025001 期开奖号码", w.users["py"])
    now = timezone.now()
    draw = Draw.objects.create(
        plan=plan,
        kind="annual",
        label="年度抽取",
        seed="0" * 64,
        algorithm="test",
        inputs={},
        inputs_sha256="0" * 64,
        status="done",
        drawn_at=now,
    )
    enterprise = w.enterprises[PANYU]
    inspection = Inspection.objects.create(
        plan=plan,
        draw=draw,
        enterprise=enterprise,
        kind="double_random",
        category="hc_production",
        window_label="2025年3月",
        window_start=dt.date(2025, 3, 1),
        window_end=dt.date(2025, 3, 31),
        district_id=PANYU,
        department=gov,
        checklist=[],
    )
    case = PenaltyCase.objects.create(
        number="番应急罚〔2025〕0001号",
        enterprise=enterprise,
        inspection=inspection,
        department=gov,
        district_id=PANYU,
        opened_on=dt.date(2025, 3, 20),
    )
    listing = DishonestyListing.objects.create(
        enterprise=enterprise,
        basis="测试:拒不整改重大事故隐患",
        decided_by=gov,
        listed_on=dt.date(2025, 4, 1),
        expires_on=dt.date(2028, 4, 1),
    )
    case_lb, _ = lookback.open_case(
        w.accidents[PANYU], "typical", lookback.SYSTEM, typical_reason="测试"
    )
    item = lookback.add_item(
        case_lb,
        lookback.SYSTEM,
        kind="measure",
        text="完善储罐区报警装置",
        responsible="番禺区政府",
        responsible_department=gov,
        enterprise=enterprise,
    )
    w.other.update(
        inspection_plan=plan,
        draw=draw,
        inspection=inspection,
        case=case,
        listing=listing,
        lookback=case_lb,
        lookback_item=item,
    )


def _responsibility(w: World) -> None:
    from yingji.responsibility import services
    from yingji.responsibility.models import DutyObject

    rows = (
        "区划,对象类型,责任对象,责任人类别,姓名,单位及职务,手机\n"
        "市桥街道,内涝点,市桥积水点,行政责任人,孙七,市桥街道办事处主任,13500135000\n"
        "天河区,行政区域,天河区,行政责任人,黄华,天河区区长,13700137000\n"
    )
    result = services.import_register(w.users["admin"], "名册.csv", rows.encode())
    assert result.written, result.problems
    w.other["duty_object"] = DutyObject.objects.get(name="市桥积水点")

    from yingji.responsibility import assessment, letters
    from yingji.responsibility.models import (
        DutyItem,
        DutyList,
        Interview,
        Leader,
        Letter,
        Reviewer,
        ReviewSession,
        Sheet,
    )

    leader = Leader.objects.create(
        name="番禺区长", post="番禺区区长", side="government", region=w.other["region"][PANYU]
    )
    work = DutyList.objects.create(leader=leader, year=2025, kind="work", patrols_required=4)
    w.other["duty_item"] = DutyItem.objects.create(
        duty_list=work, text="汛前三防检查", due=dt.date(2025, 4, 15)
    )
    w.other["leader"] = leader
    template = letters.save_template(
        w.users["admin"], 2025, "2025年度责任书", [{"code": "A1", "text": "事故双下降"}]
    )
    letters.draft_letters(w.users["admin"], template)
    w.other["letter"] = Letter.objects.get(template=template, party=w.other["gov"][PANYU])

    iset = assessment.ensure_set(2025)
    assessment.open_sheets(iset)
    panyu_gov = w.other["gov"][PANYU]
    sheet = Sheet.objects.get(indicator_set=iset, department=panyu_gov)
    session = ReviewSession.objects.create(
        year=2025, department=panyu_gov, speaker="番禺区区长", held_on=dt.date(2025, 12, 1)
    )
    w.other.update(
        sheet=sheet,
        interview=Interview.objects.create(sheet=sheet),
        review=session,
        reviewer=Reviewer.objects.create(session=session, name="某代表", kind="npc"),
    )


def _workplan(w: World) -> None:
    from yingji.workplan.models import (
        Assignment,
        Milestone,
        Pause,
        Plan,
        Section,
        SupervisionNotice,
        Task,
    )

    gov = w.other["gov"][PANYU]
    plan = Plan.objects.create(title="2025年工作要点(测试)", year=2025, source_sha256="scope-world")
    section = Section.objects.create(plan=plan, number=1, title="一、强化风险防范")
    task = Task.objects.create(
        plan=plan,
        section=section,
        number=1,
        text="番禺区开展城中村消防整治。",
        due=dt.date(2025, 12, 31),
    )
    Assignment.objects.create(
        task=task, department=gov, role="lead", position=0, name_as_written="番禺区政府"
    )
    milestone = Milestone.objects.create(
        task=task, kind="deadline", title="完成时限", due=dt.date(2025, 12, 31)
    )
    now = timezone.now()
    pause = Pause.objects.create(
        task=task, reason="测试:等待上级批复", requested_by=w.users["py"], requested_at=now
    )
    notice = SupervisionNotice.objects.create(
        task=task,
        milestone=milestone,
        department=gov,
        serial="DB-2025-0001",
        issued_at=now,
        reason="测试:节点逾期",
        respond_by=dt.date(2025, 12, 31),
    )
    w.other.update(work_plan=plan, task=task, milestone=milestone, pause=pause, notice=notice)


@pytest.fixture(scope="module")
def two_districts(django_db_setup, django_db_blocker):
    """The two districts' records (built once for the module, rolled back after it)."""
    from yingji.core import regions

    with django_db_blocker.unblock():
        with transaction.atomic():
            built = build()
            yield built
            transaction.set_rollback(True)
        regions.invalidate_index()
