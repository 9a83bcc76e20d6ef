"""Duty lists' fulfilment and the letters' states, without a database."""

import datetime as dt

import pytest

from yingji.responsibility import duties

D = dt.date


def test_item_states_on_time_late_overdue_open():
    today = D(2022, 7, 1)
    assert duties.item_state(D(2022, 6, 30), D(2022, 6, 30), today) == duties.DONE_ON_TIME
    assert duties.item_state(D(2022, 6, 30), D(2022, 7, 1), today) == duties.DONE_LATE
    assert duties.item_state(D(2022, 6, 30), None, today) == duties.OVERDUE
    assert duties.item_state(D(2022, 9, 30), None, today) == duties.OPEN
    assert duties.item_state(None, None, today) == duties.OPEN


def test_fulfilment_counts_and_rate():
    f = duties.fulfilment(
        [(D(2022, 1, 31), D(2022, 1, 20)), (D(2022, 4, 15), None), (D(2022, 9, 30), None)],
        patrols=1,
        patrols_required=2,
        today=D(2022, 7, 1),
    )
    assert (f.on_time, f.overdue, f.open, f.due) == (1, 1, 1, 2)
    assert f.rate == 0.5 and f.patrols_short == 1


def test_patrols_due_spread_over_quarters():
    assert duties.patrols_required_by(4, 2022, D(2022, 3, 31)) == 0
    assert duties.patrols_required_by(4, 2022, D(2022, 7, 1)) == 2
    assert duties.patrols_required_by(4, 2022, D(2023, 1, 1)) == 4
    assert duties.patrols_required_by(4, 2023, D(2022, 12, 1)) == 0


def test_letter_states_name_what_is_refused():
    assert duties.LETTERS.transition("drafting", "issue").target == "issued"
    with pytest.raises(duties.LetterError, match="责任书当前为“起草中”,不能“签订”"):
        duties.LETTERS.transition("drafting", "sign")


def test_indicator_problems():
    ok = [
        {"code": "A1", "text": "事故下降", "weight": 60},
        {"code": "A2", "text": "隐患整改", "weight": 40},
    ]
    assert duties.indicator_problems(ok) == []
    bad = [{"code": "A1", "text": "x", "weight": 80}, {"code": "A1", "text": "y", "weight": 30}]
    problems = duties.indicator_problems(bad)
    assert "第 2 项指标编号重复:A1" in problems and "指标分值合计 110 超过 100" in problems
