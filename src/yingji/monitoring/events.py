"""Events the monitoring module publishes (the contract other modules rely on).

Receivers connect in their AppConfig.ready; senders call `.send(sender=...)` after
the change is committed (`transaction.on_commit`).

alarm_state_changed(sender, alarm_id: int, state: str, previous: str | None,
                    level: str, rule: str, sensor_id: int | None,
                    region_codes: list[str], at: datetime)
    state in pending / firing / acknowledged / resolved / silenced;
    level in blue / yellow / orange / red.

regional_level_changed(sender, region_code: str, region_level: str,
                       level: str | None, previous: str | None, hazard: str,
                       alarm_ids: list[int], at: datetime)
    The highest active alarm level of a street or district changed. `hazard`
    groups sensor types (rainstorm, waterlogging, typhoon, gas, structure,
    hazardous_chemicals, forest_fire, earthquake, other); level None means clear.

event_changed(sender, event_id: int, hazard: str, level: str | None,
              previous: str | None, max_level: str | None, district_code: str,
              area_codes: list[str], alarm_ids: list[int], state: str, at: datetime)
    A monitoring event (the alarms of one hazard in one district that belong
    together, eventrules.py) opened, rose, eased, grew to new areas or closed
    (state "closed"). Warning drafts and the duty desk follow events: one draft
    and one desk item per event, updated in place.
"""

from contextvars import ContextVar

from django.dispatch import Signal

alarm_state_changed = Signal()
regional_level_changed = Signal()
event_changed = Signal()

# A historical replay (services.replay_history) announces its replayed alarms and
# events only when run with --notify: while this is False, nothing replayed is sent.
announce_replayed: ContextVar[bool] = ContextVar("announce_replayed", default=False)


def announced(replayed: bool) -> bool:
    """Whether a change of a (replayed or live) alarm or event is announced."""
    return not replayed or announce_replayed.get()
