"""Background jobs of the alerts module (Huey)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from yingji.alerts import delivery, services


@db_task()
def relocate_subscribers() -> None:
    """Region boundaries changed: recompute every subscriber's stored region (the
    targeting index then picks the changed rows up)."""
    services.locate_subscribers(everyone=True)


@db_task()
def deliver_alert(alert_id: int) -> None:
    """Send an alert's deliveries (queued when it was published)."""
    delivery.deliver(alert_id)


@db_periodic_task(crontab(minute="*"))
def retry_deliveries() -> None:
    """Retries whose backoff has passed, deliveries queued while no worker ran,
    and rows a dead worker left half-sent."""
    delivery.recover_stale()
    for alert_id in delivery.due_alert_ids():
        delivery.deliver(alert_id)


@db_periodic_task(crontab(minute="*"))
def collect_sms_receipts() -> None:
    """Receipts the SMSC sends after the sending session ended (20 s a minute)."""
    from yingji.alerts.models import Delivery

    if Delivery.objects.filter(channel="sms", status=Delivery.Status.SENT).exists():
        delivery.collect_late_receipts(20.0)


@db_periodic_task(crontab(minute="*"))
def expire_alerts() -> None:
    services.expire_due()


@db_periodic_task(crontab(minute="*/5"))
def poll_incoming_feeds() -> None:
    from yingji.alerts.models import IncomingFeed

    for feed in IncomingFeed.objects.filter(active=True).exclude(url=""):
        services.poll_feed(feed)
