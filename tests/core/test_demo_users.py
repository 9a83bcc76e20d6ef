"""Demo accounts."""

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command

from yingji.core import demo_users, scope
from yingji.core.models import Department, Profile, Region, Role

SEED_LEADS = {
    "机关党委",
    "办公室",
    "新闻处",
    "综合处",
    "指挥处",
    "人事处",
    "法规处",
    "三防处",
    "地震局",
    "科技和统计处",
    "危化处",
    "基础处",
    "执法处",
    "减灾处",
    "防火处",
    "地震监测中心",
    "救援预案处",
}


@pytest.mark.django_db
def test_demo_users_are_created_once_with_profiles_and_emails():
    results = demo_users.create_demo_users()
    assert all(r.created for r in results)
    assert User.objects.count() == len(demo_users.DEMO_ACCOUNTS)
    again = demo_users.create_demo_users()
    assert not any(r.created for r in again)
    assert User.objects.count() == len(demo_users.DEMO_ACCOUNTS)
    for account in demo_users.DEMO_ACCOUNTS:
        user = User.objects.get(username=account.username)
        assert user.email == f"{account.username}@demo.yingji.local"
        assert user.profile.role == account.role
        assert user.check_password(demo_users.demo_password())


@pytest.mark.django_db
def test_roles_and_departments():
    demo_users.create_demo_users()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.profile.role == Role.ADMIN
    assert Profile.objects.get(user__username="leader").role == Role.LEADER
    supervisor = Profile.objects.get(user__username="supervisor")
    assert (supervisor.role, supervisor.department.name) == (Role.SUPERVISOR, "办公室")
    duty = Profile.objects.get(user__username="duty")
    assert duty.role == Role.DUTY_OFFICER
    assert scope.scope_for(duty.user).sees_all and not scope.scope_for(duty.user).edits_all
    for username, dept in [
        ("zonghe", "综合处"),
        ("weihua", "危化处"),
        ("jichu", "基础处"),
        ("zhifa", "执法处"),
        ("sanfang", "三防处"),
        ("zhihui", "指挥处"),
        ("jiuyuan", "救援预案处"),
        ("bangongshi", "办公室"),
        ("jiguandangwei", "机关党委"),
    ]:
        profile = Profile.objects.get(user__username=username)
        assert (profile.role, profile.department.name) == (Role.DEPT_STAFF, dept)


def test_every_department_leading_a_seed_task_has_an_account():
    staffed = {a.department for a in demo_users.DEMO_ACCOUNTS if a.role == Role.DEPT_STAFF}
    assert staffed == SEED_LEADS


@pytest.mark.django_db
def test_district_account_gets_its_region_once_regions_exist():
    results = {r.account.username: r for r in demo_users.create_demo_users()}
    tianhe = Profile.objects.get(user__username="tianhe")
    assert tianhe.role == Role.DISTRICT_STAFF and tianhe.department.name == "天河区政府"
    assert tianhe.region is None and results["tianhe"].notes
    Region.objects.create(code="440106", name="天河区", level="district")
    demo_users.create_demo_users()
    tianhe.refresh_from_db()
    assert tianhe.region_id == "440106"


@pytest.mark.django_db
def test_existing_passwords_are_kept_unless_reset():
    demo_users.create_demo_users()
    user = User.objects.get(username="zonghe")
    user.set_password("changed-it")
    user.save()
    demo_users.create_demo_users()
    user.refresh_from_db()
    assert user.check_password("changed-it")
    demo_users.create_demo_users(reset_passwords=True)
    user.refresh_from_db()
    assert user.check_password(demo_users.demo_password())


@pytest.mark.django_db
def test_command_prints_the_accounts_and_the_password(capsys):
    call_command("demo_users")
    out = capsys.readouterr().out
    assert demo_users.demo_password() in out and "zonghe" in out and "综合处" in out
    assert Department.objects.filter(name="综合处").exists()


def test_the_demo_password_is_generated_per_install_and_kept(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "one"
    first = demo_users.demo_password()
    assert first == demo_users.demo_password()  # the same on every run of this install
    assert (tmp_path / "one" / "demo-password").stat().st_mode & 0o777 == 0o600
    settings.VAR_DIR = tmp_path / "two"
    assert demo_users.demo_password() != first  # another install, another password
    assert first != "yingji-demo" and len(first) >= 12
    validate_password(first)  # it passes the password rules it asks of everyone


def test_accounts_table_for_the_readme():
    table = demo_users.accounts_table()
    assert (
        "| `admin` | 管理员 |" in table
        and "| `tianhe` | 区/街道人员 | 天河区政府 440106 |" in table
    )


@pytest.mark.django_db
def test_street_offices_one_per_street_named_by_district_and_never_suggested_as_duplicates():
    from yingji.core import departments
    from yingji.core.models import DepartmentKind, MergeSuggestion

    tianhe = Region.objects.create(code="440106", name="天河区", level="district")
    yuexiu = Region.objects.create(code="440104", name="越秀区", level="district")
    for code, name, parent in [
        ("440106006", "石牌街道", tianhe),
        ("440106001", "五山街道", tianhe),
        ("440104001", "五山街道", yuexiu),
    ]:  # same street name elsewhere
        Region.objects.create(code=code, name=name, level="street", parent=parent)
    assert departments.ensure_street_offices().created == 3
    offices = dict(
        Department.objects.filter(kind=DepartmentKind.STREET_OFFICE).values_list(
            "region_id", "name"
        )
    )
    assert offices == {
        "440106006": "天河区石牌街道应急办",
        "440106001": "天河区五山街道应急办",
        "440104001": "越秀区五山街道应急办",
    }
    assert departments.ensure_street_offices().created == 0  # idempotent
    departments.load_departments()
    assert not MergeSuggestion.objects.filter(
        department__kind=DepartmentKind.STREET_OFFICE
    ).exists()
    demo_users.create_demo_users()
    shipai = Profile.objects.get(user__username="shipai")
    assert (shipai.region_id, shipai.department.name) == ("440106006", "天河区石牌街道应急办")


@pytest.mark.django_db
def test_street_offices_command_needs_street_regions():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="镇街区划"):
        call_command("departments", "street-offices")
