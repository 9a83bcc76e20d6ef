from typing import Any

from django.apps import AppConfig

# The version name of the public warning page and the CAP feed (core/publiccache.py).
PUBLIC_PAGES = "alerts-public"


def alerts_layer(request: Any, bbox: Any) -> dict[str, Any]:
    """Map layer: areas of the alerts in force (regions, polygons, circles)."""
    from yingji.alerts.mapdata import live_alert_features

    return live_alert_features(bbox)


def _on_event(sender: Any, **kwargs: Any) -> None:
    from django.db import transaction

    from yingji.alerts import fromevents

    # Monitoring sends after its commit; drafting in our own transaction keeps a
    # failure here from touching monitoring's data.
    with transaction.atomic():
        fromevents.draft_from_event(**kwargs)


def _on_regions_changed(sender: Any, **kwargs: Any) -> None:
    from yingji.alerts.tasks import relocate_subscribers

    relocate_subscribers()  # a background job: millions of subscribers


def _locate_on_save(sender: Any, **kwargs: Any) -> None:
    from yingji.alerts import services

    services.locate_on_save(sender, **kwargs)


def _public_pages_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A released warning saved (published, updated, cancelled, expired) or deleted:
    the cached public page and feed are rendered afresh after the commit."""
    from yingji.alerts import workflow
    from yingji.core import publiccache

    if instance.state in workflow.RELEASED:
        publiccache.bump(PUBLIC_PAGES)


def _desk_item_links(items: Any) -> dict:
    from yingji.alerts.fromevents import desk_item_links

    return desk_item_links(items)


def _load_demo(run: Any) -> str | None:
    from yingji.alerts.demo import load_demo

    return load_demo(run.stdout)


class AlertsConfig(AppConfig):
    name = "yingji.alerts"
    label = "alerts"
    verbose_name = "预警信息发布"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save, pre_save

        from yingji.alerts import command as alerts_command
        from yingji.alerts import search as alerts_search
        from yingji.alerts import workbench as alerts_workbench
        from yingji.alerts.messages import alert_messages
        from yingji.core import demos, layers, links, nav, outbox, publiccache
        from yingji.core.regions import regions_changed
        from yingji.monitoring.events import event_changed

        demos.register(40, self.verbose_name, _load_demo)
        alerts_command.register()
        outbox.register_formatter("alerts.alert", alert_messages)
        nav.register("预警发布", "alerts:list", group="monitoring", order=40)
        alerts_workbench.register()
        alerts_search.register()
        links.register("response.deskitem", "warning", "预警", _desk_item_links)
        layers.register(
            "alerts",
            "生效预警区域",
            group="预警信息",
            loader=alerts_layer,
            style={"color": "#d32f2f", "weight": 2, "fillOpacity": 0.15},
        )
        # One draft per monitoring event (not per regional level: a street and its
        # district reaching red are one rain cell, one warning).
        event_changed.connect(_on_event, dispatch_uid="yingji.alerts.monitoring_event")
        pre_save.connect(
            _locate_on_save, sender="alerts.Subscriber", dispatch_uid="yingji.alerts.located_region"
        )
        regions_changed.connect(_on_regions_changed, dispatch_uid="yingji.alerts.regions_changed")
        # The public warning page and its feed, the same for every logged-out visitor.
        publiccache.register("alerts:public", PUBLIC_PAGES)
        publiccache.register("alerts:feed", PUBLIC_PAGES)
        for signal in (post_save, post_delete):
            signal.connect(
                _public_pages_changed, sender="alerts.Alert", dispatch_uid="yingji.alerts.public"
            )
