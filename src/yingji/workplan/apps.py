from django.apps import AppConfig


class WorkplanConfig(AppConfig):
    name = "yingji.workplan"
    label = "workplan"
    verbose_name = "工作要点督办"
