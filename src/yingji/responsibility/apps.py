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
        # In 督查督办 (responsibility is what supervision holds people to), three
        # entries (the desktop menu must fit a 900 px window); the
        # pages behind them link to the rest: 一键通 progress from the register,
        # the letters from the duty lists, the 述职 review from the assessment.
        nav.register(
            "三防责任人",
            "responsibility:register",
            group="supervision",
            order=15,
            visible=may_read,
        )
        nav.register(
            "领导干部履职",
            "responsibility:leaders",
            group="supervision",
            order=17,
            visible=may_lead,
        )
        media.register("responsibility/letters/", may_read_scan)
        from yingji.responsibility import receivers

        receivers.connect()
        from yingji.responsibility import assessment

        nav.register(
            "年度考核",
            "responsibility:assessment",
            group="supervision",
            order=30,
            visible=assessment.may_open,
        )
        nav.register(
            "述职评议",
            "responsibility:reviews",
            group="supervision",
            order=31,
            # A reviewer (人大代表 …) who sees no assessment; others reach it from there.
            visible=lambda user, role: (
                assessment.may_review(user, role) and not assessment.may_open(user, role)
            ),
        )
        media.register("responsibility/evidence/", assessment.may_read_evidence)
