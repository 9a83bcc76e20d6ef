"""Demo data for enforcement: `load_demo(stdout) -> str` (idempotent, deterministic).

The checklists and exemption list, 60 inspectors over Guangzhou's districts (two
city-wide, a few certificates lapsing mid-2022, declared conflicts), complaints,
and the 2022 annual plan: seed source announced on 2021-12-28, value recorded on
2022-01-04, the annual draw and the key-date visits (春节 … 国庆, 党的二十大) drawn
and verified, the year's inspections carried out (findings → hazards in the risk
module, exemptions), cases in every state, a dishonesty listing and the results
published (a few late). Uses the risk module's enterprises; when there are too
few (risk's demo not loaded) it registers demo enterprises through risk's service.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import Counter
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from yingji.core import audit, outbox
from yingji.core.models import Department, Region, RegionLevel
from yingji.enforcement import services
from yingji.enforcement.models import (
    Complaint,
    ConflictDeclaration,
    ExemptionRule,
    Inspection,
    InspectionPlan,
    Inspector,
    Matter,
    PenaltyCase,
)
from yingji.risk.models import Enterprise

PLAN_TITLE = "2022年度安全生产“双随机、一公开”监督检查计划"
SEED_SOURCE = "中国福利彩票双色球 2022001 期开奖号码(演示)"
SEED_VALUE = "03 09 14 22 27 31 + 06"
DEMO_SALT = "d3m0" * 8
MIN_ENTERPRISES = 200  # risk's demo registers 300: then none are added

MATTERS = [
    (
        "JC-WH-01",
        "危险化学品生产经营使用单位安全生产检查",
        "hc_production",
        [
            ("WH-01", "安全生产责任制和安全管理制度", "《安全生产法》第二十一条"),
            ("WH-02", "重大危险源辨识、登记和监控", "《安全生产法》第四十条"),
            ("WH-03", "特殊作业审批与监护", "GB 30871-2022"),
        ],
    ),
    (
        "JC-WH-02",
        "危险化学品储存安全检查",
        "hc_storage",
        [
            ("WH-04", "储存场所安全距离与分类储存", "《危险化学品安全管理条例》第二十四条"),
            ("WH-05", "可燃有毒气体检测报警", "GB/T 50493-2019"),
        ],
    ),
    (
        "JC-WH-03",
        "危险化学品经营、使用安全检查",
        "hc_trade",
        [("WH-06", "经营许可证与台账", "《危险化学品安全管理条例》第三十三条")],
    ),
    (
        "JC-WH-04",
        "危险化学品使用安全检查",
        "hc_use",
        [("WH-07", "安全技术说明书和安全标签", "《危险化学品安全管理条例》第十五条")],
    ),
    (
        "JC-GT-01",
        "粉尘涉爆企业安全检查",
        "dust_explosion",
        [("GT-01", "除尘系统与防爆措施", "《工贸企业粉尘防爆安全规定》第十三条")],
    ),
    (
        "JC-GT-02",
        "有限空间作业安全检查",
        "confined_space",
        [("GT-02", "有限空间辨识与作业审批", "《工贸企业有限空间作业安全规定》第八条")],
    ),
    (
        "JC-RQ-01",
        "城镇燃气经营安全检查",
        "town_gas",
        [("RQ-01", "燃气设施巡检与泄漏报警", "《城镇燃气管理条例》第三十二条")],
    ),
    (
        "JC-TY-01",
        "通用安全生产检查",
        "general",
        [
            ("TY-01", "从业人员安全生产教育和培训记录", "《安全生产法》第二十八条"),
            ("TY-02", "安全警示标志设置", "《安全生产法》第三十五条"),
            ("TY-03", "生产安全事故应急预案及演练", "《安全生产法》第八十一条"),
        ],
    ),
]
EXEMPTIONS = [
    (
        "MF-01",
        "未如实记录安全生产教育和培训情况(首次、及时改正、无危害后果)",
        "《广东省应急管理领域轻微违法行为免处罚清单》第1项(示例)",
        ["TY-01"],
    ),
    (
        "MF-02",
        "未在有较大危险因素的场所设置明显的安全警示标志(首次、及时改正)",
        "《广东省应急管理领域轻微违法行为免处罚清单》第2项(示例)",
        ["TY-02"],
    ),
    (
        "MF-03",
        "未按规定组织应急预案演练(首次、及时改正、无危害后果)",
        "《广东省应急管理领域轻微违法行为免处罚清单》第5项(示例)",
        ["TY-03"],
    ),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = "伟芳娜敏静强磊军洋勇艳杰涛明超秀霞平刚桂英华辉鑫宇晨浩"


def _aware(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def _department() -> Department:
    dept = Department.objects.filter(name="执法处").first()
    return dept or Department.objects.create(name="执法处")


def _enterprises(rng: random.Random) -> int:
    """Demo enterprises through risk's service when the registry is nearly empty."""
    from yingji.risk import creditcode
    from yingji.risk.services import save_enterprise

    located = Enterprise.objects.filter(active=True, district__isnull=False).count()
    if located >= MIN_ENTERPRISES:
        return 0
    districts = list(Region.objects.filter(level=RegionLevel.DISTRICT, centroid_lat__isnull=False))
    categories = [m[2] for m in MATTERS]
    made = 0
    for n in range(MIN_ENTERPRISES - located):
        d = districts[n % len(districts)]
        cats = [categories[rng.randrange(len(categories))]]
        if cats[0].startswith("hc_") and rng.random() < 0.3:
            cats.append("major_hazard_installation")
        save_enterprise(
            credit_code=creditcode.make("91440100", 880000 + n),
            name=f"{d.name}演示企业{n + 1:03d}号",
            industry_code="2614",
            lon=d.centroid_lon + rng.uniform(-0.02, 0.02),
            lat=d.centroid_lat + rng.uniform(-0.02, 0.02),
            key_categories=cats,
        )
        made += 1
    return made


def _registers(rng: random.Random, dept: Department) -> None:
    for code, name, category, items in MATTERS:
        Matter.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "category": category,
                "department": dept,
                "checklist": [{"code": c, "text": t, "basis": b} for c, t, b in items],
            },
        )
    for order, (code, title, clause, items) in enumerate(EXEMPTIONS):
        ExemptionRule.objects.get_or_create(
            code=code,
            defaults={"title": title, "clause": clause, "checklist_codes": items, "order": order},
        )
    districts = list(Region.objects.filter(level=RegionLevel.DISTRICT).order_by("code"))
    city = Region.objects.filter(level=RegionLevel.CITY).first()
    zhifa_user = get_user_model().objects.filter(username="zhifa").first()
    for n in range(60):
        name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)]
        valid_to = dt.date(2022, 6, 30) if n in (5, 17, 29) else dt.date(2026, 12, 31)
        inspector = Inspector.objects.create(
            name=name,
            certificate_number=f"44010022{n:04d}",
            certificate_valid_from=dt.date(2019, 1, 1),
            certificate_valid_to=valid_to,
            department=dept,
            user=zhifa_user if n == 0 else None,
        )
        if n < 2 and city is not None:
            inspector.districts.set([city])  # the city brigade covers every district
        else:
            inspector.districts.set(
                [districts[n % len(districts)], districts[(n * 5 + 3) % len(districts)]]
            )
    enterprises = list(Enterprise.objects.filter(active=True).order_by("credit_code")[:200])
    inspectors = list(Inspector.objects.order_by("certificate_number"))
    for k in range(4):
        ConflictDeclaration.objects.get_or_create(
            inspector=inspectors[2 + k * 5],
            enterprise=enterprises[k * 13 % len(enterprises)],
            defaults={"reason": "近亲属在该企业任职", "declared_on": dt.date(2021, 12, 1)},
        )
    for _ in range(12):
        Complaint.objects.create(
            enterprise=enterprises[rng.randrange(len(enterprises))],
            received_on=dt.date(2021, rng.randint(1, 12), rng.randint(1, 28)),
            summary="群众举报:现场堆放危险物品、消防通道堵塞",
        )


def _carry_out(rng: random.Random, plan: InspectionPlan, boss: Any) -> dict[str, int]:
    """Inspect, find, exempt, file and move cases, publish: the year as it went."""
    system = services.SYSTEM
    counts = {"done": 0, "findings": 0, "published": 0}
    year_end = dt.date(plan.year, 12, 31)
    for inspection in plan.inspections.order_by("window_start", "id"):
        if inspection.window_start > year_end or rng.random() < 0.08:
            continue  # a few carried over into next year
        span = (inspection.window_end - inspection.window_start).days
        day = inspection.window_start + dt.timedelta(days=rng.randint(0, span))
        checklist = services.checklist_for(inspection.category)
        findings = []
        for item in checklist:
            if rng.random() < 0.22:
                findings.append(
                    services.FindingInput(
                        item["code"],
                        f"{item['text']}不符合要求",
                        major=rng.random() < 0.08,
                        corrected=rng.random() < 0.5,
                    )
                )
        services.record_inspection(
            inspection,
            system,
            inspected_on=day,
            findings=findings,
            summary="现场检查,查阅资料,询问相关人员。",
        )
        counts["done"] += 1
        counts["findings"] += len(findings)
        if rng.random() < 0.9 and inspection.publish_by:
            late = rng.random() < 0.1
            at_day = (
                inspection.publish_by + dt.timedelta(days=3)
                if late
                else inspection.publish_by - dt.timedelta(days=rng.randint(1, 10))
            )
            services.publish(inspection, system, at=_aware(max(at_day, day)))
            counts["published"] += 1
    return counts


# The cases' paths through the state machine, dealt in turn: every state shows up.
CASE_PATHS = [
    [],
    ["investigate"],
    ["investigate", "notify"],
    ["investigate", "notify", "request_hearing"],
    ["investigate", "notify", "decide", "execute", "close"],
    ["investigate", "notify", "decide"],
    ["investigate", "notify", "decide", "apply_reconsideration"],
    ["investigate", "notify", "request_hearing", "decide_after_hearing", "execute"],
    ["investigate", "drop"],
    ["investigate", "notify", "decide", "apply_reconsideration", "uphold", "close"],
]
COMMENTS = {
    "notify": "送达《行政处罚告知书》",
    "request_hearing": "当事人书面申请听证",
    "decide": "作出《行政处罚决定书》",
    "decide_after_hearing": "听证后作出《行政处罚决定书》",
    "apply_reconsideration": "当事人向市人民政府申请行政复议",
    "uphold": "复议决定维持",
    "close": "罚款已缴纳,整改完成",
    "drop": "违法事实不成立,撤销立案",
}


def _cases(rng: random.Random, boss: Any) -> int:
    cases = list(PenaltyCase.objects.order_by("opened_on", "id"))
    for n, case in enumerate(cases):
        day = case.opened_on
        amount = 10000 * rng.randint(1, 8)
        for action in CASE_PATHS[n % len(CASE_PATHS)]:
            day = min(day + dt.timedelta(days=rng.randint(5, 20)), dt.date(2022, 12, 31))
            services.transition_case(
                case,
                action,
                boss,
                comment=COMMENTS.get(action, ""),
                amount=amount if action.startswith(("notify", "decide")) else None,
                on=day,
            )
    return len(cases)


def load_demo(stdout: Any = None) -> str:
    """Load the enforcement demo once; a second run changes nothing."""
    return _load_2022() + ";" + _load_lookbacks()


def _load_2022() -> str:
    existing = InspectionPlan.objects.filter(title=PLAN_TITLE).first()
    if existing is not None:
        return (
            f"已有“{existing.title}”,{existing.inspections.count()} 户检查,"
            f"{existing.draws.count()} 次抽取"
        )
    rng = random.Random(2022)
    boss = get_user_model().objects.filter(username="supervisor").first()
    with audit.acting_as(None, "演示数据"), outbox.held(), transaction.atomic():
        dept = _department()
        made = _enterprises(rng)
        _registers(rng, dept)
        plan = InspectionPlan.objects.create(
            year=2022,
            title=PLAN_TITLE,
            department=dept,
            default_proportion=0.05,
            proportions={"hc_production": 0.2, "hc_storage": 0.15},
            key_date_count=3,
            max_per_inspector=4,
        )
        services.announce_seed_source(plan, SEED_SOURCE, services.SYSTEM)
        # The demo's salt is fixed (a real one is random) so the demo is reproducible.
        InspectionPlan.objects.filter(pk=plan.pk).update(
            seed_salt=DEMO_SALT, seed_salt_sha256=hashlib.sha256(DEMO_SALT.encode()).hexdigest()
        )
        plan.refresh_from_db()
        services.fix_seed(plan, SEED_VALUE, services.SYSTEM)
        InspectionPlan.objects.filter(pk=plan.pk).update(
            seed_announced_at=_aware(dt.date(2021, 12, 28), 9),
            seed_fixed_at=_aware(dt.date(2022, 1, 4), 9),
        )
        plan.refresh_from_db()
        annual = services.draw_annual(plan, services.SYSTEM)
        visits = services.draw_key_dates(plan, services.SYSTEM)
        for record in [annual, *visits]:
            services.verify_draw(record)
        counts = _carry_out(rng, plan, boss)
        n_cases = _cases(rng, boss or services.SYSTEM)
        decided = (
            PenaltyCase.objects.filter(decided_on__isnull=False)
            .exclude(outcome="复议撤销")
            .order_by("decided_on")
            .first()
        )
        if decided is not None:
            services.list_dishonest(
                decided.enterprise,
                services.SYSTEM,
                case=decided,
                decided_by=decided.department,
                basis="拒不执行安全监管监察指令,应急管理部令第11号第六条(演示)",
                listed_on=decided.decided_on + dt.timedelta(days=10),
                period_months=36,
                joint_punishments=[
                    "public_disclosure",
                    "bidding_restriction",
                    "frequent_inspection",
                ],
            )
    late = Inspection.objects.filter(plan=plan, state="done", publication__isnull=True).count()
    return (
        f"{PLAN_TITLE}:年度抽取 {annual.inspections.count()} 户,"
        f"关键节点明查暗访 {len(visits)} 次,已检查 {counts['done']} 户,发现问题 {counts['findings']} 项,"
        f"案件 {n_cases} 件,已公示 {counts['published']} 户(未公示 {late} 户)"
        + (f";新登记演示企业 {made} 家" if made else "")
    )


# ---------------------------------------------------------------- accident look-back (回头看)

LOOKBACK_TODAY = dt.date(2026, 11, 27)  # risk's demo "today"
TYPICAL_REASON = "有限空间作业未审批、未检测即进入,暴露同类企业共性问题(演示)"
SANCTIONS = [
    (
        "discipline",
        "{district}应急管理局分管负责人对辖区企业安全监管履职不到位,建议给予政务记过处分",
        "市纪委监委驻市应急管理局纪检监察组",
        "机关纪委",
    ),
    ("penalty", "事故单位未履行安全生产主体责任,建议依法处以罚款", "{district}应急管理局", None),
    (
        "judicial",
        "事故单位现场负责人涉嫌重大责任事故罪,建议移送司法机关处理",
        "市公安局",
        "市公安局",
    ),
    (
        "discipline",
        "{district}街道办事处安全生产分管领导督促检查不力,建议诫勉谈话",
        "{district}纪委监委",
        None,
    ),
    (
        "other",
        "事故单位主要负责人未履行安全生产管理职责,建议撤销其安全生产知识和管理能力考核合格证",
        "{district}应急管理局",
        None,
    ),
]
MEASURES = [
    "开展同类场所有限空间作业专项排查整治,建立有限空间台账",
    "完善安全生产责任制,逐级签订安全生产责任书",
    "对全体从业人员开展事故警示教育和岗位安全培训",
    "完善并演练生产安全事故应急预案",
    "落实特殊作业审批和现场监护制度",
]


def _district_gov(district_id: str | None) -> Department | None:
    if not district_id:
        return None
    return Department.objects.filter(kind="district_gov", region_id=district_id).first()


def _dept(name: str | None) -> Department | None:
    return Department.objects.filter(name=name).first() if name else None


def _walk_lookback(rng: random.Random, case: Any, n: int, handler: Any, boss: Any) -> None:
    """The report, its items and their progress, and (when a year has nearly
    passed) the evaluation, each dated as it would have happened."""
    from yingji.enforcement import lookback

    accident = case.accident
    occurred = timezone.localtime(accident.occurred_at).date()
    approved = occurred + dt.timedelta(days=rng.randint(75, 110))
    if approved > LOOKBACK_TODAY:
        return  # the investigation report is not approved yet
    district = case.district.name if case.district else ""
    lookback.record_report(
        case,
        handler,
        approved_on=approved,
        on=approved + dt.timedelta(days=3),
        approver=f"{district or '市'}人民政府",
    )
    gov = _district_gov(case.district_id)
    items = []
    for k in range(2 + n % 3):
        sanction, text, body, dept = SANCTIONS[(n + k) % len(SANCTIONS)]
        items.append(
            lookback.add_item(
                case,
                handler,
                kind="accountability",
                sanction=sanction,
                text=text.format(district=district),
                responsible=body.format(district=district),
                responsible_department=_dept(dept) or gov,
                deadline_workdays=60,
                on=approved + dt.timedelta(days=5),
            )
        )
    for k in range(3 + n % 2):
        items.append(
            lookback.add_item(
                case,
                handler,
                kind="measure",
                text=MEASURES[(n + k) % len(MEASURES)],
                responsible=accident.enterprise.name
                if accident.enterprise
                else f"{district}人民政府",
                responsible_department=gov,
                enterprise=accident.enterprise,
                deadline_workdays=rng.choice([40, 60, 90, 120]),
                on=approved + dt.timedelta(days=5),
            )
        )
    elapsed = (LOOKBACK_TODAY - approved).days / 365
    # Case 0 carries everything out, case 1 leaves half its measures undone.
    for k, item in enumerate(items):
        if n == 0:
            done = True
        elif n == 1:
            done = item.kind == "accountability" or k % 2 == 0
        else:
            done = rng.random() < min(0.95, elapsed * 1.2)
        day = min(item.deadline - dt.timedelta(days=rng.randint(-15, 20)), LOOKBACK_TODAY)
        if done:
            lookback.report_progress(
                item,
                handler,
                status="done",
                done_on=max(day, approved),
                evidence=(
                    "追责决定文书已送达(演示文号)"
                    if item.kind == "accountability"
                    else "整改验收记录及现场照片"
                ),
            )
        elif rng.random() < 0.6:
            lookback.report_progress(
                item,
                handler,
                status="in_progress",
                evidence="正在推进",
                on=min(approved + dt.timedelta(days=30), LOOKBACK_TODAY),
            )
    start = approved + dt.timedelta(days=300)
    if start > LOOKBACK_TODAY:
        return
    lookback.transition(case, "start", handler, on=start)
    lookback.transition(
        case,
        "conclude",
        handler,
        on=start + dt.timedelta(days=14),
        comment="查阅处分决定、行政处罚决定和整改验收资料,现场抽查整改情况",
    )
    if case.conclusion == "unqualified":
        if accident.enterprise is not None:
            lookback.findings_to_hazards(case, handler, on=start + dt.timedelta(days=15))
        lookback.transition(
            case,
            "recheck",
            handler,
            on=start + dt.timedelta(days=16),
            comment="责令限期 30 日内完成整改,逾期未落实的依法追究责任",
        )
    elif n % 3 == 0 and start + dt.timedelta(days=30) <= LOOKBACK_TODAY:
        lookback.transition(
            case, "close", boss, on=start + dt.timedelta(days=30), comment="评估结果已向社会公开"
        )


def _load_lookbacks() -> str:
    """Look-backs for the 较大 accidents of risk's demo (and one typical accident)."""
    from yingji.enforcement import lookback
    from yingji.enforcement.models import LookbackCase
    from yingji.risk.models import Accident

    if LookbackCase.objects.exists():
        return f"已有事故整改评估 {LookbackCase.objects.count()} 起"
    users = get_user_model().objects
    handler = users.filter(username="zhifa").first() or services.SYSTEM
    boss = users.filter(username="supervisor").first() or services.SYSTEM
    rng = random.Random(36)
    with audit.acting_as(None, "演示数据"), outbox.held(), transaction.atomic():
        _department()
        accidents = list(
            Accident.objects.filter(
                level__in=lookback.QUALIFYING_LEVELS, occurred_at__date__lte=LOOKBACK_TODAY
            )
            .select_related("enterprise")
            .order_by("occurred_at", "pk")
        )
        typical = (
            Accident.objects.filter(
                level="general", deaths__gte=1, enterprise__isnull=False, occurred_at__year=2025
            )
            .order_by("occurred_at")
            .first()
        )
        cases = []
        for accident in accidents:
            case, _ = lookback.open_case(
                accident,
                LookbackCase.Reason.LEVEL,
                services.SYSTEM,
                on=timezone.localtime(accident.occurred_at).date() + dt.timedelta(days=1),
            )
            cases.append(case)
        if typical is not None:
            cases.append(
                lookback.mark_typical(
                    typical,
                    handler,
                    reason=TYPICAL_REASON,
                    on=timezone.localtime(typical.occurred_at).date() + dt.timedelta(days=7),
                )
            )
        for n, case in enumerate(cases):
            _walk_lookback(rng, case, n, handler, boss)
    if not cases:
        return "没有较大及以上事故,未启动事故整改评估"
    states = Counter(c.get_state_display() for c in LookbackCase.objects.all())
    return (
        f"事故整改评估 {len(cases)} 起(较大及以上 {len(accidents)}、典型 {int(typical is not None)}):"
        + "、".join(f"{k} {v}" for k, v in sorted(states.items()))
    )
