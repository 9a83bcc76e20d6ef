"""Monitoring events: alarms that belong together (same hazard, near each other)
folded into one event (the rules are in eventrules.py, pure), their level and areas
kept up to date, the event_changed signal sent, and quiet events closed."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from yingji.core.models import Region
from yingji.monitoring import eventrules, events, lifecycle
from yingji.monitoring.models import Alarm, Event


def fold(alarm: Alarm, at: dt.datetime) -> Event | None:
    """Put an active alarm into the open event of its hazard nearby (or in its
    district; a new one if there is none: a closed event is never revived), then
    bring the event's level and areas up to date and tell the other modules when its
    level changed."""
    event_id = assign(alarm, at)
    return refresh_event(event_id, at) if event_id is not None else None


def assign(alarm: Alarm, at: dt.datetime) -> int | None:
    """The first half of `fold`: file the alarm under its event (opening one if
    needed) and return the event's id, None when it belongs to none. The caller
    refreshes the event (`refresh_event`): once per event for a batch of alarms, so
    a storm's thousand alarm changes in a district are one event change, one draft
    update and one desk update, not one each."""
    active = alarm.state in lifecycle.ACTIVE_STATES
    if (
        alarm.event_id is not None
        and active
        and Event.objects.filter(pk=alarm.event_id, state=Event.State.CLOSED).exists()
    ):
        # Its event ended (quiet, or the response stood down) while the alarm goes
        # on: a change now belongs to a new event, never to the closed one.
        alarm.event_id = None
    if alarm.event_id is None:
        if (
            not active
            or not alarm.district_code
            or not Region.objects.filter(pk=alarm.district_code).exists()
        ):
            return None
        hazard = eventrules.family(alarm.hazard)
        point = _point(alarm)
        # Replayed alarms fold into replayed events only, never into a live one.
        chosen = eventrules.event_for(
            _open_events(hazard, point, alarm.replayed), hazard, alarm.district_code, point
        )
        if chosen is None:
            chosen = Event.objects.create(
                hazard=hazard,
                district_id=alarm.district_code,
                started_at=at,
                changed_at=at,
                replayed=alarm.replayed,
            ).pk
        Alarm.objects.filter(pk=alarm.pk).update(event=chosen)
        alarm.event_id = chosen
    return alarm.event_id


def _point(alarm: Alarm) -> eventrules.Point | None:
    """Where the alarm is: its sensor, else its area's centroid."""
    if alarm.sensor_id:
        return (alarm.sensor.lon, alarm.sensor.lat)
    if alarm.area_id and alarm.area.centroid_lon is not None:
        return (alarm.area.centroid_lon, alarm.area.centroid_lat)
    return None


def _open_events(
    hazard: str, point: eventrules.Point | None, replayed: bool = False
) -> list[eventrules.OpenEvent]:
    """The open events of `hazard`, each with the positions of its alarms near `point`
    (a bounding box in the query, the exact distance in eventrules)."""
    found = {
        pk: eventrules.OpenEvent(pk, hazard, district)
        for pk, district in Event.objects.filter(
            state=Event.State.OPEN, hazard=hazard, replayed=replayed
        ).values_list("pk", "district_id")
    }
    if point is None or not found:
        return list(found.values())
    lon0, lon1, lat0, lat1 = eventrules.near_box(point)
    near: dict[int, list[eventrules.Point]] = {}
    rows = Alarm.objects.filter(
        event_id__in=found, sensor__lon__range=(lon0, lon1), sensor__lat__range=(lat0, lat1)
    ).values_list("event_id", "sensor__lon", "sensor__lat")
    for event_id, lon, lat in rows:
        near.setdefault(event_id, []).append((lon, lat))
    areas = Alarm.objects.filter(
        event_id__in=found,
        sensor__isnull=True,
        area__centroid_lon__range=(lon0, lon1),
        area__centroid_lat__range=(lat0, lat1),
    ).values_list("event_id", "area__centroid_lon", "area__centroid_lat")
    for event_id, lon, lat in areas:
        near.setdefault(event_id, []).append((lon, lat))
    return [
        eventrules.OpenEvent(pk, hazard, e.district, tuple(near.get(pk, ())))
        for pk, e in found.items()
    ]


def refresh_event(event_id: int, at: dt.datetime) -> Event | None:
    """Recompute an open event from its active alarms; publish a level change."""
    with transaction.atomic():
        event = (
            Event.objects.select_for_update().filter(pk=event_id, state=Event.State.OPEN).first()
        )
        if event is None:
            return None
        rows = list(
            Alarm.objects.filter(event=event, state__in=lifecycle.ACTIVE_STATES).values_list(
                "pk", "level", "district_code", "street_code"
            )
        )
        level, areas = eventrules.summary(
            [eventrules.ActiveAlarm(lv, d, st) for _, lv, d, st in rows]
        )
        previous = event.level or None
        changed = (level or None) != previous or (areas and areas != event.area_codes)
        if areas:
            event.area_codes = sorted(set(event.area_codes) | set(areas))
        event.level = level
        if eventrules.rank(level) > eventrules.rank(event.max_level):
            event.max_level = level
        event.quiet_since = None if rows else (event.quiet_since or at)
        if changed:
            event.changed_at = at
        event.save()
    if changed:
        _announce(event, previous, [pk for pk, *_ in rows], at)
    return event


def _announce(event: Event, previous: str | None, alarm_ids: list[int], at: dt.datetime) -> None:
    if not events.announced(event.replayed):  # a replay: no drafts, no desk items
        return
    payload = dict(
        event_id=event.pk,
        hazard=event.hazard,
        level=event.level or None,
        previous=previous,
        max_level=event.max_level or None,
        district_code=event.district_id,
        area_codes=list(event.area_codes),
        alarm_ids=alarm_ids,
        state=event.state,
        at=at,
    )
    transaction.on_commit(lambda: events.event_changed.send(sender=Event, **payload))


def close_quiet_events(
    at: dt.datetime | None = None,
    quiet_minutes: int = eventrules.QUIET_MINUTES,
    replayed: bool = False,
) -> int:
    """Events whose alarms have all been quiet long enough end; a later alarm opens a
    new event."""
    at = at or timezone.now()
    closed = 0
    open_ = Event.objects.filter(state=Event.State.OPEN, replayed=replayed)
    for event in open_.exclude(quiet_since=None):
        if eventrules.closes(event.quiet_since, at, quiet_minutes):
            close_event(event, f"报警全部解除满 {quiet_minutes} 分钟", at)
            closed += 1
    return closed


def close_event(event: Event, reason: str, at: dt.datetime | None = None) -> Event:
    """End an event (quiet, or its incident stood down): never revived afterwards."""
    at = at or timezone.now()
    with transaction.atomic():
        updated = Event.objects.filter(pk=event.pk, state=Event.State.OPEN).update(
            state=Event.State.CLOSED, closed_at=at, close_reason=reason[:100]
        )
        event.refresh_from_db()
        if updated:
            _announce(event, event.level or None, [], at)
    return event
