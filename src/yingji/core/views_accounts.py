"""Account pages (core/accounts.py): change password (forced when expired), the
second factor (bind and confirm a TOTP code), and the administrators' page of
lock-outs with unlock and second-factor reset."""

from __future__ import annotations

import base64

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from yingji.core import accounts, audit, scope
from yingji.core.models import AuditEntry


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse_lazy("home")


class LoginView(auth_views.LoginView):
    """Django's login (django-axes counts its failures) telling how many are allowed."""

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["failure_limit"] = settings.YINGJI_LOGIN_FAILURES_PER_ACCOUNT
        return ctx


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "core/accounts/password_change.html"
    success_url = reverse_lazy("password_change_done")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["max_age_days"] = settings.YINGJI_PASSWORD_MAX_AGE_DAYS
        return ctx

    def form_valid(self, form):
        response = super().form_valid(form)
        accounts.password_set(self.request)
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "core/accounts/password_change_done.html"


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
def otp_setup(request):
    """Bind an authenticator app: scan the code (or type the key), confirm one code."""
    from django_otp import login as otp_login
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = request.user
    if not accounts.otp_required(user):
        return redirect("home")
    if accounts.confirmed_devices(user).exists():
        return redirect(f"{reverse_lazy('otp_verify')}?next={_next(request)}")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="动态口令", confirmed=False)
    error = ""
    if request.method == "POST":
        token = "".join(request.POST.get("token", "").split())
        if token.isdigit() and device.verify_token(token):
            device.confirmed = True
            device.save()
            otp_login(request, device)
            audit.record_event("mfa_on", user=user, detail=accounts._client(request))
            messages.success(request, "已绑定动态口令,以后每次登录都需输入验证器上的 6 位数字")
            return redirect(_next(request))
        error = "动态口令不正确:请输入验证器上当前显示的 6 位数字(手机时间须准确)"
    import segno

    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "core/accounts/otp_setup.html",
        {
            "qr": segno.make(device.config_url, error="m").svg_data_uri(scale=4),
            "secret": _grouped(secret),
            "error": error,
            "next": _next(request),
        },
    )


@login_required
def otp_verify(request):
    """After the password: the code of the bound authenticator."""
    from django_otp import login as otp_login

    user = request.user
    if not accounts.otp_required(user):
        return redirect("home")
    devices = list(accounts.confirmed_devices(user))
    if not devices:
        return redirect(f"{reverse_lazy('otp_setup')}?next={_next(request)}")
    error = ""
    if request.method == "POST":
        token = "".join(request.POST.get("token", "").split())
        for device in devices:
            allowed, why = device.verify_is_allowed()
            if not allowed:
                wait = (why or {}).get("locked_until")
                error = "尝试次数过多,请稍后再试" + (
                    f"({timezone.localtime(wait):%H:%M:%S} 以后)" if wait else ""
                )
                continue
            if token.isdigit() and device.verify_token(token):
                otp_login(request, device)
                return redirect(_next(request))
        audit.record_event(
            "failed", user=user, detail={**accounts._client(request), "reason": "动态口令错误"}
        )
        error = error or "动态口令不正确:请输入验证器上当前显示的 6 位数字"
    return render(
        request, "core/accounts/otp_verify.html", {"error": error, "next": _next(request)}
    )


# ---------------------------------------------------------------- administrators


def _administrator(request) -> None:
    if not scope.is_administrator(request.user):
        raise PermissionDenied("仅管理员可管理账号安全")


@login_required
def lockouts_page(request):
    """Locked accounts and addresses, recent failures, unlock; reset a second factor."""
    _administrator(request)
    events = (
        AuditEntry.objects.filter(
            action__in=["failed", "locked", "unlock", "timeout", "mfa_on", "mfa_off"]
        )
        .order_by("-id")
        .only("at", "action", "object_repr", "actor_label", "after")[:50]
    )
    return render(
        request,
        "core/accounts/lockouts.html",
        {
            "lockouts": accounts.lockouts(),
            "events": events,
            "per_account": settings.YINGJI_LOGIN_FAILURES_PER_ACCOUNT,
            "per_address": settings.YINGJI_LOGIN_FAILURES_PER_ADDRESS,
            "minutes": settings.YINGJI_LOGIN_LOCKOUT_MINUTES,
            "otp_required": settings.YINGJI_OTP_REQUIRED,
        },
    )


@login_required
@require_POST
def unlock(request):
    _administrator(request)
    kind = request.POST.get("kind")
    value = request.POST.get("value", "").strip()
    if kind == "account" and value:
        accounts.unlock(by=request.user, username=value)
        messages.success(request, f"已解除账号「{value}」的锁定")
    elif kind == "address" and value:
        accounts.unlock(by=request.user, address=value)
        messages.success(request, f"已解除地址 {value} 的锁定")
    else:
        messages.error(request, "请指定要解除锁定的账号或地址")
    return redirect("account_lockouts")


@login_required
@require_POST
def reset_otp(request):
    _administrator(request)
    username = request.POST.get("username", "").strip()
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        messages.error(request, f"账号「{username}」不存在")
    elif accounts.remove_devices(user, by=request.user):
        messages.success(request, f"已解除账号「{username}」的动态口令,下次登录时重新绑定")
    else:
        messages.error(request, f"账号「{username}」没有绑定动态口令")
    return redirect("account_lockouts")
