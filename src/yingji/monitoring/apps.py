from typing import Any

from django.apps import AppConfig


def _load_demo(run: Any) -> str | None:
    from yingji.monitoring.demo import load_demo

    return load_demo(run.stdout)


class MonitoringConfig(AppConfig):
    name = "yingji.monitoring"
    label = "monitoring"
    verbose_name = "城市安全风险监测预警"

    def ready(self) -> None:
        from yingji.core import demos, nav, partitioning
        from yingji.monitoring import command as monitoring_command
        from yingji.monitoring import map_layers, timeparts
        from yingji.monitoring import search as monitoring_search
        from yingji.monitoring import workbench as monitoring_workbench

        demos.register(30, self.verbose_name, _load_demo)
        nav.register("实时监测", "monitoring:live", group="monitoring", order=30)
        nav.register("监测规则", "monitoring:rules", group="monitoring", order=31)
        map_layers.register()
        monitoring_workbench.register()
        monitoring_search.register()
        monitoring_command.register()
        for spec in timeparts.specs():
            partitioning.register(spec)
