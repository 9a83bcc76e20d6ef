"""Demo register for Guangzhou (synthetic people, marked 【演示】 in their post):
every district and street has its 行政责任人; reservoirs, embankments, flash-flood
danger zones and geological-hazard points in the outer districts, waterlogging
points and construction sites in the centre, each with the kinds of responsible
person it needs; the year's update rounds (update by 31 March, 一键通 by 15 April),
about four in five people with 一键通 installed. Then the warning module's
三防责任人 group is synced from it."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction

from yingji.core import audit
from yingji.core.models import Region
from yingji.responsibility import roster, services
from yingji.responsibility.models import DutyObject, RegisterRound, Responsible

SEED = 2022
MARK = "【演示】"
SURNAMES = "陈李黄张梁林刘吴罗何郑谢冯邓曾彭萧蔡潘许钟叶"
GIVEN = "伟明华强建国志勇文军海涛永杰俊峰敏丽芳燕红霞"
OUTER = {
    "440114",
    "440117",
    "440118",
    "440115",
    "440112",
    "440113",
}  # 花都 从化 增城 南沙 黄埔 番禺
CENTRE_OBJECTS = [("waterlogging", "{}下穿隧道积水点"), ("construction", "{}地铁施工工地")]
OUTER_OBJECTS = [
    ("reservoir", "{}水库"),
    ("embankment", "{}堤段"),
    ("flash_flood", "{}山洪灾害危险区"),
    ("geo_hazard", "{}滑坡隐患点"),
]
POSTS = {
    "admin": "{}主要负责人",
    "technical": "{}水务所技术负责人",
    "patrol": "{}巡查员",
}


def load_demo() -> str:
    if Responsible.objects.filter(post__startswith=MARK).exists():
        return "已有演示名册,未重复加载"
    rng = random.Random(SEED)
    today = services.today()
    phones: set[str] = set()

    def person(role: str, where: str) -> dict:
        while True:
            phone = f"13{rng.randint(5, 9)}{rng.randint(0, 99_999_999):08d}"
            if phone not in phones:
                phones.add(phone)
                break
        installed = None
        if rng.random() < 0.8:
            installed = dt.date(today.year, 3, 1) + dt.timedelta(days=rng.randint(0, 60))
            installed = min(installed, today)
        return {
            "role": role,
            "name": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2)))),
            "post": MARK + POSTS[role].format(where),
            "phone": phone,
            "term_start": dt.date(today.year, 1, 1),
            "term_end": dt.date(today.year, 12, 31),
            "app_installed_on": installed,
        }

    regions = list(
        Region.objects.filter(level__in=("city", "district", "street")).only(
            "code", "name", "level"
        )
    )
    objects: list[tuple[DutyObject, list[dict]]] = []
    for region in regions:
        objects.append(
            (
                DutyObject(region=region, kind="area", name=region.name),
                [person("admin", region.name)],
            )
        )
        if region.level != "street":
            continue
        district = region.code[:6]
        pool = OUTER_OBJECTS if district in OUTER else CENTRE_OBJECTS
        for kind, pattern in rng.sample(pool, min(len(pool), rng.choice((1, 2)))):
            name = pattern.format(region.name.removesuffix("街道").removesuffix("镇"))
            obj = DutyObject(region=region, kind=kind, name=name)
            objects.append(
                (obj, [person(role, region.name) for role in roster.required_roles(kind)])
            )
    with transaction.atomic(), audit.suspended():
        DutyObject.objects.bulk_create([o for o, _ in objects], ignore_conflicts=True)
        saved = {
            (o.region_id, o.kind, o.name): o.pk
            for o in DutyObject.objects.all().only("pk", "region_id", "kind", "name")
        }
        Responsible.objects.bulk_create(
            [
                Responsible(obj_id=saved[(o.region_id, o.kind, o.name)], **p)
                for o, people in objects
                for p in people
            ],
            ignore_conflicts=True,
        )
        for region in regions:
            if region.level == "district":
                RegisterRound.objects.get_or_create(
                    year=today.year,
                    district=region,
                    defaults={
                        "update_deadline": dt.date(today.year, 3, 31),
                        "app_deadline": dt.date(today.year, 4, 15),
                    },
                )
        synced = services.sync_subscribers()
    people = Responsible.objects.count()
    return (
        f"{len(objects)} 个责任对象、{people} 名三防责任人(预警人群已同步 {synced['created']} 人)"
    )
