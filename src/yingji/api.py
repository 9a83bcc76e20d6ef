"""The one Ninja API under /api/v1/; each app contributes a router."""

from django.core.exceptions import PermissionDenied, ValidationError
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


def _register() -> None:
    from yingji.alerts.api import router as alerts_router
    from yingji.core.api import router as core_router
    from yingji.core.api_geo import router as geo_router
    from yingji.enforcement.api import router as enforcement_router
    from yingji.monitoring.api import router as monitoring_router
    from yingji.response.api import router as response_router
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


_register()
