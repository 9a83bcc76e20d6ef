from django.apps import AppConfig


class WorkplanConfig(AppConfig):
    name = "yingji.workplan"
    label = "workplan"
    verbose_name = "工作要点督办"

    def ready(self) -> None:
        from yingji.core import nav

        nav.register("工作要点", "workplan:plans", order=10)
        nav.register("本部门任务", "workplan:my_tasks", order=11)
