"""The hazard state machine: every allowed and every refused transition, for
both levels and every kind of actor (pure), then the same rules through the
service with real users, plans, listing and 回头看."""

import datetime as dt
import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yingji.risk import hazardflow as hf
from yingji.risk import services
from yingji.risk.hazardflow import State
from yingji.risk.models import Hazard, HazardEvent, Recheck

D, T, L = hf.DEPARTMENT, hf.DISTRICT, hf.LEADERSHIP
# The specification, written out independently of the implementation's table:
# (action, from, to, who may do it for a general hazard, for a major hazard).
SPEC = [
    ("assign", "reported", "assigned", {D, T, L}, {D, T, L}),
    ("start", "assigned", "rectifying", {D, T, L}, {D, T, L}),
    ("submit", "rectifying", "submitted", {D, T, L}, {D, T, L}),
    ("accept", "submitted", "accepted", {D, T, L}, {D, L}),
    ("reject", "submitted", "rejected", {D, T, L}, {D, L}),
    ("restart", "rejected", "rectifying", {D, T, L}, {D, T, L}),
    ("close", "accepted", "closed", {D, T, L}, {D, L}),
]
ACTIONS = [row[0] for row in SPEC]


def ready(state, level):
    """Facts that satisfy every guard, so only the table decides."""
    return hf.HazardFacts(
        state=State(state), level=level, plan_complete=True, listed=True, has_deadline=True
    )


CASES = list(itertools.product(list(State), ACTIONS, ["general", "major"], [D, T, L, "none"]))


@pytest.mark.parametrize("state,action,level,actor", CASES)
def test_every_state_action_level_and_actor(state, action, level, actor):
    row = next(r for r in SPEC if r[0] == action)
    allowed_actors = row[3] if level == "general" else row[4]
    allowed = state == row[1] and actor in allowed_actors
    facts = ready(state, level)
    if allowed:
        assert hf.check(action, facts, {actor}, comment="说明").target == State(row[2])
    else:
        with pytest.raises(hf.TransitionRefused):
            hf.check(action, facts, {actor}, comment="说明")


def test_the_table_has_exactly_the_specified_moves():
    assert {(t.action, t.source.value, t.target.value) for t in hf.TRANSITIONS} == {
        (a, s, t) for a, s, t, _, _ in SPEC
    }


def test_closed_is_final():
    assert not hf.available(ready("closed", "major"), {D, T, L})


def test_major_hazard_cannot_start_without_plan_or_listing():
    no_plan = hf.HazardFacts(
        State.ASSIGNED, "major", plan_complete=False, listed=True, has_deadline=True
    )
    with pytest.raises(hf.TransitionRefused, match="五到位"):
        hf.check("start", no_plan, {D})
    not_listed = hf.HazardFacts(
        State.ASSIGNED, "major", plan_complete=True, listed=False, has_deadline=True
    )
    with pytest.raises(hf.TransitionRefused, match="挂牌督办"):
        hf.check("start", not_listed, {D})
    general = hf.HazardFacts(State.ASSIGNED, "general", has_deadline=True)
    assert hf.check("start", general, {T}).target == State.RECTIFYING


@pytest.mark.parametrize("action,state", [("submit", "rectifying"), ("reject", "submitted")])
def test_submitting_and_rejecting_need_a_comment(action, state):
    with pytest.raises(hf.TransitionRefused, match="须填写说明"):
        hf.check(action, ready(state, "general"), {D}, comment="  ")


def test_plan_missing_names_the_five_items():
    assert hf.plan_missing({"measures": "更换阀门", "funds": "20万元"}) == [
        "整改期限",
        "责任人",
        "安全措施和应急预案",
    ]


# ---------------------------------------------------------------- through the service


@pytest.fixture
def hazard(chem, people):
    return services.create_hazard(
        chem,
        description="储罐区可燃气体报警器失效",
        source="self_inspection",
        found_on=dt.date(2024, 3, 4),
        user=people["tianhe"],
    )


def test_create_hazard_copies_district_industry_and_department(hazard, chem, gz):
    assert hazard.state == "reported"
    assert hazard.district_id == "440106" and hazard.street_id.startswith("440106")
    assert hazard.department == gz["weihua"] == chem.supervising_department
    assert hazard.industry_code == "2614"
    assert hazard.events.get().action == "report"


def test_create_hazard_links_its_origin(chem, people):
    origin = people["weihua"]  # any model instance stands for an enforcement finding
    h = services.create_hazard(
        chem, description="执法检查发现问题", source="enforcement", origin=origin
    )
    assert h.origin == origin and h.get_source_display() == "执法检查"


def test_a_general_hazard_runs_the_whole_loop(hazard, people):
    district, dept = people["tianhe"], people["weihua"]
    services.transition(hazard, "assign", dept, on=dt.date(2024, 3, 4))
    hazard.refresh_from_db()
    # 10 working days from Monday 4 March 2024 is Monday 18 March.
    assert hazard.deadline == dt.date(2024, 3, 18)
    services.transition(hazard, "start", district, on=dt.date(2024, 3, 5))
    services.transition(hazard, "submit", district, comment="已更换报警器", on=dt.date(2024, 3, 15))
    services.transition(hazard, "reject", dept, comment="未校验", on=dt.date(2024, 3, 15))
    services.transition(hazard, "restart", district, on=dt.date(2024, 3, 15))
    services.transition(hazard, "submit", district, comment="已校验", on=dt.date(2024, 3, 18))
    services.transition(hazard, "accept", dept, on=dt.date(2024, 3, 19))
    services.transition(hazard, "close", dept, on=dt.date(2024, 3, 20))
    hazard.refresh_from_db()
    assert hazard.state == "closed" and hazard.closed_on == dt.date(2024, 3, 20)
    assert list(hazard.events.values_list("action", flat=True)) == [
        "report",
        "assign",
        "start",
        "submit",
        "reject",
        "restart",
        "submit",
        "accept",
        "close",
    ]
    recheck = Recheck.objects.get(hazard=hazard)
    assert recheck.due == dt.date(2024, 4, 18)  # 20 working days later (清明 4-6 April off)


@pytest.mark.parametrize("who", ["jichu", "haizhu", "duty"])
def test_users_outside_the_hazard_are_refused(hazard, people, who):
    with pytest.raises(PermissionDenied, match="无权"):
        services.transition(hazard, "assign", people[who])
    hazard.refresh_from_db()
    assert hazard.state == "reported" and not HazardEvent.objects.filter(action="assign").exists()


def test_a_move_from_the_wrong_state_is_refused_and_says_the_state(hazard, people):
    with pytest.raises(ValidationError, match="已上报"):
        services.transition(hazard, "close", people["supervisor"])


def test_a_major_hazard_needs_plan_and_listing_and_the_regulator_to_accept(chem, people):
    h = services.create_hazard(
        chem,
        description="重大危险源储罐未设置紧急切断",
        level="major",
        source="unannounced_visit",
        found_on=dt.date(2024, 5, 6),
    )
    district, dept = people["tianhe"], people["weihua"]
    services.transition(h, "assign", district)
    with pytest.raises(ValidationError, match="五到位"):
        services.transition(h, "start", district)
    services.save_plan(
        h,
        district,
        measures="加装紧急切断阀",
        funds="30万元",
        deadline=dt.date(2024, 7, 31),
        responsible_person="张三",
        contingency_plan="停用储罐,现场专人监护",
    )
    with pytest.raises(ValidationError, match="挂牌督办"):
        services.transition(h, "start", district)
    with pytest.raises(PermissionDenied):
        services.list_for_supervision(h, district)
    services.list_for_supervision(h, dept, on=dt.date(2024, 5, 8))
    services.transition(h, "start", district)
    services.transition(h, "submit", district, comment="已加装")
    with pytest.raises(PermissionDenied, match="监管部门"):
        services.transition(h, "accept", district)
    services.transition(h, "accept", dept)
    h.refresh_from_db()
    assert h.state == "accepted" and h.deadline == dt.date(2024, 7, 31) and h.listed


def test_a_general_hazard_is_never_listed(hazard, people):
    with pytest.raises(ValidationError, match="仅重大"):
        services.list_for_supervision(hazard, people["weihua"])


def test_a_failed_recheck_opens_a_new_hazard(hazard, people):
    dept = people["weihua"]
    for action, comment in [
        ("assign", ""),
        ("start", ""),
        ("submit", "已整改"),
        ("accept", ""),
        ("close", ""),
    ]:
        services.transition(hazard, action, dept, comment=comment, on=dt.date(2024, 3, 8))
    recheck = hazard.rechecks.get()
    services.record_recheck(
        recheck, dept, passed=False, note="报警器再次失效", on=dt.date(2024, 4, 9)
    )
    reopened = Hazard.objects.exclude(pk=hazard.pk).get()
    assert "回头看" in reopened.description and reopened.state == "reported"
