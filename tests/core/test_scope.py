"""Role scoping: the pure rule, and scope_for() reading profiles."""

import pytest
from django.contrib.auth.models import AnonymousUser, User

from yingji.core import scope
from yingji.core.models import Department, DepartmentKind, Profile, Region, Role


def test_role_names_in_the_pure_rule_are_the_model_roles():
    assert scope.SEES_ALL_ROLES | scope.READ_ALL_ROLES | {"dept_staff", "district_staff"} == set(
        Role.values
    )


@pytest.mark.parametrize("role", ["leader", "supervisor", "admin"])
def test_leaders_supervisors_and_administrators_see_and_edit_everything(role):
    s = scope.scope_from(role, department_id=3)
    assert s.sees_all and s.edits_all
    assert s.covers_department(99) and s.covers_region("440118") and s.can_edit_department(99)


def test_superuser_without_role_sees_everything():
    assert scope.scope_from(None, is_superuser=True) == scope.EVERYTHING


def test_duty_officer_sees_everything_but_edits_only_their_own_department():
    s = scope.scope_from("duty_officer", department_id=7)
    assert s.sees_all and not s.edits_all
    assert s.covers_department(99) and not s.can_edit_department(99)
    assert s.can_edit_department(7)


def test_department_staff_see_their_department_only():
    s = scope.scope_from("dept_staff", department_id=7)
    assert not s.sees_all
    assert s.covers_department(7) and not s.covers_department(8)
    assert s.can_edit_department(7) and not s.can_edit_department(8)
    assert not s.covers_region("440106")


def test_district_staff_see_their_region_below_it_and_their_district_government():
    s = scope.scope_from("district_staff", region_code="440106", district_department_ids=[30])
    assert s.covers_region("440106") and s.covers_region("440106001")
    assert s.covers_region("440106001001")
    assert not s.covers_region("440105") and not s.covers_region("440111001")
    assert s.covers_department(30) and s.can_edit_department(30)
    assert not s.covers_department(31)


def test_no_role_sees_nothing():
    assert scope.scope_from(None) == scope.NOTHING
    assert not scope.NOTHING.covers_department(1)
    assert not scope.NOTHING.covers_region("440106")


def _user(name, role=None, **profile):
    user = User.objects.create_user(name)
    if role:
        Profile.objects.create(user=user, role=role, **profile)
    return user


@pytest.mark.django_db
def test_scope_for_reads_the_profile():
    zonghe = Department.objects.create(name="综合处")
    assert scope.scope_for(_user("zonghe", Role.DEPT_STAFF, department=zonghe)).department_ids == {
        zonghe.pk
    }
    assert scope.scope_for(_user("leader", Role.LEADER)).sees_all
    assert scope.scope_for(_user("nobody")) == scope.NOTHING
    assert scope.scope_for(AnonymousUser()) == scope.NOTHING
    assert scope.scope_for(User.objects.create_superuser("root", "r@example.org", "x")).sees_all


@pytest.mark.django_db
def test_district_staff_scope_includes_the_district_government_department():
    tianhe = Region.objects.create(code="440106", name="天河区", level="district")
    street = Region.objects.create(code="440106001", name="五山街道", level="street", parent=tianhe)
    gov = Department.objects.create(
        name="天河区政府", kind=DepartmentKind.DISTRICT_GOV, region=tianhe
    )
    Department.objects.create(name="海珠区政府", kind=DepartmentKind.DISTRICT_GOV)
    s = scope.scope_for(_user("tianhe", Role.DISTRICT_STAFF, region=tianhe))
    assert s.department_ids == {gov.pk} and s.region_codes == {"440106"}
    # staff of a street see their street, and the district government above it
    s = scope.scope_for(_user("wushan", Role.DISTRICT_STAFF, region=street))
    assert s.department_ids == {gov.pk} and s.covers_region("440106001001")
    assert not s.covers_region("440106002")


@pytest.mark.django_db
def test_can_edit_department_and_queryset_filter():
    a = Department.objects.create(name="综合处")
    b = Department.objects.create(name="危化处")
    staff = _user("zonghe", Role.DEPT_STAFF, department=a)
    duty = _user("duty", Role.DUTY_OFFICER)
    assert scope.can_edit_department(staff, a) and not scope.can_edit_department(staff, b)
    assert not scope.can_edit_department(duty, a)
    assert list(Department.objects.filter(scope.scope_for(staff).q(department_field="pk"))) == [a]
    assert Department.objects.filter(scope.scope_for(duty).q(department_field="pk")).count() == 2
    assert not Department.objects.filter(scope.NOTHING.q(department_field="pk")).exists()


@pytest.mark.django_db
def test_administrators_are_superusers_and_the_admin_role():
    assert scope.is_administrator(User.objects.create_superuser("root", "r@example.org", "x"))
    assert scope.is_administrator(_user("adm", Role.ADMIN))
    assert not scope.is_administrator(_user("leader", Role.LEADER))
    assert not scope.is_administrator(AnonymousUser())
