"""Benchmark: the command screen's update (指挥大屏, issue 25).

The requirement: the command screen's update payload under 200 ms to build with
1,000 events, 10,000 resources and 160,000 sensors, and under 100 KB per update.

A worker subprocess (this script --worker, its own DATABASE_URL and YINGJI_VAR_DIR)
on a throw-away PostgreSQL database (`yingji_bench_command_<pid>` on
BENCH_PG_SERVER, dropped afterwards) migrates, loads Guangzhou's regions, and
bulk-creates a city in a storm:

- 160,000 sensors around the streets' centres, one alarm rule;
- 1,000 open monitoring events, each with two sensors in alarm (2,000 firing
  alarms at every level) and the sensors' last six readings;
- 10,000 resources: 6,000 teams, 1,500 warehouses, 2,000 shelters (200 open and
  occupied), 300 hospitals, 200 helipads;
- 50 incidents responding with 200 dispatch orders under way, 400 action cards
  (half not acknowledged) to 100 street offices, 500 timeline entries; 10
  warnings in force on 30 district and street areas; the duty shift;
- then ANALYZE on PostgreSQL (the statistics a running database has).

Then, through `core.command.build_update` (every registered feed, as the view
calls it) for the duty officer:

- the full update (a screen that holds nothing: every layer whole), N times:
  build p95 (the headline figure; target 200 ms) and its size, raw and gzip
  (target 100 KB); the first, cold build (the per-street resource counts) apart;
- the incremental update (a screen holding the last versions, one event rising
  a level and one sensor's reading between polls), N times: build p95 and size;
- the unchanged poll: its size;
- GET /command/update through Django's test Client (full middleware), N times.

    .venv/bin/python bench/bench_command.py          # 30 of each
    QUICK=1 .venv/bin/python bench/bench_command.py  # a tenth of the data, 10 of each

PostgreSQL unreachable: said, and the run falls back to a SQLite file (the
figures then say "database": "sqlite"); under CI=true that is an error.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    PG_SERVER,
    ROOT,
    percentile,
    pg_database,
    pg_problem,
    quick,
    report,
    run_worker,
    worker_env,
)

PG_DATABASE = f"yingji_bench_command_{os.getpid()}"
BUILD_TARGET_MS = 200
PAYLOAD_TARGET_KB = 100
SEED = 25


def _sizes() -> dict:
    if quick():
        return {"sensors": 16_000, "events": 100, "resources": 1_000, "runs": 10}
    return {"sensors": 160_000, "events": 1_000, "resources": 10_000, "runs": 30}


# ---------------------------------------------------------------- worker


def _setup(sizes: dict) -> dict:
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from yingji.alerts.models import Alert, AlertArea
    from yingji.core import audit
    from yingji.core.models import Department, DepartmentKind, Profile, Region, Role
    from yingji.monitoring.models import Alarm, AlarmRule, Event, Reading, Sensor
    from yingji.response.models import (
        ActionCard,
        Activation,
        DispatchOrder,
        DutyShift,
        EmergencyPlan,
        Helipad,
        Hospital,
        Incident,
        RescueTeam,
        Shelter,
        TimelineEntry,
        Warehouse,
    )

    rnd = random.Random(SEED)
    quiet = {"verbosity": 0, "stdout": open(os.devnull, "w")}  # noqa: SIM115
    call_command("migrate", interactive=False, **quiet)
    call_command("regions", "load", "guangzhou", **quiet)
    now = timezone.now()
    now_ms = int(now.timestamp() * 1000)
    streets = list(
        Region.objects.filter(level="street", centroid_lon__isnull=False)
        .order_by("code")
        .values_list("code", "parent_id", "centroid_lon", "centroid_lat")
    )

    def near(street, spread=0.01):
        _, _, lon, lat = street
        return lon + rnd.uniform(-spread, spread), lat + rnd.uniform(-spread, spread)

    User = get_user_model()
    with audit.suspended():
        duty = User.objects.create_user("bench-duty", password="bench-pw-123")
        Profile.objects.create(user=duty, role=Role.DUTY_OFFICER, full_name="值班员")
        leader = User.objects.create_user("bench-leader", password="bench-pw-123")
        Profile.objects.create(user=leader, role=Role.LEADER, full_name="带班领导")
        DutyShift.objects.create(
            starts_at=now - dt.timedelta(hours=2),
            ends_at=now + dt.timedelta(hours=22),
            officer=duty,
            leader=leader,
        )
        # Sensors: 160,000 around the streets' centres.
        placed = [rnd.choice(streets) for _ in range(sizes["sensors"])]
        sensors = []
        for i, street in enumerate(placed):
            lon, lat = near(street)
            kind = "rain" if i % 2 else "waterlogging"
            sensors.append(
                Sensor(
                    code=f"B-{i:06d}",
                    name=f"基准传感器{i:06d}",
                    type=kind,
                    unit="mm" if kind == "rain" else "cm",
                    lon=lon,
                    lat=lat,
                    district_id=street[1],
                    street_id=street[0],
                    last_seen_ms=now_ms - rnd.randint(0, 600_000),
                    last_value=rnd.uniform(0, 50),
                )
            )
        Sensor.objects.bulk_create(sensors, batch_size=5000)
        sensor_rows = list(
            Sensor.objects.order_by("pk").values_list("pk", "street_id", "district_id")
        )
        rule = AlarmRule.objects.create(name="基准规则", sensor_type="rain", metric="value", red=80)
        # 1,000 open events, two sensors in alarm each.
        levels = ["blue", "yellow", "orange", "red"]
        chosen = rnd.sample(sensor_rows, 2 * sizes["events"])
        events = Event.objects.bulk_create(
            [
                Event(
                    hazard="rainstorm",
                    district_id=chosen[2 * e][2],
                    area_codes=[chosen[2 * e][1], chosen[2 * e + 1][1]],
                    level=levels[e % 4],
                    max_level=levels[e % 4],
                    started_at=now - dt.timedelta(minutes=rnd.randint(1, 600)),
                    changed_at=now,
                )
                for e in range(sizes["events"])
            ],
            batch_size=2000,
        )
        alarms = []
        for e, event in enumerate(events):
            for k in (0, 1):
                sid, street, district = chosen[2 * e + k]
                alarms.append(
                    Alarm(
                        rule=rule,
                        sensor_id=sid,
                        district_code=district,
                        street_code=street,
                        hazard="rainstorm",
                        state="firing",
                        level=levels[(e + k) % 4],
                        max_level=levels[(e + k) % 4],
                        value=90.0,
                        active_key=f"b:{sid}",
                        started_at=event.started_at,
                        fired_at=event.started_at,
                        event=event,
                    )
                )
        Alarm.objects.bulk_create(alarms, batch_size=2000)
        Reading.objects.bulk_create(
            [
                Reading(sensor_id=sid, ts_ms=now_ms - m * 600_000, value=rnd.uniform(0, 40))
                for sid, _, _ in chosen
                for m in range(6)
            ],
            batch_size=5000,
        )
        # 10,000 resources.
        n = sizes["resources"]
        counts = {
            "team": n * 60 // 100,
            "warehouse": n * 15 // 100,
            "shelter": n * 20 // 100,
            "hospital": n * 3 // 100,
        }
        counts["helipad"] = n - sum(counts.values())
        RescueTeam.objects.bulk_create(
            [
                RescueTeam(name=f"基准队伍{i}", members=20, lon=lon, lat=lat, available=i % 5 != 0)
                for i in range(counts["team"])
                for lon, lat in [near(rnd.choice(streets))]
            ],
            batch_size=5000,
        )
        Warehouse.objects.bulk_create(
            [
                Warehouse(name=f"基准仓库{i}", lon=lon, lat=lat)
                for i in range(counts["warehouse"])
                for lon, lat in [near(rnd.choice(streets))]
            ]
        )
        shelters = []
        for i in range(counts["shelter"]):
            street = rnd.choice(streets)
            lon, lat = near(street)
            open_ = i < counts["shelter"] // 10
            shelters.append(
                Shelter(
                    name=f"基准避护场所{i}",
                    lon=lon,
                    lat=lat,
                    capacity=1000,
                    is_open=open_,
                    occupancy=rnd.randint(0, 1000) if open_ else 0,
                    street_id=street[0],
                )
            )
        Shelter.objects.bulk_create(shelters)
        Hospital.objects.bulk_create(
            [
                Hospital(name=f"基准医院{i}", lon=lon, lat=lat)
                for i in range(counts["hospital"])
                for lon, lat in [near(rnd.choice(streets))]
            ]
        )
        Helipad.objects.bulk_create(
            [
                Helipad(name=f"基准停机坪{i}", lon=lon, lat=lat)
                for i in range(counts["helipad"])
                for lon, lat in [near(rnd.choice(streets))]
            ]
        )
        # Incidents, dispatches, cards, timeline.
        plan = EmergencyPlan.objects.create(title="基准预案", status="active")
        offices = Department.objects.bulk_create(
            [
                Department(
                    name=f"基准镇街应急办{i}", kind=DepartmentKind.STREET_OFFICE, region_id=s[0]
                )
                for i, s in enumerate(streets[:100])
            ]
        )
        incidents = []
        for i in range(50):
            lon, lat = near(rnd.choice(streets))
            incidents.append(
                Incident(
                    title=f"基准突发事件{i}",
                    category="自然灾害",
                    incident_type="暴雨",
                    occurred_at=now - dt.timedelta(hours=1),
                    lon=lon,
                    lat=lat,
                    level=["I", "II", "III", "IV"][i % 4],
                    status="responding",
                )
            )
        incidents = Incident.objects.bulk_create(incidents)
        teams = list(RescueTeam.objects.order_by("pk")[:200])
        DispatchOrder.objects.bulk_create(
            [
                DispatchOrder(
                    incident=incidents[i % 50],
                    team=team,
                    state=["ordered", "en_route", "on_scene"][i % 3],
                    distance_km=5.0,
                    ordered_at=now,
                )
                for i, team in enumerate(teams)
            ]
        )
        activations = Activation.objects.bulk_create(
            [Activation(plan=plan, incident=inc, level="II", activated_at=now) for inc in incidents]
        )
        ActionCard.objects.bulk_create(
            [
                ActionCard(
                    activation=activations[i % 50],
                    department=offices[i % 100],
                    level="II",
                    title="巡查转移",
                    state="issued" if i % 2 else "acknowledged",
                    issued_at=now - dt.timedelta(minutes=rnd.randint(0, 60)),
                    ack_minutes=15,
                    limit_minutes=60,
                )
                for i in range(400)
            ]
        )
        TimelineEntry.objects.bulk_create(
            [
                TimelineEntry(
                    incident=incidents[i % 50],
                    at=now - dt.timedelta(minutes=i),
                    kind="report",
                    text=f"续报第 {i} 条:现场积水,人员转移中",
                )
                for i in range(500)
            ]
        )
        districts = list(Region.objects.filter(level="district").values_list("code", flat=True))
        for i in range(10):
            alert = Alert.objects.create(
                identifier=f"bench-{i}",
                sender="bench",
                state="published",
                hazard="暴雨",
                colour=levels[i % 4],
                event="暴雨预警",
                headline=f"基准暴雨预警{i}",
                description="基准",
                sent=now - dt.timedelta(minutes=i),
                expires=now + dt.timedelta(hours=6),
            )
            codes = [districts[i % len(districts)], streets[i][0], streets[i + 20][0]]
            AlertArea.objects.bulk_create(
                [
                    AlertArea(alert=alert, kind="region", region_id=code, description=code)
                    for code in codes
                ]
            )
    # Statistics, as a database that has been running has them (autovacuum would
    # analyse these tables soon after such inserts; the plans depend on it).
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    return {"duty": duty, "events": [e.pk for e in events], "readers": [c[0] for c in chosen]}


def _kb(text: str) -> float:
    return round(len(text.encode()) / 1024, 1)


def _gzip_kb(text: str) -> float:
    return round(len(gzip.compress(text.encode(), 6)) / 1024, 1)


def _ctx(user):
    from django.utils import timezone

    from yingji.core import command, scope

    return command.Context(user=user, scope=scope.scope_for(user), now=timezone.now())


def _versions(update: dict, known: dict) -> dict:
    out = dict(known)
    for key, change in update["f"].items():
        out[key] = change["v"]
    return out


def _measure(data: dict, sizes: dict) -> dict:
    from django.test import Client

    from yingji.core import command
    from yingji.monitoring.models import Alarm, Event, Sensor

    duty = data["duty"]
    runs = sizes["runs"]
    # Cold: the first build (per-street resource counts, region index).
    t0 = time.perf_counter()
    first = command.build_update(_ctx(duty), {})
    cold_ms = (time.perf_counter() - t0) * 1000
    text = command.encode(first)
    per_feed = {k: _kb(command.encode(v)) for k, v in first["f"].items()}
    counts = {k: len(v.get("full", [])) for k, v in first["f"].items() if "full" in v}
    print(f"  cold build {cold_ms:.0f} ms, {_kb(text)} KB; per feed KB {per_feed}", flush=True)
    print(f"  marks per layer: {counts}", flush=True)
    # Full updates (a screen that holds nothing).
    full_ms, full_cpu, full_sizes = [], [], []
    by_feed: dict[str, list[float]] = {}
    for _ in range(runs):
        timings: dict[str, float] = {}
        t0, c0 = time.perf_counter(), time.process_time()
        update = command.build_update(_ctx(duty), {}, timings=timings)
        text = command.encode(update)
        full_ms.append((time.perf_counter() - t0) * 1000)
        full_cpu.append((time.process_time() - c0) * 1000)
        full_sizes.append(text)
        for key, ms in timings.items():
            by_feed.setdefault(key, []).append(ms)
    feed_ms = {k: round(statistics.median(v), 1) for k, v in by_feed.items()}
    print(f"  full build, median ms per feed: {feed_ms}", flush=True)
    full_text = full_sizes[-1]
    known = _versions(update, {})
    # Incremental: one event rises a level, one sensor reads, between polls.
    inc_ms, inc_kb, inc_gz = [], [], []
    levels = ["blue", "yellow", "orange", "red"]
    for i in range(runs):
        event_id = data["events"][i % len(data["events"])]
        level = levels[(i + 1) % 4]
        Event.objects.filter(pk=event_id).update(level=level, max_level=level)
        Alarm.objects.filter(event_id=event_id).update(level=level)
        Sensor.objects.filter(pk=data["readers"][0]).update(last_value=float(i))
        t0 = time.perf_counter()
        update = command.build_update(_ctx(duty), known)
        text = command.encode(update)
        inc_ms.append((time.perf_counter() - t0) * 1000)
        inc_kb.append(_kb(text))
        inc_gz.append(_gzip_kb(text))
        known = _versions(update, known)
    changed_feeds = sorted(update["f"])
    unchanged = command.encode(command.build_update(_ctx(duty), known))
    # Through the view (middleware, session, JSON response), a full update each time.
    client = Client()
    client.force_login(duty)
    for _ in range(3):
        assert client.get("/command/update").status_code == 200
    view_ms = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = client.get("/command/update")
        view_ms.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.status_code
    page = client.get("/command/")
    assert page.status_code == 200
    regions = client.get("/command/regions")
    return {
        "cold_ms": round(cold_ms, 1),
        "full": {
            "p50": round(statistics.median(full_ms), 1),
            "p95": round(percentile(full_ms, 95), 1),
            "max": round(max(full_ms), 1),
            "cpu_p50": round(statistics.median(full_cpu), 1),
            "kb": _kb(full_text),
            "gzip_kb": _gzip_kb(full_text),
            "per_feed_kb": per_feed,
            "per_feed_ms": feed_ms,
            "marks": counts,
        },
        "incremental": {
            "p50": round(statistics.median(inc_ms), 1),
            "p95": round(percentile(inc_ms, 95), 1),
            "kb_p95": round(percentile(inc_kb, 95), 1),
            "gzip_kb_p95": round(percentile(inc_gz, 95), 1),
            "changed_feeds": changed_feeds,
        },
        "unchanged_bytes": len(unchanged.encode()),
        "view": {
            "p50": round(statistics.median(view_ms), 1),
            "p95": round(percentile(view_ms, 95), 1),
        },
        "regions_kb": round(len(regions.content) / 1024, 1),
    }


def worker() -> None:
    import django

    sys.path.insert(0, str(ROOT / "src"))
    django.setup()
    from django.db import connection

    sizes = _sizes()
    started = time.perf_counter()
    data = _setup(sizes)
    print(
        f"  [{connection.vendor}] set-up {time.perf_counter() - started:.1f} s: "
        f"{sizes['sensors']} sensors, {sizes['events']} events, {sizes['resources']} resources",
        flush=True,
    )
    load = os.getloadavg()[0]  # the machine is shared: the figures depend on it
    result = _measure(data, sizes)
    load = round(max(load, os.getloadavg()[0]), 1)
    print(
        json.dumps({"vendor": connection.vendor, "sizes": sizes, "load": load, **result}),
        flush=True,
    )


# ---------------------------------------------------------------- driver


def main() -> int:
    started = time.perf_counter()
    sizes = _sizes()
    print(
        f"command: the update with {sizes['events']} events, {sizes['resources']} resources, "
        f"{sizes['sensors']} sensors{' (QUICK)' if quick() else ''}",
        flush=True,
    )
    problem = pg_problem()
    with tempfile.TemporaryDirectory(prefix="yingji-bench-command-") as tmp:
        if problem is None:
            with pg_database(PG_DATABASE) as url:
                result = run_worker(
                    Path(__file__).resolve(), worker_env(tmp, url), timeout=900, cwd=tmp
                )
        else:
            print(f"PostgreSQL UNREACHABLE at {PG_SERVER} ({problem}): SQLite", flush=True)
            if os.environ.get("CI") == "true":
                return 1
            result = run_worker(
                Path(__file__).resolve(),
                worker_env(tmp, f"sqlite:///{tmp}/bench.sqlite3"),
                timeout=900,
                cwd=tmp,
            )
    if not result:
        print("the worker failed (its errors are above)", file=sys.stderr)
        return 1
    full, inc = result["full"], result["incremental"]
    print()
    print(
        f"full update: build p95 {full['p95']} ms (p50 {full['p50']}, cold {result['cold_ms']}, "
        f"this process's CPU p50 {full['cpu_p50']} ms; target {BUILD_TARGET_MS} ms), "
        f"{full['kb']} KB ({full['gzip_kb']} KB gzip; target {PAYLOAD_TARGET_KB} KB)"
    )
    print(
        f"incremental update: build p95 {inc['p95']} ms, {inc['kb_p95']} KB p95 "
        f"({inc['gzip_kb_p95']} KB gzip); unchanged poll {result['unchanged_bytes']} bytes"
    )
    print(
        f"GET /command/update p95 {result['view']['p95']} ms; region outlines once {result['regions_kb']} KB"
    )
    print(f"total {time.perf_counter() - started:.0f} s")
    report(
        "command_update_build",
        full["p95"],
        unit="ms",
        target=BUILD_TARGET_MS,
        database=result["vendor"],
        events=result["sizes"]["events"],
        resources=result["sizes"]["resources"],
        sensors=result["sizes"]["sensors"],
        payload_kb=full["kb"],
        payload_gzip_kb=full["gzip_kb"],
        payload_target_kb=PAYLOAD_TARGET_KB,
        cold_ms=result["cold_ms"],
        build_p50_ms=full["p50"],
        build_cpu_p50_ms=full["cpu_p50"],
        incremental_p95_ms=inc["p95"],
        incremental_kb_p95=inc["kb_p95"],
        unchanged_bytes=result["unchanged_bytes"],
        view_p95_ms=result["view"]["p95"],
        regions_kb=result["regions_kb"],
        load_average=result["load"],
    )
    over = full["p95"] > BUILD_TARGET_MS or full["kb"] > PAYLOAD_TARGET_KB
    return 1 if over else 0


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker()
    else:
        sys.exit(main())
