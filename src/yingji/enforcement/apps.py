from django.apps import AppConfig


class EnforcementConfig(AppConfig):
    name = "yingji.enforcement"
    label = "enforcement"
    verbose_name = "执法检查"
