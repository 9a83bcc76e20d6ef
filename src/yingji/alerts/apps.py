from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "yingji.alerts"
    label = "alerts"
    verbose_name = "预警信息发布"
