"""Shared fixtures for risk tests: Guangzhou regions, the department register,
users of each kind and a located enterprise."""

import pytest
from django.contrib.auth.models import User

from yingji.core import audit, regions
from yingji.core.departments import load_departments, resolve
from yingji.core.models import Department, DepartmentAlias, Profile, Region, Role
from yingji.risk import creditcode, services

TIANHE_POINT = (113.3612, 23.1247)  # 天河区, near 石牌


def make_user(username: str, role: str, department=None, region=None):
    u = User.objects.create_user(username, email=f"{username}@example.org", password="pw-123456")
    Profile.objects.create(
        user=u, role=role, department=department, region=region, full_name=username
    )
    return u


_SNAPSHOT: dict[str, list[dict]] = {}
LEVEL_ORDER = {"city": 0, "district": 1, "street": 2, "community": 3}


def _load_guangzhou() -> None:
    """Regions and departments: loaded through the real loaders once per session,
    then restored from a snapshot (each test rolls back; reloading the pack every
    time would cost ~1.5 s a test)."""
    if not _SNAPSHOT:
        regions.load_pack("guangzhou")
        load_departments()
        _SNAPSHOT["regions"] = sorted(
            Region.objects.values(), key=lambda r: (LEVEL_ORDER[r["level"]], r["code"])
        )
        _SNAPSHOT["departments"] = list(Department.objects.order_by("pk").values())
        _SNAPSHOT["aliases"] = list(DepartmentAlias.objects.values())
        return
    with audit.suspended():
        Region.objects.bulk_create([Region(**r) for r in _SNAPSHOT["regions"]])
        Department.objects.bulk_create([Department(**d) for d in _SNAPSHOT["departments"]])
        DepartmentAlias.objects.bulk_create([DepartmentAlias(**a) for a in _SNAPSHOT["aliases"]])
    regions.invalidate_index()


@pytest.fixture
def gz(db):
    """Regions and departments of Guangzhou."""
    _load_guangzhou()
    return {
        "weihua": resolve("危化处"),
        "jichu": resolve("基础处"),
        "tianhe_gov": resolve("天河区政府"),
        "zhujian": resolve("市住房城乡建设局"),
    }


@pytest.fixture
def people(gz):
    tianhe = Region.objects.get(code="440106")
    haizhu = Region.objects.get(code="440105")
    return {
        "weihua": make_user("weihua", Role.DEPT_STAFF, gz["weihua"]),
        "jichu": make_user("jichu", Role.DEPT_STAFF, gz["jichu"]),
        "tianhe": make_user("tianhe", Role.DISTRICT_STAFF, gz["tianhe_gov"], tianhe),
        "haizhu": make_user("haizhu", Role.DISTRICT_STAFF, None, haizhu),
        "supervisor": make_user("supervisor", Role.SUPERVISOR),
        "duty": make_user("duty", Role.DUTY_OFFICER),
    }


@pytest.fixture
def chem(gz):
    """A chemical manufacturer in 天河 (supervised by 危化处)."""
    return services.save_enterprise(
        credit_code=creditcode.make("91440106", 1),
        name="广州某化工有限公司",
        industry_code="C2614",
        lon=TIANHE_POINT[0],
        lat=TIANHE_POINT[1],
        key_categories=["hc_production"],
        address="天河区石牌",
    )
