"""Building the subscriber targeting index from PostgreSQL at 1,000,000 subscribers
(QUICK=1: 100,000) spread uniformly over Guangzhou (the shipped region pack: 11
districts, 178 streets), a third of them in population groups:

- old: the full rebuild the service did before (every row through the ORM into
  Python lists, a region lookup for every located subscriber, the grid sort) —
  what every location report cost the next targeting call; the baseline;
- full: `services.subscriber_index(full=True)` — one raw cursor read into numpy,
  the stored located region, no lookup;
- refresh: after 1 % of the subscribers moved (`subscribers.update_locations`, not
  timed), `services.subscriber_index()` patching only the changed rows in.

The patched index is checked against a full read (same recipients for a district,
a street, a drawn fence and a group rule). The database is a throw-away one
(bench_alerts_index on BENCH_PG_SERVER, default postgres://postgres@127.0.0.1:5432/),
dropped at the end.

Last line: one JSON object; figure = refresh ms (median), baseline = old full rebuild.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import pg_database, quick, report, run_worker

ROOT = Path(__file__).resolve().parents[1]
QUICK = quick()
N = int(os.environ.get("BENCH_SUBSCRIBERS") or (100_000 if QUICK else 1_000_000))
MOVED = N // 100
PG_DATABASE = "bench_alerts_index"


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def worker() -> None:  # noqa: PLR0915 - one linear script
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yingji.settings")
    import django

    django.setup()
    import numpy as np
    import shapely
    import shapely.geometry
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from yingji.alerts import services, subscribers, targeting
    from yingji.alerts.models import Subscriber, SubscriberGroup
    from yingji.core import audit, regions
    from yingji.core.models import Region

    call_command("migrate", verbosity=0, interactive=False)
    with audit.suspended():
        regions.load_pack("guangzhou")
    services.ensure_groups()
    rng = np.random.default_rng(2026)
    city = shapely.geometry.shape(Region.objects.get(code="440100").boundary)
    x0, y0, x1, y1 = city.bounds
    xs, ys, total = [], [], 0
    while total < N:
        bx, by = rng.uniform(x0, x1, 500_000), rng.uniform(y0, y1, 500_000)
        keep = shapely.contains_xy(city, bx, by)
        xs.append(bx[keep])
        ys.append(by[keep])
        total += int(keep.sum())
    lons, lats = np.concatenate(xs)[:N].round(6), np.concatenate(ys)[:N].round(6)
    started = time.perf_counter()
    located = services.located_codes(lons, lats)
    log(
        f"{N:,} points, region lookup (set-up, as update_locations stores it): "
        f"{time.perf_counter() - started:.1f} s"
    )
    districts = sorted(Region.objects.filter(level="district").values_list("code", flat=True))
    home = np.array(districts, dtype=object)[rng.integers(0, len(districts), N)]
    home[rng.random(N) < 0.5] = None
    opted = rng.random(N) < 0.01
    now = timezone.now().isoformat()

    started = time.perf_counter()
    raw = connection.connection  # psycopg 3: COPY is the fast way in; set-up, not measured
    with raw.cursor() as cursor:
        with cursor.copy(
            "COPY alerts_subscriber (external_id, name, phone, email, webhook_url, "
            "language, channels, home_region_id, last_lon, last_lat, located_at, "
            "located_region, opted_out, updated_at) FROM STDIN"
        ) as copy:
            lon_list, lat_list = lons.tolist(), lats.tolist()
            for s in range(0, N, 100_000):
                buf = io.StringIO()
                for i in range(s, min(s + 100_000, N)):
                    buf.write(
                        f"S{i:08d}\t订阅人{i}\t86139{i:08d}\t\t\tzh-CN\t[]\t"
                        f"{home[i] or chr(92) + 'N'}\t{lon_list[i]!r}\t{lat_list[i]!r}\t{now}\t"
                        f"{located[i]}\t{'t' if opted[i] else 'f'}\t{now}\n"
                    )
                copy.write(buf.getvalue())
        ids = np.array(
            [
                r[0]
                for r in cursor.execute(
                    "SELECT id FROM alerts_subscriber ORDER BY external_id"
                ).fetchall()
            ],
            dtype=np.int64,
        )
        group_ids = list(SubscriberGroup.objects.order_by("id").values_list("id", flat=True))
        members = np.flatnonzero(rng.random(N) < 1 / 3)
        with cursor.copy(
            "COPY alerts_subscriber_groups (subscriber_id, subscribergroup_id) FROM STDIN"
        ) as copy:
            copy.write("".join(f"{ids[i]}\t{group_ids[i % len(group_ids)]}\n" for i in members))
        cursor.execute("ANALYZE alerts_subscriber")
        cursor.execute("ANALYZE alerts_subscriber_groups")
    raw.commit() if not raw.autocommit else None
    log(
        f"COPY {N:,} subscribers, {len(members):,} memberships: "
        f"{time.perf_counter() - started:.1f} s"
    )

    def old_full_rebuild() -> targeting.SubscriberIndex:
        """The service's index build before located_region (commit c32d6a4)."""
        rows = list(
            Subscriber.objects.values_list(
                "id", "last_lon", "last_lat", "home_region_id", "opted_out"
            )
        )
        n = len(rows)
        ids_ = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
        lons_ = np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=np.float64)
        lats_ = np.array([np.nan if r[2] is None else r[2] for r in rows], dtype=np.float64)
        located_ = np.zeros(n, dtype=np.int64)
        known = np.isfinite(lons_) & np.isfinite(lats_)
        if known.any():
            found = regions.lookup_codes_many(lons_[known], lats_[known])
            codes = [s or d for s, d in zip(found["street"], found["district"], strict=True)]
            located_[known] = [targeting.code_int(c) for c in codes]
        home_ = np.array([targeting.code_int(r[3]) for r in rows], dtype=np.int64)
        opted_ = np.array([r[4] for r in rows], dtype=bool)
        bits = services.group_bits()
        position = {sid: i for i, sid in enumerate(ids_.tolist())}
        groups_ = np.zeros(n, dtype=np.uint64)
        for sid, gid in Subscriber.groups.through.objects.values_list(
            "subscriber_id", "subscribergroup_id"
        ):
            groups_[position[sid]] |= np.uint64(1 << bits[gid])
        return targeting.SubscriberIndex.build(ids_, lons_, lats_, located_, home_, groups_, opted_)

    def timed(fn, repeat: int) -> tuple[float, object]:
        times, result = [], None
        for _ in range(repeat):
            started = time.perf_counter()
            result = fn()
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times), result

    regions.lookup_codes_many([113.3], [23.1])  # the region index warm, as in a server
    old_ms, old_index = timed(old_full_rebuild, 3 if QUICK else 2)
    log(f"old full rebuild: {old_ms:.0f} ms")
    full_ms, full_index = timed(lambda: services.subscriber_index(full=True), 3)
    log(f"new full read: {full_ms:.0f} ms")

    tianhe = shapely.geometry.shape(Region.objects.get(code="440106").boundary)
    bits = list(services.group_bits().values())
    rules = [
        [targeting.Rule(region_codes=("440106",))],
        [targeting.Rule(region_codes=("440106011",))],
        [targeting.Rule(shapes=(tianhe.buffer(-0.01),))],
        [
            targeting.Rule(region_codes=("440104",), group_bits=(bits[1],)),
            targeting.Rule(group_bits=(bits[6],)),
        ],
    ]

    def answers(index):
        return [np.sort(index.resolve(r)) for r in rules]

    assert all(
        np.array_equal(a, b) for a, b in zip(answers(old_index), answers(full_index), strict=True)
    ), "old and new full differ"
    refresh_times, write_times = [], []
    for round_ in range(3):
        movers = rng.choice(N, MOVED, replace=False)
        mx, my = (
            lons[rng.integers(0, N, MOVED)] + rng.normal(0, 0.002, MOVED),
            lats[rng.integers(0, N, MOVED)] + rng.normal(0, 0.002, MOVED),
        )
        at = timezone.now()
        fixes = [
            subscribers.LocationFix(external_id=f"S{i:08d}", lon=float(x), lat=float(y), at=at)
            for i, x, y in zip(movers.tolist(), mx.tolist(), my.tolist(), strict=True)
        ]
        started = time.perf_counter()
        subscribers.update_locations(fixes)
        write_times.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        patched = services.subscriber_index()
        refresh_times.append((time.perf_counter() - started) * 1000)
        assert services.last_index_refresh() == "patched", services.last_index_refresh()
        log(
            f"round {round_ + 1}: update_locations {write_times[-1]:.0f} ms, "
            f"refresh {refresh_times[-1]:.0f} ms"
        )
    check = services.subscriber_index(full=True)
    assert all(
        np.array_equal(a, b) for a, b in zip(answers(patched), answers(check), strict=True)
    ), "patched != full"
    started = time.perf_counter()
    services.subscriber_index()
    cached_ms = (time.perf_counter() - started) * 1000
    print(
        json.dumps(
            {
                "subscribers": N,
                "moved": MOVED,
                "old_full_ms": round(old_ms),
                "full_ms": round(full_ms),
                "refresh_ms": round(statistics.median(refresh_times)),
                "refresh_all_ms": [round(t) for t in refresh_times],
                "update_locations_ms": round(statistics.median(write_times)),
                "unchanged_check_ms": round(cached_ms, 1),
            }
        )
    )


def main() -> None:
    with (
        pg_database(PG_DATABASE) as url,
        tempfile.TemporaryDirectory(prefix="bench-alerts-index-") as tmp,
    ):
        result = run_worker(
            __file__, {**os.environ, "DATABASE_URL": url, "YINGJI_VAR_DIR": tmp}, timeout=3600
        )
    if not result:
        raise SystemExit(1)
    result["load"] = os.getloadavg()[0]
    print(json.dumps(result))
    old, refresh = result["old_full_ms"], result["refresh_ms"]
    report(
        "alerts_index_refresh",
        refresh,
        unit="ms",
        target=f"refresh after 1% moved at {N:,} subscribers < 10% of the old full rebuild",
        baseline="old_full_rebuild",
        ratio=round(refresh / old, 4) if old else None,
        full_ms=result["full_ms"],
        old_full_ms=old,
    )


if __name__ == "__main__":
    worker() if "--worker" in sys.argv else main()
