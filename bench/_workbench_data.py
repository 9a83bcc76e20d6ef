"""Synthetic city for the workbench benchmark (bench_workbench.py): one 局领导 with
exactly `sum(WAITING.values())` (500) items waiting across six modules, and
`background` times as many rows of the same tables that wait for nobody (done,
decided, closed, someone else's), so that every source's filter has work to do.

`build(now, background)` loads the Guangzhou region pack (boundaries included: the
sources must never read them) and the department register, the monitoring demo
network (385 sensors and their rules), then writes the rest with bulk_create and
the audit log suspended (generated data, not anybody's changes). Dates are
relative to `now`, so the page is read as of the moment the benchmark runs.
Deterministic for a given `now` and seed.

What waits for the leader (the sources' rules, in their docstrings):

- workplan: pauses requested by a department (待审批暂缓), notices escalated
  for want of an answer (督办升级);
- risk: open hazards listed for supervision (挂牌督办隐患);
- monitoring: firing alarms, whole city (待确认报警);
- alerts: warnings in review drafted and submitted by others (待审批预警), the
  leader's own drafts (待提交预警);
- response: open duty-desk items, incidents awaiting a plan, drills the leader
  organised starting within three days;
- enforcement: penalty cases waiting for a decision (告知、听证、复议), look-backs
  evaluated as passed, to close.

The background: decided pauses, answered or not yet escalated notices, unlisted
or closed hazards, acknowledged/silenced/resolved alarms, published, expired
and withdrawn warnings, others' drafts, warnings in review the leader drafted
or edited (four eyes), handled desk items, incidents under way or closed,
others' and later drills, cases at the handler's steps or closed, look-backs
not yet evaluated; plus the year's progress reports, milestones, accidents and
monitoring events that the leader's figures count.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from yingji.core import audit, regions
from yingji.core.departments import load_departments
from yingji.core.models import Department, DepartmentKind, Profile, Region, Role

# What waits for the leader, per workbench source: 500 in all.
WAITING = {
    "workplan.pause": 40,
    "workplan.escalated": 60,
    "risk.listed": 80,
    "monitoring.alarms": 80,
    "alerts.review": 40,
    "alerts.drafts": 10,
    "response.desk": 60,
    "response.incidents": 40,
    "response.drills": 10,
    "enforcement.case": 60,
    "enforcement.lookback_case": 20,
}
LEADER = "bench-leader"
BATCH = 2000
COLOURS = ["red", "orange", "yellow", "blue"]


@dataclass
class City:
    leader: object
    counts: dict[str, int]


def _aware(now: dt.datetime, days: float = 0, hours: float = 0, minutes: float = 0):
    return now + dt.timedelta(days=days, hours=hours, minutes=minutes)


def _user(username: str, role: str, full_name: str, **profile):
    user = get_user_model()(username=username)
    user.set_unusable_password()  # the benchmark logs in with force_login
    user.save()
    Profile.objects.create(user=user, role=role, full_name=full_name, **profile)
    return user


@transaction.atomic
def build(now: dt.datetime, background: int = 10, seed: int = 2026) -> City:
    """The city as of `now` (aware, local); the leader and the row counts."""
    from yingji.monitoring import demo as monitoring_demo

    rng = random.Random(seed)
    regions.load_pack("guangzhou")
    load_departments()
    monitoring_demo.load_demo()
    with audit.suspended():
        ctx = _people(now)
        ctx["rng"], ctx["now"], ctx["bg"] = rng, now, background
        counts: dict[str, int] = {}
        for part in (_workplan, _risk, _monitoring, _alerts, _response, _enforcement):
            counts.update(part(ctx))
    return City(ctx["leader"], counts)


def _people(now: dt.datetime) -> dict:
    bureau = list(Department.objects.filter(kind=DepartmentKind.BUREAU_DEPT).order_by("pk"))
    district_govs = list(
        Department.objects.filter(kind=DepartmentKind.DISTRICT_GOV).order_by("region_id")
    )
    streets = list(
        Region.objects.filter(level="street")
        .order_by("code")
        .values_list("code", "parent_id", "name", "centroid_lon", "centroid_lat")
    )
    districts = dict(Region.objects.filter(level="district").values_list("code", "name"))
    people = {
        "leader": _user(LEADER, Role.LEADER, "局领导(基准测试)"),
        "leader2": _user("bench-leader2", Role.LEADER, "另一位局领导"),
        "duty": _user("bench-duty", Role.DUTY_OFFICER, "值班员", department=bureau[0]),
        "staff": [
            _user(f"bench-staff{i:02d}", Role.DEPT_STAFF, f"处室人员{i}", department=d)
            for i, d in enumerate(bureau)
        ],
        "district_staff": [
            _user(
                f"bench-district{i:02d}",
                Role.DISTRICT_STAFF,
                f"区人员{i}",
                department=d,
                region_id=d.region_id,
            )
            for i, d in enumerate(district_govs)
        ],
    }
    return {
        **people,
        "bureau": bureau,
        "district_govs": district_govs,
        "streets": streets,
        "districts": districts,
    }


def _split(rng: random.Random, n: int, weights: dict) -> list:
    """n values drawn from `weights` ({value: weight}), shuffled, reproducible."""
    values = list(weights)
    return rng.choices(values, [weights[v] for v in values], k=n)


# ---------------------------------------------------------------- workplan


def _workplan(c: dict) -> dict[str, int]:
    from yingji.workplan.models import (
        Assignment,
        Milestone,
        Pause,
        Plan,
        ProgressReport,
        Section,
        SupervisionNotice,
        Task,
    )

    rng, now, bg = c["rng"], c["now"], c["bg"]
    today = now.date()
    year = today.year
    per_plan = 15 * bg  # two plans this year: 300 tasks at the default background
    plans = Plan.objects.bulk_create(
        [
            Plan(
                title=f"{year}年基准测试工作要点{'一二'[i]}",
                year=year,
                source_sha256=hashlib.sha256(f"bench-workbench:{year}:{i}".encode()).hexdigest(),
                source_name="synthetic",
            )
            for i in range(2)
        ]
    )
    sections = Section.objects.bulk_create(
        [Section(plan=p, number=n + 1, title=f"第{n + 1}部分") for p in plans for n in range(5)]
    )
    tasks = []
    for p in plans:
        secs = [s for s in sections if s.plan_id == p.pk]
        for n in range(per_plan):
            tasks.append(
                Task(
                    plan=p,
                    section=secs[n * len(secs) // per_plan],
                    number=n + 1,
                    text=f"推进第{n + 1}项重点工作,按季度报送进展并形成工作台账。",
                    recurrence="quarterly",
                )
            )
    tasks = Task.objects.bulk_create(tasks, batch_size=BATCH)
    bureau = c["bureau"]
    owners, assignments, milestones = {}, [], []
    quarter_ends = [dt.date(year, 3, 31), dt.date(year, 6, 30), dt.date(year, 9, 30)]
    quarter_ends.append(dt.date(year, 12, 31))
    for t in tasks:
        chosen = rng.sample(bureau, rng.choice([1, 2, 2, 3]))
        owners[t.pk] = chosen
        assignments += [
            Assignment(
                task=t,
                department=d,
                position=i,
                name_as_written=d.name,
                role=Assignment.Role.LEAD if i == 0 else Assignment.Role.CO,
            )
            for i, d in enumerate(chosen)
        ]
        for q, due in enumerate(quarter_ends):
            done = None
            if due < today and rng.random() < 0.85:
                done = due - dt.timedelta(days=rng.randint(0, 20))
            milestones.append(
                Milestone(
                    task=t,
                    kind=Milestone.Kind.RECURRENCE,
                    title=f"{year}年第{q + 1}季度",
                    due=due,
                    completed_on=done,
                )
            )
    Assignment.objects.bulk_create(assignments, batch_size=BATCH)
    milestones = Milestone.objects.bulk_create(milestones, batch_size=BATCH)
    start = dt.datetime(year, 1, 1, 9, tzinfo=now.tzinfo)
    span = max(1, (now - start).days)
    reports = []
    for t in tasks:
        for _ in range(10):
            day = start + dt.timedelta(days=rng.randrange(span), hours=rng.randint(0, 8))
            lead = rng.random() < 0.6 or len(owners[t.pk]) == 1
            reports.append(
                ProgressReport(
                    task=t,
                    department=owners[t.pk][0] if lead else rng.choice(owners[t.pk][1:]),
                    percent=min(100, day.timetuple().tm_yday * 100 // 366),
                    addressed_to=ProgressReport.AddressedTo.OFFICE
                    if lead
                    else ProgressReport.AddressedTo.LEAD,
                    reported_at=day,
                    text="按计划推进。",
                )
            )
    ProgressReport.objects.bulk_create(reports, batch_size=BATCH)

    staff = {u.profile.department_id: u for u in c["staff"]}
    n_pauses = WAITING["workplan.pause"]
    pauses = []
    # Requested by the task's lead department: wait for a leader's decision; the
    # background is decided (mostly rejected, a few approved or approved and lifted).
    for i, t in enumerate(rng.sample(tasks, n_pauses) + rng.choices(tasks, k=n_pauses * bg)):
        asked = _aware(now, days=-rng.randint(1, 30) if i < n_pauses else -rng.randint(30, 300))
        state = (
            Pause.State.REQUESTED
            if i < n_pauses
            else _split(rng, 1, {"rejected": 6, "lifted": 2, "approved": 1})[0]
        )
        decided = state != Pause.State.REQUESTED
        pauses.append(
            Pause(
                task=t,
                reason="受专项行动安排影响,申请暂缓",
                state=state,
                requested_by=staff[owners[t.pk][0].pk],
                requested_at=asked,
                decided_by=c["leader2"] if decided else None,
                decided_at=asked + dt.timedelta(days=1) if decided else None,
                lifted_at=asked + dt.timedelta(days=20) if state == "lifted" else None,
            )
        )
    Pause.objects.bulk_create(pauses, batch_size=BATCH)

    n_escalated = WAITING["workplan.escalated"]
    picked = rng.sample(milestones, n_escalated + n_escalated * bg)
    notices = []
    for i, m in enumerate(picked):
        issued = _aware(now, days=-rng.randint(5, 90))
        respond_by = issued.date() + dt.timedelta(days=5)
        kind = "escalated" if i < n_escalated else _split(rng, 1, {"answered": 3, "open": 1})[0]
        notices.append(
            SupervisionNotice(
                task_id=m.task_id,
                milestone=m,
                department=owners[m.task_id][0],
                serial=f"督办〔{year}〕基准{i + 1}号",
                issued_at=issued,
                reason=f"节点“{m.title}”已逾期",
                respond_by=respond_by if kind != "open" else today + dt.timedelta(days=3),
                escalated_at=issued + dt.timedelta(days=6) if kind == "escalated" else None,
                responded_at=issued + dt.timedelta(days=3) if kind == "answered" else None,
                response="已制定整改计划" if kind == "answered" else "",
            )
        )
    SupervisionNotice.objects.bulk_create(notices, batch_size=BATCH)
    return {
        "tasks": len(tasks),
        "milestones": len(milestones),
        "progress_reports": len(reports),
        "pauses": len(pauses),
        "notices": len(notices),
    }


# ---------------------------------------------------------------- risk


def _enterprises(c: dict, n: int) -> list:
    from yingji.risk import creditcode
    from yingji.risk.models import Enterprise

    rng = c["rng"]
    rows = []
    for i in range(1, n + 1):
        code, district, _, lon, lat = rng.choice(c["streets"])
        rows.append(
            Enterprise(
                credit_code=creditcode.make("91440100", 500_000 + i),
                name=f"基准企业{i:05d}有限公司",
                district_id=district,
                street_id=code,
                lon=(lon or 113.3) + rng.uniform(-0.01, 0.01),
                lat=(lat or 23.1) + rng.uniform(-0.01, 0.01),
                industry_code=rng.choice(["2614", "4710", "5942", "3120", "2669"]),
                supervising_department=rng.choice(c["bureau"]),
                grade=rng.choice(COLOURS),
            )
        )
    return Enterprise.objects.bulk_create(rows, batch_size=BATCH)


def _accidents(c: dict, n: int, *, prefix: str, deaths: tuple[int, int]) -> list:
    from yingji.risk import accidents as rules
    from yingji.risk.models import Accident

    rng, now = c["rng"], c["now"]
    rows = []
    for i in range(n):
        e = rng.choice(c["enterprises"])
        d = rng.randint(*deaths)
        rows.append(
            Accident(
                code=f"{prefix}{i:06d}",
                occurred_at=_aware(now, days=-rng.randint(1, 700)),
                enterprise=e,
                district_id=e.district_id,
                street_id=e.street_id,
                industry_code=e.industry_code,
                accident_type=rng.choice(["fall", "machinery", "fire", "collapse"]),
                deaths=d,
                level=rules.level(d, 0, 0),
                place=f"{c['districts'][e.district_id]}某工地",
            )
        )
    return Accident.objects.bulk_create(rows, batch_size=BATCH)


def _risk(c: dict) -> dict[str, int]:
    from yingji.risk.models import Hazard

    rng, now, bg = c["rng"], c["now"], c["bg"]
    today = now.date()
    c["enterprises"] = _enterprises(c, 50 * bg)
    n_listed = WAITING["risk.listed"]
    open_states = {"assigned": 3, "rectifying": 5, "submitted": 2, "rejected": 1, "accepted": 1}
    rows = []
    for i in range(n_listed * (1 + bg)):
        e = rng.choice(c["enterprises"])
        if i < n_listed:  # open and listed: waits for the leader
            state, listed = _split(rng, 1, open_states)[0], True
        elif i < n_listed * (1 + bg // 2):  # open, not listed: the district's and department's
            state, listed = _split(rng, 1, {"reported": 2, **open_states})[0], False
        else:  # closed, some once listed
            state, listed = "closed", rng.random() < 0.2
        found = today - dt.timedelta(days=rng.randint(5, 300))
        deadline = None if state == "reported" else found + dt.timedelta(days=rng.randint(10, 90))
        rows.append(
            Hazard(
                code=f"YH{today.year}{i:06d}",
                enterprise=e,
                level="major" if listed and rng.random() < 0.5 else "general",
                source="regulator_inspection",
                category="fire",
                description="消防通道堵塞,应急照明损坏,安全出口标识缺失",
                state=state,
                found_on=found,
                deadline=deadline,
                closed_on=deadline if state == "closed" else None,
                district_id=e.district_id,
                street_id=e.street_id,
                industry_code=e.industry_code,
                department=e.supervising_department,
                responsible_person="张工",
                listed=listed,
                listed_on=found + dt.timedelta(days=2) if listed else None,
                listed_by=e.supervising_department if listed else None,
            )
        )
    Hazard.objects.bulk_create(rows, batch_size=BATCH)
    accidents = _accidents(c, 10 * bg, prefix="SGB", deaths=(0, 2))
    return {"enterprises": len(c["enterprises"]), "hazards": len(rows), "accidents": len(accidents)}


# ---------------------------------------------------------------- monitoring


def _monitoring(c: dict) -> dict[str, int]:
    from yingji.monitoring.models import Alarm, AlarmRule, Event, Sensor

    rng, now, bg = c["rng"], c["now"], c["bg"]
    sensors = list(
        Sensor.objects.order_by("code").values_list("pk", "type", "district_id", "street_id")
    )
    rules_by_type: dict[str, list] = {}
    for pk, stype in AlarmRule.objects.exclude(metric="composite").values_list("pk", "sensor_type"):
        rules_by_type.setdefault(stype, []).append(pk)
    any_rule = [r for rs in rules_by_type.values() for r in rs]
    active = rng.sample(sensors, WAITING["monitoring.alarms"] + 60)  # one active alarm each
    rows = []

    def alarm(sensor, state, level, *, key: bool, age_min: int):
        pk, stype, district, street = sensor
        rule = rng.choice(rules_by_type.get(stype) or any_rule)
        fired = _aware(now, minutes=-age_min)
        rows.append(
            Alarm(
                rule_id=rule,
                sensor_id=pk,
                district_code=district or "",
                street_code=street or "",
                hazard="rainstorm",
                state=state,
                level=level,
                max_level=level,
                value=rng.uniform(30, 120),
                active_key=f"bench:{pk}:{rule}" if key else None,
                started_at=fired - dt.timedelta(minutes=2),
                fired_at=fired,
                acknowledged_at=fired + dt.timedelta(minutes=5) if state != "firing" else None,
                resolved_at=fired + dt.timedelta(hours=1) if state == "resolved" else None,
                silenced_until=_aware(now, hours=2) if state == "silenced" else None,
            )
        )

    for i, s in enumerate(active):
        if i < WAITING["monitoring.alarms"]:
            level = _split(rng, 1, {"red": 1, "orange": 2, "yellow": 3, "blue": 2})[0]
            alarm(s, "firing", level, key=True, age_min=rng.randint(1, 90))
        else:
            state = "acknowledged" if i % 3 else "silenced"
            alarm(s, state, rng.choice(COLOURS), key=True, age_min=rng.randint(10, 200))
    for _ in range(WAITING["monitoring.alarms"] * bg - 60):
        alarm(rng.choice(sensors), "resolved", rng.choice(COLOURS), key=False, age_min=9000)
    Alarm.objects.bulk_create(rows, batch_size=BATCH)
    districts = list(c["districts"])
    events = [
        Event(
            hazard="rainstorm",
            district_id=rng.choice(districts),
            area_codes=[],
            level=lv,
            max_level=lv,
            state="open" if i < 12 else "closed",
            started_at=_aware(now, hours=-3 - i),
            changed_at=_aware(now, hours=-1),
            closed_at=None if i < 12 else _aware(now, hours=-2),
        )
        for i, lv in enumerate(rng.choices(COLOURS, k=12 + 10 * bg))
    ]
    Event.objects.bulk_create(events, batch_size=BATCH)
    return {"alarms": len(rows), "events": len(events)}


# ---------------------------------------------------------------- alerts


def _alerts(c: dict) -> dict[str, int]:
    from yingji.alerts.models import Alert, AlertArea

    rng, now, bg = c["rng"], c["now"], c["bg"]
    leader = c["leader"]
    authors = [c["duty"], *c["district_staff"][:4], c["staff"][0]]
    plan: list[tuple[str, object, list[int]]] = []  # (state, author, hands)
    for _ in range(WAITING["alerts.review"]):
        a = rng.choice(authors)
        plan.append(("review", a, [a.pk]))
    plan += [("draft", leader, [leader.pk])] * WAITING["alerts.drafts"]
    n_background = (WAITING["alerts.review"] + WAITING["alerts.drafts"]) * bg
    for _ in range(n_background):
        a = rng.choice(authors)
        kind = _split(
            rng,
            1,
            {"published": 10, "expired": 5, "withdrawn": 1, "draft": 2, "mine": 1, "edited": 1},
        )[0]
        if kind == "mine":  # the leader drafted it: four eyes, another approves
            plan.append(("review", leader, [leader.pk]))
        elif kind == "edited":  # the leader edited it: four eyes again
            plan.append(("review", a, [a.pk, leader.pk]))
        else:
            plan.append((kind, a, [a.pk]))
    rows = []
    for i, (state, author, hands) in enumerate(plan):
        colour = rng.choice(COLOURS)
        past = state in ("published", "expired", "withdrawn")
        created = _aware(now, days=-rng.randint(2, 300)) if past else _aware(now, hours=-2)
        hazard = rng.choice(["rainstorm", "typhoon", "thunderstorm", "high_temperature"])
        name = {"rainstorm": "暴雨", "typhoon": "台风", "thunderstorm": "雷雨大风"}.get(
            hazard, "高温"
        )
        rows.append(
            Alert(
                identifier=f"BENCH-WB-{i:06d}",
                sender="广州市应急管理局",
                hazard=hazard,
                colour=colour,
                event=f"{name}预警",
                headline=f"广州市{name}{'红橙黄蓝'[COLOURS.index(colour)]}色预警(第{i}号)",
                description="预计未来6小时内将出现强降水,请注意防范。",
                state=state,
                author=author,
                hands=hands,
                channels=["sms"],
                population_estimate=rng.randint(10_000, 2_000_000),
                expires=created + dt.timedelta(hours=rng.randint(6, 48)),
                submitted_at=created + dt.timedelta(minutes=10) if state != "draft" else None,
                sent=created + dt.timedelta(minutes=30) if past else None,
            )
        )
    alerts = Alert.objects.bulk_create(rows, batch_size=BATCH)
    districts = list(c["districts"].items())
    areas = [
        AlertArea(alert=a, kind="region", description=name, region_id=code)
        for a in alerts
        for code, name in rng.sample(districts, rng.randint(1, 4))
    ]
    AlertArea.objects.bulk_create(areas, batch_size=BATCH)
    return {"alerts": len(alerts), "alert_areas": len(areas)}


# ---------------------------------------------------------------- response


def _response(c: dict) -> dict[str, int]:
    from yingji.response.models import DeskItem, Drill, EmergencyPlan, Incident

    rng, now, bg = c["rng"], c["now"], c["bg"]
    plans = EmergencyPlan.objects.bulk_create(
        [
            EmergencyPlan(title=f"广州市{h}应急预案(基准测试)", status="active", hazard=h)
            for h in ("暴雨内涝", "台风", "地震", "危险化学品事故", "森林火灾")
        ]
    )
    streets = c["streets"]
    desk = []
    n_desk = WAITING["response.desk"]
    for i in range(n_desk * (1 + bg)):
        p = rng.choice(plans)
        desk.append(
            DeskItem(
                source=rng.choice(["alarm", "alert"]),
                source_ref=f"WB-{i}",
                hazard="暴雨",
                level=rng.choice(COLOURS),
                region_codes=[s[0] for s in rng.sample(streets, rng.randint(1, 5))],
                title=f"暴雨预警信号(第{i}号)",
                proposals=[{"plan_id": p.pk, "plan": p.title, "level": "III", "why": ""}],
                status="open" if i < n_desk else rng.choice(["accepted", "dismissed"]),
            )
        )
    DeskItem.objects.bulk_create(desk, batch_size=BATCH)
    incidents = []
    n_inc = WAITING["response.incidents"]
    for i in range(n_inc * (1 + bg)):
        code, district, name, lon, lat = rng.choice(streets)
        status = (
            "registered"
            if i < n_inc
            else _split(rng, 1, {"closed": 10, "stood_down": 1, "responding": 1})[0]
        )
        incidents.append(
            Incident(
                title=f"{c['districts'][district]}{name}内涝(第{i}起)",
                category="natural",
                incident_type="暴雨",
                occurred_at=_aware(now, hours=-rng.randint(1, 48) if i < n_inc else -2000),
                lon=lon,
                lat=lat,
                district_id=district,
                street_id=code,
                level=_split(rng, 1, {"IV": 8, "III": 3, "II": 1})[0],
                status=status,
                reported_by=c["duty"],
            )
        )
    Incident.objects.bulk_create(incidents, batch_size=BATCH)
    drills = []
    n_drills = WAITING["response.drills"]
    for i in range(n_drills * (1 + bg)):
        mine = i < n_drills
        at = (
            _aware(now, hours=rng.randint(-6, 60)) if mine else _aware(now, days=rng.randint(5, 90))
        )
        status = "scheduled"
        if not mine and i % 3 == 0:
            status, at = "finished", _aware(now, days=-rng.randint(5, 200))
        drills.append(
            Drill(
                title=f"{rng.choice(plans).hazard}桌面推演(第{i}次)",
                plan=rng.choice(plans),
                scenario=[{"at": 0, "kind": "alert", "event": "暴雨红色预警信号"}],
                scheduled_at=at,
                status=status,
                created_by=c["leader"] if mine or i % 2 else c["duty"],
            )
        )
    Drill.objects.bulk_create(drills, batch_size=BATCH)
    return {"desk_items": len(desk), "incidents": len(incidents), "drills": len(drills)}


# ---------------------------------------------------------------- enforcement


def _enforcement(c: dict) -> dict[str, int]:
    from yingji.core.departments import resolve
    from yingji.enforcement.models import LookbackCase, PenaltyCase

    rng, now, bg = c["rng"], c["now"], c["bg"]
    today = now.date()
    zhifa = resolve("执法处") or c["bureau"][0]
    deciding = {"notified": 3, "hearing": 1, "reconsideration": 1}
    handling = {"filed": 2, "investigating": 3, "decided": 1, "executing": 1, "closed": 6}
    cases = []
    n_cases = WAITING["enforcement.case"]
    for i in range(n_cases * (1 + bg)):
        e = rng.choice(c["enterprises"])
        state = _split(rng, 1, deciding if i < n_cases else handling)[0]
        cases.append(
            PenaltyCase(
                number=f"穗应急罚〔{today.year}〕基准{i + 1:05d}号",
                enterprise=e,
                department=zhifa if rng.random() < 0.6 else rng.choice(c["district_govs"]),
                district_id=e.district_id,
                category="general",
                state=state,
                opened_on=today - dt.timedelta(days=rng.randint(5, 120)),
                proposed_amount=Decimal(rng.randint(1, 50) * 1000),
                closed_on=today - dt.timedelta(days=2) if state == "closed" else None,
            )
        )
    PenaltyCase.objects.bulk_create(cases, batch_size=BATCH)
    n_lb = WAITING["enforcement.lookback_case"]
    accidents = _accidents(c, n_lb * (1 + bg), prefix="SGL", deaths=(3, 9))
    looks = []
    for i, a in enumerate(accidents):
        if i < n_lb:
            state, conclusion = "evaluated", rng.choice(["qualified", "basic"])
        else:
            state = _split(
                rng, 1, {"pending": 3, "evaluating": 3, "recheck": 1, "closed": 3, "evaluated": 1}
            )[0]
            conclusion = "unqualified" if state in ("evaluated", "recheck") else ""
            if state == "closed":
                conclusion = "qualified"
        approved = today - dt.timedelta(days=rng.randint(30, 300))
        looks.append(
            LookbackCase(
                accident=a,
                reason="level",
                department=rng.choice(c["bureau"]),
                district_id=a.district_id,
                opened_on=approved - dt.timedelta(days=30),
                report_approved_on=approved,
                report_approver="广州市人民政府",
                due_on=approved + dt.timedelta(days=365),
                state=state,
                conclusion=conclusion,
                evaluated_on=today - dt.timedelta(days=3) if conclusion else None,
                closed_on=today if state == "closed" else None,
            )
        )
    LookbackCase.objects.bulk_create(looks, batch_size=BATCH)
    return {"penalty_cases": len(cases), "lookback_cases": len(looks)}
