"""The one Ninja API under /api/v1/; each app contributes a router."""

from ninja import NinjaAPI
from ninja.security import django_auth

api = NinjaAPI(
    title="yingji 应急管理平台 API",
    version="1",
    urls_namespace="api",
    auth=django_auth,
)


def _register() -> None:
    from yingji.core.api import router as core_router
    from yingji.core.api_geo import router as geo_router
    from yingji.workplan.api import router as workplan_router

    api.add_router("/core/", core_router)
    api.add_router("/geo/", geo_router)
    api.add_router("/workplan/", workplan_router)


_register()
