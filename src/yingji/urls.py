from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from yingji.api import api
from yingji.core import media
from yingji.core.urls import accounts_patterns

admin.site.site_header = "应急管理平台 · 管理后台"
admin.site.site_title = "应急管理平台"
admin.site.index_title = "登记簿管理"

urlpatterns = [
    # Browsers ask for /favicon.ico on pages that name no icon (printable pages).
    path("favicon.ico", RedirectView.as_view(url=static("yingji/favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    # Uploads, only through the application, to who may see their record (core/media.py).
    path("media/<path:name>", media.serve, name="media"),
    path("accounts/", include(accounts_patterns)),
    path("accounts/", include("django.contrib.auth.urls")),
    path("plans/", include("yingji.workplan.urls")),
    path("risk/", include("yingji.risk.urls")),
    path("monitoring/", include("yingji.monitoring.urls")),
    path("alerts/", include("yingji.alerts.urls")),
    path("response/", include("yingji.response.urls")),
    path("enforcement/", include("yingji.enforcement.urls")),
    path("responsibility/", include("yingji.responsibility.urls")),
    path("", include("yingji.core.urls")),
]
