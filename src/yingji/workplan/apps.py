from typing import Any

from django.apps import AppConfig


def _load_demo(run: Any) -> str | None:
    from yingji.workplan.demo import load_demo

    return load_demo(run)


def _may_read_attachment(user: Any, name: str) -> bool:
    """A progress report's attachment: for whoever may see its task."""
    from yingji.workplan.services import visible_tasks

    return visible_tasks(user).filter(reports__attachments__file=name).exists()


class WorkplanConfig(AppConfig):
    name = "yingji.workplan"
    label = "workplan"
    verbose_name = "工作要点督办"

    def ready(self) -> None:
        from yingji.core import demos, media, nav
        from yingji.workplan import search, workbench

        demos.register(10, self.verbose_name, _load_demo)
        media.register("workplan/reports/", _may_read_attachment)
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
