"""Small ORM builders for enforcement tests: regions, departments, users,
enterprises, inspectors, a plan with its seed fixed."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User

from yingji.core.models import Department, Profile, Region, Role
from yingji.enforcement import services
from yingji.enforcement.models import ExemptionRule, InspectionPlan, Inspector, Matter
from yingji.risk.models import Enterprise

TIANHE, BAIYUN = "440106", "440111"


def regions() -> dict[str, Region]:
    city = Region.objects.create(code="440100", name="广州市", level="city")
    return {
        "city": city,
        TIANHE: Region.objects.create(code=TIANHE, name="天河区", level="district", parent=city),
        BAIYUN: Region.objects.create(code=BAIYUN, name="白云区", level="district", parent=city),
    }


def user(
    username: str,
    role: str = Role.DEPT_STAFF,
    department: Department | None = None,
    region: Region | None = None,
) -> User:
    u = User.objects.create_user(username, email=f"{username}@example.org", password="pw-123456")
    Profile.objects.create(
        user=u, role=role, department=department, region=region, full_name=username
    )
    return u


def enterprise(n: int, district: str = TIANHE, categories=("hc_use",), **kw) -> Enterprise:
    return Enterprise.objects.create(
        credit_code=f"91440100MA{n:08d}",
        name=f"测试企业{n}号",
        district_id=district,
        industry_code="2614",
        key_categories=list(categories),
        **kw,
    )


def inspector(
    number: str,
    department: Department,
    districts=(TIANHE,),
    valid_to: dt.date = dt.date(2026, 12, 31),
    user: User | None = None,
) -> Inspector:
    i = Inspector.objects.create(
        name=f"执法员{number}",
        certificate_number=number,
        certificate_valid_from=dt.date(2020, 1, 1),
        certificate_valid_to=valid_to,
        department=department,
        user=user,
    )
    i.districts.set(Region.objects.filter(code__in=districts))
    return i


def world() -> dict:
    """Two districts, 执法处 with a handler and the supervisor, 40 enterprises in
    天河 and 10 in 白云, 4 inspectors each, the exemption list, a fixed seed."""
    r = regions()
    zhifa = Department.objects.create(name="执法处", email="zhifa@example.org")
    handler = user("zhifa", department=zhifa)
    boss = user("supervisor", role=Role.SUPERVISOR)
    other = user("other", department=Department.objects.create(name="综合处"))
    ents = [enterprise(i) for i in range(40)] + [
        enterprise(100 + i, BAIYUN, ("town_gas",)) for i in range(10)
    ]
    staff = [inspector(f"T{i}", zhifa, user=handler if i == 0 else None) for i in range(4)]
    staff += [inspector(f"B{i}", zhifa, (BAIYUN,)) for i in range(4)]
    Matter.objects.create(
        code="M-HC",
        name="危险化学品使用安全检查",
        category="hc_use",
        checklist=[
            {"code": "HC-01", "text": "安全管理制度", "basis": "安全生产法第21条"},
            {"code": "HC-02", "text": "重大危险源监控", "basis": "安全生产法第40条"},
        ],
    )
    Matter.objects.create(
        code="M-GEN",
        name="通用检查",
        category="general",
        checklist=[{"code": "GEN-01", "text": "安全培训记录", "basis": "安全生产法第28条"}],
    )
    ExemptionRule.objects.create(
        code="MF-01",
        title="未如实记录安全培训情况(首违)",
        clause="《广东省安全生产领域轻微违法行为免处罚清单》第3项",
        checklist_codes=["GEN-01"],
    )
    plan = InspectionPlan.objects.create(
        year=2022,
        title="2022年度双随机抽查计划",
        department=zhifa,
        default_proportion=0.1,
        key_date_count=2,
    )
    services.announce_seed_source(plan, "双色球 2022001 期开奖号码", handler)
    services.fix_seed(plan, "03 07 12 19 25 31 + 09", handler)
    return {
        "regions": r,
        "zhifa": zhifa,
        "handler": handler,
        "boss": boss,
        "other": other,
        "enterprises": ents,
        "inspectors": staff,
        "plan": plan,
    }
