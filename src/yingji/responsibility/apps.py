from typing import Any

from django.apps import AppConfig


def _load_demo(run: Any) -> str | None:
    from yingji.responsibility.demo import load_demo

    return load_demo()


class ResponsibilityConfig(AppConfig):
    name = "yingji.responsibility"
    label = "responsibility"
    verbose_name = "责任体系"

    def ready(self) -> None:
        from yingji.core import demos, media, nav
        from yingji.responsibility.letters import may_read_scan
        from yingji.responsibility.services import may_lead, may_read

        demos.register(70, self.verbose_name, _load_demo)
        nav.register_group("responsibility", "责任体系", order=15)
        for title, url_name, order in (
            ("三防责任人", "responsibility:register", 15),
            ("一键通安装", "responsibility:progress", 16),
        ):
            nav.register(title, url_name, group="responsibility", order=order, visible=may_read)
        nav.register(
            "领导干部履职",
            "responsibility:leaders",
            group="responsibility",
            order=17,
            visible=may_lead,
        )
        nav.register(
            "责任书", "responsibility:letters", group="responsibility", order=18, visible=may_lead
        )
        media.register("responsibility/letters/", may_read_scan)
        from yingji.responsibility import receivers

        receivers.connect()
        from yingji.responsibility import assessment

        nav.register(
            "年度考核",
            "responsibility:assessment",
            group="responsibility",
            order=30,
            visible=assessment.may_open,
        )
        nav.register(
            "述职评议",
            "responsibility:reviews",
            group="responsibility",
            order=31,
            visible=assessment.may_review,
        )
        media.register("responsibility/evidence/", assessment.may_read_evidence)
