"""Folding alarms into monitoring events (监测事件). Pure: no Django.

A rain cell over a street trips several rules (the 1/3/6/12/24 h windows of one
gauge) and several sensors (the gauges and waterlogging points of the street and its
neighbours). Each alarm of the same hazard in the same district joins the district's
open event for that hazard; the event's level is the highest level of its active
alarms, rising and easing with them. When no alarm of an event has been active for
QUIET_MINUTES the event closes, and a closed event is never revived: a later reading
opens a new event (as it does after a stand-down).

Decision: the district is the folding area. A cell that crosses a street boundary is
one event (the gauges of neighbouring streets are one storm), while rain in two
districts is two events, because warnings and responses are issued per district.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

QUIET_MINUTES = 30
LEVELS = ("blue", "yellow", "orange", "red")
# Hazards that are one event with another: waterlogging is what the rainstorm does
# on the ground, so a street's gauges and waterlogging points are one 暴雨 event
# (one warning, one desk item), as the duty officer handles them.
FAMILY = {"waterlogging": "rainstorm"}


def family(hazard: str) -> str:
    """The hazard an alarm's event is filed under."""
    return FAMILY.get(hazard, hazard)


@dataclass(frozen=True)
class OpenEvent:
    id: int
    hazard: str
    district: str


@dataclass(frozen=True)
class ActiveAlarm:
    """An active alarm of an event: its level and where it is (street or district)."""

    level: str
    district: str
    street: str = ""


def rank(level: str | None) -> int:
    return LEVELS.index(level) + 1 if level in LEVELS else 0


def event_for(open_events: Iterable[OpenEvent], hazard: str, district: str) -> int | None:
    """The open event an alarm of `hazard` in `district` joins (None: open a new one)."""
    for event in open_events:
        if event.hazard == hazard and event.district == district:
            return event.id
    return None


def summary(alarms: Sequence[ActiveAlarm]) -> tuple[str, list[str]]:
    """The event's level (highest of its active alarms, '' when none is active) and
    its areas: the streets its alarms are in, else the district."""
    level = max((a.level for a in alarms), key=rank, default="")
    streets = sorted({a.street for a in alarms if a.street})
    districts = sorted({a.district for a in alarms if a.district and not a.street})
    return (level if rank(level) else ""), streets + districts


def closes(
    quiet_since: dt.datetime | None, now: dt.datetime, quiet_minutes: int = QUIET_MINUTES
) -> bool:
    """Whether an event whose alarms have all been inactive since `quiet_since` closes."""
    return quiet_since is not None and now - quiet_since >= dt.timedelta(minutes=quiet_minutes)
