from django.urls import path

from yingji.core import views, views_command

urlpatterns = [
    path("", views.home, name="home"),
    path("map/", views.map_page, name="map"),
    path("command/", views_command.command_page, name="command"),
    path("command/update", views_command.command_update, name="command_update"),
    path("command/regions", views_command.command_regions, name="command_regions"),
    path("search/", views.search_page, name="search"),
    path("workbench/badges/", views.nav_badges, name="nav_badges"),
    path("channels/", views.channel_status, name="channels"),
    path(
        "audit/<str:app_label>/<str:model>/<str:pk>/", views.object_history, name="object_history"
    ),
]
