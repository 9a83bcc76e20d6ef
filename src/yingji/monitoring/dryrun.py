"""Trying a rule before saving it: the rule evaluated against the stored readings
of the last hours, to see which sensors would have alarmed and how often."""

from __future__ import annotations

from typing import Any

import numpy as np

from yingji.monitoring.models import Sensor
from yingji.monitoring.rules import Change, Engine, Rule, level_name, level_number
from yingji.monitoring.services import now_ms


def dry_run(rule: Rule, hours: int = 24, sensors: Any = None) -> dict[str, Any]:
    """Evaluate a rule (not saved) against the stored readings of the last
    `hours`: which sensors would have alarmed, at what highest level, how often.
    `sensors` (a queryset, default all): the sensors whose readings may be read,
    e.g. `services.visible_sensors(user)`."""
    rule.validate()
    from yingji.monitoring.models import Reading

    sensors = list(
        (Sensor.objects if sensors is None else sensors).only(
            "id", "code", "name", "type", "thresholds"
        )
    )
    matching = [s for s in sensors if rule.applies(s.pk, s.type)]
    engine = Engine(
        [s.pk for s in matching],
        [s.type for s in matching],
        [rule],
        thresholds=[s.thresholds for s in matching],
    )
    since = now_ms() - hours * 3600_000
    rows = np.array(
        list(
            Reading.objects.filter(sensor__in=[s.pk for s in matching], ts_ms__gte=since)
            .order_by("ts_ms")
            .values_list("sensor_id", "ts_ms", "value")
        ),
        dtype=np.float64,
    ).reshape(-1, 3)
    changes: list[Change] = []
    # Minute-sized batches: the resolution the worker evaluates at under load.
    if len(rows):
        minute = (rows[:, 1] // 60_000).astype(np.int64)
        cuts = np.flatnonzero(np.diff(minute)) + 1
        for chunk in np.split(np.arange(len(rows)), cuts):
            idx = np.array([engine.index_of[int(s)] for s in rows[chunk, 0]])
            changes += engine.process(idx, rows[chunk, 1] / 1000.0, rows[chunk, 2])
    by_sensor: dict[int, dict[str, Any]] = {}
    names = {s.pk: s for s in matching}
    for c in changes:
        if c.state != "firing" or c.sensor is None:
            continue
        entry = by_sensor.setdefault(
            c.sensor,
            {
                "code": names[c.sensor].code,
                "name": names[c.sensor].name,
                "times": 0,
                "max_level": None,
            },
        )
        entry["times"] += 1
        if level_number(entry["max_level"]) < c.level:
            entry["max_level"] = level_name(c.level)
    return {
        "sensors": len(matching),
        "readings": len(rows),
        "alarming": sorted(
            by_sensor.values(), key=lambda e: (-level_number(e["max_level"]), e["code"])
        ),
    }
