"""Background jobs of the alerts module (Huey)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from yingji.alerts import services


@db_task()
def relocate_subscribers() -> None:
    """Region boundaries changed: recompute every subscriber's stored region (the
    targeting index then picks the changed rows up)."""
    services.locate_subscribers(everyone=True)


@db_periodic_task(crontab(minute="*"))
def expire_alerts() -> None:
    services.expire_due()


@db_periodic_task(crontab(minute="*/5"))
def poll_incoming_feeds() -> None:
    from yingji.alerts.models import IncomingFeed

    for feed in IncomingFeed.objects.filter(active=True).exclude(url=""):
        services.poll_feed(feed)
