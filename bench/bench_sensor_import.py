"""Importing a third-party sensor network (issue 14): 100,000 stations from a CSV in
a foreign layout under a column mapping (target < 30 s: read, map, check, locate,
scope, write, audit), then 1,000,000 readings from CSV stored on PostgreSQL through
COPY, with units converted (target ≥ 100,000 readings/s); the same readings without
conversion (all already in the sensor's unit) are measured in the same run as the
baseline. QUICK=1: 20,000 stations and 200,000 readings.

Runs in a subprocess on a throw-away PostgreSQL database bench_sensor_import
(BENCH_PG_SERVER, default postgres://postgres@127.0.0.1:5432/, dropped afterwards);
when PostgreSQL does not answer, on a SQLite file (said in the result).

The readings file with units mixes centimetres and metres for the water-level
gauges (every other station in cm, converted to the sensor's m by units.py).

Last line: one JSON object; figure = readings/s with units converted, baseline =
the same without conversion, ratio = figure / baseline; stations_s beside it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from _common import pg_database, pg_problem, quick, report, run_worker, worker_env

ROOT = Path(__file__).resolve().parents[1]
QUICK = quick()
STATIONS = 20_000 if QUICK else 100_000
READINGS = 200_000 if QUICK else 1_000_000
READING_STATIONS = 2_000 if QUICK else 10_000
PG_DATABASE = "bench_sensor_import"
MAP = "code=测站编码,name=测站名称,lat=纬度,lon=经度,unit=单位,typical_high=常年高值,typical_low=常年低值,region=行政区划代码"


def _regions() -> None:
    """A 10 × 10 grid of streets in 10 districts over the city (square boundaries)."""
    from yingji.core import regions
    from yingji.core.models import Region

    def square(lon, lat, d, h=None):
        h = d if h is None else h
        ring = [[lon, lat], [lon + d, lat], [lon + d, lat + h], [lon, lat + h], [lon, lat]]
        return {"type": "Polygon", "coordinates": [ring]}

    city = Region.objects.create(
        code="440100", name="广州市", level="city", boundary=square(113.0, 22.6, 1.0)
    )
    for i in range(10):
        district = Region.objects.create(
            code=f"4401{i + 1:02d}",
            name=f"第{i + 1}区",
            level="district",
            parent=city,
            boundary=square(113.0 + 0.1 * i, 22.6, 0.1, 1.0),
        )
        for j in range(10):
            Region.objects.create(
                code=f"{district.code}{j + 1:03d}",
                name=f"第{i + 1}区第{j + 1}街",
                level="street",
                parent=district,
                boundary=square(113.0 + 0.1 * i, 22.6 + 0.1 * j, 0.1),
            )
    regions.invalidate_index()


def _stations_csv(path: Path, rng: random.Random) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("测站编码,测站名称,纬度,经度,单位,常年高值,常年低值,行政区划代码,备注\n")
        for i in range(STATIONS):
            district = f"4401{rng.randrange(1, 11):02d}"
            if i % 100 == 99:  # 1 % without coordinates: placed at their district's centre
                lat = lon = ""
            else:
                lon = f"{113.0 + rng.random():.6f}"
                lat = f"{22.6 + rng.random():.6f}"
            fh.write(
                f"ST{i:06d},测站{i},{lat},{lon},m,{2 + rng.random():.2f},"
                f"{rng.random() / 2:.2f},{district},第三方\n"
            )


def _readings_csv(path: Path, rng: random.Random, mixed_units: bool) -> None:
    per_station = READINGS // READING_STATIONS
    with path.open("w", encoding="utf-8") as fh:
        fh.write("测站,观测时间,要素,观测值,单位\n")
        for step in range(per_station):
            ts = (dt.datetime(2026, 7, 1) + dt.timedelta(minutes=5 * step)).strftime(
                "%Y-%m-%d %H:%M"
            )
            lines = []
            for s in range(READING_STATIONS):
                metres = 1 + rng.random()
                if mixed_units and s % 2:
                    lines.append(f"ST{s:06d},{ts},水位,{metres * 100:.1f},cm\n")
                else:
                    lines.append(f"ST{s:06d},{ts},水位,{metres:.3f},m\n")
            fh.write("".join(lines))


def _profiler():
    """PROFILE=1: cProfile around each measured step (its top 25 on stdout)."""
    if os.environ.get("PROFILE") != "1":
        return None
    import cProfile

    prof = cProfile.Profile()
    prof.enable()
    return prof


def _show(prof) -> None:
    if prof is None:
        return
    import pstats

    prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


def worker() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yingji.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from yingji.core import audit
    from yingji.monitoring import mapping, sensorimport
    from yingji.monitoring.models import Reading, Sensor

    t = time.perf_counter()
    # The apps the import needs (core's audit chain, monitoring), not the whole project.
    for app in ("contenttypes", "auth", "core", "monitoring"):
        call_command("migrate", app, verbosity=0, interactive=False)
    print(f"    migrated in {time.perf_counter() - t:.1f} s", flush=True)
    with audit.suspended():
        _regions()
    rng = random.Random(14)
    with tempfile.TemporaryDirectory(prefix="bench-sensor-import-") as tmp:
        stations = Path(tmp) / "stations.csv"
        _stations_csv(stations, rng)
        prof = _profiler()
        t = time.perf_counter()
        plan, result = sensorimport.import_stations(
            stations, mapping.parse_spec(MAP), no_coords="region", default_type="water_level"
        )
        stations_s = time.perf_counter() - t
        _show(prof)
        assert result.created == STATIONS and not plan.problems, result.summary()
        print(f"    {STATIONS:,} stations in {stations_s:.1f} s ({result.summary()})", flush=True)
        assert Sensor.objects.filter(district__isnull=False).count() == STATIONS

        plain, converted = Path(tmp) / "plain.csv", Path(tmp) / "units.csv"
        _readings_csv(plain, random.Random(1), mixed_units=False)
        _readings_csv(converted, random.Random(1), mixed_units=True)
        given = mapping.parse_spec(
            "sensor=测站,ts=观测时间,parameter=要素,value=观测值,unit=单位", mapping.READING_FIELDS
        )

        def run(path: Path, convert: bool) -> float:
            with connection.cursor() as cur:  # TRUNCATE: DELETE's dead rows slow the next run
                cur.execute(
                    "TRUNCATE monitoring_reading"
                    if connection.vendor == "postgresql"
                    else "DELETE FROM monitoring_reading"
                )
            prof = _profiler()
            t = time.perf_counter()
            r = sensorimport.import_readings(path, given, convert_units=convert)
            seconds = time.perf_counter() - t
            _show(prof)
            assert r.stored == READINGS and not r.dead_lettered, r.summary()
            return seconds

        # Interleaved, best of two each: the two figures see the same machine.
        base, conv = [], []
        for order in ((False, True), (True, False)):
            for convert in order:
                (conv if convert else base).append(run(converted if convert else plain, convert))
            print(f"    readings: plain {base[-1]:.2f} s, with units {conv[-1]:.2f} s", flush=True)
        assert Reading.objects.count() == READINGS
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "stations": STATIONS,
                "stations_s": round(stations_s, 2),
                "readings": READINGS,
                "units_per_s": round(READINGS / min(conv)),
                "plain_per_s": round(READINGS / min(base)),
            }
        )
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-sensor-import-") as var:
        problem = pg_problem()
        if problem is None:
            with pg_database(PG_DATABASE) as url:
                result = run_worker(__file__, worker_env(var, url), timeout=3600)
        else:
            print(f"PostgreSQL unavailable ({problem}): SQLite", file=sys.stderr)
            if os.environ.get("CI") == "true":
                raise SystemExit(1)
            result = run_worker(
                __file__, worker_env(var, f"sqlite:///{var}/bench.sqlite3"), timeout=3600
            )
    if not result:
        raise SystemExit(1)
    report(
        "sensor_import",
        result["units_per_s"],
        unit="readings/s",
        target=">= 100,000 readings/s (PostgreSQL, COPY, units converted); stations < 30 s",
        baseline="the same readings without unit conversion",
        ratio=round(result["units_per_s"] / result["plain_per_s"], 3),
        baseline_per_s=result["plain_per_s"],
        stations=result["stations"],
        stations_s=result["stations_s"],
        stations_target_s=30,
        readings=result["readings"],
        database=result["database"],
    )


if __name__ == "__main__":
    worker() if "--worker" in sys.argv else main()
