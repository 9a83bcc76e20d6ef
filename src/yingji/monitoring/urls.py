from django.urls import path

from yingji.monitoring import importviews, views

app_name = "monitoring"
urlpatterns = [
    path("", views.live, name="live"),
    path("alarms/<int:alarm_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("alarms/<int:alarm_id>/silence/", views.silence, name="silence"),
    path("sensors/import/", importviews.sensor_import, name="sensor_import"),
    path("sensors/<int:sensor_id>/", views.sensor_detail, name="sensor"),
    path("rules/", views.rules, name="rules"),
    path("rules/new/", views.rule_edit, name="rule_new"),
    path("rules/<int:rule_id>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("dead-letters/", views.dead_letters, name="dead_letters"),
]
