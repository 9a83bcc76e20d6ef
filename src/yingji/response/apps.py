from django.apps import AppConfig


class ResponseConfig(AppConfig):
    name = "yingji.response"
    label = "response"
    verbose_name = "应急指挥与处置"
