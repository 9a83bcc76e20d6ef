"""Background jobs of the delivery system (Huey)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from yingji.core import outbox


@db_task()
def send_deliveries(pks: list[int]) -> int:
    """Send rows queued with `outbox.enqueue`/`outbox.batch`; what fails waits for
    its backoff and the periodic sweep sends it again."""
    return outbox.send(pks)


@db_task()
def send_source(source_type_id: int, source_id: int) -> None:
    """Send one source's rows (a published warning's million messages)."""
    outbox.send_source(source_type_id, source_id)


@db_periodic_task(crontab(minute="*"))
def sweep_deliveries() -> None:
    """Retries whose backoff has passed, rows queued while no worker ran, and rows a
    dead worker left half-sent."""
    outbox.recover_stale()
    outbox.flush()


@db_periodic_task(crontab(minute="*"))
def collect_sms_receipts() -> None:
    """Receipts the SMSC sends after the sending session ended (20 s a minute)."""
    from yingji.core.models import Notification

    if Notification.objects.filter(channel="sms", status=Notification.Status.SENT).exists():
        outbox.collect_late_receipts(20.0)


@db_periodic_task(crontab(hour="3", minute="17"))
def purge_audit_log() -> int:
    """Audit entries older than YINGJI_AUDIT_RETENTION_DAYS (at least 180); none
    without a retention period (README "Accounts")."""
    from yingji.core import audit

    return audit.purge()


@db_periodic_task(crontab(minute="7"))
def create_partitions() -> None:
    """Hourly: the time-partitioned tables' partitions from the retention cut to
    a few periods ahead (core/partitioning.py); a no-op on SQLite."""
    from yingji.core import partitioning

    partitioning.maintain()
