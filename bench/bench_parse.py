"""Benchmark: parse the bundled 2022 Guangzhou plan (bytes in, ParsedPlan out).

    .venv/bin/python bench/bench_parse.py          # 200 parses
    QUICK=1 .venv/bin/python bench/bench_parse.py  # 50 parses

Target: p95 under 50 ms per parse. The last line printed is one JSON object.
Needs no Django: the parser is pure.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _common import percentile, quick, report  # noqa: E402

from yingji.workplan.parser import GUANGZHOU_2022_PLAN, parse_plan  # noqa: E402

TARGET_MS = 50


def main() -> None:
    """Time N parses of the seed and print p50/p95, then the JSON summary line."""
    runs = 50 if quick() else 200
    data = GUANGZHOU_2022_PLAN.read_bytes()
    parse_plan(data)  # warm-up: compiled regexes, first imports
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        plan = parse_plan(data)
        times.append((time.perf_counter() - started) * 1000)
    assert len(plan.tasks) == 61
    p50, p95 = statistics.median(times), percentile(times, 95)
    print(
        f"parse seed ({len(data):,} bytes, {len(plan.tasks)} tasks) x {runs}: "
        f"p50 {p50:.2f} ms, p95 {p95:.2f} ms (target < {TARGET_MS} ms)"
    )
    report("parse_seed", round(p95, 3), unit="ms", target=TARGET_MS)


if __name__ == "__main__":
    main()
