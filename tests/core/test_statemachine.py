"""The shared state-machine helper (pure: no database)."""

import subprocess
import sys
from dataclasses import dataclass
from enum import StrEnum

import pytest

from yingji.core.statemachine import StateMachine, Transition, TransitionError

LABELS = {"draft": "草稿", "review": "待审核", "done": "已完成"}
TABLE = (
    Transition("submit", "draft", "review", "提交审核"),
    Transition("approve", "review", "done", "批准"),
    Transition("withdraw", {"draft", "review"}, "draft", "撤回"),
)


class DocError(TransitionError):
    pass


def machine(**kw):
    return StateMachine(LABELS, TABLE, noun="文书", error=DocError, **kw)


def test_transition_sources_take_one_state_or_several():
    assert TABLE[0].sources == frozenset({"draft"}) and TABLE[0].source == "draft"
    assert TABLE[2].sources == frozenset({"draft", "review"})
    with pytest.raises(ValueError):
        TABLE[2].source  # noqa: B018
    assert Transition("create", None, "draft", "新建").sources == frozenset({None})


def test_by_action():
    m = machine()
    assert m.target("draft", "submit") == "review"
    assert m.transition("review", "withdraw") is TABLE[2]
    assert m.by_action["approve"] is TABLE[1]


def test_refusals_name_the_labels_and_use_the_module_error():
    m = machine()
    with pytest.raises(DocError, match="^文书当前为“草稿”,不能“批准”\\(须为“待审核”\\)$"):
        m.target("draft", "approve")
    with pytest.raises(
        TransitionError, match="^文书当前为“已完成”,不能“撤回”\\(须为“草稿”或“待审核”\\)$"
    ):
        m.target("done", "withdraw")
    with pytest.raises(DocError, match="^未知的操作:publish$"):
        m.target("draft", "publish")


def test_message_templates_can_be_set_per_module():
    m = machine(
        refused="{noun}当前为“{state}”,不能{action}",
        unknown="{noun}当前为“{state}”,不能{action}",
        refused_step="{noun}不能从「{state}」变为「{target}」",
    )
    with pytest.raises(DocError, match="^文书当前为“草稿”,不能批准$"):
        m.target("draft", "approve")
    with pytest.raises(DocError, match="^文书当前为“草稿”,不能publish$"):
        m.target("draft", "publish")
    with pytest.raises(DocError, match="^文书不能从「已完成」变为「草稿」$"):
        m.between("done", "draft")


def test_by_target_state():
    m = machine()
    assert m.between("review", "done") is TABLE[1]
    assert m.between("review", "draft").action == "withdraw"
    with pytest.raises(DocError, match="^文书状态不能从“草稿”变为“已完成”$"):
        m.between("draft", "done")
    with pytest.raises(DocError, match="^文书状态不能从“无”变为“草稿”$"):
        m.between(None, "draft")


def test_no_state_yet_as_a_source():
    m = StateMachine(LABELS, (Transition("create", None, "draft", "新建"),), noun="文书")
    assert m.between(None, "draft").label == "新建"
    assert m.targets(None) == frozenset({"draft"})
    assert m.label(None) == m.label("") == "无"


def test_allowed_targets_labels_and_choices():
    m = machine()
    assert [t.action for t in m.allowed("draft")] == ["submit", "withdraw"]
    assert [t.action for t in m.allowed("review")] == ["approve", "withdraw"]
    assert m.allowed("done") == []
    assert m.targets("review") == frozenset({"done", "draft"})
    assert m.targets("done") == frozenset()
    assert m.label("review") == "待审核" and m.label("bogus") == "bogus"
    assert m.labels is LABELS
    assert m.choices() == [("draft", "草稿"), ("review", "待审核"), ("done", "已完成")]


def test_enum_states_and_subclassed_rows():
    class State(StrEnum):
        OPEN = "open"
        SHUT = "shut"

    @dataclass(frozen=True)
    class Row(Transition):
        needs_comment: bool = False

    m = StateMachine(
        {State.OPEN: "开启", State.SHUT: "关闭"},
        (Row("shut", State.OPEN, State.SHUT, "关闭", needs_comment=True),),
        noun="阀门",
    )
    t = m.transition("open", "shut")
    assert t.needs_comment and t.source is State.OPEN and t.target is State.SHUT
    assert m.choices() == [("open", "开启"), ("shut", "关闭")]
    assert all(type(v) is str for v, _ in m.choices())
    with pytest.raises(TransitionError, match="阀门当前为“关闭”"):
        m.transition("shut", "shut")


@pytest.mark.parametrize(
    "table, message",
    [
        (
            (Transition("a", "draft", "review", "甲"), Transition("a", "review", "done", "乙")),
            "操作名重复",
        ),
        (
            (Transition("a", "draft", "review", "甲"), Transition("b", "draft", "review", "乙")),
            "多个操作",
        ),
        ((Transition("a", "draft", "gone", "甲"),), "未定义的状态"),
        ((Transition("a", "nowhere", "done", "甲"),), "未定义的状态"),
    ],
)
def test_a_malformed_table_is_refused_when_built(table, message):
    with pytest.raises(ValueError, match=message):
        StateMachine(LABELS, table, noun="文书")


def test_the_helper_does_not_import_django():
    code = "import sys, yingji.core.statemachine; print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
