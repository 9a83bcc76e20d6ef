"""Benchmark: the annual assessment of 11 districts and 60 city departments with
80 indicators per group, computed from the platform's data (target < 2 s), and
the year's ranking page (target p95 < 150 ms), on SQLite and on PostgreSQL.

The data (each database in its own subprocess, schema from the models as in
bench_workbench.py): Guangzhou's regions and the department register, 48 more
city departments (60 in all), the risk ledger of bench/_risk_data.py at a tenth
of the risk benchmarks' size (10,000 enterprises, 100,000 hazards with deadlines
over 2025–2026, 2,000 accidents), 20,000 inspections due over 2025–2026 (four in
five done) and a penalty case for one in ten, and 1,000 督办单 issued in 2026.
The 2026 indicator system has 80 indicators per group: 33 computed (six
feeds, each several times with other rules) and a computed veto (较大事故), 40
scored on evidence, 3 deductions, 1 bonus and 2 vetoes scored by hand.

Timed: `open_sheets` + `compute` (every computed indicator of 71 sheets from
the platform: one grouped query per feed and group) — the figure; then every
sheet is scored and checked (bulk, not timed) so each group is ranked, and an
assessor GETs /responsibility/assessment/2026/ N times (Django's test Client,
full middleware and rendering; warmed once).

    .venv/bin/python bench/bench_assessment.py          # N=200
    QUICK=1 .venv/bin/python bench/bench_assessment.py  # a tenth of the data, N=30

The last line is one JSON object: the figure is the worse compute time of the
two databases, the ranking page's p95 beside it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

from _common import on_both_databases, percentile, quick, report

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 2.0
PAGE_TARGET_MS = 150
PG_DATABASE = f"yingji_bench_assessment_{os.getpid()}"
YEAR = 2026


def _sizes() -> dict[str, int]:
    if quick():
        return {
            "enterprises": 1_000,
            "hazards": 10_000,
            "accidents": 400,
            "inspections": 2_000,
            "n": 30,
        }
    return {
        "enterprises": 10_000,
        "hazards": 100_000,
        "accidents": 2_000,
        "inspections": 20_000,
        "n": 200,
    }


def _schema() -> None:
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command

    settings.MIGRATION_MODULES = {a.label: None for a in apps.get_app_configs()}
    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)


def _platform(sizes: dict[str, int]) -> dict[str, int]:
    import _risk_data
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from yingji.core import audit
    from yingji.core.models import Department, DepartmentKind
    from yingji.enforcement.models import Draw, Inspection, InspectionPlan, PenaltyCase
    from yingji.risk.models import Enterprise
    from yingji.workplan.models import Milestone, Plan, Section, SupervisionNotice, Task

    counts = _risk_data.build(
        _risk_data.Spec(
            enterprises=sizes["enterprises"],
            risk_points=sizes["enterprises"],
            hazards=sizes["hazards"],
            accidents=sizes["accidents"],
        )
    )
    rng = random.Random(17)
    with transaction.atomic(), audit.suspended():
        have = Department.objects.filter(kind=DepartmentKind.MUNICIPAL).count()
        Department.objects.bulk_create(
            [
                Department(
                    name=f"市基准部门{i:02d}", kind=DepartmentKind.MUNICIPAL, sort_order=700 + i
                )
                for i in range(60 - have)
            ]
        )
        municipal = list(
            Department.objects.filter(kind=DepartmentKind.MUNICIPAL).values_list("pk", flat=True)
        )
        user = get_user_model().objects.get(username="supervisor")
        plan = InspectionPlan.objects.create(
            year=YEAR, title="基准检查计划", department_id=municipal[0], proportions={}
        )
        ents = list(Enterprise.objects.values_list("pk", "district_id"))
        rng.shuffle(ents)
        draws = [
            Draw.objects.create(
                plan=plan,
                kind="annual",
                label=f"基准{n}",
                seed=str(n),
                algorithm="bench",
                inputs={},
                inputs_sha256="0" * 64,
                status="valid",
                drawn_at=timezone.now(),
                drawn_by=user,
            )
            for n in range(-(-sizes["inspections"] // len(ents)))
        ]
        start = dt.date(2025, 1, 1)
        rows = []
        for i in range(sizes["inspections"]):
            pk, district = ents[i % len(ents)]
            draw = draws[i // len(ents)]
            end = start + dt.timedelta(days=rng.randrange(700))
            done = end if rng.random() < 0.8 else None
            rows.append(
                Inspection(
                    plan=plan,
                    draw=draw,
                    enterprise_id=pk,
                    kind="double_random",
                    category="general",
                    window_label="月度",
                    window_start=end - dt.timedelta(days=30),
                    window_end=end,
                    district_id=district,
                    department_id=rng.choice(municipal),
                    inspected_on=done,
                )
            )
        Inspection.objects.bulk_create(rows, batch_size=5000)
        done = list(
            Inspection.objects.exclude(inspected_on=None).values_list(
                "pk", "enterprise_id", "district_id", "department_id", "inspected_on"
            )
        )
        cases = [
            PenaltyCase(
                number=f"JZ{n:07d}",
                enterprise_id=e,
                inspection_id=pk,
                department_id=d,
                district_id=r,
                opened_on=on,
            )
            for n, (pk, e, r, d, on) in enumerate(done)
            if n % 10 == 0
        ]
        PenaltyCase.objects.bulk_create(cases, batch_size=5000)
        wp = Plan.objects.create(title="基准工作计划", year=YEAR, source_sha256="b" * 64)
        section = Section.objects.create(plan=wp, number=1, title="一")
        tasks = Task.objects.bulk_create(
            [Task(plan=wp, section=section, number=i + 1, text=f"任务{i}") for i in range(1000)]
        )
        miles = Milestone.objects.bulk_create(
            [Milestone(task=t, title="完成", due=dt.date(YEAR, 3, 1)) for t in tasks]
        )
        everyone = municipal + list(
            Department.objects.filter(kind=DepartmentKind.DISTRICT_GOV).values_list("pk", flat=True)
        )
        tz = timezone.get_current_timezone()
        SupervisionNotice.objects.bulk_create(
            [
                SupervisionNotice(
                    task=miles[i].task,
                    milestone=miles[i],
                    department_id=rng.choice(everyone),
                    serial=f"督办〔{YEAR}〕{i + 1}号",
                    reason="逾期",
                    issued_at=dt.datetime(YEAR, 1 + i % 11, 1 + i % 27, tzinfo=tz),
                    respond_by=dt.date(YEAR, 12, 31),
                )
                for i in range(1000)
            ]
        )
    return {**counts, "inspections": len(rows), "cases": len(cases), "notices": 1000}


def _system():
    from yingji.responsibility.models import Indicator, IndicatorSet

    iset = IndicatorSet.objects.create(year=YEAR, title=f"{YEAR} 年度考核(基准)", bottom_n=3)
    feeds = [
        ("accidents", "decrease", {"per": 1}),
        ("deaths", "decrease", {"per": 2}),
        ("hazards_overdue", "per_count", {"per": 0.01}),
        ("inspections", "ratio", {"target": 0.9}),
        ("penalty_rate", "ratio", {"target": 0.1}),
        ("notices", "per_count", {"per": 0.5}),
    ]
    rows = []
    for group in ("district", "department"):
        n = 0
        for i in range(33):
            feed, rule, params = feeds[i % len(feeds)]
            rows.append(
                Indicator(
                    indicator_set=iset,
                    group=group,
                    code=f"A{i:02d}",
                    name=f"计算指标{i}",
                    kind="computed",
                    max_points=1.5,
                    feed=feed,
                    rule=rule,
                    params=params,
                    order=n,
                )
            )
            n += 1
        rows.append(
            Indicator(
                indicator_set=iset,
                group=group,
                code="V1",
                name="较大事故",
                kind="veto",
                max_points=1,
                feed="major_accident",
                order=n,
            )
        )
        for i in range(40):
            rows.append(
                Indicator(
                    indicator_set=iset,
                    group=group,
                    code=f"B{i:02d}",
                    name=f"材料指标{i}",
                    kind="evidence",
                    max_points=1.2,
                    order=n + 1 + i,
                )
            )
        for i in range(3):
            rows.append(
                Indicator(
                    indicator_set=iset,
                    group=group,
                    code=f"C{i}",
                    name=f"扣分{i}",
                    kind="deduction",
                    max_points=3,
                    order=90 + i,
                )
            )
        rows.append(
            Indicator(
                indicator_set=iset,
                group=group,
                code="D1",
                name="加分",
                kind="bonus",
                max_points=3,
                order=95,
            )
        )
        rows.append(
            Indicator(
                indicator_set=iset,
                group=group,
                code="V2",
                name="瞒报",
                kind="veto",
                max_points=1,
                order=96,
            )
        )
        rows.append(
            Indicator(
                indicator_set=iset,
                group=group,
                code="V3",
                name="谎报",
                kind="veto",
                max_points=1,
                order=97,
            )
        )
    Indicator.objects.bulk_create(rows)
    per_group = {g: sum(1 for r in rows if r.group == g) for g in ("district", "department")}
    if per_group != {"district": 80, "department": 80}:
        raise SystemExit(f"the system has {per_group} indicators, not 80 per group")
    return iset


def _agree_all(iset) -> None:
    """Every hand-scored item agreed (bulk, as if first and check matched), then ranked."""
    from yingji.responsibility import assessment as svc
    from yingji.responsibility.models import Score, Sheet

    rng = random.Random(5)
    scores = list(
        Score.objects.filter(sheet__indicator_set=iset, indicator__feed="").select_related(
            "indicator"
        )
    )
    for s in scores:
        kind = s.indicator.kind
        v = (
            0.0
            if kind in ("veto", "bonus")
            else round(rng.uniform(0.4, 1.0) * s.indicator.max_points, 1)
        )
        if kind == "deduction":
            v = rng.choice((0.0, 0.0, 1.0))
        s.first = s.second = s.final = v
    Score.objects.bulk_update(scores, ["first", "second", "final"], batch_size=5000)
    iset.sheets.update(state=Sheet.State.AGREED)
    svc._retotal(iset)


def worker() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yingji.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from yingji.core.models import Profile, Role
    from yingji.responsibility import assessment as svc
    from yingji.responsibility.models import Score

    sizes = _sizes()
    t0 = time.perf_counter()
    _schema()
    counts = _platform(sizes)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    built_s = time.perf_counter() - t0
    print(
        f"  [{connection.vendor}] data {built_s:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
        flush=True,
    )

    leader = get_user_model().objects.create_user("leader")
    Profile.objects.create(user=leader, role=Role.LEADER, full_name="局领导(基准)")
    iset = _system()
    t0 = time.perf_counter()
    svc.open_sheets(iset, leader)
    opened_s = time.perf_counter() - t0
    per_sql: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            per_sql.append((time.perf_counter() - t, sql))

    t0 = time.perf_counter()
    with connection.execute_wrapper(timed):
        written = svc.compute(iset, leader)
    compute_s = time.perf_counter() - t0
    in_db = sum(t for t, _ in per_sql)
    print(
        f"  [{connection.vendor}] compute: {len(per_sql)} queries, {in_db:.3f} s of {compute_s:.3f} s in the driver; slowest:",
        flush=True,
    )
    for t, sql in sorted(per_sql, reverse=True)[:5]:
        print(f"    {t * 1000:8.1f} ms  {sql[:150]}", flush=True)
    sheets = iset.sheets.count()
    groups = dict(iset.sheets.values_list("group").annotate(n=django.db.models.Count("pk")))
    if groups != {"district": 11, "department": 60}:
        raise SystemExit(f"sheets per group {groups}, not 11 and 60")
    spread = (
        Score.objects.filter(sheet__indicator_set=iset)
        .exclude(indicator__feed="")
        .values("final")
        .distinct()
        .count()
    )
    if spread < 10:
        raise SystemExit("the computed scores are all alike: the feeds found no data")
    _agree_all(iset)

    client = Client()
    client.force_login(leader)
    url = f"/responsibility/assessment/{YEAR}/"

    def get():
        r = client.get(url)
        if r.status_code != 200:
            raise SystemExit(f"GET {url} → {r.status_code}")
        return r

    page = get().content.decode()
    if "市直部门排名" not in page or "拟约谈" in page:
        raise SystemExit("the ranking page does not show the groups")
    times = []
    for _ in range(sizes["n"]):
        t = time.perf_counter()
        get()
        times.append((time.perf_counter() - t) * 1000)
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "open_s": round(opened_s, 3),
                "compute_s": round(compute_s, 3),
                "total_s": round(opened_s + compute_s, 3),
                "scores": written,
                "sheets": sheets,
                "p50": round(statistics.median(times), 1),
                "p95": round(percentile(times, 95), 1),
                "n": sizes["n"],
                "hazards": counts.get("hazards"),
            }
        ),
        flush=True,
    )


def main() -> int:
    started = time.perf_counter()
    print(
        f"assessment: 11 districts + 60 departments, 80 indicators per group{' (QUICK)' if quick() else ''}",
        flush=True,
    )
    results = on_both_databases(__file__, PG_DATABASE, timeout=1800)
    load = os.getloadavg()
    print(
        f"\n{'database':<12}{'open s':>8}{'compute s':>11}{'total s':>9}{'scores':>8}{'page p50':>10}{'page p95':>10}"
    )
    for db, r in results.items():
        print(
            f"{db:<12}{r['open_s']:>8.3f}{r['compute_s']:>11.3f}{r['total_s']:>9.3f}{r['scores']:>8}{r['p50']:>10.1f}{r['p95']:>10.1f}"
        )
    worst_db = max(results, key=lambda db: results[db]["total_s"])
    worst = results[worst_db]
    page_p95 = max(r["p95"] for r in results.values())
    print(
        f"worst assessment {worst['total_s']:.3f} s ({worst_db}) "
        f"{'meets' if worst['total_s'] < TARGET_S else 'MISSES'} the {TARGET_S} s target; ranking p95 {page_p95:.1f} ms "
        f"{'meets' if page_p95 < PAGE_TARGET_MS else 'MISSES'} the {PAGE_TARGET_MS} ms target; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {time.perf_counter() - started:.0f} s in all",
        flush=True,
    )
    report(
        "assessment",
        worst["total_s"],
        unit="s",
        target=TARGET_S,
        page_p95=page_p95,
        page_target=PAGE_TARGET_MS,
        database=worst_db,
        **{f"{db}_total_s": r["total_s"] for db, r in results.items()},
        **{f"{db}_page_p95": r["p95"] for db, r in results.items()},
        load_average=round(load[0], 2),
    )
    return 0


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker()
    else:
        sys.exit(main())
