"""The alarm lifecycle and the notification pipeline, pure (no Django import).

Lifecycle: an explicit table of allowed transitions. ``None`` is "no alarm yet".

Pipeline (Alertmanager's stages, each a small function with one job, read in
order by `services.run_pipeline`):

    dispatch → group → inhibit → silence → notify

- `group_key`: alarms are grouped by district and hazard;
- `group_due`: a new group waits ``group_wait`` (so a storm's first alarms go out
  in one message), a changed group waits ``group_interval`` since its last message,
  an unchanged one is repeated after ``repeat_interval``;
- `inhibit`: within a group, a sensor's lower-level alarms are held back while the
  same sensor has a higher one (3-hour orange rain inhibits 1-hour yellow);
- `silenced`: silences and maintenance windows match by rule, sensor, region
  prefix and hazard;
- escalation and reminders (`escalation_due`, `reminder_due`) run per alarm until
  it is acknowledged or resolved;
- resolved notices (`resolved_due`): alarms whose firing was notified and that
  have since resolved are told to the same recipients as "已恢复", grouped like
  the firing notices, once the group's earliest resolution is ``group_wait`` old
  (so alarms clearing together go out in one message).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from yingji.core import regioncodes, statemachine
from yingji.core.statemachine import Transition

PENDING, FIRING, ACKNOWLEDGED, SILENCED, RESOLVED = (
    "pending",
    "firing",
    "acknowledged",
    "silenced",
    "resolved",
)
ACTIVE_STATES = (FIRING, ACKNOWLEDGED, SILENCED)
OPEN_STATES = (PENDING, *ACTIVE_STATES)

STATE_LABELS = {
    PENDING: "待触发",
    FIRING: "报警中",
    ACKNOWLEDGED: "已确认",
    SILENCED: "已静默",
    RESOLVED: "已解除",
}


class TransitionError(statemachine.TransitionError):
    """A transition the table does not allow (message in Chinese)."""


# Each row's label is why the move is allowed; everything else is refused.
MACHINE = statemachine.StateMachine(
    STATE_LABELS,
    (
        Transition("wait", None, PENDING, "条件成立,等待持续时间"),
        Transition("fire_now", None, FIRING, "条件成立,立即报警"),
        Transition("fire", PENDING, FIRING, "持续时间已满"),
        Transition("lapse", PENDING, RESOLVED, "未到持续时间条件已消失"),
        Transition("acknowledge", FIRING, ACKNOWLEDGED, "值班人员确认"),
        Transition("silence", {FIRING, ACKNOWLEDGED}, SILENCED, "人工静默"),
        Transition("resolve", {FIRING, ACKNOWLEDGED, SILENCED}, RESOLVED, "条件消失"),
        Transition("refire", ACKNOWLEDGED, FIRING, "确认后级别上升,需重新确认"),
        Transition("unsilence", SILENCED, FIRING, "静默到期,仍在报警"),
    ),
    noun="报警",
    error=TransitionError,
    refused_step="{noun}不能从「{state}」变为「{target}」",
)
# (from, to) → why it is allowed.
TRANSITIONS: dict[tuple[str | None, str], str] = {
    (s, t.target): t.label for t in MACHINE.transitions for s in t.sources
}


def check(current: str | None, new: str) -> str:
    """The reason a transition is allowed; TransitionError if it is not."""
    return MACHINE.between(current, new).label


def on_engine_change(current: str | None, engine_state: str, level_rose: bool) -> str | None:
    """The state an alarm moves to when the rule engine reports `engine_state`
    (pending / firing / resolved); None when the alarm stays as it is."""
    if engine_state == "resolved":
        return RESOLVED if current in OPEN_STATES else None
    if engine_state == "pending":
        return PENDING if current is None else None
    # firing
    if current in (None, PENDING):
        return FIRING
    if current == ACKNOWLEDGED and level_rose:
        return FIRING
    return None


# --------------------------------------------------------------- pipeline


@dataclass(frozen=True)
class GroupPolicy:
    """Alertmanager's timing: wait before the first message of a group, between
    messages of a changing group, before repeating an unchanged one."""

    group_wait: dt.timedelta = dt.timedelta(seconds=30)
    group_interval: dt.timedelta = dt.timedelta(minutes=5)
    repeat_interval: dt.timedelta = dt.timedelta(hours=4)


@dataclass(frozen=True)
class AlarmView:
    """What the pipeline needs of an alarm."""

    id: int
    rule_id: int
    sensor_id: int | None
    district: str
    street: str
    hazard: str
    state: str
    level: int
    started_at: dt.datetime


@dataclass(frozen=True)
class SilenceView:
    rule_id: int | None
    sensor_id: int | None
    region_code: str
    hazard: str
    starts_at: dt.datetime
    ends_at: dt.datetime


def group_key(alarm: AlarmView) -> str:
    """Group by district and hazard."""
    return f"{alarm.district or 'none'}:{alarm.hazard}"


def fingerprint(alarms: Sequence[AlarmView]) -> str:
    """Changes when an alarm joins, leaves or changes level or state."""
    text = ";".join(f"{a.id}:{a.level}:{a.state}" for a in sorted(alarms, key=lambda a: a.id))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def group_due(
    now: dt.datetime,
    first_at: dt.datetime,
    last_sent_at: dt.datetime | None,
    changed: bool,
    policy: GroupPolicy,
) -> bool:
    """Should the group's message go out now?"""
    if last_sent_at is None:
        return now - first_at >= policy.group_wait
    if changed:
        return now - last_sent_at >= policy.group_interval
    return now - last_sent_at >= policy.repeat_interval


def inhibit(alarms: Iterable[AlarmView]) -> list[AlarmView]:
    """Drop a sensor's alarms below that sensor's highest level in the group."""
    alarms = list(alarms)
    top: dict[int, int] = {}
    for a in alarms:
        if a.sensor_id is not None:
            top[a.sensor_id] = max(top.get(a.sensor_id, 0), a.level)
    return [a for a in alarms if a.sensor_id is None or a.level >= top[a.sensor_id]]


def silenced(alarm: AlarmView, silences: Iterable[SilenceView], now: dt.datetime) -> bool:
    """Does any silence or maintenance window in force match the alarm?"""
    for s in silences:
        if not (s.starts_at <= now < s.ends_at):
            continue
        if s.rule_id is not None and s.rule_id != alarm.rule_id:
            continue
        if s.sensor_id is not None and s.sensor_id != alarm.sensor_id:
            continue
        if s.hazard and s.hazard != alarm.hazard:
            continue
        if s.region_code and not regioncodes.is_within(
            alarm.street or alarm.district, s.region_code
        ):
            continue
        return True
    return False


def escalation_due(
    state: str, fired_at: dt.datetime | None, escalated: bool, now: dt.datetime, after: dt.timedelta
) -> bool:
    """Escalate once when firing and not acknowledged within `after`."""
    return state == FIRING and fired_at is not None and not escalated and now - fired_at >= after


def reminder_due(
    state: str, last_notified_at: dt.datetime | None, now: dt.datetime, every: dt.timedelta
) -> bool:
    """Remind while firing and unacknowledged, every `every`."""
    return (
        state == FIRING
        and last_notified_at is not None
        and every.total_seconds() > 0
        and now - last_notified_at >= every
    )


def resolved_due(now: dt.datetime, resolved_at: Iterable[dt.datetime], policy: GroupPolicy) -> bool:
    """Should a group's resolved notice go out now? When its earliest resolution
    waiting to be told is ``group_wait`` old (alarms that clear together are told
    in one message; a steady trickle of resolutions cannot hold the notice back)."""
    times = list(resolved_at)
    return bool(times) and now - min(times) >= policy.group_wait
