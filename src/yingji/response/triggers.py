"""Plan triggers: which plans, at which response level, an event calls for. Pure.

A trigger rule says "an <source> of <hazard> at <level> or above → response
level X". Sources keep alarm (monitoring, sensors) and alert (CAP, people) apart:

- incident: level I–IV (I most severe);
- alert:    colour blue < yellow < orange < red (Guangdong signals);
- alarm:    colour blue < yellow < orange < red (monitoring rules).

Hazard names arrive in several spellings (monitoring's `rainstorm`, an alert's
event "暴雨红色预警信号", an incident type "暴雨"): `hazard_of` maps them to the
plan's vocabulary through HAZARD_ALIASES, data not code paths.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from yingji.response.levels import rank as incident_rank

SOURCES = ("incident", "alert", "alarm")
SOURCE_LABELS = {
    "incident": "突发事件",
    "alert": "预警信息",
    "alarm": "监测报警",
    "event": "监测事件",
}
# A monitoring event is its alarms folded together: plans name alarm triggers, so an
# event (and a desk item or incident born of one) is matched as an alarm.
TRIGGER_SOURCE = {"event": "alarm"}
COLOURS = ("blue", "yellow", "orange", "red")
COLOUR_LABELS = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}

# Monitoring hazard groups and common wordings → the hazard names plans use.
HAZARD_ALIASES: dict[str, str] = {
    "rainstorm": "暴雨",
    "waterlogging": "内涝",
    "typhoon": "台风",
    "gas": "燃气事故",
    "structure": "建筑施工事故",
    "hazardous_chemicals": "危险化学品事故",
    "forest_fire": "森林火灾",
    "earthquake": "地震",
    "heat": "高温",
    "cold": "寒冷",
    "暴雨内涝": "暴雨",
    "城市内涝": "内涝",
    "强降雨": "暴雨",
    "森林火险": "森林火灾",
}
# Longest first so "暴雨内涝" wins over "暴雨" when searching inside a phrase.
_KNOWN = sorted(
    set(HAZARD_ALIASES)
    | set(HAZARD_ALIASES.values())
    | {
        "暴雨",
        "洪涝",
        "台风",
        "高温",
        "寒冷",
        "雷雨大风",
        "大雾",
        "灰霾",
        "道路结冰",
        "冰雹",
        "地质灾害",
        "火灾",
    },
    key=len,
    reverse=True,
)


def hazard_of(text: str) -> str:
    """The plan vocabulary's hazard for an event name ('暴雨红色预警信号' → 暴雨)."""
    text = (text or "").strip()
    if text in HAZARD_ALIASES:
        return HAZARD_ALIASES[text]
    for name in _KNOWN:
        if name in text:
            return HAZARD_ALIASES.get(name, name)
    return text


def level_rank(source: str, level: str) -> int:
    """Comparable severity of a level in its source's scale (higher = worse)."""
    if source == "incident":
        return incident_rank(level)
    if level in COLOURS:
        return COLOURS.index(level) + 1
    raise ValueError(f"未知的{SOURCE_LABELS.get(source, source)}级别:{level!r}")


@dataclass(frozen=True)
class Trigger:
    plan_id: int
    source: str
    hazard: str
    min_level: str
    response_level: str


@dataclass(frozen=True)
class Event:
    source: str
    hazard: str
    level: str


@dataclass(frozen=True)
class Proposal:
    plan_id: int
    response_level: str
    trigger: Trigger


def match(event: Event, triggers: Iterable[Trigger]) -> list[Proposal]:
    """Each plan whose trigger fits the event, at the highest response level any of
    its fitting triggers gives; most severe first, then by plan id."""
    hazard = hazard_of(event.hazard)
    source = TRIGGER_SOURCE.get(event.source, event.source)
    got = level_rank(source, event.level)
    best: dict[int, Proposal] = {}
    for t in triggers:
        if t.source != source or hazard_of(t.hazard) != hazard:
            continue
        if got < level_rank(t.source, t.min_level):
            continue
        current = best.get(t.plan_id)
        if current is None or incident_rank(t.response_level) > incident_rank(
            current.response_level
        ):
            best[t.plan_id] = Proposal(t.plan_id, t.response_level, t)
    return sorted(best.values(), key=lambda p: (-incident_rank(p.response_level), p.plan_id))
