"""The look-back's pure rules: every move of the evaluation table allowed and
refused, the conclusion rule at its thresholds, and the due date."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from yingji.enforcement import lookbackrules as r

H, A = r.HANDLER, r.APPROVER
C = r.Conclusion


# (action, from, actor kinds that may, conclusions it needs or None)
EXPECTED = {
    "start": (r.State.PENDING, {H, A}, None),
    "conclude": (r.State.EVALUATING, {H, A}, None),
    "recheck": (r.State.EVALUATED, {H, A}, {C.UNQUALIFIED}),
    "reevaluate": (r.State.RECHECK, {H, A}, None),
    "close": (r.State.EVALUATED, {A}, {C.QUALIFIED, C.BASIC}),
}


@pytest.mark.parametrize(
    "action,state,actor,conclusion",
    list(itertools.product(EXPECTED, list(r.State), [H, A], [None, *C])),
)
def test_every_move_is_allowed_or_refused_as_the_table_says(action, state, actor, conclusion):
    source, actors, needs = EXPECTED[action]
    allowed = state == source and actor in actors and (needs is None or conclusion in needs)
    if allowed:
        t = r.check(action, state, {actor}, comment="说明", conclusion=conclusion)
        assert t.source == source and t in r.available(state, {actor}, conclusion)
    else:
        with pytest.raises(r.TransitionRefused):
            r.check(action, state, {actor}, comment="说明", conclusion=conclusion)
        assert action not in {t.action for t in r.available(state, {actor}, conclusion)}


def test_refusals_say_why():
    with pytest.raises(r.NotAllowed, match="仅限负责人"):
        r.check("close", "evaluated", {H}, conclusion="qualified")
    with pytest.raises(r.TransitionRefused, match="须为“已评估”"):
        r.check("close", "pending", {A})
    with pytest.raises(r.TransitionRefused, match="评估结论为“不合格”"):
        r.check("close", "evaluated", {A}, conclusion="unqualified")
    with pytest.raises(r.TransitionRefused, match="须填写说明"):
        r.check("recheck", "evaluated", {H}, conclusion="unqualified")
    with pytest.raises(r.TransitionRefused, match="未知的操作"):
        r.check("approve", "pending", {A})
    with pytest.raises(r.TransitionRefused):
        r.check("start", "pending", set())


@pytest.mark.parametrize(
    "acc,acc_done,mea,mea_done,expected",
    [
        (4, 4, 10, 9, C.QUALIFIED),  # 100 %, 90 %: both at the 合格 thresholds
        (4, 4, 10, 8, C.BASIC),  # measures below 90 %
        (5, 4, 10, 10, C.BASIC),  # accountability 80 %
        (5, 4, 10, 7, C.BASIC),  # 80 %, 70 %: at the 基本合格 thresholds
        (5, 3, 10, 10, C.UNQUALIFIED),  # accountability 60 %
        (4, 4, 10, 6, C.UNQUALIFIED),  # measures 60 %
        (0, 0, 3, 3, C.QUALIFIED),  # no accountability items: nothing left undone
        (2, 2, 0, 0, C.QUALIFIED),
    ],
)
def test_conclusion_follows_the_shares_carried_out(acc, acc_done, mea, mea_done, expected):
    tally = r.Tally(acc, acc_done, mea, mea_done)
    assert r.derive_conclusion(tally) == expected
    # the rule is data: a stricter table changes the answer, not the code
    strict = (r.ConclusionRule(C.QUALIFIED, 1.0, 1.0),)
    assert r.derive_conclusion(tally, strict) == (
        C.QUALIFIED
        if tally.accountability_share == 1 and tally.measures_share == 1
        else C.UNQUALIFIED
    )


def test_no_items_no_conclusion_and_overrides_need_a_reason():
    with pytest.raises(ValueError, match="尚未录入"):
        r.derive_conclusion(r.Tally(0, 0, 0, 0))
    assert r.choose_conclusion(C.BASIC, None, "") == C.BASIC
    assert r.choose_conclusion(C.BASIC, "basic", "") == C.BASIC
    with pytest.raises(r.TransitionRefused, match="应评为“基本合格”.*须书面说明理由"):
        r.choose_conclusion(C.BASIC, "qualified", " ")
    assert (
        r.choose_conclusion(C.BASIC, "unqualified", "整改措施虽报完成,现场复核未落实")
        == C.UNQUALIFIED
    )
    with pytest.raises(r.TransitionRefused, match="未知的评估结论"):
        r.choose_conclusion(C.BASIC, "excellent", "理由")


@pytest.mark.parametrize(
    "approved,months,due",
    [
        (dt.date(2025, 3, 10), 12, dt.date(2026, 3, 9)),  # within one year of the approval
        (dt.date(2024, 2, 29), 12, dt.date(2025, 2, 27)),  # leap day: anniversary clamps to 28 Feb
        (dt.date(2025, 8, 31), 6, dt.date(2026, 2, 27)),  # month end clamps
        (dt.date(2025, 12, 1), 1, dt.date(2025, 12, 31)),
    ],
)
def test_evaluation_is_due_within_the_period_after_approval(approved, months, due):
    assert r.evaluation_due(approved, months) == due


def test_period_must_be_positive():
    with pytest.raises(ValueError):
        r.evaluation_due(dt.date(2025, 1, 1), 0)
