"""Small ORM builders for work-plan tests (no parser, no demo)."""

import datetime as dt

from django.contrib.auth.models import User

from yingji.core.models import Department, Profile, Role
from yingji.workplan.models import Assignment, Milestone, Plan, Section, Task


def user(
    username: str,
    role: str = Role.DEPT_STAFF,
    department: Department | None = None,
    email: str | None = None,
) -> User:
    u = User.objects.create_user(
        username, email=email or f"{username}@example.org", password="pw-123456"
    )
    Profile.objects.create(user=u, role=role, department=department, full_name=username)
    return u


def plan_with_tasks(year: int = 2022) -> dict:
    """Two departments, a plan with one section and three tasks:
    1: quarterly (4 milestones), led by 综合处, 危化处 co-organises;
    2: due 2022-06-30, led by 危化处;
    3: due 2022-12-31, led by 综合处."""
    zonghe = Department.objects.create(name="综合处", email="zonghe@example.org")
    weihua = Department.objects.create(name="危化处")
    plan = Plan.objects.create(title=f"{year}年工作要点", year=year, source_sha256=f"x{year}")
    sec = Section.objects.create(plan=plan, number=1, title="一、强化风险防范")
    t1 = Task.objects.create(
        plan=plan,
        section=sec,
        number=1,
        text="定期组织召开季度风险分析会。",
        recurrence="quarterly",
    )
    t2 = Task.objects.create(
        plan=plan,
        section=sec,
        number=2,
        text="开展老旧装置安全风险评估。",
        due=dt.date(year, 6, 30),
    )
    t3 = Task.objects.create(
        plan=plan, section=sec, number=3, text="修订免处罚清单。", due=dt.date(year, 12, 31)
    )
    Assignment.objects.create(
        task=t1, department=zonghe, role="lead", position=0, name_as_written="综合处"
    )
    Assignment.objects.create(
        task=t1, department=weihua, role="co", position=1, name_as_written="危化处"
    )
    Assignment.objects.create(
        task=t2, department=weihua, role="lead", position=0, name_as_written="危化处"
    )
    Assignment.objects.create(
        task=t3, department=zonghe, role="lead", position=0, name_as_written="综合处"
    )
    for i, month in enumerate((3, 6, 9, 12), start=1):
        end = dt.date(year, month, 31 if month in (3, 12) else 30)
        Milestone.objects.create(task=t1, kind="recurrence", title=f"第{i}季度", due=end)
    Milestone.objects.create(task=t2, kind="deadline", title="完成时限", due=dt.date(year, 6, 30))
    Milestone.objects.create(task=t3, kind="deadline", title="完成时限", due=dt.date(year, 12, 31))
    return {"plan": plan, "zonghe": zonghe, "weihua": weihua, "t1": t1, "t2": t2, "t3": t3}
