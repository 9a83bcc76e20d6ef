"""Drill scenarios and scoring. Pure: no Django.

A scenario is a list of steps, each injected `at` minutes after the drill starts:

    {"at": 0,  "kind": "alert",    "event": "暴雨红色预警信号", "level": "red", "area_codes": ["440106"]}
    {"at": 5,  "kind": "alarm",    "rule": "rainstorm", "level": "red", "region_codes": ["440106001"]}
    {"at": 10, "kind": "incident", "title": "…", "type": "内涝", "lon": 113.36, "lat": 23.12}
    {"at": 40, "kind": "report",   "text": "…", "deaths": 0, "injured": 3, "evacuated": 2000}

The report measures every action card against its plan's time limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import mean
from typing import Any

from yingji.response.cards import CardClock, response_times

KINDS = {
    "alert": ("event", "level"),
    "alarm": ("rule", "level"),
    "incident": ("title", "type"),
    "report": ("text",),
}
KIND_LABELS = {"alert": "预警信息", "alarm": "监测报警", "incident": "突发事件", "report": "续报"}


def check_scenario(steps: Any) -> list[str]:
    """Every problem of a scenario, in Chinese, naming the step (1-based)."""
    if not isinstance(steps, list) or not steps:
        return ["情景脚本应为非空的步骤列表"]
    problems = []
    for i, step in enumerate(steps, start=1):
        if not isinstance(step, dict):
            problems.append(f"第 {i} 步:应为对象")
            continue
        kind = step.get("kind")
        if kind not in KINDS:
            problems.append(f"第 {i} 步:类型应为 alert、alarm、incident 或 report,实为 {kind!r}")
            continue
        at = step.get("at")
        if not isinstance(at, int | float) or at < 0:
            problems.append(f"第 {i} 步:at(开始后的分钟数)应为非负数")
        for key in KINDS[kind]:
            if not step.get(key):
                problems.append(f"第 {i} 步({KIND_LABELS[kind]}):缺少 {key}")
    return problems


def due_steps(steps: Sequence[dict], elapsed_minutes: float, injected: Iterable[int]) -> list[int]:
    """Indexes of steps due by now and not yet injected, in script order."""
    done = set(injected)
    return [i for i, s in enumerate(steps) if i not in done and s["at"] <= elapsed_minutes]


@dataclass(frozen=True)
class CardRow:
    department: str
    title: str
    level: str
    clock: CardClock


@dataclass(frozen=True)
class CardScore:
    department: str
    title: str
    level: str
    ack_limit: int
    ack_minutes: float | None
    ack_on_time: bool | None
    limit: int
    completion_minutes: float | None
    completion_on_time: bool | None


@dataclass(frozen=True)
class DrillScore:
    cards: tuple[CardScore, ...]
    acknowledged_on_time: int
    completed_on_time: int
    not_completed: int
    mean_ack_minutes: float | None
    mean_completion_minutes: float | None

    @property
    def total(self) -> int:
        return len(self.cards)


def score(rows: Sequence[CardRow]) -> DrillScore:
    """Each card's response times against its limits, and the totals."""
    scored = []
    for r in rows:
        t = response_times(r.clock)
        scored.append(
            CardScore(
                r.department,
                r.title,
                r.level,
                r.clock.ack_minutes,
                t.ack_minutes,
                t.ack_on_time,
                r.clock.limit_minutes,
                t.completion_minutes,
                t.completion_on_time,
            )
        )
    acks = [c.ack_minutes for c in scored if c.ack_minutes is not None]
    dones = [c.completion_minutes for c in scored if c.completion_minutes is not None]
    return DrillScore(
        cards=tuple(scored),
        acknowledged_on_time=sum(1 for c in scored if c.ack_on_time),
        completed_on_time=sum(1 for c in scored if c.completion_on_time),
        not_completed=sum(1 for c in scored if c.completion_minutes is None),
        mean_ack_minutes=round(mean(acks), 1) if acks else None,
        mean_completion_minutes=round(mean(dones), 1) if dones else None,
    )
