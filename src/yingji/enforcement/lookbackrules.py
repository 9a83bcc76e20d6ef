"""The accident look-back (事故整改评估/"回头看", seed items 34 and 36): the
evaluation's state machine, the conclusion rule and the due date (pure; no Django).

    待评估 ─start→ 评估中 ─conclude→ 已评估(合格/基本合格/不合格) ─close→ 已办结
                     ↑                        │ (不合格 only)
                     └──reevaluate── 整改复查 ←┘ recheck

Who may make each move is a set of actor kinds, worked out by the service layer:

- ``handler``: staff of the case's department (执法处 by default);
- ``approver``: leaders, supervisors (督查) and administrators; only they close a case.

The conclusion is derived from the investigation report's items (the share of
accountability recommendations carried out and of rectification measures
completed) by CONCLUSION_RULES, first match wins; an evaluator may record a
different conclusion only with a written reason.

The evaluation is due a number of months after the investigation report was
approved (批复): 12 by default, from 《安全生产法》(2021) article 86 ("批复事故调查
报告后一年内 … 对事故整改和防范措施落实情况进行评估"); see docs/enforcement.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from yingji.core import statemachine
from yingji.core.workcalendar import add_months


class State(StrEnum):
    PENDING = "pending"
    EVALUATING = "evaluating"
    EVALUATED = "evaluated"
    RECHECK = "recheck"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    State.PENDING: "待评估",
    State.EVALUATING: "评估中",
    State.EVALUATED: "已评估",
    State.RECHECK: "整改复查",
    State.CLOSED: "已办结",
}
# A case whose evaluation is still owed (for "evaluation overdue").
UNEVALUATED_STATES = frozenset({State.PENDING, State.EVALUATING, State.RECHECK})


class Conclusion(StrEnum):
    QUALIFIED = "qualified"
    BASIC = "basic"
    UNQUALIFIED = "unqualified"

    @property
    def label(self) -> str:
        return CONCLUSION_LABELS[self]


CONCLUSION_LABELS = {
    Conclusion.QUALIFIED: "合格",
    Conclusion.BASIC: "基本合格",
    Conclusion.UNQUALIFIED: "不合格",
}

HANDLER = "handler"
APPROVER = "approver"
ACTOR_LABELS = {HANDLER: "承办人(执法处人员)", APPROVER: "负责人(局领导/督查/管理员)"}
_BOTH = frozenset({HANDLER, APPROVER})
_APPROVER = frozenset({APPROVER})
_PASSED = frozenset({Conclusion.QUALIFIED, Conclusion.BASIC})
_FAILED = frozenset({Conclusion.UNQUALIFIED})


@dataclass(frozen=True)
class Transition(statemachine.Transition):
    """One allowed move (action, source, target, label), who may make it,
    whether it needs a comment, and which conclusions it requires (None: any)."""

    actors: frozenset[str]
    needs_comment: bool = False
    conclusions: frozenset[Conclusion] | None = None


class TransitionRefused(statemachine.TransitionError):
    """A move the table does not allow; the message is for the user."""


MACHINE = statemachine.StateMachine(
    STATE_LABELS,
    (
        Transition("start", State.PENDING, State.EVALUATING, "开始评估", _BOTH),
        Transition("conclude", State.EVALUATING, State.EVALUATED, "作出评估结论", _BOTH),
        Transition(
            "recheck",
            State.EVALUATED,
            State.RECHECK,
            "不合格,责令整改复查",
            _BOTH,
            needs_comment=True,
            conclusions=_FAILED,
        ),
        Transition(
            "reevaluate",
            State.RECHECK,
            State.EVALUATING,
            "复查后重新评估",
            _BOTH,
            needs_comment=True,
        ),
        Transition(
            "close", State.EVALUATED, State.CLOSED, "评估办结", _APPROVER, conclusions=_PASSED
        ),
    ),
    noun="评估",
    error=TransitionRefused,
)
TRANSITIONS: tuple[Transition, ...] = MACHINE.transitions
BY_ACTION = MACHINE.by_action


class NotAllowed(TransitionRefused):
    """The move exists from this state but this actor may not make it."""


def check(
    action: str,
    state: str,
    actor_kinds: Iterable[str],
    *,
    comment: str = "",
    conclusion: str | None = None,
) -> Transition:
    """The transition for `action` from `state`, or TransitionRefused saying why not.
    `conclusion` is the case's current conclusion (for close/recheck)."""
    transition = MACHINE.transition(state, action)
    if not transition.actors & set(actor_kinds):
        who = "、".join(ACTOR_LABELS[a] for a in sorted(transition.actors))
        raise NotAllowed(f"无权“{transition.label}”:仅限{who}")
    if transition.conclusions is not None and conclusion not in transition.conclusions:
        wanted = "或".join(c.label for c in sorted(transition.conclusions))
        shown = Conclusion(conclusion).label if conclusion else "无"
        raise TransitionRefused(f"评估结论为“{shown}”,不能“{transition.label}”(须为{wanted})")
    if transition.needs_comment and not (comment or "").strip():
        raise TransitionRefused(f"“{transition.label}”须填写说明")
    return transition


def available(
    state: str, actor_kinds: Iterable[str], conclusion: str | None = None
) -> list[Transition]:
    """The moves this actor may make from `state` given the conclusion."""
    kinds = set(actor_kinds)
    return [
        t
        for t in MACHINE.allowed(state)
        if t.actors & kinds and (t.conclusions is None or conclusion in t.conclusions)
    ]


# ---------------------------------------------------------------- the conclusion rule


@dataclass(frozen=True)
class ConclusionRule:
    """A conclusion reached when at least these shares are carried out."""

    conclusion: Conclusion
    min_accountability: float  # accountability recommendations 已落实 ÷ all
    min_measures: float  # rectification measures 已落实 ÷ all


# First match wins; anything below the last rule is 不合格. The platform's defaults
# (no national figure exists; see docs/enforcement.md): every accountability
# recommendation carried out and ≥ 90 % of the measures for 合格; ≥ 80 % and ≥ 70 %
# for 基本合格.
CONCLUSION_RULES: tuple[ConclusionRule, ...] = (
    ConclusionRule(Conclusion.QUALIFIED, 1.0, 0.9),
    ConclusionRule(Conclusion.BASIC, 0.8, 0.7),
)


@dataclass(frozen=True)
class Tally:
    """How many items of each kind there are, and how many are carried out."""

    accountability: int
    accountability_done: int
    measures: int
    measures_done: int

    @staticmethod
    def _share(done: int, total: int) -> float:
        # A report without items of a kind has nothing of that kind left undone.
        return 1.0 if total == 0 else done / total

    @property
    def accountability_share(self) -> float:
        return self._share(self.accountability_done, self.accountability)

    @property
    def measures_share(self) -> float:
        return self._share(self.measures_done, self.measures)

    @property
    def empty(self) -> bool:
        return self.accountability + self.measures == 0


def derive_conclusion(
    tally: Tally, rules: tuple[ConclusionRule, ...] = CONCLUSION_RULES
) -> Conclusion:
    """The conclusion the items support (ValueError when there are no items)."""
    if tally.empty:
        raise ValueError("尚未录入调查报告中的责任追究建议和整改措施,无法评估")
    for rule in rules:
        if (
            tally.accountability_share >= rule.min_accountability - 1e-9
            and tally.measures_share >= rule.min_measures - 1e-9
        ):
            return rule.conclusion
    return Conclusion.UNQUALIFIED


def choose_conclusion(derived: Conclusion, recorded: str | None, reason: str) -> Conclusion:
    """The conclusion to record: the derived one, or another only with a written reason."""
    if not recorded or recorded == derived:
        return derived
    try:
        chosen = Conclusion(recorded)
    except ValueError:
        raise TransitionRefused(f"未知的评估结论:{recorded}") from None
    if not (reason or "").strip():
        raise TransitionRefused(
            f"按落实情况应评为“{derived.label}”;改为“{chosen.label}”须书面说明理由"
        )
    return chosen


# ---------------------------------------------------------------- dates


def evaluation_due(report_approved_on: dt.date, months: int = 12) -> dt.date:
    """The last day of the evaluation: "批复事故调查报告后一年内" means within
    `months` of the approval, i.e. the day before the anniversary."""
    if months < 1:
        raise ValueError("评估期限至少 1 个月")
    return add_months(report_approved_on, months) - dt.timedelta(days=1)
