from typing import Any

from django.apps import AppConfig


def _load_demo(run: Any) -> str | None:
    from yingji.response.demo import load_demo

    return load_demo(run.stdout)


class ResponseConfig(AppConfig):
    name = "yingji.response"
    label = "response"
    verbose_name = "应急指挥与处置"

    def ready(self) -> None:
        from yingji.alerts.events import alert_published
        from yingji.core import demos, nav, outbox
        from yingji.monitoring.events import event_changed
        from yingji.response import command as response_command
        from yingji.response import layers, receivers
        from yingji.response import search as response_search
        from yingji.response import workbench as response_workbench

        demos.register(50, self.verbose_name, _load_demo)
        # One desk item per monitoring event (not one per alarm and per regional
        # level: a rain cell's five rule windows and two areas are one item).
        event_changed.connect(receivers.on_event_changed, dispatch_uid="response_event")
        alert_published.connect(receivers.on_alert_published, dispatch_uid="response_alert")
        outbox.channel_failing.connect(
            receivers.on_channel_failing, dispatch_uid="response_channel_failing"
        )
        outbox.channel_recovered.connect(
            receivers.on_channel_recovered, dispatch_uid="response_channel_recovered"
        )
        layers.register_layers()
        response_command.register()
        nav.register("值班台", "response:desk", group="command", order=30, roles=nav.DESK_ROLES)
        nav.register(
            "我的行动卡",
            "response:my_cards",
            group="command",
            order=30,
            visible=lambda user, role: role not in nav.DESK_ROLES,
        )
        nav.register("突发事件", "response:incidents", group="command", order=31)
        nav.register("预案库", "response:plans", group="command", order=32)
        nav.register("应急资源", "response:resources", group="command", order=33)
        nav.register("演练", "response:drills", group="command", order=34)
        response_workbench.register()
        response_search.register()
