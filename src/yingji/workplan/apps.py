from typing import Any

from django.apps import AppConfig


def _load_demo(run: Any) -> str | None:
    from yingji.workplan.demo import load_demo

    return load_demo(run)


class WorkplanConfig(AppConfig):
    name = "yingji.workplan"
    label = "workplan"
    verbose_name = "工作要点督办"

    def ready(self) -> None:
        from yingji.core import demos, nav
        from yingji.workplan import search, workbench

        demos.register(10, self.verbose_name, _load_demo)
        nav.register("工作要点", "workplan:plans", group="supervision", order=10)
        # Leaders and supervisors own no tasks: they follow the plan board.
        nav.register(
            "本部门任务",
            "workplan:my_tasks",
            group="supervision",
            order=11,
            visible=lambda user, role: role not in ("leader", "supervisor", "admin"),
        )
        workbench.register()
        search.register()
