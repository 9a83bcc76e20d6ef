"""Action card state machine, timers and escalation (pure)."""

import datetime as dt

import pytest

from yingji.response import cards
from yingji.response.cards import CardClock

T0 = dt.datetime(2024, 6, 10, 14, 0, tzinfo=dt.UTC)


def clock(state=cards.ISSUED, **kw):
    return CardClock(state=state, issued_at=T0, ack_minutes=10, limit_minutes=30, **kw)


def at(minutes):
    return T0 + dt.timedelta(minutes=minutes)


def test_allowed_and_forbidden_transitions():
    cards.check_transition(cards.ISSUED, cards.ACKNOWLEDGED)
    cards.check_transition(cards.ACKNOWLEDGED, cards.COMPLETED)
    with pytest.raises(cards.TransitionError, match="已完成"):
        cards.check_transition(cards.COMPLETED, cards.ACKNOWLEDGED)
    with pytest.raises(cards.TransitionError):
        cards.check_transition(cards.CANCELLED, cards.COMPLETED)


def test_within_limits_nothing_is_overdue():
    assert cards.overdue_kind(clock(), at(10)) is None
    assert cards.needs_escalation(clock(), at(10)) is None


def test_unacknowledged_past_its_limit_is_overdue():
    assert cards.overdue_kind(clock(), at(11)) == "ack"
    assert cards.needs_escalation(clock(), at(11)) == 1


def test_acknowledged_card_is_only_overdue_on_completion():
    c = clock(cards.ACKNOWLEDGED, acknowledged_at=at(5))
    assert cards.overdue_kind(c, at(25)) is None
    assert cards.overdue_kind(c, at(31)) == "completion"


def test_second_step_after_one_more_interval_and_each_step_once():
    c = clock()
    assert cards.escalation_due(c, at(15)) == 1
    assert cards.escalation_due(c, at(21)) == 2  # 10 more minutes without acknowledgement
    sent_once = clock(escalation_level=1)
    assert cards.needs_escalation(sent_once, at(15)) is None
    assert cards.needs_escalation(sent_once, at(21)) == 2
    assert cards.needs_escalation(clock(escalation_level=2), at(500)) is None


def test_closed_cards_never_escalate():
    assert cards.needs_escalation(clock(cards.COMPLETED, completed_at=at(5)), at(100)) is None
    assert cards.needs_escalation(clock(cards.CANCELLED), at(100)) is None


def test_response_times_against_limits():
    fast = cards.response_times(clock(cards.COMPLETED, acknowledged_at=at(4), completed_at=at(25)))
    assert (fast.ack_minutes, fast.completion_minutes) == (4.0, 25.0)
    assert fast.ack_on_time and fast.completion_on_time
    slow = cards.response_times(clock(cards.ACKNOWLEDGED, acknowledged_at=at(12)))
    assert slow.ack_on_time is False and slow.completion_minutes is None
