import pytest
from django.contrib.auth.models import User

from yingji.core.models import Department, DepartmentKind, Profile, Region, Role


def _user(name, role, department=None, region=None):
    u = User.objects.create_user(name, password="pw-123456")
    Profile.objects.create(
        user=u, role=role, department=department, region=region, full_name=f"{name}同志"
    )
    return u


@pytest.fixture
def world(db):
    city = Region.objects.create(code="440100", name="广州市", level="city")
    tianhe = Region.objects.create(code="440106", name="天河区", level="district", parent=city)
    panyu = Region.objects.create(code="440113", name="番禺区", level="district", parent=city)
    shipai = Region.objects.create(code="440106006", name="石牌街道", level="street", parent=tianhe)
    shiqiao = Region.objects.create(code="440113001", name="市桥街道", level="street", parent=panyu)
    sanfang = Department.objects.create(name="三防处")
    th_gov = Department.objects.create(
        name="天河区政府", kind=DepartmentKind.DISTRICT_GOV, region=tianhe
    )
    py_gov = Department.objects.create(
        name="番禺区政府", kind=DepartmentKind.DISTRICT_GOV, region=panyu
    )
    weihua = Department.objects.create(name="危化处")
    return {
        "regions": {r.code: r for r in (city, tianhe, panyu, shipai, shiqiao)},
        "sanfang": _user("sanfang", Role.DEPT_STAFF, sanfang),
        "tianhe": _user("tianhe", Role.DISTRICT_STAFF, th_gov, tianhe),
        "panyu": _user("panyu", Role.DISTRICT_STAFF, py_gov, panyu),
        "weihua": _user("weihua", Role.DEPT_STAFF, weihua),
        "duty": _user("duty", Role.DUTY_OFFICER, Department.objects.create(name="指挥中心")),
    }
