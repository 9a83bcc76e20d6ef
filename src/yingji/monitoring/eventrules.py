"""Folding alarms into monitoring events (监测事件). Pure: no Django.

A rain cell over a street trips several rules (the 1/3/6/12/24 h windows of one
gauge) and several sensors (the gauges and waterlogging points of the street and its
neighbours), and as it moves, the streets and districts on its path. An alarm joins
the open event of its hazard that has an alarm within JOIN_KM of it (the nearest such
event), else the open event of its hazard in its district; otherwise it opens a new
event. The event's level is the highest level of its active alarms, rising and easing
with them. When no alarm of an event has been active for
QUIET_MINUTES the event closes, and a closed event is never revived: a later reading
opens a new event (as it does after a stand-down).

Decision: distance, not the district boundary, decides what belongs together. A
rain cell is some 10–30 km across and crosses district lines as it moves (the demo's
cell crosses eight districts in three hours); one weather system is one event for the
duty officer, with one warning naming every area it covers and one plan activation
whose cards go to each district and street in it. Two cells further apart than
JOIN_KM are two events. JOIN_KM is 20 km: wider than the spacing of neighbouring
gauges (1–5 km in the city centre, 10–15 km in the outer districts), narrower than
the distance between separate convective cells. Alarms without a position (an area's
composite alarm with no centroid) fall back to their district.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

QUIET_MINUTES = 30
JOIN_KM = 20.0
LEVELS = ("blue", "yellow", "orange", "red")
# Hazards that are one event with another: waterlogging is what the rainstorm does
# on the ground, so a street's gauges and waterlogging points are one 暴雨 event
# (one warning, one desk item), as the duty officer handles them.
FAMILY = {"waterlogging": "rainstorm"}


def family(hazard: str) -> str:
    """The hazard an alarm's event is filed under."""
    return FAMILY.get(hazard, hazard)


Point = tuple[float, float]  # (lon, lat), WGS-84


@dataclass(frozen=True)
class OpenEvent:
    id: int
    hazard: str
    district: str
    # Where its alarms are (only those near the alarm being folded need be given).
    points: tuple[Point, ...] = ()


@dataclass(frozen=True)
class ActiveAlarm:
    """An active alarm of an event: its level and where it is (street or district)."""

    level: str
    district: str
    street: str = ""


def rank(level: str | None) -> int:
    return LEVELS.index(level) + 1 if level in LEVELS else 0


def distance_km(a: Point, b: Point) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def near_box(point: Point, km: float = JOIN_KM) -> tuple[float, float, float, float]:
    """(lon_min, lon_max, lat_min, lat_max) enclosing every point within `km`."""
    lon, lat = point
    dlat = km / 111.0
    dlon = km / (111.0 * max(0.01, math.cos(math.radians(lat))))
    return lon - dlon, lon + dlon, lat - dlat, lat + dlat


def event_for(
    open_events: Iterable[OpenEvent],
    hazard: str,
    district: str,
    point: Point | None = None,
    join_km: float = JOIN_KM,
) -> int | None:
    """The open event an alarm of `hazard` in `district` at `point` joins: the one with
    an alarm nearest to it within `join_km`, else the one in its district (None: open
    a new one)."""
    candidates = [e for e in open_events if e.hazard == hazard]
    if point is not None:
        best: tuple[float, int] | None = None
        for event in candidates:
            for p in event.points:
                d = distance_km(point, p)
                if d <= join_km and (best is None or (d, event.id) < best):
                    best = (d, event.id)
        if best is not None:
            return best[1]
    for event in sorted(candidates, key=lambda e: e.id):
        if event.district == district:
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
