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
    extra = _leaders_and_letters(rng)
    return (
        f"{len(objects)} 个责任对象、{people} 名三防责任人(预警人群已同步 {synced['created']} 人);"
        + extra
    )


YEAR = 2022  # the seed plan's year
WORK_ITEMS = [
    ("组织召开安全生产工作会议,研究部署年度安全生产工作", 1, 31),
    ("带队开展汛前三防检查", 4, 15),
    ("听取重点行业领域安全生产工作汇报", 6, 30),
    ("督导“安全生产月”活动开展", 6, 30),
    ("带队开展国庆节前安全生产大检查", 9, 30),
    ("组织年度安全生产述职", 12, 31),
]
DUTY_ITEMS = [
    "贯彻落实党中央、国务院和省委、省政府关于安全生产的决策部署",
    "把安全生产纳入经济社会发展总体规划和年度工作要点",
    "定期研究解决安全生产重大问题",
]
INDICATORS = [
    {
        "code": "A1",
        "text": "生产安全事故起数和死亡人数较上年下降",
        "target": "双下降",
        "weight": 20,
    },
    {"code": "A2", "text": "重大事故隐患按期整改销号", "target": "100%", "weight": 15},
    {"code": "A3", "text": "工作要点任务按时完成", "target": "≥95%", "weight": 15},
    {"code": "A4", "text": "安全生产执法检查和行政处罚", "target": "按计划完成", "weight": 15},
    {"code": "A5", "text": "预警信息及时发布和应急响应", "target": "及时", "weight": 10},
    {"code": "A6", "text": "三防责任人更新公示和一键通安装", "target": "汛前完成", "weight": 10},
    {"code": "A7", "text": "消防工作责任制落实", "target": "落实", "weight": 15},
]


def _leaders_and_letters(rng: random.Random) -> str:
    """Two leaders (党委, 政府) of the city and of every district with their 2022
    duty and work lists (most items on time, some late, a few not done) and 巡查;
    the 2022 letter template and a letter per district and city department,
    nine in ten signed (the demo's signed letters have no scan)."""
    from yingji.core.models import Department, DepartmentKind
    from yingji.responsibility.models import (
        DutyItem,
        DutyList,
        Leader,
        Letter,
        LetterTemplate,
        Patrol,
    )

    if Leader.objects.exists():
        return "已有领导干部清单"
    areas = list(Region.objects.filter(level__in=("city", "district")).order_by("code"))
    with transaction.atomic(), audit.suspended():
        for region in areas:
            city = region.level == "city"
            for side, post in (
                (Leader.Side.PARTY, "市委书记" if city else f"{region.name}委书记"),
                (Leader.Side.GOVERNMENT, "市长" if city else f"{region.name}长"),
            ):
                leader = Leader.objects.create(
                    name=rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)),
                    post=MARK + post,
                    side=side,
                    region=region,
                )
                standing = DutyList.objects.create(leader=leader, year=YEAR, kind="duties")
                DutyItem.objects.bulk_create(
                    [DutyItem(duty_list=standing, text=t) for t in DUTY_ITEMS]
                )
                work = DutyList.objects.create(
                    leader=leader, year=YEAR, kind="work", patrols_required=4
                )
                items = []
                for text, month, day in WORK_ITEMS:
                    due = dt.date(YEAR, month, day)
                    draw = rng.random()
                    done = None
                    if draw < 0.8:
                        done = due - dt.timedelta(days=rng.randint(0, 20))
                    elif draw < 0.92:
                        done = min(
                            due + dt.timedelta(days=rng.randint(3, 30)), dt.date(YEAR, 12, 31)
                        )
                    items.append(DutyItem(duty_list=work, text=text, due=due, done_on=done))
                DutyItem.objects.bulk_create(items)
                for q in range(rng.choice((2, 3, 4, 4, 5))):
                    Patrol.objects.create(
                        leader=leader,
                        on=dt.date(YEAR, 1 + 3 * (q % 4), rng.randint(5, 25)),
                        place=f"{region.name}重点企业和人员密集场所",
                        region=region,
                        summary="检查安全生产责任落实和隐患整改情况",
                    )
        template = LetterTemplate.objects.create(
            year=YEAR,
            title=f"{YEAR}年度安全生产和消防工作责任书",
            body="市委、市政府与各区、市直有关部门签订。",
            indicators=INDICATORS,
        )
        parties = Department.objects.filter(
            kind__in=(DepartmentKind.DISTRICT_GOV, DepartmentKind.MUNICIPAL),
            merged_into__isnull=True,
        ).order_by("pk")
        letters = []
        for party in parties:
            signed = rng.random() < 0.9
            letters.append(
                Letter(
                    template=template,
                    party=party,
                    indicators=INDICATORS,
                    state="signed" if signed else "issued",
                    signed_on=dt.date(YEAR, 2, rng.randint(10, 28)) if signed else None,
                    signed_by="主要负责同志" if signed else "",
                )
            )
        Letter.objects.bulk_create(letters)
    return f"{Leader.objects.count()} 名党政领导干部的{YEAR}年清单、{len(letters)} 份责任书"
