"""Password rules: length and character classes (settings), the age of every
password recorded, an expired (or administrator-set) password changed before
anything else — pages and API alike."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from yingji.core import audit, passwords
from yingji.core.models import AccountSecurity, Profile, Role

PASSWORD = "Correct-Horse-42"
NEW = "Another-Horse-77"


def test_character_classes_and_their_message():
    assert passwords.classes("Ab1-") == {"大写字母", "小写字母", "数字", "符号"}
    assert passwords.classes("应急管理") == {"符号"}
    assert passwords.class_problem("Abcdefghijkl1", 3) is None
    problem = passwords.class_problem("abcdefghijkl1", 3)
    assert "至少 3 类" in problem and "当前 2 类" in problem and "大写字母、符号" in problem


def test_age():
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    assert passwords.expired(now - dt.timedelta(days=91), now, 90)
    assert not passwords.expired(now - dt.timedelta(days=89), now, 90)
    assert not passwords.expired(now - dt.timedelta(days=900), now, 0)  # 0: never
    assert not passwords.expired(None, now, 90)
    assert passwords.days_left(now - dt.timedelta(days=80), now, 90) == 10


@pytest.mark.django_db
@translation.override("zh-hans")
def test_the_validators_ask_for_twelve_characters_and_three_classes():
    for weak, why in [
        ("Ab1-short", "至少包含 12 个字符"),
        ("alllowercase123", "至少 3 类"),
        ("123456789012345", "至少 3 类"),
    ]:
        with pytest.raises(ValidationError) as exc:
            validate_password(weak)
        assert any(why in m for m in exc.value.messages), exc.value.messages
    validate_password("Abcdefgh1234")


@pytest.mark.django_db
def test_the_rules_follow_the_settings(settings):
    settings.AUTH_PASSWORD_VALIDATORS = [
        {
            "NAME": "yingji.core.accounts.LengthValidator",
            "OPTIONS": {"min_length": 16},
        },
        {"NAME": "yingji.core.accounts.CharacterClassValidator", "OPTIONS": {"min_classes": 4}},
    ]
    with pytest.raises(ValidationError):
        validate_password("Abcdefgh12345")  # 13 characters, 3 classes
    validate_password("Abcdefgh-1234567")


def _user(username: str = "zhang") -> User:
    u = User.objects.create_user(username, password=PASSWORD)
    Profile.objects.create(user=u, role=Role.DEPT_STAFF, full_name=username)
    return u


def _login(username: str = "zhang") -> Client:
    client = Client()
    r = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert r.status_code == 302
    return client


@pytest.mark.django_db
def test_a_password_is_as_old_as_the_account_then_as_its_last_change():
    user = _user()
    created = AccountSecurity.objects.get(user=user).password_changed_at
    user.set_password(NEW)
    user.save()
    record = AccountSecurity.objects.get(user=user)
    assert record.password_changed_at > created and not record.must_change_password


@pytest.mark.django_db
def test_an_expired_password_must_be_changed_before_anything_else():
    user = _user()
    AccountSecurity.objects.filter(user=user).update(
        password_changed_at=timezone.now() - dt.timedelta(days=91)
    )
    client = _login()
    r = client.get(reverse("workplan:plans"), follow=True)
    assert r.redirect_chain[-1][0].startswith(reverse("password_change"))
    assert "您的密码已超过 90 天未修改,请先设置新密码" in r.content.decode()
    api = client.get("/api/v1/core/me")
    assert api.status_code == 403 and "请先设置新密码" in api.json()["detail"]

    # a weak new password is refused with the rule, in Chinese
    r = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert "至少包含 12 个字符" in r.content.decode()
    r = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
        follow=True,
    )
    assert "新密码已生效" in r.content.decode()
    assert client.get(reverse("workplan:plans")).status_code == 200
    assert client.get("/api/v1/core/me").status_code == 200
    assert AccountSecurity.objects.get(
        user=user
    ).password_changed_at > timezone.now() - dt.timedelta(minutes=1)


@pytest.mark.django_db
def test_a_password_set_by_an_administrator_is_changed_at_the_first_login():
    user = _user()
    admin = User.objects.create_user("root", password=PASSWORD)
    with audit.acting_as(admin):  # as the admin's change-password form does
        user.set_password(PASSWORD)
        user.save()
    assert AccountSecurity.objects.get(user=user).must_change_password
    client = _login()
    r = client.get(reverse("home"), follow=True)
    assert "您的密码由管理员设置,请先修改密码" in r.content.decode()


@pytest.mark.django_db
def test_no_expiry_when_the_setting_is_zero(settings):
    settings.YINGJI_PASSWORD_MAX_AGE_DAYS = 0
    user = _user()
    AccountSecurity.objects.filter(user=user).update(
        password_changed_at=timezone.now() - dt.timedelta(days=3000)
    )
    assert _login().get(reverse("workplan:plans")).status_code == 200
