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

DRAFT, REVIEW, APPROVED, PUBLISHED = "draft", "review", "approved", "published"
UPDATED, CANCELLED, EXPIRED, WITHDRAWN = "updated", "cancelled", "expired", "withdrawn"

TRANSITIONS: dict[tuple[str, str], str] = {
    (DRAFT, "submit"): REVIEW,
    (REVIEW, "reject"): DRAFT,
    (REVIEW, "approve"): APPROVED,
    (APPROVED, "publish"): PUBLISHED,
    (DRAFT, "withdraw"): WITHDRAWN,
    (REVIEW, "withdraw"): WITHDRAWN,
    (PUBLISHED, "supersede"): UPDATED,
    (PUBLISHED, "cancel"): CANCELLED,
    (PUBLISHED, "expire"): EXPIRED,
}

ACTION_LABELS = {"submit": "提交审核", "reject": "退回修改", "approve": "批准发布",
                 "publish": "发布", "withdraw": "撤回", "supersede": "被更新",
                 "cancel": "解除", "expire": "过期"}
STATE_LABELS = {DRAFT: "草稿", REVIEW: "待审核", APPROVED: "已批准", PUBLISHED: "已发布",
                UPDATED: "已更新", CANCELLED: "已解除", EXPIRED: "已过期", WITHDRAWN: "已撤回"}
EDITABLE = frozenset({DRAFT})
LIVE = frozenset({PUBLISHED})  # shown on the public page and in the feed as in force
RELEASED = frozenset({PUBLISHED, UPDATED, CANCELLED, EXPIRED})


class TransitionError(ValueError):
    """An action that the alert's state does not allow."""


def next_state(state: str, action: str) -> str:
    """The state after `action`; TransitionError if not allowed from `state`."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        label = ACTION_LABELS.get(action, action)
        raise TransitionError(
            f"预警当前为“{STATE_LABELS.get(state, state)}”,不能{label}") from None


def allowed_actions(state: str) -> list[str]:
    """Actions a person may take from `state` (system-only ones left out)."""
    return [a for (s, a) in TRANSITIONS if s == state and a not in ("supersede", "expire",
                                                                     "publish")]


def check_four_eyes(author_id: int | None, approver_id: int) -> None:
    """The author of an alert cannot approve it."""
    if author_id is not None and author_id == approver_id:
        raise TransitionError("四眼原则:起草人不能批准自己起草的预警,请由另一位审批人批准")
