"""Synthetic risk data for the risk benchmarks, built with bulk_create and the
audit log suspended (generated data, not anybody's changes).

`build(spec)` loads the Guangzhou regions and the department register, then
creates `spec.enterprises` enterprises spread over the 178 streets (each near its
street's centre), `spec.risk_points` risk points, `spec.hazards` hazards found
over 2025–2026 in every state (deadlines, some overdue) and `spec.accidents`
accidents over 2025–2026. Deterministic for a given spec.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from yingji.core import audit, regions
from yingji.core.departments import load_departments
from yingji.core.models import Profile, Region, Role
from yingji.risk import accidents as accident_rules
from yingji.risk import creditcode, services
from yingji.risk.models import Accident, Enterprise, Hazard, RiskPoint

BATCH = 5000
AS_OF = dt.date(2026, 11, 27)
INDUSTRIES = [
    "2614",
    "2669",
    "5166",
    "5265",
    "5942",
    "4500",
    "4710",
    "4813",
    "5430",
    "3216",
    "3120",
    "2021",
    "1351",
    "1011",
    "4620",
    "6110",
    "5211",
    "9011",
    "3670",
    "3912",
]
STATES = [
    ("reported", 8),
    ("assigned", 10),
    ("rectifying", 17),
    ("submitted", 7),
    ("rejected", 3),
    ("accepted", 5),
    ("closed", 50),
]
ACCIDENT_TYPES = [
    "fall",
    "struck_by_object",
    "machinery",
    "vehicle",
    "collapse",
    "electric_shock",
    "lifting",
    "poisoning",
    "fire",
]


@dataclass(frozen=True)
class Spec:
    enterprises: int = 100_000
    risk_points: int = 300_000
    hazards: int = 1_000_000
    accidents: int = 20_000
    seed: int = 2026


def tenth(spec: Spec) -> Spec:
    return Spec(
        spec.enterprises // 10,
        spec.risk_points // 10,
        spec.hazards // 10,
        spec.accidents // 10,
        spec.seed,
    )


@transaction.atomic
def build(spec: Spec) -> dict[str, int]:
    rng = random.Random(spec.seed)
    regions.load_pack("guangzhou")
    load_departments()
    with audit.suspended():
        user = get_user_model()(username="supervisor")
        user.set_unusable_password()
        user.save()
        Profile.objects.create(user=user, role=Role.SUPERVISOR, full_name="督查员(基准测试)")
        streets = list(
            Region.objects.filter(level="street").values_list(
                "code", "parent_id", "centroid_lon", "centroid_lat"
            )
        )
        table = services.supervision_table()
        from yingji.core.departments import resolve

        dept_ids = {
            name: resolve(name).pk
            for name in set(table.by_prefix.values()) | set(table.by_category.values())
            if resolve(name)
        }
        rows = []
        for i in range(1, spec.enterprises + 1):
            code, district, lon, lat = rng.choice(streets)
            industry = rng.choice(INDUSTRIES)
            name = table.department_for(industry)
            rows.append(
                Enterprise(
                    credit_code=creditcode.make("91440100", i),
                    name=f"基准企业{i:06d}有限公司",
                    district_id=district,
                    street_id=code,
                    lon=lon + rng.uniform(-0.01, 0.01),
                    lat=lat + rng.uniform(-0.01, 0.01),
                    industry_code=industry,
                    supervising_department_id=dept_ids.get(name),
                    has_major_hazard_installation=rng.random() < 0.03,
                    grade=rng.choices(["red", "orange", "yellow", "blue"], [2, 8, 30, 60])[0],
                )
            )
        Enterprise.objects.bulk_create(rows, batch_size=BATCH)
        ents = list(
            Enterprise.objects.values_list(
                "pk", "district_id", "street_id", "industry_code", "supervising_department_id"
            )
        )
        points = []
        for i in range(1, spec.risk_points + 1):
            pk, district, street, _, _ = rng.choice(ents)
            points.append(
                RiskPoint(
                    code=f"FX{i:07d}",
                    enterprise_id=pk,
                    name="储罐区",
                    district_id=district,
                    street_id=street,
                    grade=rng.choices(["red", "orange", "yellow", "blue"], [2, 8, 30, 60])[0],
                )
            )
            if len(points) >= BATCH:
                RiskPoint.objects.bulk_create(points)
                points = []
        RiskPoint.objects.bulk_create(points)
        now = timezone.now()
        start = dt.date(2025, 1, 1)
        span = (AS_OF - start).days
        hazards = []
        for i in range(1, spec.hazards + 1):
            pk, district, street, industry, dept = rng.choice(ents)
            found = start + dt.timedelta(days=rng.randrange(span))
            state = rng.choices([s for s, _ in STATES], [w for _, w in STATES])[0]
            deadline = (
                None if state == "reported" else found + dt.timedelta(days=rng.randint(7, 60))
            )
            closed = deadline if state == "closed" and deadline and deadline <= AS_OF else None
            hazards.append(
                Hazard(
                    code=f"BH{i:08d}",
                    enterprise_id=pk,
                    level="major" if rng.random() < 0.03 else "general",
                    source="self_inspection",
                    category="fire",
                    description="基准测试隐患:消防通道堵塞",
                    state=state,
                    found_on=found,
                    deadline=deadline,
                    closed_on=closed,
                    district_id=district,
                    street_id=street,
                    industry_code=industry,
                    department_id=dept,
                    created_at=now,
                    updated_at=now,
                )
            )
            if len(hazards) >= BATCH:
                Hazard.objects.bulk_create(hazards)
                hazards = []
        Hazard.objects.bulk_create(hazards)
        accidents = []
        for i in range(1, spec.accidents + 1):
            pk, district, street, industry, _ = rng.choice(ents)
            day = start + dt.timedelta(days=rng.randrange(span))
            deaths = 1 if rng.random() < 0.3 else 0
            accidents.append(
                Accident(
                    code=f"BA{i:07d}",
                    occurred_at=timezone.make_aware(dt.datetime.combine(day, dt.time(10))),
                    enterprise_id=pk,
                    district_id=district,
                    street_id=street,
                    industry_code=industry,
                    accident_type=rng.choice(ACCIDENT_TYPES),
                    deaths=deaths,
                    level=accident_rules.level(deaths, 0, 0),
                    created_at=now,
                )
            )
        Accident.objects.bulk_create(accidents, batch_size=BATCH)
    return {
        "enterprises": Enterprise.objects.count(),
        "risk_points": RiskPoint.objects.count(),
        "hazards": Hazard.objects.count(),
        "accidents": Accident.objects.count(),
    }
