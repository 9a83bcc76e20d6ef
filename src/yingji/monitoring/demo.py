"""Monitoring demo data (`yingji demo` calls `load_demo`): a sensor network over
Guangzhou's streets and the alarm rules, no simulated readings (run
`yingji simulate rainstorm` or `yingji simulate typhoon` for weather).

Deterministic (positions from street centroids plus seeded offsets) and
idempotent (sensors by code, rules by name).

Network: a rain gauge in every street; waterlogging points in the central
districts' streets; a wind gauge and a river water-level gauge per district;
gas sensors on pipelines and combustible-gas detectors at hazardous-chemical
sites in the industrial districts; strain and tilt on bridges; seismic
intensity meters; smoke detectors in the forest districts.

Rules are data: the CMA rainstorm criteria (DOMAIN.md) as rolling-sum rules, the
Beaufort wind scale for wind, and thresholds for the rest marked as demo values.
"""

from __future__ import annotations

import random
from typing import Any

from django.db import transaction

from yingji.core import audit, departments, regioncodes
from yingji.core.models import Region
from yingji.monitoring import services
from yingji.monitoring.models import TYPE_UNITS, AlarmRule, Sensor

SEED = 1822
CENTRAL = ("440103", "440104", "440105", "440106", "440111")
INDUSTRIAL = ("440112", "440113", "440115")
FOREST = ("440114", "440117", "440118")

# name, sensor type, metric, (blue, yellow, orange, red), extras
RULES: list[tuple[str, str, str, tuple, dict[str, Any]]] = [
    ("暴雨:3小时雨量(橙/红)", "rain", "sum", (None, None, 50, 100), {"window_s": 3 * 3600}),
    ("暴雨:6小时雨量(黄)", "rain", "sum", (None, 50, None, None), {"window_s": 6 * 3600}),
    ("暴雨:12小时雨量(蓝)", "rain", "sum", (50, None, None, None), {"window_s": 12 * 3600}),
    ("1小时雨量", "rain", "sum", (20, 30, 50, 80), {"window_s": 3600, "escalate_after_min": 15}),
    ("24小时雨量", "rain", "sum", (50, 100, 250, None), {"window_s": 24 * 3600}),
    (
        "积水深度",
        "waterlogging",
        "value",
        (10, 20, 30, 50),
        {"for_s": 300, "hysteresis": 2, "escalate_every_s": 0},
    ),
    ("积水上涨速率", "waterlogging", "rate", (1.0, 2.0, None, None), {}),
    ("河道水位", "water_level", "value", (6.0, 6.5, 7.0, 7.5), {"hysteresis": 0.1}),
    ("风速(蒲福风级)", "wind_speed", "value", (10.8, 17.2, 24.5, 32.7), {"hysteresis": 1.0}),
    (
        "燃气浓度",
        "gas",
        "value",
        (None, 20, None, 50),
        {"for_s": 60, "hysteresis": 2, "escalate_every_s": 600},
    ),
    ("可燃气体", "combustible_gas", "value", (None, 25, None, 50), {"for_s": 30}),
    ("桥梁应变", "strain", "value", (300, 450, 600, 800), {"for_s": 60}),
    ("桥梁倾角", "tilt", "value", (0.5, 1.0, 1.5, 2.0), {"for_s": 120}),
    ("地震烈度", "seismic", "value", (None, 4, 5, 6), {}),
    ("林区烟感", "smoke", "value", (None, 0.1, 0.2, None), {"for_s": 60}),
    ("雨量站离线", "rain", "no_data", (1800, None, None, None), {}),
]


def _departments() -> dict[str, Any]:
    names = {
        "rain": "三防处",
        "waterlogging": "三防处",
        "water_level": "三防处",
        "wind_speed": "三防处",
        "gas": "危化处",
        "combustible_gas": "危化处",
        "pressure": "危化处",
        "strain": "基础处",
        "tilt": "基础处",
        "seismic": "地震局",
        "smoke": "防火处",
    }
    return {t: departments.resolve(n) for t, n in names.items()}


def _sensor_rows() -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    rows: list[dict[str, Any]] = []
    streets = list(
        Region.objects.filter(level="street", centroid_lon__isnull=False)
        .order_by("code")
        .values_list("code", "name", "centroid_lon", "centroid_lat")
    )
    districts = list(
        Region.objects.filter(level="district", centroid_lon__isnull=False)
        .order_by("code")
        .values_list("code", "name", "centroid_lon", "centroid_lat")
    )

    def add(code: str, name: str, stype: str, lon: float, lat: float, linked: str = "") -> None:
        rows.append(
            {
                "code": code,
                "name": name,
                "type": stype,
                "lon": round(lon, 6),
                "lat": round(lat, 6),
                "linked_to": linked,
            }
        )

    for code, name, lon, lat in streets:
        add(f"RG-{code}", f"{name}雨量站", "rain", lon, lat)
        if regioncodes.district_of(code) in CENTRAL:
            add(
                f"WL-{code}",
                f"{name}积水点",
                "waterlogging",
                lon + rng.uniform(-0.004, 0.004),
                lat + rng.uniform(-0.004, 0.004),
            )
        if regioncodes.district_of(code) in INDUSTRIAL and rng.random() < 0.5:
            add(
                f"CG-{code}",
                f"{name}危化企业可燃气体",
                "combustible_gas",
                lon + rng.uniform(-0.01, 0.01),
                lat + rng.uniform(-0.01, 0.01),
                "危化企业(示例)",
            )
        if regioncodes.district_of(code) in CENTRAL and rng.random() < 0.3:
            add(
                f"GS-{code}",
                f"{name}燃气管网",
                "gas",
                lon + rng.uniform(-0.005, 0.005),
                lat + rng.uniform(-0.005, 0.005),
                "城市燃气管网(示例)",
            )
        if regioncodes.district_of(code) in FOREST and rng.random() < 0.4:
            add(
                f"SM-{code}",
                f"{name}林区烟感",
                "smoke",
                lon + rng.uniform(-0.02, 0.02),
                lat + rng.uniform(-0.02, 0.02),
            )
    for code, name, lon, lat in districts:
        add(f"WS-{code}", f"{name}自动气象站(风速)", "wind_speed", lon, lat)
        add(f"RL-{code}", f"{name}河道水位站", "water_level", lon + 0.01, lat - 0.01)
        add(f"EQ-{code}", f"{name}地震烈度仪", "seismic", lon - 0.01, lat + 0.01)
    for i, (lon, lat, name) in enumerate(
        [
            (113.3237, 23.1063, "猎德大桥"),
            (113.2868, 23.1100, "海印大桥"),
            (113.2474, 23.1102, "人民桥"),
            (113.4039, 23.0963, "琶洲大桥"),
        ],
        1,
    ):
        add(f"BS-{i:03d}", f"{name}应变", "strain", lon, lat, name)
        add(f"BT-{i:03d}", f"{name}倾角", "tilt", lon + 0.0005, lat, name)
    return rows


def load_demo(stdout: Any = None) -> str:
    """Load (or refresh) the demo sensor network and rules; one-line summary."""
    depts = _departments()
    rows = _sensor_rows()
    if not rows:
        return "监测预警:未加载区划,跳过(先运行 yingji regions load guangzhou)"
    command = departments.resolve("指挥中心")
    with transaction.atomic(), audit.acting_as(None, "演示数据"):
        existing = {s.code: s for s in Sensor.objects.all()}
        created = []
        for r in rows:
            if r["code"] in existing:
                continue
            created.append(Sensor(unit=TYPE_UNITS[r["type"]], department=depts.get(r["type"]), **r))
        Sensor.objects.bulk_create(created)  # demo registry: one audit entry below, not 600
        services.locate(Sensor.objects.filter(code__in=[s.code for s in created]))
        for name, stype, metric, (b, y, o, red), extra in RULES:
            defaults = {
                "sensor_type": stype,
                "metric": metric,
                "blue": b,
                "yellow": y,
                "orange": o,
                "red": red,
                "escalate_to": command,
                **extra,
            }
            AlarmRule.objects.update_or_create(name=name, defaults=defaults)
        child = AlarmRule.objects.get(name="积水深度")
        AlarmRule.objects.update_or_create(
            name="片区内涝(同一镇街 2 个及以上积水点)",
            defaults={
                "metric": "composite",
                "child": child,
                "k": 2,
                "composite_level": "orange",
                "escalate_to": command,
            },
        )
    total = Sensor.objects.count()
    # The caller prints the summary (once).
    return (
        f"传感器 {total} 个(新增 {len(created)}),报警规则 "
        f"{AlarmRule.objects.count()} 条;运行 yingji simulate rainstorm 或 typhoon 模拟天气"
    )
