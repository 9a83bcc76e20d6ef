"""The pure rules: the penalty-case transition table and the exemption list."""

from __future__ import annotations

import pytest

from yingji.enforcement import casefsm as fsm
from yingji.enforcement import exemption as ex

H, A = {fsm.HANDLER}, {fsm.APPROVER}


def test_main_path_reaches_closing():
    state = fsm.State.FILED
    for action, who, kw in (
        ("investigate", H, {}),
        ("notify", H, {"comment": "告知书", "amount": 1000}),
        ("decide", A, {"comment": "决定书", "amount": 1000}),
        ("execute", H, {}),
        ("close", H, {"comment": "已缴纳"}),
    ):
        state = fsm.check(action, state, who, **kw).target
    assert state == fsm.State.CLOSED


@pytest.mark.parametrize(
    "action,state,who,kw,message",
    [
        ("decide", "investigating", A, {"comment": "x", "amount": 1}, "须为“告知”"),
        ("decide", "notified", H, {"comment": "x", "amount": 1}, "仅限负责人"),
        ("drop", "investigating", H, {"comment": "x"}, "仅限负责人"),
        ("notify", "investigating", H, {"comment": "x"}, "须填写罚款金额"),
        ("request_hearing", "notified", H, {}, "须填写说明"),
        ("uphold", "decided", A, {"comment": "x"}, "须为“复议”"),
        ("close", "closed", A, {"comment": "x"}, "须为“执行”"),
        ("fly", "filed", A, {}, "未知的操作"),
    ],
)
def test_refused_moves_say_why(action, state, who, kw, message):
    with pytest.raises(fsm.TransitionRefused, match=message):
        fsm.check(action, state, who, **kw)


def test_branches_hearing_and_reconsideration():
    assert fsm.check("request_hearing", "notified", H, comment="申请").target == "hearing"
    assert (
        fsm.check("decide_after_hearing", "hearing", A, comment="x", amount=0).target == "decided"
    )
    assert fsm.check("apply_reconsideration", "decided", H, comment="x").target == "reconsideration"
    assert fsm.check("uphold", "reconsideration", A, comment="x").target == "executing"
    assert fsm.check("revoke", "reconsideration", A, comment="x").target == "closed"
    assert {t.action for t in fsm.available("decided", H)} == {"apply_reconsideration", "execute"}
    assert fsm.available("closed", A | H) == []


RULES = [
    ex.Rule("MF-01", "培训记录", "清单第3项", frozenset({"GEN-01"})),
    ex.Rule("MF-02", "警示标志", "清单第7项", frozenset({"GEN-02"}), corrected=False),
]


def facts(code="GEN-01", major=False, first=True, corrected=True, harm=False):
    return ex.FindingFacts(code, major, first, corrected, harm)


def test_first_minor_corrected_violation_is_exempt_with_its_clause():
    decision = ex.decide(facts(), RULES)
    assert decision.exempt and decision.rule.clause == "清单第3项"


@pytest.mark.parametrize(
    "kw,reason",
    [
        ({"major": True}, "属重大事故隐患"),
        ({"first": False}, "非首次违法"),
        ({"corrected": False}, "未在期限内改正"),
        ({"harm": True}, "已造成危害后果"),
        ({"code": "HC-01"}, "检查项不在本条适用范围"),
    ],
)
def test_each_condition_can_deny_exemption(kw, reason):
    decision = ex.decide(facts(**kw), RULES)
    assert not decision.exempt and reason in decision.reasons[0]


def test_a_rule_may_waive_a_condition():
    assert ex.decide(facts("GEN-02", corrected=False), RULES).rule.code == "MF-02"
    assert ex.codes("GEN-01, GEN-02，GEN-03") == {"GEN-01", "GEN-02", "GEN-03"}
