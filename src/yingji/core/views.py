import uuid

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from yingji.core import audit, channelconfig, outbox, scope


@login_required
def home(request):
    return render(request, "core/home.html")


@login_required
def map_page(request):
    return render(request, "core/map.html")


@login_required
def object_history(request, app_label: str, model: str, pk: str):
    try:
        model_cls = apps.get_model(app_label, model)
    except LookupError as exc:
        raise Http404 from exc
    obj = model_cls._default_manager.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return render(request, "core/history.html", {"object": obj, "entries": audit.history(obj)})


@login_required
def channel_status(request):
    """Administrators' page: each delivery channel, configured or not, last success,
    last error, queue depth, sends per minute, and a "send a test message" form."""
    if not scope.is_administrator(request.user):
        raise PermissionDenied("仅管理员可查看投递渠道")
    if request.method == "POST":
        name, address = request.POST.get("channel", ""), request.POST.get("address", "").strip()
        if name not in channelconfig.LABELS:
            messages.error(request, "请选择渠道")
        elif not address or len(address) > 500:
            messages.error(request, "请填写接收地址(手机号、邮箱或机器人地址,500 字以内)")
        else:
            with audit.acting_as(request.user):
                note = outbox.enqueue(
                    channel=name,
                    address=address,
                    subject="应急平台测试消息",
                    body=f"这是一条测试消息,由 {request.user.get_username()} 于 "
                    f"{timezone.localtime():%Y-%m-%d %H:%M} 从投递渠道页面发送。",
                    dedupe_key=f"channel-test:{uuid.uuid4().hex}",
                    recipient=request.user,
                )
            messages.success(request, f"测试消息已排队(编号 {note.pk}),结果见下表")
        return redirect("channels")
    recent_tests = outbox.Notification.objects.filter(
        dedupe_key__startswith="channel-test:"
    ).order_by("-id")[:10]
    return render(
        request,
        "core/channels.html",
        {"channels": outbox.health(), "tests": recent_tests, "demo": channelconfig.demo_enabled()},
    )
