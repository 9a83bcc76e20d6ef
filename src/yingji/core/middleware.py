import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from yingji.core import accounts, audit
from yingji.core.audit import _actor


class AuditActorMiddleware:
    """Attribute every change made while serving a request to its user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            token = _actor.set((user, user.get_username()))
            try:
                return self.get_response(request)
            finally:
                _actor.reset(token)
        return self.get_response(request)


def csp_header() -> str:
    """The header the policy goes in (Report-Only with YINGJI_CSP_REPORT_ONLY)."""
    if getattr(settings, "YINGJI_CSP_REPORT_ONLY", False):
        return "Content-Security-Policy-Report-Only"
    return "Content-Security-Policy"


class ContentSecurityPolicyMiddleware:
    """The Content-Security-Policy header (settings.YINGJI_CSP, core/hardening.py)
    on every response that does not set its own (a served file, a standalone page)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "YINGJI_CSP", "")
        header = csp_header()
        if policy and header not in response:
            response[header] = policy
        return response


# Paths an account may open while it still owes something (a second factor, a new
# password): the pages where it pays, logging out, static files.
_OPEN_NAMES = (
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "otp_verify",
    "otp_setup",
)


class AccountSecurityMiddleware:
    """For a logged-in user, before any view: the session's idle timeout and maximum
    length, then the second factor where required, then an expired password
    (core/accounts.py). A page request is redirected, an htmx request gets
    HX-Redirect, an API request a JSON 401/403 naming what is missing."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._open: tuple[str, ...] | None = None

    def _open_paths(self) -> tuple[str, ...]:
        if self._open is None:
            paths = [reverse(name) for name in _OPEN_NAMES]
            paths += ["/" + settings.STATIC_URL.lstrip("/"), "/favicon.ico"]
            self._open = tuple(paths)
        return self._open

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            response = self._check(request, user)
            if response is not None:
                return response
        return self.get_response(request)

    def _check(self, request, user):
        session = request.session
        now = time.time()
        seen = session.get(accounts.SEEN_AT)
        login_at = session.get(accounts.LOGIN_AT)
        idle = int(settings.YINGJI_SESSION_IDLE_MINUTES) * 60
        longest = int(settings.YINGJI_SESSION_MAX_HOURS) * 3600
        if idle and seen is not None and now - seen > idle:
            return self._timeout(request, user, "idle", now - seen)
        if longest and login_at is not None and now - login_at > longest:
            return self._timeout(request, user, "max", now - login_at)
        if request.META.get(accounts.BACKGROUND_HEADER) != "1":
            if seen is None or now - seen >= accounts.SEEN_RESOLUTION_S:
                session[accounts.SEEN_AT] = now
            if login_at is None:
                session[accounts.LOGIN_AT] = now
        path = request.path_info
        if path.startswith(self._open_paths()):
            return None
        if accounts.otp_required(user) and not user.is_verified():
            name = "otp_verify" if accounts.confirmed_devices(user).exists() else "otp_setup"
            return self._send_to(request, name, "请先完成二次验证(动态口令)", status=403)
        state = accounts.password_state(session, now)
        if state is not None:
            days = settings.YINGJI_PASSWORD_MAX_AGE_DAYS
            text = (
                "您的密码由管理员设置,请先修改密码"
                if state == "must_change"
                else f"您的密码已超过 {days} 天未修改,请先设置新密码"
            )
            return self._send_to(request, "password_change", text, status=403)
        return None

    def _timeout(self, request, user, why: str, age: float):
        minutes = int(age // 60)
        audit.record_event(
            "timeout",
            user=user,
            detail={
                "reason": "长时间未操作" if why == "idle" else "会话超过最长时间",
                "minutes": minutes,
                **accounts._client(request),
            },
        )
        request.yingji_timeout = True  # the logout entry is this timeout entry
        logout(request)
        text = (
            f"已超过 {settings.YINGJI_SESSION_IDLE_MINUTES} 分钟未操作,已自动退出,请重新登录"
            if why == "idle"
            else f"登录已超过 {settings.YINGJI_SESSION_MAX_HOURS} 小时,请重新登录"
        )
        return self._send_to(request, "login", text, status=401, next_path=True)

    def _send_to(self, request, name: str, text: str, *, status: int, next_path: bool = True):
        url = reverse(name)
        if next_path and request.method == "GET" and not request.headers.get("HX-Request"):
            url += "?" + urlencode({"next": request.get_full_path()})
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": text, "redirect": url}, status=status)
        messages.warning(request, text)  # shown on the page it leads to
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
