"""The one Ninja API under /api/v1/; each app contributes a router."""

import functools
import json
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError
from ninja import NinjaAPI
from ninja.security import django_auth

from yingji.core.workcalendar import CalendarRangeError

api = NinjaAPI(
    title="yingji 应急管理平台 API",
    version="1",
    urls_namespace="api",
    auth=django_auth,
)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return api.create_response(request, {"detail": str(exc) or "无权执行该操作"}, status=403)


@api.exception_handler(CalendarRangeError)
def _beyond_calendar(request, exc):
    # A date beyond the holiday calendar's data: the request cannot be answered
    # without guessing working days (the message says which years are known).
    return api.create_response(request, {"detail": str(exc)}, status=422)


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(DataError)
def _not_storable(request, exc):
    # The database refused a value (too long for its column, out of its range):
    # the input's fault, not the server's. Most fields are checked before (422
    # naming the field); this is the net under them.
    return api.create_response(
        request, {"detail": "输入的值超出了允许的长度或范围,未保存"}, status=422
    )


# JSON bodies up to this size are scanned for NUL; larger ones (bulk ingest) are
# left to their operation's own limits and parsing.
SCANNED_BODY_BYTES = 1024 * 1024


def _nul_at(value: Any, loc: list) -> list | None:
    """Where in a parsed value a NUL character is (PostgreSQL cannot store one).
    Iterative: a deeply nested body must not exhaust the stack here."""
    stack = [(value, loc)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return where
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                stack.append((child, [*where, key]))
                stack.append((key, [*where, key]))
        elif isinstance(item, list):
            stack.extend((child, [*where, i]) for i, child in reversed(list(enumerate(item))))
    return None


def _values(data) -> dict:
    """A QueryDict as {name: value, or [values] when repeated}."""
    return {k: v[0] if len(v) == 1 else v for k, v in data.lists()}


def _nul_in_request(request, path_params: dict) -> list | None:
    found = _nul_at(path_params, ["path"]) or _nul_at(_values(request.GET), ["query"])
    if found:
        return found
    content_type = request.content_type or ""
    if content_type.startswith("multipart/") or content_type.endswith("urlencoded"):
        return _nul_at(_values(request.POST), ["form"])
    size = int(request.META.get("CONTENT_LENGTH") or 0)
    if "json" in content_type and 0 < size <= SCANNED_BODY_BYTES:
        try:
            body = json.loads(request.body)
        except (ValueError, RecursionError):
            return None  # not JSON (or nested too deep): the operation's own parsing says so
        return _nul_at(body, ["body"])
    return None


def _reject_nul(view):
    """Before validation, for every operation: a NUL character anywhere in the path,
    query, form or JSON body is a 422 naming where (a database error otherwise)."""

    @functools.wraps(view)
    def checked(request, *args, **kwargs):
        where = _nul_in_request(request, kwargs)
        if where:
            error = {"type": "value_error", "loc": where, "msg": "不能包含 NUL(\\0)字符"}
            return api.create_response(request, {"detail": [error]}, status=422)
        return view(request, *args, **kwargs)

    return checked


api.add_decorator(_reject_nul, mode="view")


def _register() -> None:
    from yingji.alerts.api import router as alerts_router
    from yingji.core.api import router as core_router
    from yingji.core.api_geo import router as geo_router
    from yingji.enforcement.api import router as enforcement_router
    from yingji.monitoring.api import router as monitoring_router
    from yingji.response.api import router as response_router
    from yingji.responsibility.api import router as responsibility_router
    from yingji.risk.api import router as risk_router
    from yingji.workplan.api import router as workplan_router

    api.add_router("/core/", core_router)
    api.add_router("/geo/", geo_router)
    api.add_router("/workplan/", workplan_router)
    api.add_router("/risk/", risk_router)
    api.add_router("/monitoring/", monitoring_router)
    api.add_router("/alerts/", alerts_router)
    api.add_router("/response/", response_router)
    api.add_router("/enforcement/", enforcement_router)
    api.add_router("/responsibility/", responsibility_router)


_register()
