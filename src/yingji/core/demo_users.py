"""Demo accounts (`yingji demo_users`): one per role and one per bureau department
that leads a task of the 2022 seed plan. All share one password, generated on the
install's first run and kept in var/demo-password (readable by its owner only);
`make demo` prints it. Every install has its own: no demo password is published,
so a demo left reachable on a network is not open to whoever read the README.

Never for production: the accounts share their password.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from yingji.core import audit, hardening
from yingji.core.departments import ensure_street_offices, load_departments, resolve
from yingji.core.models import Profile, Region, Role

EMAIL_DOMAIN = "demo.yingji.local"


def password_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-password"


def demo_password() -> str:
    """This install's demo password (generated on first use)."""
    return hardening.local_secret(password_file(), hardening.demo_password)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    full_name: str
    department: str = ""  # a department name or alias, resolved through merges
    region_code: str = ""
    superuser: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@{EMAIL_DOMAIN}"


def _staff(username: str, department: str) -> DemoAccount:
    return DemoAccount(username, Role.DEPT_STAFF, f"{department}(演示)", department)


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", Role.ADMIN, "系统管理员(演示)", superuser=True),
    DemoAccount("leader", Role.LEADER, "局领导(演示)"),
    DemoAccount("supervisor", Role.SUPERVISOR, "督查员(演示)", "办公室"),
    # Every bureau department or unit that leads a task (or a clause) of the seed plan.
    _staff("jiguandangwei", "机关党委"),
    _staff("bangongshi", "办公室"),
    _staff("xinwen", "新闻处"),
    _staff("renshi", "人事处"),
    _staff("zonghe", "综合处"),
    _staff("kejitongji", "科技和统计处"),
    _staff("jianzai", "减灾处"),
    _staff("zhihui", "指挥处"),
    _staff("fagui", "法规处"),
    _staff("sanfang", "三防处"),
    _staff("jiuyuan", "救援预案处"),
    _staff("fanghuo", "防火处"),
    _staff("jichu", "基础处"),
    _staff("weihua", "危化处"),
    _staff("zhifa", "执法处"),
    _staff("dizhenju", "地震局"),
    _staff("dizhenjiance", "地震监测中心"),
    DemoAccount("tianhe", Role.DISTRICT_STAFF, "天河区(演示)", "天河区政府", region_code="440106"),
    DemoAccount(
        "shipai",
        Role.DISTRICT_STAFF,
        "石牌街道(演示)",
        "天河区石牌街道应急办",
        region_code="440106006",
    ),
    DemoAccount("duty", Role.DUTY_OFFICER, "值班员(演示)", "指挥中心"),
)


@dataclass
class DemoUserResult:
    account: DemoAccount
    created: bool
    department: str = ""
    region: str = ""
    notes: list[str] = field(default_factory=list)


def accounts_table() -> str:
    """The demo accounts as a Markdown table (for the README and the command's help)."""
    role_labels = dict(Role.choices)
    lines = ["| 账号 | 角色 | 部门 / 区划 |", "|---|---|---|"]
    for a in DEMO_ACCOUNTS:
        place = " ".join(p for p in (a.department, a.region_code) if p) or "—"
        lines.append(f"| `{a.username}` | {role_labels[a.role]} | {place} |")
    return "\n".join(lines)


def create_demo_users(*, reset_passwords: bool = False) -> list[DemoUserResult]:
    """Create or update every demo account with its profile; idempotent.

    New accounts get this install's demo password (`demo_password()`); existing
    ones keep theirs unless `reset_passwords`. Departments are loaded first if any is missing; the region of
    `tianhe` (440106) is linked only once regions are loaded (run again after).
    """
    if any(a.department and resolve(a.department) is None for a in DEMO_ACCOUNTS):
        load_departments()
        ensure_street_offices()  # the street account's office (once regions are loaded)
    user_model = get_user_model()
    # One hash for all: hashing is deliberately slow, and the accounts share it anyway.
    password = demo_password()
    encoded = make_password(password)
    results = []
    with transaction.atomic(), audit.acting_as(None, "演示账号"):
        for account in DEMO_ACCOUNTS:
            user = user_model.objects.filter(username=account.username).first()
            created = user is None
            if created:
                user = user_model(username=account.username, password=encoded)
            wanted = {
                "email": account.email,
                "is_superuser": account.superuser,
                "is_staff": account.superuser or account.role == Role.ADMIN,
                "is_active": True,
            }
            changed = [k for k, v in wanted.items() if getattr(user, k) != v]
            for k in changed:
                setattr(user, k, wanted[k])
            if reset_passwords and not created and not user.check_password(password):
                user.password = encoded
                changed.append("password")
            if created or changed:
                user.save()
            results.append(_ensure_profile(user, account, created))
    return results


def _ensure_profile(user, account: DemoAccount, created: bool) -> DemoUserResult:
    result = DemoUserResult(account, created)
    department = resolve(account.department) if account.department else None
    if account.department and department is None:
        result.notes.append(f"部门「{account.department}」不存在")
    region = (
        Region.objects.filter(code=account.region_code).first() if account.region_code else None
    )
    if account.region_code and region is None:
        result.notes.append(f"区划 {account.region_code} 未导入,暂未关联")
    profile = Profile.objects.filter(user=user).first() or Profile(user=user)
    wanted = {
        "full_name": account.full_name,
        "role": account.role,
        "department_id": department.pk if department else None,
    }
    if region is not None:
        wanted["region_id"] = region.pk
    changed = [k for k, v in wanted.items() if getattr(profile, k) != v]
    for k in changed:
        setattr(profile, k, wanted[k])
    if profile.pk is None or changed:
        profile.save()
    result.department = department.name if department else ""
    result.region = str(region) if region else ""
    return result
