"""The workflow's transition table (pure)."""

import pytest

from yingji.alerts import workflow as wf


def test_the_happy_path():
    state = wf.DRAFT
    for action, expected in [
        ("submit", wf.REVIEW),
        ("approve", wf.APPROVED),
        ("publish", wf.PUBLISHED),
        ("cancel", wf.CANCELLED),
    ]:
        state = wf.next_state(state, action)
        assert state == expected


@pytest.mark.parametrize(
    "state, action",
    [
        (wf.DRAFT, "approve"),
        (wf.DRAFT, "publish"),
        (wf.PUBLISHED, "approve"),
        (wf.CANCELLED, "cancel"),
        (wf.EXPIRED, "supersede"),
        (wf.WITHDRAWN, "submit"),
    ],
)
def test_illegal_transitions_are_refused_with_a_reason(state, action):
    with pytest.raises(wf.TransitionError, match="不能"):
        wf.next_state(state, action)


def test_four_eyes():
    with pytest.raises(wf.TransitionError, match="四眼原则"):
        wf.check_four_eyes(7, 7)
    wf.check_four_eyes(7, 8)


def test_people_cannot_trigger_system_transitions():
    assert wf.allowed_actions(wf.PUBLISHED) == ["cancel"]
    assert set(wf.allowed_actions(wf.REVIEW)) == {"reject", "approve", "withdraw"}


def test_the_model_choices_match_the_table():
    from yingji.alerts.models import Alert

    assert Alert.State.choices == wf.MACHINE.choices()
