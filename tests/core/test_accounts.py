"""Login lock-out through the real login form (django-axes, core/accounts.py):
per account and per address, the right password refused while locked, the lock
ending by itself or by an administrator; logins, logouts and failures audited."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yingji.core.models import AuditEntry, Profile, Role

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-42"


def _user(username: str, role: str = Role.DEPT_STAFF, **kw) -> User:
    u = User.objects.create_user(username, password=PASSWORD, **kw)
    Profile.objects.create(user=u, role=role, full_name=username)
    return u


def _login(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def _logged_in(client: Client) -> bool:
    return client.get(reverse("home")).status_code == 200


def test_twenty_wrong_passwords_lock_the_account_and_the_right_one_is_refused():
    _user("zhang")
    client = Client()
    for _ in range(19):
        r = _login(client, "zhang", "wrong-password")
        assert r.status_code == 200 and "用户名或密码不正确" in r.content.decode()
    r = _login(client, "zhang", "wrong-password")  # the 20th
    assert r.status_code == 429
    assert "该账号连续登录失败已达 20 次,已被锁定" in r.content.decode()

    r = _login(client, "zhang", PASSWORD)  # the right one, now refused
    page = r.content.decode()
    assert r.status_code == 429
    assert "已被锁定" in page and "密码正确也不能登录" in page and "30 分钟后再试" in page
    assert not _logged_in(client)
    # from another machine too: the account is locked, not the address
    assert _login(Client(REMOTE_ADDR="10.1.2.3"), "zhang", PASSWORD).status_code == 429

    entries = AuditEntry.objects.filter(object_repr="zhang")
    assert entries.filter(action="failed").count() == 22
    locked = entries.get(action="locked")
    assert locked.after["failures_by_account"] == 20 and locked.after["address"] == "127.0.0.1"
    assert entries.filter(action="failed", after__reason="账号或地址已锁定").count() == 2
    assert not entries.filter(action="login").exists()


def test_an_administrator_unlocks_the_account_then_it_logs_in():
    _user("zhang")
    admin = _user("root", Role.ADMIN)
    for _ in range(20):
        _login(Client(), "zhang", "wrong-password")
    staff = Client()
    staff.force_login(_user("li"))
    assert staff.get(reverse("account_lockouts")).status_code == 403
    assert (
        staff.post(reverse("account_unlock"), {"kind": "account", "value": "zhang"}).status_code
        == 403
    )

    office = Client()
    office.force_login(admin)
    page = office.get(reverse("account_lockouts")).content.decode()
    assert 'data-kind="account" data-value="zhang" class="bad"' in page and "已锁定" in page
    r = office.post(reverse("account_unlock"), {"kind": "account", "value": "zhang"}, follow=True)
    assert "已解除账号「zhang」的锁定" in r.content.decode()
    unlock = AuditEntry.objects.get(action="unlock", object_repr="zhang")
    assert unlock.actor == admin

    client = Client()
    assert _login(client, "zhang", PASSWORD).status_code == 302
    assert _logged_in(client)


def test_a_lock_out_ends_by_itself_after_the_lock_out_time():
    _user("zhang")
    for _ in range(20):
        _login(Client(), "zhang", "wrong-password")
    assert _login(Client(), "zhang", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=31))
    client = Client()
    assert _login(client, "zhang", PASSWORD).status_code == 302 and _logged_in(client)


def test_one_address_trying_many_accounts_is_locked_on_its_own_limit(settings):
    settings.YINGJI_LOGIN_FAILURES_PER_ADDRESS = 5
    _user("zhang")
    attacker = "203.0.113.7"
    for name in ("a1", "a2", "a3", "a4", "a5"):  # one try each: no account reaches 20
        _login(Client(REMOTE_ADDR=attacker), name, "guess")
    r = _login(Client(REMOTE_ADDR=attacker), "zhang", PASSWORD)
    assert r.status_code == 429 and "本机地址登录失败已达 5 次" in r.content.decode()
    # the account itself is not locked: from elsewhere it logs in
    client = Client(REMOTE_ADDR="198.51.100.2")
    assert _login(client, "zhang", PASSWORD).status_code == 302 and _logged_in(client)


def test_behind_a_trusted_proxy_the_forwarded_address_counts(settings):
    settings.YINGJI_TRUSTED_PROXIES = 1
    settings.YINGJI_LOGIN_FAILURES_PER_ADDRESS = 3
    _user("zhang")
    # every request comes from the proxy (REMOTE_ADDR); X-Forwarded-For names the
    # client, and what a client writes there itself (the left part) is ignored
    for spoof in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):
        _login(
            Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"{spoof}, 203.0.113.7"),
            "nobody",
            "guess",
        )
    blocked = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert _login(blocked, "zhang", PASSWORD).status_code == 429
    other = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert _login(other, "zhang", PASSWORD).status_code == 302


def test_a_successful_login_forgets_earlier_failures():
    _user("zhang")
    for _ in range(19):
        _login(Client(), "zhang", "wrong-password")
    assert _login(Client(), "zhang", PASSWORD).status_code == 302
    for _ in range(19):  # 19 more: not locked, the count started again
        _login(Client(), "zhang", "wrong-password")
    assert _login(Client(), "zhang", PASSWORD).status_code == 302


def test_logins_logouts_and_unknown_accounts_are_in_the_audit_log():
    user = _user("zhang")
    client = Client(HTTP_USER_AGENT="测试浏览器")
    _login(client, "nosuchuser", "x")
    _login(client, "zhang", PASSWORD)
    client.post(reverse("logout"))
    failed = AuditEntry.objects.get(action="failed")
    assert failed.object_repr == "nosuchuser" and failed.object_pk == ""
    assert failed.after["reason"] == "账号不存在"
    login = AuditEntry.objects.get(action="login")
    assert (login.actor, login.object_pk) == (user, str(user.pk))
    assert login.after == {"address": "127.0.0.1", "user_agent": "测试浏览器"}
    logout = AuditEntry.objects.get(action="logout")
    assert logout.actor == user and logout.get_action_display() == "退出"
    # the login is the login entry, not an "update of last_login"
    assert not AuditEntry.objects.filter(action="update", content_type__model="user").exists()


def test_the_lockouts_page_is_chinese_and_lists_recent_failures():
    _user("zhang")
    _login(Client(), "zhang", "wrong-password")
    office = Client()
    office.force_login(_user("root", Role.ADMIN))
    page = office.get(reverse("account_lockouts")).content.decode()
    assert "账号 <b>zhang</b>" in page and "未锁定" in page and "清除失败记录" in page
    assert "登录失败" in page and "密码错误" in page
