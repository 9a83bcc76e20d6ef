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
class Transition:
    """One allowed move: action, label, source and target, who may make it, and
    whether it needs a comment or a penalty amount."""

    action: str
    label: str
    source: State
    target: State
    actors: frozenset[str]
    needs_comment: bool = False
    needs_amount: bool = False


TRANSITIONS: tuple[Transition, ...] = (
    Transition("investigate", "开始调查取证", State.FILED, State.INVESTIGATING, _BOTH),
    Transition("notify", "送达告知书", State.INVESTIGATING, State.NOTIFIED, _BOTH,
               needs_comment=True, needs_amount=True),
    Transition("drop", "不予处罚/撤案", State.INVESTIGATING, State.CLOSED, _APPROVER,
               needs_comment=True),
    Transition("request_hearing", "当事人申请听证", State.NOTIFIED, State.HEARING, _BOTH,
               needs_comment=True),
    Transition("decide", "作出处罚决定", State.NOTIFIED, State.DECIDED, _APPROVER,
               needs_comment=True, needs_amount=True),
    Transition("decide_after_hearing", "听证后作出决定", State.HEARING, State.DECIDED, _APPROVER,
               needs_comment=True, needs_amount=True),
    Transition("apply_reconsideration", "当事人申请复议", State.DECIDED, State.RECONSIDERATION,
               _BOTH, needs_comment=True),
    Transition("execute", "执行", State.DECIDED, State.EXECUTING, _BOTH),
    Transition("uphold", "复议维持,执行", State.RECONSIDERATION, State.EXECUTING, _APPROVER,
               needs_comment=True),
    Transition("revoke", "复议撤销,结案", State.RECONSIDERATION, State.CLOSED, _APPROVER,
               needs_comment=True),
    Transition("close", "执行完毕,结案", State.EXECUTING, State.CLOSED, _BOTH, needs_comment=True),
)
BY_ACTION = {t.action: t for t in TRANSITIONS}


class TransitionRefused(Exception):
    """A move the table does not allow; the message is for the user."""


def check(action: str, state: str, actor_kinds: Iterable[str], *, comment: str = "",
          amount: float | None = None) -> Transition:
    """The transition for `action` from `state`, or TransitionRefused saying why not."""
    transition = BY_ACTION.get(action)
    if transition is None:
        raise TransitionRefused(f"未知的操作:{action}")
    if transition.source != state:
        raise TransitionRefused(f"案件当前为“{State(state).label}”,不能“{transition.label}”"
                                f"(须为“{transition.source.label}”)")
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
    return [t for t in TRANSITIONS if t.source == state and t.actors & kinds]
