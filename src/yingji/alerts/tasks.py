"""Background jobs of the alerts module (Huey)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from yingji.alerts import incoming, services, subscribers


@db_task()
def relocate_subscribers() -> None:
    """Region boundaries changed: recompute every subscriber's stored region (the
    targeting index then picks the changed rows up)."""
    subscribers.locate_subscribers(everyone=True)


@db_task()
def queue_remaining_recipients(alert_id: int) -> None:
    """A large release: the recipients after the first chunk (services.queue_remaining)."""
    services.queue_remaining(alert_id)


@db_periodic_task(crontab(minute="*"))
def expire_alerts() -> None:
    services.expire_due()
    services.finish_unqueued()


@db_periodic_task(crontab(minute="*/5"))
def poll_incoming_feeds() -> None:
    from yingji.alerts.models import IncomingFeed

    for feed in IncomingFeed.objects.filter(active=True).exclude(url=""):
        incoming.poll_feed(feed)
