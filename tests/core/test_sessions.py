"""Sessions: ended after 30 idle minutes (the pages' background refreshes do not
count) and after 12 hours in any case, each with an audit entry and a Chinese
message; one session per account where configured."""

import time

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from yingji.core import accounts
from yingji.core.models import AuditEntry, Profile, Role

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-42"
BACKGROUND = {"HTTP_HX_REQUEST": "true", "HTTP_X_YINGJI_BACKGROUND": "1"}


@pytest.fixture(autouse=True)
def zhang():
    u = User.objects.create_user("zhang", password=PASSWORD)
    Profile.objects.create(user=u, role=Role.DEPT_STAFF, full_name="张三")
    return u


def _login() -> Client:
    client = Client()
    assert (
        client.post(reverse("login"), {"username": "zhang", "password": PASSWORD}).status_code
        == 302
    )
    return client


def _age(client: Client, key: str, minutes: float) -> None:
    session = client.session
    session[key] = time.time() - minutes * 60
    session.save()


def test_thirty_idle_minutes_end_the_session():
    client = _login()
    _age(client, accounts.SEEN_AT, 29)
    assert client.get(reverse("workplan:plans")).status_code == 200  # 29 minutes: still in
    _age(client, accounts.SEEN_AT, 31)
    r = client.get(reverse("workplan:plans"), follow=True)
    assert r.redirect_chain[0][0] == f"{reverse('login')}?next=%2Fplans%2F"
    assert "已超过 30 分钟未操作,已自动退出,请重新登录" in r.content.decode()
    # logged out for good: the next page asks for the login again, without the message
    again = client.get(reverse("workplan:plans"))
    assert again.status_code == 302 and again.url.startswith(reverse("login"))
    entry = AuditEntry.objects.get(action="timeout")
    assert entry.object_repr == "zhang" and entry.after["reason"] == "长时间未操作"
    assert not AuditEntry.objects.filter(action="logout").exists()


def test_a_page_refreshing_itself_is_not_activity():
    client = _login()
    _age(client, accounts.SEEN_AT, 20)
    seen = client.session[accounts.SEEN_AT]
    assert client.get(reverse("nav_badges"), **BACKGROUND).status_code == 200
    assert client.session[accounts.SEEN_AT] == seen  # the poll did not count
    client.get(reverse("workplan:plans"))  # a click does
    assert client.session[accounts.SEEN_AT] > seen


def test_a_background_refresh_after_the_timeout_sends_the_page_to_the_login():
    client = _login()
    _age(client, accounts.SEEN_AT, 45)
    r = client.get(reverse("nav_badges"), **BACKGROUND)
    assert r.status_code == 204 and r["HX-Redirect"] == reverse("login")


def test_the_api_answers_401_after_the_timeout():
    client = _login()
    _age(client, accounts.SEEN_AT, 45)
    r = client.get("/api/v1/core/me")
    assert r.status_code == 401 and "未操作" in r.json()["detail"]


def test_the_idle_time_is_a_setting(settings):
    settings.YINGJI_SESSION_IDLE_MINUTES = 5
    client = _login()
    _age(client, accounts.SEEN_AT, 6)
    r = client.get(reverse("home"), follow=True)
    assert "已超过 5 分钟未操作" in r.content.decode()


def test_a_session_ends_after_twelve_hours_even_when_active():
    client = _login()
    _age(client, accounts.LOGIN_AT, 12 * 60 + 1)
    r = client.get(reverse("home"), follow=True)
    assert "登录已超过 12 小时,请重新登录" in r.content.decode()
    assert AuditEntry.objects.get(action="timeout").after["reason"] == "会话超过最长时间"


def test_sessions_are_cookies_of_the_browser_session_only(settings):
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SESSION_COOKIE_AGE == 12 * 3600  # was 14 days


def test_concurrent_sessions_are_allowed_unless_configured():
    first, second = _login(), _login()
    assert first.get(reverse("home")).status_code == 200
    assert second.get(reverse("home")).status_code == 200


def test_one_session_per_account_a_new_login_ends_the_other(settings):
    settings.YINGJI_SINGLE_SESSION = True
    office = _login()
    assert office.get(reverse("home")).status_code == 200
    home = _login()  # the same account logs in elsewhere
    assert home.get(reverse("home")).status_code == 200
    r = office.get(reverse("home"))
    assert r.status_code == 302 and r.url.startswith(reverse("login"))
    last = AuditEntry.objects.filter(action="login").order_by("-id").first()
    assert last.after["ended_other_session"] is True
