"""Action cards (行动卡): the state machine, their timers and escalation. Pure.

A card is issued to one department with two time limits counted from issue:
acknowledge within `ack_minutes` (签收), complete within `limit_minutes` ("30
分钟内…"). A card overdue on either is escalated: first to the activation's
command (指挥部 duty desk), then, if still overdue one more interval later, to
the leaders. Escalation steps are counted so each is sent once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from yingji.core import statemachine
from yingji.core.statemachine import Transition

ISSUED, ACKNOWLEDGED, COMPLETED, CANCELLED = "issued", "acknowledged", "completed", "cancelled"
STATE_LABELS = {ISSUED: "待签收", ACKNOWLEDGED: "已签收", COMPLETED: "已完成", CANCELLED: "已撤销"}

OPEN_STATES = frozenset({ISSUED, ACKNOWLEDGED})
MAX_ESCALATION = 2  # 1: command HQ / duty desk, 2: leaders


class TransitionError(statemachine.TransitionError):
    """A state change the machine does not allow."""


# Allowed transitions: the only way a card's state changes.
MACHINE = statemachine.StateMachine(
    STATE_LABELS,
    (
        Transition("acknowledge", ISSUED, ACKNOWLEDGED, "签收"),
        Transition("complete", OPEN_STATES, COMPLETED, "完成"),
        Transition("cancel", OPEN_STATES, CANCELLED, "撤销"),
    ),
    noun="行动卡",
    error=TransitionError,
)
# State → the states one move away.
TRANSITIONS: dict[str, frozenset[str]] = {s: MACHINE.targets(s) for s in STATE_LABELS}


def check_transition(current: str, new: str) -> None:
    """Raise TransitionError (with a Chinese message) unless current → new is allowed."""
    MACHINE.between(current, new)


@dataclass(frozen=True)
class CardClock:
    """What the timers need to know about one card."""

    state: str
    issued_at: dt.datetime
    ack_minutes: int
    limit_minutes: int
    acknowledged_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    escalation_level: int = 0

    @property
    def ack_due(self) -> dt.datetime:
        return self.issued_at + dt.timedelta(minutes=self.ack_minutes)

    @property
    def due(self) -> dt.datetime:
        return self.issued_at + dt.timedelta(minutes=self.limit_minutes)


def overdue_kind(card: CardClock, now: dt.datetime) -> str | None:
    """'ack' when not acknowledged past its acknowledgement limit, 'completion'
    when not completed past its time limit (the graver one wins), else None."""
    if card.state not in OPEN_STATES:
        return None
    if now > card.due:
        return "completion"
    if card.state == ISSUED and now > card.ack_due:
        return "ack"
    return None


def escalation_due(card: CardClock, now: dt.datetime) -> int:
    """The escalation step the card should be at now (0 = none). Step 1 as soon
    as it is overdue; step 2 once it has stayed overdue for one more full
    interval (its acknowledgement or completion limit, whichever it missed)."""
    kind = overdue_kind(card, now)
    if kind is None:
        return 0
    deadline, interval = (
        (card.due, card.limit_minutes) if kind == "completion" else (card.ack_due, card.ack_minutes)
    )
    step = 1
    if now > deadline + dt.timedelta(minutes=max(interval, 1)):
        step = 2
    return min(step, MAX_ESCALATION)


def needs_escalation(card: CardClock, now: dt.datetime) -> int | None:
    """The next escalation step to send now, or None if nothing new is due."""
    step = escalation_due(card, now)
    return step if step > card.escalation_level else None


@dataclass(frozen=True)
class ResponseTimes:
    """Measured minutes for one card, and whether each met its limit."""

    ack_minutes: float | None
    completion_minutes: float | None
    ack_on_time: bool | None
    completion_on_time: bool | None


def response_times(card: CardClock) -> ResponseTimes:
    """Minutes from issue to acknowledgement and completion (None when not done)."""

    def minutes(at: dt.datetime | None) -> float | None:
        return None if at is None else round((at - card.issued_at).total_seconds() / 60, 1)

    ack = minutes(card.acknowledged_at or card.completed_at)
    done = minutes(card.completed_at)
    return ResponseTimes(
        ack,
        done,
        None if ack is None else ack <= card.ack_minutes,
        None if done is None else done <= card.limit_minutes,
    )
