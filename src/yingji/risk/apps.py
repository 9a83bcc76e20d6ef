from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "yingji.risk"
    label = "risk"
    verbose_name = "风险隐患与事故"

    def ready(self) -> None:
        from yingji.core import nav
        from yingji.risk import maplayer

        nav.register("双下降", "risk:dashboard", order=20)
        nav.register("隐患台账", "risk:hazards", order=21)
        nav.register("企业", "risk:enterprises", order=22)
        maplayer.register()
