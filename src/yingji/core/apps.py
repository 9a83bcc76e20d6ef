from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yingji.core"
    label = "core"
    verbose_name = "基础平台"

    def ready(self) -> None:
        from yingji.core import audit, layers

        audit.connect()
        layers.register_core_layers()
