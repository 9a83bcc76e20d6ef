import uuid

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from yingji.core import audit, channelconfig, nav, outbox, scope, search, workbench


def workbench_context(request) -> workbench.Context:
    """The workbench's view of a request: the user, their scope (read once) and now."""
    user = request.user
    return workbench.Context(
        user=user,
        scope=scope.scope_for(user),
        now=timezone.localtime(),
        profile=getattr(user, "profile", None) if hasattr(user, "profile") else None,
    )


@login_required
def home(request):
    """The workbench (工作台): everything waiting for this user, most urgent first,
    and for those who see the whole city the figures a leader asks for first
    (loaded after the page, see workbench_figures)."""
    ctx = workbench_context(request)
    collected = workbench.collect(ctx)
    groups = {g["key"]: g for g in nav.groups_for(request.user)}
    by_group = collected.by_group()
    summary = [
        {
            "key": key,
            "title": groups[key]["title"] if key in groups else key,
            "url": groups[key]["entries"][0]["url"] if key in groups else "",
            "count": n,
        }
        for key, n in sorted(by_group.items(), key=lambda kv: -kv[1])
    ]
    shown = collected.items[: workbench.PAGE_ITEMS]
    return render(
        request,
        "core/home.html",
        {
            "items": shown,
            "total": collected.total,
            "hidden": max(0, len(collected.items) - len(shown)),
            "summary": summary,
            "errors": collected.errors,
            "show_figures": ctx.scope.sees_all,
        },
    )


@login_required
def workbench_figures(request):
    """The figures a leader asks for first (htmx, loaded after the page like the
    badges): the list of what waits comes first, and counting the year's tasks,
    accidents and events (60 ms of a 2-core machine with a 300-task plan) never
    holds it back. Empty for those who do not see the whole city."""
    ctx = workbench_context(request)
    figures, errors = workbench.figures(ctx) if ctx.scope.sees_all else ([], [])
    return render(request, "core/_figures.html", {"figures": figures, "errors": errors})


@login_required
def nav_badges(request):
    """The navigation's badges (htmx, out of band): one count per group, loaded
    after the page so no page waits for every module's counts."""
    collected = workbench.count(workbench_context(request))
    by_group = collected.by_group()
    groups = [g["key"] for g in nav.groups_for(request.user)]
    return render(
        request,
        "core/_nav_badges.html",
        {"badges": [(key, by_group.get(key, 0)) for key in groups]},
    )


@login_required
def search_page(request):
    q, groups = search.run(scope.scope_for(request.user), request.GET.get("q"))
    return render(
        request,
        "core/search.html",
        {"q": q, "groups": groups, "too_short": 0 < len(q) < search.MIN_QUERY},
    )


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
