"""The second factor (TOTP, django-otp): with YINGJI_OTP_REQUIRED a leader (and
a duty officer, an administrator, any superuser) binds an authenticator at the
first login and types its code at every login; nothing opens before, the API
included. Other roles log in with their password alone."""

import base64

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from yingji.core.models import AuditEntry, Profile, Role

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-42"


@pytest.fixture
def otp_on(settings):
    settings.YINGJI_OTP_REQUIRED = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code, then the right one at once


def _user(username: str, role: str) -> User:
    u = User.objects.create_user(username, password=PASSWORD)
    Profile.objects.create(user=u, role=role, full_name=username)
    return u


def _login(username: str) -> Client:
    client = Client()
    r = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert r.status_code == 302
    return client


def _code(device: TOTPDevice, step: int = 0) -> str:
    """The code the authenticator shows now (step 1: the next one, as a later login
    sees it: a code is accepted once)."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, step):0{device.digits}d}"


def test_a_leader_binds_an_authenticator_then_types_its_code_at_every_login(otp_on):
    leader = _user("leader", Role.LEADER)
    client = _login("leader")
    r = client.get(reverse("alerts:list"))
    assert r.status_code == 302 and r.url.startswith(reverse("otp_setup"))
    assert client.get("/api/v1/core/me").status_code == 403  # the API waits too

    page = client.get(r.url)
    text = page.content.decode()
    assert "绑定动态口令" in text and 'src="data:image/svg+xml' in text
    device = TOTPDevice.objects.get(user=leader, confirmed=False)
    # the key to type by hand, in groups of four
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in text

    wrong = client.post(r.url, {"token": "000000" if _code(device) != "000000" else "111111"})
    assert "动态口令不正确" in wrong.content.decode()
    done = client.post(r.url, {"token": _code(device)})
    assert done.status_code == 302 and done.url == reverse("alerts:list")
    assert client.get(reverse("alerts:list")).status_code == 200
    assert AuditEntry.objects.filter(action="mfa_on", object_repr="leader").exists()

    # the next login: the password is not enough
    client.post(reverse("logout"))
    client = _login("leader")
    r = client.get(reverse("home"))
    assert r.status_code == 302 and r.url.startswith(reverse("otp_verify"))
    bad = client.post(r.url, {"token": "12345"})
    assert "动态口令不正确" in bad.content.decode()
    assert AuditEntry.objects.filter(action="failed", after__reason="动态口令错误").exists()
    device.refresh_from_db()
    ok = client.post(r.url, {"token": _code(device, step=1)})
    assert ok.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert client.get("/api/v1/core/me").status_code == 200


def test_a_code_is_accepted_once(otp_on):
    leader = _user("leader", Role.LEADER)
    device = TOTPDevice.objects.create(user=leader, name="动态口令", confirmed=True)
    first = _login("leader")
    code = _code(device)
    assert first.post(reverse("otp_verify"), {"token": code}).status_code == 302
    second = _login("leader")
    r = second.post(reverse("otp_verify"), {"token": code})  # replayed
    assert r.status_code == 200 and "动态口令不正确" in r.content.decode()


@pytest.mark.parametrize("role", [Role.DUTY_OFFICER, Role.ADMIN])
def test_other_approvers_and_administrators_need_it_too(otp_on, role):
    _user("someone", role)
    r = _login("someone").get(reverse("home"))
    assert r.status_code == 302 and r.url.startswith(reverse("otp_setup"))


def test_department_staff_log_in_with_the_password_alone(otp_on):
    _user("zonghe", Role.DEPT_STAFF)
    assert _login("zonghe").get(reverse("home")).status_code == 200


def test_without_the_setting_no_one_is_asked(settings):
    settings.YINGJI_OTP_REQUIRED = False
    _user("leader", Role.LEADER)
    client = _login("leader")
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("otp_setup")).status_code == 302  # nothing to bind


def test_an_administrator_removes_a_lost_authenticator(otp_on):
    leader = _user("leader", Role.LEADER)
    TOTPDevice.objects.create(user=leader, name="动态口令", confirmed=True)
    root = User.objects.create_superuser("root", password=PASSWORD)
    device = TOTPDevice.objects.create(user=root, name="动态口令", confirmed=True)
    office = _login("root")
    office.post(reverse("otp_verify"), {"token": _code(device)})
    r = office.post(reverse("account_reset_otp"), {"username": "leader"}, follow=True)
    assert "已解除账号「leader」的动态口令" in r.content.decode()
    assert not TOTPDevice.objects.filter(user=leader).exists()
    entry = AuditEntry.objects.get(action="mfa_off")
    assert entry.object_repr == "leader" and entry.actor == root
    # the leader binds a new one at the next login
    assert _login("leader").get(reverse("home")).url.startswith(reverse("otp_setup"))
