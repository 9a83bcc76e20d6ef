"""Leaders' duty lists and responsibility letters, the rules without Django: the
fulfilment of a leader's annual work list (items done on time, late, overdue,
still open; 巡查 against the number required) and the letters' states.

Seed item 12 (党政领导干部安全生产"职责清单"和年度"工作清单", 巡查机制, 履职情况纳入
述职考核) and item 13 (the annual 安全生产和消防工作责任书 between the city and every
district and city department)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from yingji.core.statemachine import StateMachine, Transition, TransitionError

DONE_ON_TIME, DONE_LATE, OVERDUE, OPEN = "on_time", "late", "overdue", "open"
ITEM_STATES = {
    DONE_ON_TIME: "按时完成",
    DONE_LATE: "逾期完成",
    OVERDUE: "逾期未完成",
    OPEN: "未到期",
}


def item_state(due: dt.date | None, done_on: dt.date | None, today: dt.date) -> str:
    if done_on is not None:
        return DONE_ON_TIME if due is None or done_on <= due else DONE_LATE
    if due is not None and today > due:
        return OVERDUE
    return OPEN


@dataclass
class Fulfilment:
    """One leader's (or one district's) year so far."""

    on_time: int = 0
    late: int = 0
    overdue: int = 0
    open: int = 0
    patrols: int = 0
    patrols_required: int = 0

    @property
    def items(self) -> int:
        return self.on_time + self.late + self.overdue + self.open

    @property
    def due(self) -> int:
        """Items whose date has come (done or not)."""
        return self.on_time + self.late + self.overdue

    @property
    def rate(self) -> float | None:
        """Share of the items due that were done on time (None: nothing due yet)."""
        return self.on_time / self.due if self.due else None

    @property
    def patrols_short(self) -> int:
        return max(0, self.patrols_required - self.patrols)

    def add(self, other: Fulfilment) -> None:
        for name in ("on_time", "late", "overdue", "open", "patrols", "patrols_required"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def fulfilment(
    items: Iterable[tuple[dt.date | None, dt.date | None]],
    patrols: int,
    patrols_required: int,
    today: dt.date,
) -> Fulfilment:
    out = Fulfilment(patrols=patrols, patrols_required=patrols_required)
    for due, done_on in items:
        state = item_state(due, done_on, today)
        setattr(out, state, getattr(out, state) + 1)
    return out


def patrols_required_by(required_in_year: int, year: int, today: dt.date) -> int:
    """Patrols due by `today`, spread evenly over the year (a leader owing four a
    year owes one by the end of each quarter); the whole number after the year."""
    if today.year > year:
        return required_in_year
    if today.year < year:
        return 0
    quarter_end = (today.month - 1) // 3  # quarters fully past
    return required_in_year * quarter_end // 4


# ------------------------------------------------------------------ letters


class LetterError(TransitionError):
    pass


LETTER_STATES = {
    "drafting": "起草中",
    "issued": "已印发待签",
    "signed": "已签订",
    "withdrawn": "已撤回",
}
LETTERS = StateMachine(
    LETTER_STATES,
    [
        Transition("issue", "drafting", "issued", "印发"),
        Transition("sign", "issued", "signed", "签订"),
        Transition("redraft", "issued", "drafting", "退回修改"),
        Transition("withdraw", frozenset({"drafting", "issued"}), "withdrawn", "撤回"),
    ],
    noun="责任书",
    error=LetterError,
)


def indicator_problems(indicators: object) -> list[str]:
    """A letter template's indicators: a list of {code, text, target?, weight?}
    with unique codes and non-empty texts, weights ≥ 0 summing to at most 100."""
    if not isinstance(indicators, list) or not indicators:
        return ["指标应为非空列表"]
    problems: list[str] = []
    codes: set[str] = set()
    total = 0.0
    for n, item in enumerate(indicators, start=1):
        if not isinstance(item, dict):
            problems.append(f"第 {n} 项指标格式不对")
            continue
        code, text = str(item.get("code") or "").strip(), str(item.get("text") or "").strip()
        if not code or not text:
            problems.append(f"第 {n} 项指标缺少编号或内容")
        elif code in codes:
            problems.append(f"第 {n} 项指标编号重复:{code}")
        codes.add(code)
        weight = item.get("weight", 0)
        try:
            weight = float(weight)
        except (TypeError, ValueError):
            problems.append(f"第 {n} 项指标分值不是数字:{weight}")
            continue
        if weight < 0:
            problems.append(f"第 {n} 项指标分值不能为负")
        total += weight
    if total > 100:
        problems.append(f"指标分值合计 {total:g} 超过 100")
    return problems
