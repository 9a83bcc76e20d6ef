from typing import Any

from django.apps import AppConfig


def _load_demo(run: Any) -> str | None:
    from yingji.risk.demo import load_demo

    return load_demo(run.stdout)


def _may_read_evidence(user: Any, name: str) -> bool:
    """A hazard's evidence: for whoever may see the hazard."""
    from yingji.risk.services import visible_hazards

    return visible_hazards(user).filter(evidence__file=name).exists()


class RiskConfig(AppConfig):
    name = "yingji.risk"
    label = "risk"
    verbose_name = "风险隐患与事故"

    def ready(self) -> None:
        from yingji.core import demos, media, nav
        from yingji.risk import maplayer, search, workbench

        demos.register(20, self.verbose_name, _load_demo)
        nav.register("双下降", "risk:dashboard", group="risk", order=20)
        nav.register("隐患台账", "risk:hazards", group="risk", order=21)
        nav.register("企业", "risk:enterprises", group="risk", order=22)
        nav.register("风险点", "risk:points", group="risk", order=23)
        nav.register("事故", "risk:accidents", group="risk", order=24)
        maplayer.register()
        workbench.register()
        search.register()
        media.register("risk/evidence/", _may_read_evidence)
