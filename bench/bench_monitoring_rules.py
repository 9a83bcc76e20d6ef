"""Rule engine alone: readings per second on one core over 50,000 sensors with a
four-level threshold rule with hysteresis, a duration rule and 1/3/24-hour rolling
rain rules, beside a plain numpy pass over the same arrays (per-sensor four-level
thresholds and per-sensor maximum). QUICK=1: 10,000 sensors, fewer ticks.

Last line: one JSON object (bench, figure, unit, target, baseline, ratio, quick).
"""

from __future__ import annotations

import time

import numpy as np
from _common import quick, report

from yingji.monitoring.rules import Engine, Rule

QUICK = quick()
N_SENSORS = 10_000 if QUICK else 50_000
TICKS = 30 if QUICK else 120  # one reading per sensor per tick (60 s apart)
TARGET = 2_000_000


def make_engine(n: int) -> Engine:
    ids = np.arange(1, n + 1)
    rules = [
        Rule(1, "阈值", thresholds=(30, 50, 70, 90), hysteresis=2, sensor_type="rain"),
        Rule(2, "持续", thresholds=(20, None, None, None), for_s=600, sensor_type="rain"),
        Rule(
            3,
            "1小时",
            metric="sum",
            window_s=3600,
            thresholds=(None, None, 50, 100),
            sensor_type="rain",
        ),
        Rule(
            4,
            "3小时",
            metric="sum",
            window_s=3 * 3600,
            thresholds=(None, None, 50, 100),
            sensor_type="rain",
        ),
        Rule(
            5,
            "24小时",
            metric="sum",
            window_s=24 * 3600,
            thresholds=(50, 100, 250, None),
            sensor_type="rain",
        ),
    ]
    return Engine(ids, ["rain"] * n, rules, bucket_s=300)


def main() -> None:
    rng = np.random.default_rng(1822)
    n = N_SENSORS
    idx = np.tile(np.arange(n), 1)
    t0 = 1_537_000_000.0
    batches = [(idx, np.full(n, t0 + 60.0 * k), rng.gamma(0.3, 3.0, n)) for k in range(TICKS)]
    total = n * TICKS

    engine = make_engine(n)
    start = time.perf_counter()
    changes = 0
    for b in batches:
        changes += len(engine.process(*b))
    engine_s = time.perf_counter() - start
    engine_rate = total / engine_s

    # Plain numpy pass: per-sensor four-level thresholds and per-sensor maximum.
    thr = np.tile(np.array([30.0, 50.0, 70.0, 90.0]), (n, 1)) + rng.random((n, 1))
    start = time.perf_counter()
    peak = np.full(n, -np.inf)
    for b_idx, _, values in batches:
        levels = (values[:, None] >= thr[b_idx]).sum(axis=1)
        np.maximum.at(peak, b_idx, values)
        levels.max()
    plain_s = time.perf_counter() - start
    plain_rate = total / plain_s

    print(f"sensors {n}, readings {total:,}, alarm changes {changes:,}")
    print(f"rule engine: {engine_rate:,.0f} readings/s ({engine_s:.2f} s)")
    print(f"plain numpy pass: {plain_rate:,.0f} readings/s ({plain_s:.2f} s)")
    report(
        "monitoring_rule_engine",
        round(engine_rate),
        unit="readings/s",
        target=TARGET,
        baseline="plain_numpy_thresholds_and_max",
        ratio=round(engine_rate / plain_rate, 3),
    )


if __name__ == "__main__":
    main()
