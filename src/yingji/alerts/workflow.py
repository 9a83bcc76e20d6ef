"""The alert workflow as an explicit table of transitions. Pure: no Django.

    draft ──submit──▶ review ──approve──▶ approved ──publish──▶ published
      ▲                  │                                     │ │ │
      └─────reject───────┘                   superseded (Update)┘ │ └expire──▶ expired
    draft/review ──withdraw──▶ withdrawn        cancel (Cancel) ──┘
                                     published ──▶ updated / cancelled

Four eyes: whoever drafted an alert may not approve it (`check_four_eyes`).
An Update or Cancel is itself an alert that goes through the same review; when
it is published, the alert it references moves to updated or cancelled.
"""

from __future__ import annotations

from yingji.core import statemachine
from yingji.core.statemachine import Transition

DRAFT, REVIEW, APPROVED, PUBLISHED = "draft", "review", "approved", "published"
UPDATED, CANCELLED, EXPIRED, WITHDRAWN = "updated", "cancelled", "expired", "withdrawn"

STATE_LABELS = {
    DRAFT: "草稿",
    REVIEW: "待审核",
    APPROVED: "已批准",
    PUBLISHED: "已发布",
    UPDATED: "已更新",
    CANCELLED: "已解除",
    EXPIRED: "已过期",
    WITHDRAWN: "已撤回",
}
EDITABLE = frozenset({DRAFT})
LIVE = frozenset({PUBLISHED})  # shown on the public page and in the feed as in force
RELEASED = frozenset({PUBLISHED, UPDATED, CANCELLED, EXPIRED})


class TransitionError(statemachine.TransitionError):
    """An action that the alert's state does not allow."""


_REFUSED = "{noun}当前为“{state}”,不能{action}"
MACHINE = statemachine.StateMachine(
    STATE_LABELS,
    (
        Transition("submit", DRAFT, REVIEW, "提交审核"),
        Transition("reject", REVIEW, DRAFT, "退回修改"),
        Transition("approve", REVIEW, APPROVED, "批准发布"),
        Transition("publish", APPROVED, PUBLISHED, "发布"),
        Transition("withdraw", {DRAFT, REVIEW}, WITHDRAWN, "撤回"),
        Transition("supersede", PUBLISHED, UPDATED, "被更新"),
        Transition("cancel", PUBLISHED, CANCELLED, "解除"),
        Transition("expire", PUBLISHED, EXPIRED, "过期"),
    ),
    noun="预警",
    error=TransitionError,
    refused=_REFUSED,
    unknown=_REFUSED,
)
TRANSITIONS: tuple[Transition, ...] = MACHINE.transitions
ACTION_LABELS = {t.action: t.label for t in TRANSITIONS}
# Moves the platform makes itself, never offered to a person.
SYSTEM_ACTIONS = frozenset({"supersede", "expire", "publish"})


def next_state(state: str, action: str) -> str:
    """The state after `action`; TransitionError if not allowed from `state`."""
    return MACHINE.target(state, action)


def allowed_actions(state: str) -> list[str]:
    """Actions a person may take from `state` (system-only ones left out)."""
    return [t.action for t in MACHINE.allowed(state) if t.action not in SYSTEM_ACTIONS]


def check_four_eyes(author_id: int | None, approver_id: int) -> None:
    """The author of an alert cannot approve it."""
    if author_id is not None and author_id == approver_id:
        raise TransitionError("四眼原则:起草人不能批准自己起草的预警,请由另一位审批人批准")
