"""The command screen (指挥大屏): the page, its update and its region outlines.

Who may open it: the roles that see the whole city (nav.CITY_ROLES: duty
officers, leaders, supervisors, administrators) and superusers; anyone else
gets 403. `?drill=<id>` shows one drill's objects only (404 for a drill no
module knows). The feeds are the modules' (core/command.py).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from yingji.core import command, nav, regions, scope


def may_open(user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser) or nav.role_of(user) in nav.CITY_ROLES


def poll_seconds() -> float:
    return float(getattr(settings, "YINGJI_COMMAND_POLL_SECONDS", command.POLL_SECONDS))


def _context(request) -> command.Context:
    if not may_open(request.user):
        raise PermissionDenied("指挥大屏仅向值班员、局领导、督查和管理员开放")
    drill, title = None, ""
    raw = request.GET.get("drill")
    if raw not in (None, ""):
        if not raw.isdigit() or len(raw) > 12:
            raise Http404("演练编号无效")
        drill = int(raw)
        found = command.drill_title(drill)
        if found is None:
            raise Http404("没有这个演练")
        title = found
    return command.Context(
        user=request.user,
        scope=scope.scope_for(request.user),
        now=timezone.now(),
        drill=drill,
        drill_title=title,
    )


@login_required
@require_GET
def command_page(request):
    ctx = _context(request)
    config = command.client_config(ctx)
    query = f"?drill={ctx.drill}" if ctx.drill is not None else ""
    config.update(
        {
            "updateUrl": reverse("command_update") + query,
            "regionsUrl": reverse("command_regions"),
            "pollMs": int(poll_seconds() * 1000),
            "center": list(getattr(settings, "YINGJI_MAP_CENTER", [23.13, 113.26])),
            "zoom": int(getattr(settings, "YINGJI_MAP_ZOOM", 9)),
            "tileUrl": getattr(settings, "YINGJI_TILE_URL", ""),
            "timeZone": settings.TIME_ZONE,
        }
    )
    return render(
        request,
        "core/command.html",
        {"config": config, "drill": ctx.drill, "drill_title": ctx.drill_title},
    )


@login_required
@require_GET
@gzip_page
def command_update(request):
    """The screen's update: only the feeds whose version the client does not hold
    (?v=key:version,…), as compact JSON; never cached."""
    ctx = _context(request)
    update = command.build_update(ctx, command.parse_known(request.GET.get("v")))
    response = HttpResponse(command.encode(update), content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
@gzip_page
def command_regions(request):
    """Districts and streets, simplified, once per page (ETag: the regions' version)."""
    if not may_open(request.user):
        raise PermissionDenied("指挥大屏仅向值班员、局领导、督查和管理员开放")
    version, text = regions.simplified()
    etag = f'"{version}"'
    # gzip_page weakens the tag (W/"…"): the version inside is what counts.
    if version in request.headers.get("If-None-Match", ""):
        return HttpResponseNotModified()
    response = HttpResponse(text, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=300"
    return response
