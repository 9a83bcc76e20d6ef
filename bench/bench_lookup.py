"""Benchmark: point → region lookup over the Guangzhou districts and streets.

Builds the same index the platform uses (11 real district boundaries, 178
synthetic street cells) from the package data, with the pure modules only (no
Django, no database), then looks up random points inside the city's bounding
box: 100,000 with the vectorised `lookup_many` and 10,000 one at a time with
`lookup`. QUICK=1 uses ten times fewer points.

    .venv/bin/python bench/bench_lookup.py

The last line is one JSON object with the lookup_many throughput.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402
from _common import quick, report  # noqa: E402

from yingji.core import geo, regionpack  # noqa: E402

PACK = Path(geo.__file__).resolve().parent / "data" / "regions" / "guangzhou"
TARGET = 100_000  # points per second for lookup_many


def build_index() -> tuple[geo.RegionIndex, dict[str, float]]:
    """The Guangzhou index, with timings of each step in seconds."""
    timings = {}
    started = time.perf_counter()
    pack = regionpack.read_pack(sorted(PACK.glob("*.geojson")) + sorted(PACK.glob("*.csv")))
    timings["read_pack"] = time.perf_counter() - started

    started = time.perf_counter()
    districts = {r.code: r.geometry for r in pack.by_level("district")}
    streets: dict[str, list[str]] = {}
    for record in pack.by_level("street"):
        streets.setdefault(record.parent, []).append(record.code)
    cells = {}
    for code, codes in streets.items():
        cells.update(geo.synthesise_subdivisions(districts[code], codes))
    timings["synthesise_streets"] = time.perf_counter() - started

    started = time.perf_counter()
    index = geo.RegionIndex(
        [(code, "district", g) for code, g in districts.items()]
        + [(code, "street", g) for code, g in cells.items()]
    )
    timings["build_index"] = time.perf_counter() - started
    return index, timings


def main() -> None:
    n_many, n_single = (10_000, 1_000) if quick() else (100_000, 10_000)
    index, timings = build_index()
    for step, seconds in timings.items():
        print(f"{step:20s} {seconds * 1000:8.1f} ms")
    print(f"index: {len(index)} polygons, levels {', '.join(index.levels)}")

    city = next(
        r
        for r in regionpack.read_pack([PACK / "guangzhou_districts_wgs84.geojson"]).records
        if r.level == "city"
    )
    minx, miny, maxx, maxy = city.geometry.bounds
    rng = np.random.default_rng(20221031)
    lons, lats = rng.uniform(minx, maxx, n_many), rng.uniform(miny, maxy, n_many)

    index.lookup_many(lons[:1000], lats[:1000])  # warm up
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        found = index.lookup_many(lons, lats)
        best = min(best, time.perf_counter() - started)
    many_rate = n_many / best
    in_city = sum(code is not None for code in found["district"])
    print(
        f"lookup_many: {n_many} points in {best * 1000:.1f} ms = {many_rate:,.0f} points/s "
        f"({in_city} inside a district)"
    )

    started = time.perf_counter()
    for lon, lat in zip(lons[:n_single].tolist(), lats[:n_single].tolist(), strict=True):
        index.lookup(lon, lat)
    single_seconds = time.perf_counter() - started
    single_rate = n_single / single_seconds
    print(
        f"lookup:      {n_single} points in {single_seconds * 1000:.1f} ms = "
        f"{single_rate:,.0f} points/s ({single_seconds / n_single * 1e6:.1f} µs each)"
    )

    report(
        "region_lookup",
        round(many_rate),
        unit="points/s",
        target=TARGET,
        baseline="single_lookup",
        ratio=round(many_rate / single_rate, 2),
    )


if __name__ == "__main__":
    main()
