from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "yingji.monitoring"
    label = "monitoring"
    verbose_name = "城市安全风险监测预警"
