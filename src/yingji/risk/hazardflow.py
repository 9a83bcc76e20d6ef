"""The hidden-hazard rectification loop as an explicit state machine (pure; no Django).

    reported ─assign→ assigned ─start→ rectifying ─submit→ submitted ─accept→ accepted ─close→ closed
                                          ↑                     │
                                          └──restart── rejected ←reject┘

Who may make each transition is a set of *actor kinds*, worked out from the
user and the hazard by the service layer:

- ``department``: staff of the hazard's supervising department (三管三必须);
- ``district``: district or street staff whose region covers the hazard;
- ``leadership``: leaders, supervisors (督查) and administrators.

Major hazards (重大事故隐患, 安监总局令第16号) need a complete "五到位"
rectification plan and supervision listing (挂牌督办) before rectification
starts, and only the supervising department or leadership may accept and close
them. The table is data: the page, the API and the tests all read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from yingji.core import statemachine


class State(StrEnum):
    REPORTED = "reported"
    ASSIGNED = "assigned"
    RECTIFYING = "rectifying"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    CLOSED = "closed"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    State.REPORTED: "已上报",
    State.ASSIGNED: "已交办",
    State.RECTIFYING: "整改中",
    State.SUBMITTED: "待验收",
    State.ACCEPTED: "已验收",
    State.CLOSED: "已销号",
    State.REJECTED: "验收不通过",
}
OPEN_STATES = frozenset(set(State) - {State.CLOSED})
# States in which the rectification deadline still binds (overdue counts here).
DEADLINE_STATES = frozenset({State.REPORTED, State.ASSIGNED, State.RECTIFYING, State.REJECTED})

DEPARTMENT = "department"
DISTRICT = "district"
LEADERSHIP = "leadership"
ACTOR_LABELS = {DEPARTMENT: "监管部门", DISTRICT: "属地区/镇街", LEADERSHIP: "局领导/督查"}

GENERAL = "general"
MAJOR = "major"


@dataclass(frozen=True)
class Transition(statemachine.Transition):
    """One allowed move (action, source, target, label), who may make it (per
    hazard level), and whether a comment is required."""

    actors: Mapping[str, frozenset[str]]  # level -> actor kinds
    needs_comment: bool = False


class TransitionRefused(statemachine.TransitionError):
    """A move the table or a guard does not allow; the message is for the user."""


_ALL = frozenset({DEPARTMENT, DISTRICT, LEADERSHIP})
_REGULATOR = frozenset({DEPARTMENT, LEADERSHIP})


def _both(actors: frozenset[str]) -> dict[str, frozenset[str]]:
    return {GENERAL: actors, MAJOR: actors}


MACHINE = statemachine.StateMachine(
    STATE_LABELS,
    (
        Transition("assign", State.REPORTED, State.ASSIGNED, "交办整改", _both(_ALL)),
        Transition("start", State.ASSIGNED, State.RECTIFYING, "开始整改", _both(_ALL)),
        Transition(
            "submit", State.RECTIFYING, State.SUBMITTED, "提请验收", _both(_ALL), needs_comment=True
        ),
        Transition(
            "accept",
            State.SUBMITTED,
            State.ACCEPTED,
            "验收通过",
            {GENERAL: _ALL, MAJOR: _REGULATOR},
        ),
        Transition(
            "reject",
            State.SUBMITTED,
            State.REJECTED,
            "验收不通过",
            {GENERAL: _ALL, MAJOR: _REGULATOR},
            needs_comment=True,
        ),
        Transition("restart", State.REJECTED, State.RECTIFYING, "重新整改", _both(_ALL)),
        Transition(
            "close", State.ACCEPTED, State.CLOSED, "销号", {GENERAL: _ALL, MAJOR: _REGULATOR}
        ),
    ),
    noun="隐患",
    error=TransitionRefused,
)
TRANSITIONS: tuple[Transition, ...] = MACHINE.transitions
BY_ACTION = MACHINE.by_action


@dataclass(frozen=True)
class HazardFacts:
    """What the guards look at."""

    state: State
    level: str
    plan_complete: bool = False
    listed: bool = False
    has_deadline: bool = False


def guard_problems(transition: Transition, facts: HazardFacts) -> list[str]:
    """Reasons (Chinese) the hazard itself blocks the move, [] when none."""
    problems: list[str] = []
    if transition.action == "assign" and not facts.has_deadline:
        problems.append("交办整改须确定整改期限")
    if transition.action == "start" and facts.level == MAJOR:
        if not facts.plan_complete:
            problems.append(
                "重大事故隐患须先制定“五到位”整改方案(措施、资金、期限、责任人、应急预案)"
            )
        if not facts.listed:
            problems.append("重大事故隐患须先挂牌督办")
    return problems


def check(
    action: str, facts: HazardFacts, actor_kinds: Iterable[str], comment: str = ""
) -> Transition:
    """The transition for `action`, or TransitionRefused saying why not."""
    transition = MACHINE.transition(facts.state, action)
    allowed = transition.actors[facts.level]
    if not allowed & set(actor_kinds):
        who = "、".join(ACTOR_LABELS[a] for a in sorted(allowed))
        raise TransitionRefused(f"无权“{transition.label}”:仅限{who}")
    if transition.needs_comment and not (comment or "").strip():
        raise TransitionRefused(f"“{transition.label}”须填写说明")
    problems = guard_problems(transition, facts)
    if problems:
        raise TransitionRefused(";".join(problems))
    return transition


def available(facts: HazardFacts, actor_kinds: Iterable[str]) -> list[Transition]:
    """The moves this actor may offer from the current state (guards not applied,
    so the page can show why a button is blocked)."""
    kinds = set(actor_kinds)
    return [t for t in MACHINE.allowed(facts.state) if t.actors[facts.level] & kinds]


PLAN_FIELDS = {
    "measures": "整改措施",
    "funds": "资金物资",
    "deadline": "整改期限",
    "responsible_person": "责任人",
    "contingency_plan": "安全措施和应急预案",
}


def plan_missing(values: Mapping[str, object]) -> list[str]:
    """Chinese names of the "五到位" items a rectification plan still lacks."""
    missing = []
    for key, label in PLAN_FIELDS.items():
        value = values.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            missing.append(label)
    return missing
