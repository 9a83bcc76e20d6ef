from django.urls import path

from yingji.core import health, metrics, views, views_accounts, views_command

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("map/", views.map_page, name="map"),
    path("command/", views_command.command_page, name="command"),
    path("command/update", views_command.command_update, name="command_update"),
    path("command/regions", views_command.command_regions, name="command_regions"),
    path("search/", views.search_page, name="search"),
    path("workbench/badges/", views.nav_badges, name="nav_badges"),
    path("workbench/figures/", views.workbench_figures, name="workbench_figures"),
    path("channels/", views.channel_status, name="channels"),
    path(
        "audit/<str:app_label>/<str:model>/<str:pk>/", views.object_history, name="object_history"
    ),
    path("security/lockouts/", views_accounts.lockouts_page, name="account_lockouts"),
    path("security/unlock/", views_accounts.unlock, name="account_unlock"),
    path("security/reset-otp/", views_accounts.reset_otp, name="account_reset_otp"),
]

# Under /accounts/, ahead of django.contrib.auth's own URLs (yingji/urls.py): the
# login and password pages with the account rules, and the second factor.
accounts_patterns = [
    path("login/", views_accounts.LoginView.as_view(), name="login"),
    path("password_change/", views_accounts.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        views_accounts.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("otp/", views_accounts.otp_verify, name="otp_verify"),
    path("otp/setup/", views_accounts.otp_setup, name="otp_setup"),
]
