from typing import Any

from django.apps import AppConfig


def _accident_links(accidents: Any) -> dict:
    from yingji.enforcement.lookback import accident_links

    return accident_links(accidents)


def _load_demo(run: Any) -> str | None:
    from yingji.enforcement.demo import load_demo

    return load_demo(run.stdout)


class EnforcementConfig(AppConfig):
    name = "yingji.enforcement"
    label = "enforcement"
    verbose_name = "执法检查"

    def ready(self) -> None:
        from yingji.core import demos, layers, links, nav
        from yingji.enforcement import search, workbench
        from yingji.enforcement.layers import inspection_features

        demos.register(60, self.verbose_name, _load_demo)
        links.register("risk.accident", "lookback", "回头看", _accident_links)
        nav.register("执法检查", "enforcement:plans", group="enforcement", order=60)
        nav.register("执法案件", "enforcement:cases", group="enforcement", order=61)
        nav.register("事故回头看", "enforcement:lookbacks", group="enforcement", order=62)
        layers.register(
            "enforcement_inspections",
            "执法检查(最近年度)",
            group="执法检查",
            loader=inspection_features,
            style={"color": "#6a1b9a", "radius": 5},
        )
        workbench.register()
        search.register()
