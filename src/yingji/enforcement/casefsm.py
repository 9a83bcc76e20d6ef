"""The administrative penalty case (行政处罚案件) as an explicit state machine
(pure; no Django).

    立案 ─investigate→ 调查取证 ─notify→ 告知 ─decide→ 决定 ─execute→ 执行 ─close→ 结案
                          │                │ ↑                │
                          │      request_hearing │ decide     apply_reconsideration
                          │                ↓ │                ↓
                          │               听证              复议 ─uphold→ 执行
                          │                                   └─revoke→ 结案
                          └─drop (不予处罚/撤案)→ 结案

Who may make each move is a set of actor kinds, worked out by the service layer:

- ``handler``: the case officers (承办人): staff of the case's department;
- ``approver``: the responsible leaders (负责人审批): leaders, supervisors (督查)
  and administrators, who alone decide, drop a case and record a review's outcome.

The table is data: pages, the API and the tests read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from yingji.core import statemachine


class State(StrEnum):
    FILED = "filed"
    INVESTIGATING = "investigating"
    NOTIFIED = "notified"
    HEARING = "hearing"
    DECIDED = "decided"
    RECONSIDERATION = "reconsideration"
    EXECUTING = "executing"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    State.FILED: "立案",
    State.INVESTIGATING: "调查取证",
    State.NOTIFIED: "告知",
    State.HEARING: "听证",
    State.DECIDED: "决定",
    State.RECONSIDERATION: "复议",
    State.EXECUTING: "执行",
    State.CLOSED: "结案",
}
OPEN_STATES = frozenset(set(State) - {State.CLOSED})

HANDLER = "handler"
APPROVER = "approver"
ACTOR_LABELS = {HANDLER: "承办人(案件所属部门执法人员)", APPROVER: "负责人(局领导/督查/管理员)"}
_BOTH = frozenset({HANDLER, APPROVER})
_APPROVER = frozenset({APPROVER})


@dataclass(frozen=True)
class Transition(statemachine.Transition):
    """One allowed move (action, source, target, label), who may make it, and
    whether it needs a comment or a penalty amount."""

    actors: frozenset[str]
    needs_comment: bool = False
    needs_amount: bool = False


class TransitionRefused(statemachine.TransitionError):
    """A move the table does not allow; the message is for the user."""


MACHINE = statemachine.StateMachine(
    STATE_LABELS,
    (
        Transition("investigate", State.FILED, State.INVESTIGATING, "开始调查取证", _BOTH),
        Transition(
            "notify",
            State.INVESTIGATING,
            State.NOTIFIED,
            "送达告知书",
            _BOTH,
            needs_comment=True,
            needs_amount=True,
        ),
        Transition(
            "drop",
            State.INVESTIGATING,
            State.CLOSED,
            "不予处罚/撤案",
            _APPROVER,
            needs_comment=True,
        ),
        Transition(
            "request_hearing",
            State.NOTIFIED,
            State.HEARING,
            "当事人申请听证",
            _BOTH,
            needs_comment=True,
        ),
        Transition(
            "decide",
            State.NOTIFIED,
            State.DECIDED,
            "作出处罚决定",
            _APPROVER,
            needs_comment=True,
            needs_amount=True,
        ),
        Transition(
            "decide_after_hearing",
            State.HEARING,
            State.DECIDED,
            "听证后作出决定",
            _APPROVER,
            needs_comment=True,
            needs_amount=True,
        ),
        Transition(
            "apply_reconsideration",
            State.DECIDED,
            State.RECONSIDERATION,
            "当事人申请复议",
            _BOTH,
            needs_comment=True,
        ),
        Transition("execute", State.DECIDED, State.EXECUTING, "执行", _BOTH),
        Transition(
            "uphold",
            State.RECONSIDERATION,
            State.EXECUTING,
            "复议维持,执行",
            _APPROVER,
            needs_comment=True,
        ),
        Transition(
            "revoke",
            State.RECONSIDERATION,
            State.CLOSED,
            "复议撤销,结案",
            _APPROVER,
            needs_comment=True,
        ),
        Transition(
            "close", State.EXECUTING, State.CLOSED, "执行完毕,结案", _BOTH, needs_comment=True
        ),
    ),
    noun="案件",
    error=TransitionRefused,
)
TRANSITIONS: tuple[Transition, ...] = MACHINE.transitions
BY_ACTION = MACHINE.by_action


def check(
    action: str,
    state: str,
    actor_kinds: Iterable[str],
    *,
    comment: str = "",
    amount: float | None = None,
) -> Transition:
    """The transition for `action` from `state`, or TransitionRefused saying why not."""
    transition = MACHINE.transition(state, action)
    if not transition.actors & set(actor_kinds):
        who = "、".join(ACTOR_LABELS[a] for a in sorted(transition.actors))
        raise TransitionRefused(f"无权“{transition.label}”:仅限{who}")
    if transition.needs_comment and not (comment or "").strip():
        raise TransitionRefused(f"“{transition.label}”须填写说明(文书内容或理由)")
    if transition.needs_amount and (amount is None or amount < 0):
        raise TransitionRefused(f"“{transition.label}”须填写罚款金额(元,可为 0)")
    return transition


def available(state: str, actor_kinds: Iterable[str]) -> list[Transition]:
    """The moves this actor may make from `state`."""
    kinds = set(actor_kinds)
    return [t for t in MACHINE.allowed(state) if t.actors & kinds]
