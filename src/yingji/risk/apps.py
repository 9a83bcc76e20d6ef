from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "yingji.risk"
    label = "risk"
    verbose_name = "风险隐患与事故"
