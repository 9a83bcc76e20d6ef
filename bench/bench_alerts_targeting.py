"""Recipient resolution over 10,000,000 subscribers (QUICK=1: 1,000,000) spread
uniformly over Guangzhou: a district-sized drawn fence (Tianhe's boundary as a
polygon) and a city-wide release, with the precomputed index
(yingji.alerts.targeting), against PostgreSQL/PostGIS (ST_Contains with a GiST
index) in the same run and shapely's contains_xy over every point.

PostGIS: when the extension is missing, this script tries
`apt-get install -y postgresql-15-postgis-3`; if that fails the PostGIS side is
printed as unavailable and the benchmark still runs. Database from
BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres); the points go
into a database of their own (bench_alerts_postgis), dropped at the end.

Last line: one JSON object; figure = Tianhe fence p50 in ms, baseline = PostGIS.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import shapely
import shapely.geometry

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from _common import quick, report  # noqa: E402

from yingji.alerts import targeting  # noqa: E402
from yingji.core import geo  # noqa: E402

QUICK = quick()
N = int(os.environ.get("BENCH_POINTS") or (1_000_000 if QUICK else 10_000_000))
REPEAT = 5 if QUICK else 7
DISTRICTS = ROOT / "src/yingji/core/data/regions/guangzhou/guangzhou_districts_wgs84.geojson"
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
TIANHE = "440106"


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def load_regions() -> tuple[shapely.Geometry, dict[str, shapely.Geometry]]:
    data = json.loads(DISTRICTS.read_text())
    city, districts = None, {}
    for feature in data["features"]:
        props, shape = feature["properties"], shapely.geometry.shape(feature["geometry"])
        if props["level"] == "city":
            city = shape
        elif props["level"] == "district":
            districts[str(props["code"])] = shape
    return city, districts


def uniform_points(city: shapely.Geometry, n: int, rng: np.random.Generator):
    x0, y0, x1, y1 = city.bounds
    shapely.prepare(city)
    xs, ys, total = [], [], 0
    while total < n:
        bx, by = rng.uniform(x0, x1, 2_000_000), rng.uniform(y0, y1, 2_000_000)
        keep = shapely.contains_xy(city, bx, by)
        xs.append(bx[keep])
        ys.append(by[keep])
        total += int(keep.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def timed(fn, repeat: int = REPEAT) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


# ------------------------------------------------------------------- PostGIS


def _psql(url: str, sql: str) -> str:
    return subprocess.run(
        ["psql", url, "-Atqc", sql], capture_output=True, text=True, check=True, timeout=600
    ).stdout.strip()


def ensure_postgis() -> str | None:
    """None when PostGIS is ready, else the reason it is unavailable."""
    query = "select count(*) from pg_available_extensions where name='postgis'"
    try:
        if _psql(PG_URL, query) == "1":
            return None
    except (subprocess.SubprocessError, FileNotFoundError) as exc:
        return f"PostgreSQL unreachable: {exc}"
    log("PostGIS missing: apt-get install -y postgresql-15-postgis-3 …")
    try:
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "postgresql-15-postgis-3"],
            capture_output=True,
            check=True,
            timeout=900,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    except (subprocess.SubprocessError, FileNotFoundError) as exc:
        return f"apt-get install failed: {exc}"
    return None if _psql(PG_URL, query) == "1" else "postgis still not available after install"


def postgis_side(lons, lats, tianhe_wkt: str, city_wkt: str) -> dict:
    import psycopg

    reason = ensure_postgis()
    if reason:
        return {"available": False, "reason": reason}
    base = PG_URL.rsplit("/", 1)[0]
    db_url = f"{base}/bench_alerts_postgis"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS bench_alerts_postgis")
        admin.execute("CREATE DATABASE bench_alerts_postgis")
    try:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute("CREATE UNLOGGED TABLE subscriber (id bigint, lon float8, lat float8)")
            started = time.perf_counter()
            with conn.cursor().copy("COPY subscriber (id, lon, lat) FROM STDIN") as copy:
                step = 200_000
                for s in range(0, len(lons), step):
                    chunk = "".join(
                        f"{i}\t{x!r}\t{y!r}\n"
                        for i, x, y in zip(
                            range(s, s + step),
                            lons[s : s + step].tolist(),
                            lats[s : s + step].tolist(),
                            strict=False,
                        )
                    )
                    copy.write(chunk)
            conn.execute("ALTER TABLE subscriber ADD COLUMN geom geometry(Point, 4326)")
            conn.execute("UPDATE subscriber SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4326)")
            conn.execute("CREATE INDEX ON subscriber USING gist (geom)")
            conn.execute("VACUUM ANALYZE subscriber")
            log(f"PostGIS load + GiST index: {time.perf_counter() - started:.0f} s")

            def count(wkt: str):
                def run():
                    return conn.execute(
                        "SELECT count(*) FROM subscriber WHERE ST_Contains("
                        "ST_GeomFromText(%s, 4326), geom)",
                        (wkt,),
                    ).fetchone()[0]

                return run

            tianhe_ms, tianhe_n = timed(count(tianhe_wkt), 3)
            city_ms, city_n = timed(count(city_wkt), 1 if not QUICK else 2)
        return {
            "available": True,
            "tianhe_ms": round(tianhe_ms, 1),
            "tianhe_n": tianhe_n,
            "city_ms": round(city_ms, 1),
            "city_n": city_n,
        }
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS bench_alerts_postgis WITH (FORCE)")


# ---------------------------------------------------------------------- main


def main() -> None:
    rng = np.random.default_rng(2026)
    city, districts = load_regions()
    tianhe = districts[TIANHE]
    started = time.perf_counter()
    lons, lats = uniform_points(city, N, rng)
    log(f"{N:,} points in {time.perf_counter() - started:.1f} s")

    # Precompute: each point's district (the one region lookup's index), groups, opt-outs.
    started = time.perf_counter()
    index_regions = geo.RegionIndex([(c, "district", g) for c, g in districts.items()])
    located = np.zeros(N, dtype=np.int64)
    for s in range(0, N, 1_000_000):
        codes = index_regions.lookup_many(lons[s : s + 1_000_000], lats[s : s + 1_000_000])[
            "district"
        ]
        located[s : s + 1_000_000] = [targeting.code_int(c) for c in codes]
    groups = rng.integers(0, 1 << 9, N).astype(np.uint64)
    opted = rng.random(N) < 0.01
    index = targeting.SubscriberIndex.build(
        np.arange(N), lons, lats, located, np.zeros(N, dtype=np.int64), groups, opted
    )
    build_s = time.perf_counter() - started
    log(f"index build (lookup + sort): {build_s:.1f} s")

    fence = [targeting.Rule(shapes=(tianhe,))]
    citywide = [targeting.Rule(region_codes=("440100",))]
    fence_ms, fence_ids = timed(lambda: index.resolve(fence))
    city_ms, city_ids = timed(lambda: index.resolve(citywide))
    by_code_ms, _ = timed(lambda: index.resolve([targeting.Rule(region_codes=(TIANHE,))]))
    log(
        f"index: Tianhe fence {fence_ms:.1f} ms ({len(fence_ids):,}), city-wide "
        f"{city_ms:.1f} ms ({len(city_ids):,}), Tianhe by code {by_code_ms:.1f} ms"
    )

    shapely.prepare(tianhe)
    naive_ms, naive = timed(lambda: np.flatnonzero(shapely.contains_xy(tianhe, lons, lats)), 2)
    naive_city_ms, _ = timed(lambda: np.flatnonzero(shapely.contains_xy(city, lons, lats)), 1)
    exact = set(
        np.flatnonzero(
            shapely.contains_xy(tianhe, index.lons, index.lats) & ~index.opted_out
        ).tolist()
    )
    assert set(np.flatnonzero(np.isin(index.ids, fence_ids)).tolist()) == exact, "fence mismatch"
    log(
        f"shapely contains_xy over every point: Tianhe {naive_ms:.0f} ms, city {naive_city_ms:.0f} ms"
    )

    if os.environ.get("BENCH_POSTGIS") == "0":
        pg = {"available": False, "reason": "skipped (BENCH_POSTGIS=0)"}
    else:
        pg = postgis_side(lons, lats, shapely.to_wkt(tianhe), shapely.to_wkt(city))
    if pg["available"]:
        log(
            f"PostGIS: Tianhe {pg['tianhe_ms']} ms ({pg['tianhe_n']:,}), city {pg['city_ms']} ms "
            f"({pg['city_n']:,}); index is {pg['tianhe_ms'] / fence_ms:.0f}x / "
            f"{pg['city_ms'] / city_ms:.0f}x faster"
        )
    else:
        log(f"PostGIS unavailable: {pg['reason']}")
    print(
        json.dumps(
            {
                "points": N,
                "index_build_s": round(build_s, 1),
                "tianhe_fence_ms": round(fence_ms, 1),
                "tianhe_n": len(fence_ids),
                "citywide_ms": round(city_ms, 1),
                "citywide_n": len(city_ids),
                "tianhe_by_code_ms": round(by_code_ms, 1),
                "shapely_all_points_ms": {"tianhe": round(naive_ms), "city": round(naive_city_ms)},
                "postgis": pg,
            },
            ensure_ascii=False,
        )
    )
    baseline = pg.get("tianhe_ms") if pg["available"] else None
    report(
        "alerts_targeting_tianhe_fence",
        round(fence_ms, 1),
        unit="ms",
        target="< 100 ms (city-wide < 500 ms), >= 10x faster than PostGIS",
        baseline="postgis_st_contains_gist" if baseline else None,
        ratio=round(fence_ms / baseline, 4) if baseline else None,
    )


if __name__ == "__main__":
    main()
