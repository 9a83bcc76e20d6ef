from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "yingji.monitoring"
    label = "monitoring"
    verbose_name = "城市安全风险监测预警"

    def ready(self) -> None:
        from yingji.core import nav
        from yingji.monitoring import map_layers

        nav.register("实时监测", "monitoring:live", order=30)
        map_layers.register()
