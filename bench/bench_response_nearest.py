"""Benchmark: nearest 10 resources by capability among 100,000 (target < 20 ms p95).

Pure: `dispatch.ResourceIndex` over synthetic resources spread over Guangzhou's
extent, each with 1–3 of 12 capabilities and 5 % unavailable. Queries pick a
random point and one or two capabilities. The baseline is the naive approach:
distances to every resource and a full sort, then the capability filter.

    .venv/bin/python bench/bench_response_nearest.py          # 100,000 resources, 2,000 queries
    QUICK=1 .venv/bin/python bench/bench_response_nearest.py  # 100,000 resources, 300 queries
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
from _common import percentile, quick, report

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from yingji.response.dispatch import ResourceIndex, haversine_km  # noqa: E402

TARGET_MS = 20.0
CAPS = [
    "排涝",
    "水上救援",
    "城市搜救",
    "危化处置",
    "医疗救护",
    "通信保障",
    "森林灭火",
    "山地救援",
    "电力保障",
    "地质灾害",
    "直升机起降",
    "生活保障",
]


def main() -> None:
    n, queries = 100_000, (300 if quick() else 2_000)
    rng = np.random.default_rng(2022)
    lons = rng.uniform(112.95, 114.05, n)
    lats = rng.uniform(22.55, 23.93, n)
    caps = [list(rng.choice(CAPS, size=rng.integers(1, 4), replace=False)) for _ in range(n)]
    available = rng.random(n) > 0.05
    t0 = time.perf_counter()
    index = ResourceIndex(np.arange(n), lons, lats, caps, available=available)
    build_ms = (time.perf_counter() - t0) * 1000
    masks_by_cap = {c: np.array([c in cs for cs in caps]) for c in CAPS}

    fast, naive = [], []
    for q in range(queries):
        lon, lat = rng.uniform(113.1, 113.8), rng.uniform(22.8, 23.6)
        wanted = list(rng.choice(CAPS, size=1 + q % 2, replace=False))
        t0 = time.perf_counter()
        hits = index.nearest(lon, lat, wanted, k=10)
        fast.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        order = np.argsort(haversine_km(lon, lat, lons, lats), kind="stable")
        keep = available.copy()
        for c in wanted:
            keep &= masks_by_cap[c]
        brute = [int(i) for i in order if keep[i]][:10]
        naive.append((time.perf_counter() - t0) * 1000)
        if [h.id for h in hits] != brute:
            raise SystemExit(f"query {q}: index and brute force disagree")
    figure, base = percentile(fast, 95), percentile(naive, 95)
    print(f"resources {n:,}, queries {queries}, index build {build_ms:.0f} ms")
    print(
        f"nearest 10: p50 {statistics.median(fast):.2f} ms, p95 {figure:.2f} ms (target {TARGET_MS} ms)"
    )
    print(f"naive sort: p50 {statistics.median(naive):.2f} ms, p95 {base:.2f} ms")
    report(
        "response_nearest_10_of_100k",
        round(figure, 3),
        unit="ms",
        target=TARGET_MS,
        baseline="naive_full_sort",
        ratio=round(figure / base, 4),
    )


if __name__ == "__main__":
    main()
