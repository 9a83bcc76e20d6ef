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


def _load_register() -> str:
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


def load_demo() -> str:
    return f"{_load_register()};{load_assessment_demo()}"


# ---- 述职 review and the annual assessment (2022)

ASSESS_YEAR = 2022


def load_assessment_demo() -> str:
    """The 2022 assessment: every district government and city department scored
    by 综合处 (zonghe) and checked by the leader, a few differences reconciled,
    ranked, the bottom of each group interviewed (one closed, one in
    rectification); and every district's 述职 reviewed by 两代表一委员 and others,
    the result sent (replayed: held in the outbox)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Max
    from django.utils import timezone

    from yingji.core import outbox
    from yingji.core.models import Notification
    from yingji.responsibility import assessment as svc
    from yingji.responsibility.models import IndicatorSet

    users = {
        u.username: u for u in get_user_model().objects.filter(username__in=["zonghe", "leader"])
    }
    if len(users) < 2:
        return "缺少演示账号 zonghe、leader,未加载年度考核演示"
    first, second = users["zonghe"], users["leader"]
    found = IndicatorSet.objects.filter(year=ASSESS_YEAR).first()
    if found is not None and found.sheets.exclude(state="open").exists():
        return f"已有 {ASSESS_YEAR} 年度考核,未重复加载"
    rng = random.Random(SEED + 17)
    iset = svc.ensure_set(ASSESS_YEAR, first)
    iset.bottom_n = 1
    iset.save(update_fields=["bottom_n"])
    svc.open_sheets(iset, first)
    svc.compute(iset, first)
    sheets = list(
        iset.sheets.select_related("department").order_by("group", "department__sort_order")
    )
    weakest = {
        g: rng.choice([s for s in sheets if s.group == g]).pk for g in ("district", "department")
    }
    reconciled = 0
    with outbox.held():
        for n, sheet in enumerate(sheets):
            quality = 0.45 if sheet.pk in weakest.values() else rng.uniform(0.6, 0.97)
            values, checked = {}, {}
            for score in svc._manual(sheet):
                ind = score.indicator
                if ind.kind == "evidence":
                    v = (
                        round(
                            min(ind.max_points, ind.max_points * quality + rng.uniform(-1, 1)) * 2
                        )
                        / 2
                    )
                elif ind.kind == "deduction":
                    v = rng.choice((0, 0, 0, 1, 2)) if quality > 0.5 else 4
                elif ind.kind == "bonus":
                    v = rng.choice((0, 0, 0, 2)) if quality > 0.5 else 0
                else:
                    v = 0
                v = max(0.0, min(ind.max_points, v))
                values[ind.code] = v
                checked[ind.code] = v
            if n % 7 == 3:  # the checker sees one item quite differently
                code = next(c for c in values if c.startswith("B"))
                checked[code] = max(0.0, values[code] - 3.5)
            elif n % 3 == 0:
                code = next(c for c in values if c.startswith("B"))
                checked[code] = max(0.0, values[code] - 1)
            svc.score_first(first, sheet, values, {"B1": "查阅责任清单、会议纪要"})
            if svc.check(second, sheet, checked):
                svc.reconcile(
                    first,
                    sheet,
                    {c: (values[c] + checked[c]) / 2 for c in values if values[c] != checked[c]},
                    {c: "双方复查佐证材料后取中间值" for c in values},
                )
                reconciled += 1
        interviews = svc.propose_interviews(first, iset)
        for i, iv in enumerate(sorted(interviews, key=lambda x: x.sheet.group)):
            name = iv.sheet.department.name
            svc.hold_interview(
                first,
                iv,
                held_on=dt.date(2023, 2, 15 + i),
                attendees=f"局领导、综合处负责人;{name}分管负责同志及应急管理部门负责人",
                problems="隐患排查治理台账不全、整改逾期;安全生产责任制落实不到位;应急演练流于形式",
                deadline=dt.date(2023, 5, 31),
            )
            if i == 0:
                svc.close_interview(
                    first,
                    iv,
                    rectification="已逐项整改:补齐隐患台账,完成逾期隐患整改销号,重新印发责任清单并组织实战演练",
                    closed_on=dt.date(2023, 5, 20),
                )
        last = Notification.objects.aggregate(m=Max("pk"))["m"] or 0
        sessions = _review_demo(rng, first)
        # History, not mail: marked sent when queued, never delivered.
        Notification.objects.filter(pk__gt=last, status=Notification.Status.QUEUED).update(
            status=Notification.Status.SENT, sent_at=timezone.now()
        )
    return (
        f"{ASSESS_YEAR} 年度考核 {len(sheets)} 个单位(协调差异 {reconciled} 张),"
        f"约谈 {len(interviews)} 个;述职评议 {sessions} 场"
    )


def _review_demo(rng: random.Random, user) -> int:
    from yingji.responsibility import assessment as svc
    from yingji.responsibility.models import ReviewSession

    kinds = [
        ("npc", "市人大代表"),
        ("npc", "区人大代表"),
        ("cppcc", "市政协委员"),
        ("cppcc", "区政协委员"),
        ("other", "企业安全生产代表"),
    ]
    remarks = [
        "述职内容全面,重点突出",
        "隐患整改闭环还需加强",
        "建议加大执法检查力度",
        "应急演练要更贴近实战",
        "",
    ]
    made = 0
    for n, dept in enumerate(svc.units("district")):
        if ReviewSession.objects.filter(year=ASSESS_YEAR, department=dept).exists():
            continue
        district = dept.name.removesuffix("政府")
        session = svc.create_session(
            user,
            department=dept,
            year=ASSESS_YEAR,
            speaker=f"{district}区长({MARK.strip('【】')})",
            held_on=dt.date(2023, 1, 9 + n),
        )
        level = rng.uniform(0.7, 0.92)
        for kind, affiliation in kinds:
            r = svc.add_reviewer(
                user,
                session,
                name=rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)),
                kind=kind,
                affiliation=affiliation,
            )
            items = {
                key: round(min(top, top * (level + rng.uniform(-0.12, 0.08))))
                for key, _, top in svc.REVIEW_ITEMS
            }
            svc.submit_review(user, r, items, rng.choice(remarks))
        svc.close_session(user, session)
        if n < 9:  # the last two still to be sent
            svc.send_result(user, session)
        made += 1
    return made


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
