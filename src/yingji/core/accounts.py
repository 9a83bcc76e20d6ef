"""Accounts to 等保 2.0 level three (settings: README "Accounts").

- Lock-out: django-axes counts failed logins per account and per address
  (`LockoutHandler`); at YINGJI_LOGIN_FAILURES_PER_ACCOUNT failures of one account
  (or YINGJI_LOGIN_FAILURES_PER_ADDRESS from one address) the login is refused,
  the right password too, with a Chinese page (`lockout_response`), until the
  lock-out time has passed or an administrator unlocks (`unlock`, /security/lockouts/).
- Passwords: length and character classes (`CharacterClassValidator`,
  passwords.py), their age recorded whenever one is set (`PasswordAgeRecorder`)
  and an expired one must be changed before anything else (the middleware).
- Sessions: idle timeout and maximum length, one session per account where
  configured (`session_started`, the middleware).
- Second factor: TOTP (django-otp) for the roles in YINGJI_OTP_ROLES and
  superusers when YINGJI_OTP_REQUIRED (`otp_required`, views_accounts.py).
- Every login, logout, failure, lock-out, unlock, timeout and second-factor change
  is an audit entry (audit.record_event).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.core.exceptions import ValidationError
from django.db.models import Max, Sum
from django.shortcuts import render
from django.utils import timezone

from yingji.core import audit, passwords

# Session keys this module keeps.
LOGIN_AT = "_yj_login_at"  # epoch seconds of the login
SEEN_AT = "_yj_seen_at"  # epoch seconds of the last request the user made
PASSWORD_AT = "_yj_password_at"  # epoch seconds the password was set (None: unknown)
MUST_CHANGE = "_yj_must_change"
# A request the page makes by itself (a poll): it does not count as activity.
BACKGROUND_HEADER = "HTTP_X_YINGJI_BACKGROUND"
# How often the last activity is written to the session (not on every request).
SEEN_RESOLUTION_S = 60


# ---------------------------------------------------------------- addresses


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or behind YINGJI_TRUSTED_PROXIES proxies
    the address the outermost trusted proxy saw (X-Forwarded-For, counted from the
    right: what a client writes there itself is to the left and never trusted)."""
    proxies = int(getattr(settings, "YINGJI_TRUSTED_PROXIES", 0) or 0)
    remote = request.META.get("REMOTE_ADDR", "") or ""
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) >= proxies:
        return hops[-proxies]
    return hops[0] if hops else remote


def _client(request) -> dict[str, str]:
    if request is None:
        return {}
    return {
        "address": getattr(request, "axes_ip_address", None) or client_ip(request),
        "user_agent": (request.META.get("HTTP_USER_AGENT", "") or "")[:200],
    }


# ---------------------------------------------------------------- lock-out


def _limits() -> tuple[int, int]:
    return (
        int(settings.YINGJI_LOGIN_FAILURES_PER_ACCOUNT),
        int(settings.YINGJI_LOGIN_FAILURES_PER_ADDRESS),
    )


def _account(username: str | None):
    from django.contrib.auth import get_user_model

    if not username:
        return None
    return get_user_model()._default_manager.filter(**{"username": username}).first()


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit per account and another per address
    (axes has one limit): the address's count is scaled so that it reaches the
    account limit when it reaches its own. Every failure is an audit entry; the
    failure that starts a lock-out is a lock-out entry too."""

    def get_failures(self, request, credentials=None) -> int:
        per_account, per_address = _limits()
        counts = [
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        by_account = counts[0] if counts else 0
        by_address = counts[1] if len(counts) > 1 else 0
        request.yingji_failures = (by_account, by_address)
        return max(by_account, by_address * per_account // max(per_address, 1))

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        if request is None:
            return super().user_login_failed(sender, credentials, request=request, **kwargs)
        was_locked = self.is_locked(request, credentials)
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        username = (credentials or {}).get("username") or ""
        user = _account(username)
        reason = "账号或地址已锁定" if was_locked else ("密码错误" if user else "账号不存在")
        detail = {**_client(request), "reason": reason}
        audit.record_event("failed", user=user, username=username, detail=detail)
        if getattr(request, "axes_locked_out", False) and not was_locked:
            by_account, by_address = getattr(request, "yingji_failures", (0, 0))
            audit.record_event(
                "locked",
                user=user,
                username=username,
                detail={
                    **detail,
                    "failures_by_account": by_account,
                    "failures_by_address": by_address,
                },
            )


def lockout_message(request, credentials=None) -> str:
    per_account, per_address = _limits()
    by_account, by_address = getattr(request, "yingji_failures", (0, 0))
    minutes = int(settings.YINGJI_LOGIN_LOCKOUT_MINUTES)
    if by_account >= per_account or by_address < per_address:
        what = f"该账号连续登录失败已达 {per_account} 次,已被锁定"
    else:
        what = f"本机地址登录失败已达 {per_address} 次,已被锁定"
    after = f"请 {minutes} 分钟后再试," if minutes else ""
    return f"{what},此次登录未被接受(密码正确也不能登录)。{after}或联系系统管理员解除锁定。"


def lockout_response(request, original_response=None, credentials=None):
    """The login page with the lock-out message (HTTP 429)."""
    return render(
        request,
        "registration/login.html",
        {"locked": lockout_message(request, credentials), "next": request.POST.get("next", "")},
        status=429,
    )


@dataclass
class Lockout:
    kind: str  # "account" | "address"
    value: str
    failures: int
    last_at: Any
    locked: bool


def lockouts() -> list[Lockout]:
    """Accounts and addresses with recent failures (within the lock-out time), the
    locked ones first: the administrators' page."""
    from axes.helpers import get_cool_off
    from axes.models import AccessAttempt

    per_account, per_address = _limits()
    attempts = AccessAttempt.objects.all()
    cool_off = get_cool_off()
    if cool_off:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    rows = []
    for field, kind, limit in (
        ("username", "account", per_account),
        ("ip_address", "address", per_address),
    ):
        grouped = (
            attempts.exclude(**{f"{field}__isnull": True})
            .exclude(**{field: ""})
            .values(field)
            .annotate(n=Sum("failures_since_start"), last=Max("attempt_time"))
        )
        rows += [Lockout(kind, g[field], g["n"], g["last"], g["n"] >= limit) for g in grouped]
    return sorted(rows, key=lambda r: (not r.locked, r.kind, -r.failures, r.value))


def unlock(*, by: Any, username: str = "", address: str = "") -> int:
    """End a lock-out (an administrator): the failures counted for the account or
    the address are forgotten. Returns how many attempt records were removed."""
    from axes.utils import reset

    if not (username or address):
        return 0
    removed = reset(username=username) if username else reset(ip=address)
    user = _account(username) if username else None
    audit.record_event(
        "unlock",
        user=user,
        username=username or address,
        actor=by,
        detail={"account": username, "address": address, "records": removed},
    )
    return removed


# ---------------------------------------------------------------- passwords


class LengthValidator:
    """At least `min_length` characters (Django's own says it in English only)."""

    def __init__(self, min_length: int = 12):
        self.min_length = min_length

    def validate(self, password, user=None):
        if len(password) < self.min_length:
            raise ValidationError(
                f"密码太短:至少包含 {self.min_length} 个字符(当前 {len(password)} 个)",
                code="password_too_short",
            )

    def get_help_text(self):
        return f"至少包含 {self.min_length} 个字符。"


class CharacterClassValidator:
    """At least `min_classes` of upper case, lower case, digits and other characters."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        problem = passwords.class_problem(password, self.min_classes)
        if problem:
            raise ValidationError(problem, code="password_classes")

    def get_help_text(self):
        return f"至少包含大写字母、小写字母、数字、符号中的 {self.min_classes} 类。"


class PasswordAgeRecorder:
    """Validates nothing; Django calls `password_changed` whenever a user's password
    is set (set_password then save): its age starts now. A password another person
    set (an administrator, in the admin) must be changed at the next login; one the
    account set itself, or a command, need not."""

    def validate(self, password, user=None):
        return None

    def password_changed(self, password, user=None):
        if user is None or user.pk is None:
            return
        from yingji.core.models import AccountSecurity

        actor, _ = audit.current_actor()
        by_another = actor is not None and getattr(actor, "pk", None) not in (None, user.pk)
        AccountSecurity.objects.update_or_create(
            user=user,
            defaults={"password_changed_at": timezone.now(), "must_change_password": by_another},
        )

    def get_help_text(self):
        days = int(getattr(settings, "YINGJI_PASSWORD_MAX_AGE_DAYS", 0) or 0)
        return f"密码有效期 {days} 天,到期须修改。" if days else ""


def security_of(user):
    """The account's security record (created on first use: a password set before
    records existed is as old as the day it is first seen)."""
    from yingji.core.models import AccountSecurity

    record, _ = AccountSecurity.objects.get_or_create(
        user=user, defaults={"password_changed_at": timezone.now()}
    )
    return record


def password_state(session, now_s: float | None = None) -> str | None:
    """Why the session's user must change their password first: "expired",
    "must_change" or None."""
    if session.get(MUST_CHANGE):
        return "must_change"
    changed = session.get(PASSWORD_AT)
    if changed is None:
        return None
    now = dt.datetime.fromtimestamp(time.time() if now_s is None else now_s, tz=dt.UTC)
    changed_at = dt.datetime.fromtimestamp(changed, tz=dt.UTC)
    if passwords.expired(changed_at, now, int(settings.YINGJI_PASSWORD_MAX_AGE_DAYS)):
        return "expired"
    return None


def password_set(request) -> None:
    """After the user changed their own password: the session knows it is new."""
    request.session[PASSWORD_AT] = time.time()
    request.session[MUST_CHANGE] = False


# ---------------------------------------------------------------- second factor


def otp_required(user) -> bool:
    """Must this account confirm a TOTP code after its password?"""
    if not getattr(settings, "YINGJI_OTP_REQUIRED", False):
        return False
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    from yingji.core.models import Profile

    role = Profile.objects.filter(user=user).values_list("role", flat=True).first()
    return role in settings.YINGJI_OTP_ROLES


def confirmed_devices(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True)


def remove_devices(user, *, by) -> int:
    """An administrator removes an account's second factor (a lost phone): at the
    next login the account binds a new one."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    if removed:
        audit.record_event("mfa_off", user=user, actor=by, detail={"devices": removed})
    return removed


# ---------------------------------------------------------------- sessions


def session_started(sender, request, user, **kwargs) -> None:
    """On every login: the audit entry, the session's clocks and password age, and
    (YINGJI_SINGLE_SESSION) the end of the account's other session."""
    if request is None or not hasattr(request, "session"):
        return
    now = time.time()
    record = security_of(user)
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now
    changed = record.password_changed_at
    request.session[PASSWORD_AT] = changed.timestamp() if changed else None
    request.session[MUST_CHANGE] = record.must_change_password
    ended = ""
    key = request.session.session_key or ""
    if getattr(settings, "YINGJI_SINGLE_SESSION", False) and record.session_key not in ("", key):
        from importlib import import_module

        store = import_module(settings.SESSION_ENGINE).SessionStore
        store(session_key=record.session_key).delete()
        ended = record.session_key
    if key and record.session_key != key:
        record.session_key = key
        record.save(update_fields=["session_key"])
    detail = _client(request)
    if ended:
        detail["ended_other_session"] = True
    audit.record_event("login", user=user, detail=detail)


def session_ended(sender, request, user, **kwargs) -> None:
    if user is None or getattr(request, "yingji_timeout", False):
        return
    audit.record_event("logout", user=user, detail=_client(request))


def account_created(sender, instance, created, raw=False, **kwargs) -> None:
    """A new account's password is as old as the account (create_user sets it
    without set_password, so the recorder does not see it)."""
    if not created or raw or not instance.has_usable_password():
        return
    from yingji.core.models import AccountSecurity

    AccountSecurity.objects.get_or_create(
        user=instance, defaults={"password_changed_at": timezone.now()}
    )


def connect() -> None:
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_save

    post_save.connect(account_created, sender=get_user_model(), dispatch_uid="yingji_account")
    user_logged_in.connect(session_started, dispatch_uid="yingji_session_started")
    user_logged_out.connect(session_ended, dispatch_uid="yingji_session_ended")
