"""The rule engine: sensor readings in, alarm-level changes out. Pure Python + numpy,
no Django import, so it runs, tests and benchmarks without a database.

Model
-----
Every rule applies to the sensors of one type or to a list of sensors. A rule reads
one *metric* per sensor and maps it to a level 0 (clear) … 4 (red) through four
thresholds (blue, yellow, orange, red; None where a level is not used):

- ``value``: the reading itself (the batch's peak, so a spike between two
  evaluations is not lost; the trough for ``direction="below"``);
- ``rate``: change per minute between the sensor's last two evaluations;
- ``sum``: the rolling accumulation over ``window_s`` (rain over 1, 3, 6, 12, 24 h),
  kept in per-sensor ring buckets of ``bucket_s`` seconds (so windows have that
  resolution) and updated incrementally — no rescan of history;
- ``no_data``: seconds since the last reading (checked by `check_no_data`).

Then, per (sensor, rule):
- hysteresis: a level is kept until the metric falls ``hysteresis`` below its
  threshold, so a value hovering at a threshold does not flap;
- duration (``for_s``): a breach must last that long before the alarm fires; until
  then the alarm is *pending*;
- rising severity (``escalate_every_s``): while firing, the level rises one step per
  interval up to red, and falls back to the metric's level when the metric falls.

Per-sensor thresholds: a level's threshold may name a threshold of the sensor
(``threshold_refs``, e.g. 「警戒水位」, 「常年高值」) instead of giving a number, so one
rule serves every station with its own level. A reference may carry an offset in
the type's canonical unit (「警戒水位+0.5」: half a metre above the station's
warning level, the usual 橙色 of a river gauge; 「常年高值-0.2」). The engine is given each sensor's
named thresholds (a mapping, in the type's canonical unit); a sensor lacking a name
the rule references is not watched by that rule (`Engine.lacking` counts them, and
`Rule.evaluable` says it of one sensor). With per-sensor thresholds the level is
the highest one whose threshold is met, so a station whose values are out of order
still alarms at the highest level its reading reaches.

Composite rules (`CompositeRule`) fire for an area when k of its n sensors fire a
child rule (any: k = 1, all: k = n).

Rules are evaluated per sensor at the end of each batch on the batch's values:
batches from the ingest worker span well under a second, so the duration and rate
semantics are those of per-reading evaluation at that resolution.

Output is a list of `Change` records; the alarm lifecycle (`lifecycle.py`) and the
services turn them into alarms.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

LEVELS = ("blue", "yellow", "orange", "red")
LEVEL_LABELS = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}
METRICS = ("value", "rate", "sum", "no_data")


def level_name(level: int) -> str | None:
    """1..4 → 'blue'..'red'; 0 → None."""
    return LEVELS[level - 1] if level > 0 else None


def level_number(name: str | None) -> int:
    """'blue'..'red' → 1..4; None/'' → 0."""
    return LEVELS.index(name) + 1 if name else 0


class RuleError(ValueError):
    """A rule definition that cannot be evaluated (message in Chinese)."""


_REF = re.compile(r"^(?P<name>.*?\S)\s*(?:(?P<sign>[+-])\s*(?P<offset>\d+(?:\.\d+)?))?$")


def parse_ref(ref: str) -> tuple[str, float]:
    """A threshold reference's sensor threshold name and offset:
    「警戒水位」 → ("警戒水位", 0.0), 「警戒水位+0.5」 → ("警戒水位", 0.5),
    「常年高值 - 0.2」 → ("常年高值", -0.2). ValueError names what is wrong."""
    m = _REF.match(ref.strip())
    if not m or "+" in m["name"] or m["name"][0] == "-" or m["name"][-1] == "-":
        raise ValueError(f"「{ref}」应为阈值名称,可加偏移量,如「警戒水位+0.5」")
    offset = float(m["offset"] or 0) * (-1 if m["sign"] == "-" else 1)
    return m["name"], offset


@dataclass(frozen=True)
class Rule:
    """One alarm rule (see the module docstring)."""

    id: int
    name: str
    metric: str = "value"
    thresholds: tuple[float | None, float | None, float | None, float | None] = (
        None,
        None,
        None,
        None,
    )
    direction: str = "above"
    sensor_type: str | None = None
    sensor_ids: frozenset[int] | None = None
    window_s: int = 0
    hysteresis: float = 0.0
    for_s: float = 0.0
    escalate_every_s: float = 0.0
    # Per level, the name of a sensor threshold used instead of the number (None:
    # the number in `thresholds`).
    threshold_refs: tuple[str | None, str | None, str | None, str | None] = (
        None,
        None,
        None,
        None,
    )

    @property
    def refs(self) -> tuple[str, ...]:
        """The sensor threshold names this rule needs (offsets left off)."""
        return tuple(dict.fromkeys(parse_ref(r)[0] for r in self.threshold_refs if r))

    def evaluable(self, thresholds: Mapping[str, float] | None) -> bool:
        """Does a sensor with these named thresholds have every one this rule
        references (as a finite number)?"""
        if not isinstance(thresholds, Mapping):
            return not self.refs
        return all(_finite(thresholds.get(name)) for name in self.refs)

    def validate(self) -> None:
        """Raise RuleError naming the rule and what is wrong."""
        where = f"规则「{self.name}」"
        if self.metric not in METRICS:
            raise RuleError(f"{where}:未知指标 {self.metric!r},可选 {', '.join(METRICS)}")
        if self.direction not in ("above", "below"):
            raise RuleError(f"{where}:方向须为 above 或 below")
        if len(self.thresholds) != 4 or len(self.threshold_refs) != 4:
            raise RuleError(f"{where}:须给出蓝、黄、橙、红四级阈值(不用的级别写 null)")
        both = [
            LEVEL_LABELS[lv]
            for lv, t, r in zip(LEVELS, self.thresholds, self.threshold_refs, strict=True)
            if t is not None and r
        ]
        if both:
            raise RuleError(f"{where}:{'、'.join(both)}阈值不能既填数值又引用传感器阈值")
        for lv, r in zip(LEVELS, self.threshold_refs, strict=True):
            if r:
                try:
                    parse_ref(r)
                except ValueError as exc:
                    raise RuleError(f"{where}:{LEVEL_LABELS[lv]}阈值引用{exc}") from None
        used = [t for t in self.thresholds if t is not None]
        if not used and not self.refs:
            raise RuleError(f"{where}:至少需要一级阈值")
        if any(isinstance(t, float) and math.isnan(t) for t in used):
            raise RuleError(f"{where}:阈值不能为 NaN")
        ordered = used if self.direction == "above" else [-t for t in used]
        if ordered != sorted(ordered):
            raise RuleError(
                f"{where}:阈值须随级别{'递增' if self.direction == 'above' else '递减'}"
            )
        if self.metric == "sum" and self.window_s <= 0:
            raise RuleError(f"{where}:累计指标须给出时间窗(秒)")
        if self.hysteresis < 0 or self.for_s < 0 or self.escalate_every_s < 0:
            raise RuleError(f"{where}:回差、持续时间和升级间隔不能为负")
        if self.sensor_type is None and not self.sensor_ids:
            raise RuleError(f"{where}:须指定传感器类型或传感器")

    def applies(self, sensor_id: int, sensor_type: str) -> bool:
        """Does this rule watch the sensor?"""
        if self.sensor_ids:
            return sensor_id in self.sensor_ids
        return sensor_type == self.sensor_type


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class CompositeRule:
    """Fires for an area (street or district code) when at least ``k`` of its
    sensors watched by ``child`` fire at ``min_level`` or above. ``k`` = 0 means
    all of them."""

    id: int
    name: str
    child: int
    k: int = 1
    min_level: int = 1
    level: int = 3


class Change(NamedTuple):
    """A change of one (subject, rule): state pending / firing / resolved, with
    the level (1..4; 0 when resolved), metric value and time (epoch seconds).
    ``sensor`` is the sensor id, or None for an area (``area`` then set).
    (A named tuple: immutable, and about three times cheaper to build than a
    frozen dataclass, which counts when a storm changes many at once.)"""

    rule: int
    sensor: int | None
    state: str
    level: int
    value: float
    at: float
    area: str | None = None


@dataclass
class _RuleState:
    rule: Rule
    members: np.ndarray  # engine sensor indices watched
    pos: np.ndarray  # engine index → member position, -1 if not watched
    thr: np.ndarray  # (4,) thresholds, ±inf for unused levels; (members, 4) per sensor
    level: np.ndarray  # fired level per member (0 = not firing)
    base: np.ndarray  # metric level before escalation
    pending_since: np.ndarray  # epoch s, NaN when not pending
    firing_since: np.ndarray
    prev_value: np.ndarray  # for rate
    prev_ts: np.ndarray


@dataclass
class _Window:
    """Ring buckets of ``bucket_s`` seconds shared by every sum rule of one set of
    sensors, with incrementally kept sums for each window length in buckets."""

    n_slots: int
    buckets: np.ndarray  # (n_slots, n_sensors): one slot of all sensors is
    # contiguous, as readings of one moment touch it
    cur: np.ndarray  # latest bucket index per sensor (-1 = none)
    sums: dict[int, np.ndarray] = field(default_factory=dict)  # window buckets → sums


class Engine:
    """Holds the rules and per-sensor state for a fixed set of sensors.

    ``sensor_ids`` and ``sensor_types`` are parallel sequences; readings refer to
    sensors by *engine index* (position in ``sensor_ids``, see `index_of`).
    ``areas`` optionally gives each sensor's area code for composite rules.
    """

    def __init__(
        self,
        sensor_ids: Sequence[int],
        sensor_types: Sequence[str],
        rules: Iterable[Rule],
        composites: Iterable[CompositeRule] = (),
        areas: Sequence[str | None] | None = None,
        bucket_s: int = 300,
        thresholds: Sequence[Mapping[str, float] | None] | None = None,
    ):
        self.sensor_ids = np.asarray(sensor_ids, dtype=np.int64)
        self.sensor_types = np.asarray(sensor_types, dtype=object)
        self.n = len(self.sensor_ids)
        self.index_of = {int(s): i for i, s in enumerate(self.sensor_ids)}
        self.bucket_s = bucket_s
        self.last_ts = np.full(self.n, np.nan)
        self.last_value = np.full(self.n, np.nan)
        self.last_arrival = np.full(self.n, np.nan)
        self.states: dict[int, _RuleState] = {}
        self.composites = list(composites)
        self.areas = np.asarray(areas if areas is not None else [None] * self.n, dtype=object)
        self.area_levels: dict[tuple[int, str], int] = {}
        # Each sensor's named thresholds (per-sensor rules, see the module docstring).
        self.thresholds = list(thresholds) if thresholds is not None else [None] * self.n
        # Rule id → how many sensors the rule would watch but cannot (a name missing).
        self.lacking: dict[int, int] = {}
        rules = list(rules)
        windows = sorted({r.window_s for r in rules if r.metric == "sum"})
        self.window: _Window | None = None
        if windows:
            n_slots = max(1, math.ceil(max(windows) / bucket_s)) + 1
            self.window = _Window(
                n_slots, np.zeros((n_slots, self.n)), np.full(self.n, -1, dtype=np.int64)
            )
            for w in windows:
                self.window.sums[max(1, math.ceil(w / bucket_s))] = np.zeros(self.n)
        for rule in rules:
            rule.validate()
            self.states[rule.id] = self._state_for(rule)

    def _state_for(self, rule: Rule) -> _RuleState:
        if rule.sensor_ids:
            mask = np.isin(self.sensor_ids, np.fromiter(rule.sensor_ids, dtype=np.int64))
        else:
            mask = self.sensor_types == rule.sensor_type
        members = np.flatnonzero(mask)
        inf = np.inf if rule.direction == "above" else -np.inf
        thr = np.array([inf if t is None else float(t) for t in rule.thresholds])
        if rule.refs:
            ok = np.array([rule.evaluable(self.thresholds[i]) for i in members], dtype=bool)
            self.lacking[rule.id] = int((~ok).sum()) if len(members) else 0
            members = members[ok] if len(members) else members
            rows = np.tile(thr, (len(members), 1))
            for lv, ref in enumerate(rule.threshold_refs):
                if ref:
                    name, offset = parse_ref(ref)
                    rows[:, lv] = [float(self.thresholds[i][name]) + offset for i in members]
            thr = rows
        pos = np.full(self.n, -1, dtype=np.int64)
        pos[members] = np.arange(len(members))
        m = len(members)
        return _RuleState(
            rule,
            members,
            pos,
            thr,
            np.zeros(m, np.int8),
            np.zeros(m, np.int8),
            np.full(m, np.nan),
            np.full(m, np.nan),
            np.full(m, np.nan),
            np.full(m, np.nan),
        )

    # -------------------------------------------------------------- state access

    def level_of(self, rule_id: int, sensor_id: int) -> int:
        """The fired level of (rule, sensor); 0 when clear or pending."""
        st = self.states[rule_id]
        p = st.pos[self.index_of[sensor_id]]
        return int(st.level[p]) if p >= 0 else 0

    def restore(self, rule_id: int, sensor_id: int, level: int, since: float) -> None:
        """Set a (rule, sensor) as firing at `level` (a worker restarting with
        alarms already active)."""
        st = self.states.get(rule_id)
        i = self.index_of.get(sensor_id)
        if st is None or i is None or st.pos[i] < 0:
            return
        p = st.pos[i]
        st.level[p] = st.base[p] = level
        st.firing_since[p] = since

    def window_sum(self, sensor_id: int, window_s: int) -> float:
        """The current rolling accumulation of a sensor over `window_s`."""
        assert self.window is not None
        return float(
            self.window.sums[max(1, math.ceil(window_s / self.bucket_s))][self.index_of[sensor_id]]
        )

    def adopt(self, old: Engine) -> bool:
        """Take over the live state of `old` (an engine over the sensors and rules
        before an edit) for every sensor both know: last readings, the rolling
        buckets and sums, and the state of every rule whose definition did not
        change (levels, pending and firing times, rate memory; composites' area
        levels). Changed and new rules start clear (the caller restores their
        active alarms). Returns False, taking nothing, when the new rules need a
        longer history than the old ring kept (the caller then replays stored
        readings into this engine instead)."""
        if self.window is not None and not self._window_adoptable(old):
            return False
        common = np.intersect1d(self.sensor_ids, old.sensor_ids)
        new_i = np.array([self.index_of[int(s)] for s in common], dtype=np.int64)
        old_i = np.array([old.index_of[int(s)] for s in common], dtype=np.int64)
        for name in ("last_ts", "last_value", "last_arrival"):
            getattr(self, name)[new_i] = getattr(old, name)[old_i]
        if self.window is not None:
            self._adopt_window(old, new_i, old_i)
        for rid, st in self.states.items():
            before = old.states.get(rid)
            if before is None or before.rule != st.rule:
                continue
            p_new, p_old = st.pos[new_i], before.pos[old_i]
            both = (p_new >= 0) & (p_old >= 0)
            p_new, p_old = p_new[both], p_old[both]
            for name in ("level", "base", "pending_since", "firing_since", "prev_value", "prev_ts"):
                getattr(st, name)[p_new] = getattr(before, name)[p_old]
        kept = {c.id for c in self.composites} & {
            c.id for c in old.composites if c in self.composites
        }
        self.area_levels.update({k: v for k, v in old.area_levels.items() if k[0] in kept})
        return True

    def _window_adoptable(self, old: Engine) -> bool:
        """The old ring holds every bucket the new windows need (same bucket size,
        no window longer than the ring)."""
        assert self.window is not None
        ow = old.window
        return (
            ow is not None and old.bucket_s == self.bucket_s and max(self.window.sums) <= ow.n_slots
        )

    def _adopt_window(self, old: Engine, new_i: np.ndarray, old_i: np.ndarray) -> None:
        w, ow = self.window, old.window
        assert w is not None and ow is not None
        cur = ow.cur[old_i]
        has = cur >= 0
        new_i, old_i, cur = new_i[has], old_i[has], cur[has]
        w.cur[new_i] = cur
        for age in range(min(w.n_slots, ow.n_slots)):
            b = cur - age
            vals = ow.buckets[b % ow.n_slots, old_i]
            w.buckets[b % w.n_slots, new_i] = vals
            for k, sums in w.sums.items():
                if age < k:
                    sums[new_i] += vals

    # ------------------------------------------------------------------ ingest

    def process(
        self, idx: np.ndarray, ts: np.ndarray, values: np.ndarray, received_at: float | None = None
    ) -> list[Change]:
        """Feed one batch: engine indices, epoch seconds, values (finite; the
        ingest rejects NaN before). `received_at` is when the batch arrived (no-data
        rules measure silence by arrival, so replayed or late data counts as a
        sign of life); default: the reading times. Returns the changes."""
        idx = np.asarray(idx, dtype=np.int64)
        ts = np.asarray(ts, dtype=np.float64)
        values = np.asarray(values, dtype=np.float64)
        if len(idx) == 0:
            return []
        if len(ts) > 1 and np.any(ts[1:] < ts[:-1]):  # last-wins assignment needs time order
            order = np.argsort(ts, kind="stable")
            idx, ts, values = idx[order], ts[order], values[order]
        seen = np.zeros(self.n, dtype=bool)
        seen[idx] = True
        touched = np.flatnonzero(seen)
        # Batch peak and trough per sensor (for value rules) and the latest reading.
        peak = np.full(self.n, -np.inf)
        np.maximum.at(peak, idx, values)
        trough = np.full(self.n, np.inf)
        np.minimum.at(trough, idx, values)
        self.last_ts[idx] = ts
        self.last_value[idx] = values
        self.last_arrival[idx] = ts if received_at is None else received_at
        if self.window is not None:
            self._accumulate(idx, ts, values, touched)
        now = self.last_ts[touched]
        changes: list[Change] = []
        for st in self.states.values():
            if st.rule.metric == "no_data":
                self._clear_no_data(st, touched, now, changes)
                continue
            p = st.pos[touched]
            keep = p >= 0
            if not keep.any():
                continue
            sens, p, t = touched[keep], p[keep], now[keep]
            metric = self._metric(st, sens, p, t, peak, trough)
            self._apply(st, sens, p, t, metric, changes)
        if self.composites and changes:
            changes.extend(self._composites(float(ts.max())))
        return changes

    def _metric(
        self,
        st: _RuleState,
        sens: np.ndarray,
        p: np.ndarray,
        t: np.ndarray,
        peak: np.ndarray,
        trough: np.ndarray,
    ) -> np.ndarray:
        rule = st.rule
        if rule.metric == "value":
            return peak[sens] if rule.direction == "above" else trough[sens]
        if rule.metric == "sum":
            assert self.window is not None
            return self.window.sums[max(1, math.ceil(rule.window_s / self.bucket_s))][sens]
        # rate per minute between evaluations
        v = self.last_value[sens]
        dt = t - st.prev_ts[p]
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(dt > 0, (v - st.prev_value[p]) * 60.0 / dt, 0.0)
        rate = np.nan_to_num(rate, nan=0.0)
        st.prev_value[p] = v
        st.prev_ts[p] = t
        return rate

    def _raw_levels(
        self, st: _RuleState, metric: np.ndarray, current: np.ndarray, p: np.ndarray
    ) -> np.ndarray:
        """Metric → level 0..4 with hysteresis relative to the current level."""
        if st.thr.ndim == 2:
            return self._raw_levels_per_sensor(st, metric, current, p)
        used = np.flatnonzero(np.isfinite(st.thr))
        levels = np.concatenate(([0], used + 1)).astype(np.int8)
        thr, h = st.thr[used], st.rule.hysteresis
        # The highest level whose threshold is met: thresholds are monotonic, so a
        # binary search finds it (below-rules search the negated values).
        if st.rule.direction == "above":
            up = levels[np.searchsorted(thr, metric, side="right")]
            held = levels[np.searchsorted(thr - h, metric, side="left")] if h else up
        else:
            up = levels[np.searchsorted(-thr, -metric, side="right")]
            held = levels[np.searchsorted(-thr - h, -metric, side="left")] if h else up
        # Keep the current level while still within its hysteresis band.
        return np.where(up >= current, up, np.maximum(up, np.minimum(current, held))).astype(
            np.int8
        )

    @staticmethod
    def _raw_levels_per_sensor(
        st: _RuleState, metric: np.ndarray, current: np.ndarray, p: np.ndarray
    ) -> np.ndarray:
        """As _raw_levels, each sensor against its own thresholds: the highest
        level whose threshold is met (unused levels are ±inf and never met)."""
        thr, h = st.thr[p], st.rule.hysteresis
        rank = np.arange(1, 5, dtype=np.int8)[None, :]
        m = metric[:, None]
        if st.rule.direction == "above":
            up = ((m >= thr) * rank).max(axis=1)
            held = ((m > thr - h) * rank).max(axis=1) if h else up
        else:
            up = ((m <= thr) * rank).max(axis=1)
            held = ((m < thr + h) * rank).max(axis=1) if h else up
        return np.where(up >= current, up, np.maximum(up, np.minimum(current, held))).astype(
            np.int8
        )

    def _apply(
        self,
        st: _RuleState,
        sens: np.ndarray,
        p: np.ndarray,
        t: np.ndarray,
        metric: np.ndarray,
        changes: list[Change],
    ) -> None:
        rule = st.rule
        cur = st.level[p]
        raw = self._raw_levels(st, metric, np.maximum(cur, st.base[p]), p)
        st.base[p] = raw
        breach = raw > 0
        # Not breaching: clear pending, resolve firing.
        pend = st.pending_since[p]
        ended = ~breach & ~np.isnan(pend) & (cur == 0)
        resolved = ~breach & (cur > 0)
        st.pending_since[p[~breach]] = np.nan
        # Breaching and not firing yet: start or continue pending.
        start = breach & (cur == 0) & np.isnan(pend)
        st.pending_since[p[start]] = t[start]
        pend = st.pending_since[p]
        due = breach & (cur == 0) & (t - pend >= rule.for_s)
        new_level = np.where(due, raw, cur).astype(np.int8)
        # Firing already: follow the metric, plus escalation with time.
        firing = breach & (cur > 0)
        st.firing_since[p[due]] = t[due]
        if rule.escalate_every_s > 0:
            steps = np.floor((t - st.firing_since[p]) / rule.escalate_every_s)
            steps = np.nan_to_num(steps, nan=0.0).astype(np.int64)
            esc = np.minimum(4, raw + np.where(firing, steps, 0)).astype(np.int8)
            new_level = np.where(firing, esc, new_level)
        else:
            new_level = np.where(firing, raw, new_level)
        new_level = np.where(resolved, 0, new_level).astype(np.int8)
        st.level[p] = new_level
        st.pending_since[p[due]] = np.nan
        st.firing_since[p[resolved]] = np.nan
        # Changes as Python objects, built from whole columns (.tolist()) rather than
        # element by element: a storm can change hundreds of thousands at once.
        started = np.flatnonzero(start & ~due)
        moved = np.flatnonzero(new_level != cur)
        self._emit(changes, rule.id, sens, started, raw, metric, t, lambda lv: "pending")
        self._emit(
            changes,
            rule.id,
            sens,
            np.flatnonzero(ended),
            np.zeros_like(raw),
            metric,
            t,
            lambda lv: "resolved",
        )
        self._emit(
            changes,
            rule.id,
            sens,
            moved,
            new_level,
            metric,
            t,
            lambda lv: "firing" if lv else "resolved",
        )

    def _emit(
        self,
        changes: list[Change],
        rule_id: int,
        sens: np.ndarray,
        js: np.ndarray,
        levels: np.ndarray,
        metric: np.ndarray,
        t: np.ndarray,
        state_of,
    ) -> None:
        """Append a Change per position in `js`, from whole columns at once."""
        if not len(js):
            return
        changes.extend(
            Change(rule_id, sid, state_of(lv), lv, mv, tv)
            for sid, lv, mv, tv in zip(
                self.sensor_ids[sens[js]].tolist(),
                levels[js].tolist(),
                metric[js].tolist(),
                t[js].tolist(),
                strict=True,
            )
        )

    # ---------------------------------------------------------- accumulations

    def _accumulate(
        self, idx: np.ndarray, ts: np.ndarray, values: np.ndarray, touched: np.ndarray
    ) -> None:
        w = self.window
        assert w is not None
        n_slots = w.n_slots
        b = np.floor(ts / self.bucket_s).astype(np.int64)
        newest = w.cur.copy()
        np.maximum.at(newest, idx, b)
        old = w.cur[touched]
        new = newest[touched]
        fresh = old < 0
        # Sensors far behind (or new): the whole ring expired.
        reset = touched[fresh | (new - old >= n_slots)]
        if len(reset):
            w.buckets[:, reset] = 0.0
            for sums in w.sums.values():
                sums[reset] = 0.0
        step_mask = ~fresh & (new > old) & (new - old < n_slots)
        sens, o, d = touched[step_mask], old[step_mask], (new - old)[step_mask]
        # Advance bucket by bucket: what leaves each window, then clear the slot.
        for j in range(1, int(d.max()) + 1 if len(d) else 1):
            go = d >= j
            s_j, b_j = sens[go], o[go] + j
            for k, sums in w.sums.items():
                sums[s_j] -= w.buckets[(b_j - k) % n_slots, s_j]
            w.buckets[b_j % n_slots, s_j] = 0.0
        w.cur[touched] = new
        # Add the readings that still fall inside the ring / each window, one bucket
        # of the batch at a time (readings are in time order, so a bucket is one
        # slice; a live batch is one or two buckets): one bincount per bucket, then
        # dense adds. A sensor's slot holds bucket `bv` while newest − bv < n_slots;
        # sensors without a reading in the slice contribute zeros.
        cuts = np.flatnonzero(b[1:] != b[:-1]) + 1
        for lo_, hi_ in zip(np.r_[0, cuts], np.r_[cuts, len(b)], strict=True):
            bv = int(b[lo_])
            contrib = np.bincount(idx[lo_:hi_], weights=values[lo_:hi_], minlength=self.n)
            age = newest - bv
            w.buckets[bv % n_slots] += np.where(age < n_slots, contrib, 0.0)
            for k, sums in w.sums.items():
                sums += np.where(age < k, contrib, 0.0)

    # ------------------------------------------------------------- no data

    def check_no_data(self, now: float) -> list[Change]:
        """Fire no-data rules for sensors silent longer than the rule's
        ``window_s`` (a sensor never heard from counts from `now`'s first check)."""
        changes: list[Change] = []
        for st in self.states.values():
            if st.rule.metric != "no_data" or not len(st.members):
                continue
            last = self.last_arrival[st.members]
            # Never heard from: start the clock at the first check.
            st.prev_ts[np.isnan(st.prev_ts)] = now
            since = np.where(np.isnan(last), st.prev_ts, last)
            silent = now - since
            rank = np.arange(1, 5, dtype=np.int8)
            thr = st.thr if st.thr.ndim == 2 else st.thr[None, :]
            raw = ((silent[:, None] >= thr) * rank).max(axis=1).astype(np.int8)
            fire = (raw != st.level) & (raw > 0)
            for j in np.flatnonzero(fire):
                changes.append(
                    Change(
                        st.rule.id,
                        int(self.sensor_ids[st.members[j]]),
                        "firing",
                        int(raw[j]),
                        float(silent[j]),
                        now,
                    )
                )
            st.level[fire] = raw[fire]
        return changes

    def _clear_no_data(
        self, st: _RuleState, touched: np.ndarray, now: np.ndarray, changes: list[Change]
    ) -> None:
        p = st.pos[touched]
        back = p >= 0
        back[back] &= st.level[p[back]] > 0
        for j in np.flatnonzero(back):
            changes.append(
                Change(
                    st.rule.id, int(self.sensor_ids[touched[j]]), "resolved", 0, 0.0, float(now[j])
                )
            )
        st.level[p[back]] = 0

    # ----------------------------------------------------------- composites

    def _composites(self, now: float) -> list[Change]:
        changes: list[Change] = []
        for comp in self.composites:
            st = self.states.get(comp.child)
            if st is None or not len(st.members):
                continue
            areas = self.areas[st.members]
            hit: dict[str, int] = {}
            total: dict[str, int] = {}
            for area, lvl in zip(areas, st.level, strict=True):
                if area is None:
                    continue
                total[area] = total.get(area, 0) + 1
                if lvl >= comp.min_level:
                    hit[area] = hit.get(area, 0) + 1
            for area, n in total.items():
                need = n if comp.k == 0 else comp.k
                level = comp.level if hit.get(area, 0) >= need else 0
                key = (comp.id, area)
                if self.area_levels.get(key, 0) != level:
                    self.area_levels[key] = level
                    changes.append(
                        Change(
                            comp.id,
                            None,
                            "firing" if level else "resolved",
                            level,
                            float(hit.get(area, 0)),
                            now,
                            area=area,
                        )
                    )
        return changes
