from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from yingji.core import outbox


@db_task(retries=4, retry_delay=30)
def deliver_notification(pk: int) -> None:
    note = outbox.deliver(pk)
    if note.status == note.Status.QUEUED:  # failed this time: let Huey retry later
        raise RuntimeError(note.last_error)


@db_task(retries=2, retry_delay=30)
def deliver_notifications(pks: list[int]) -> int:
    """Deliver a batch queued with `outbox.batch()`; a failed one stays queued and
    the periodic flush retries it."""
    return sum(1 for pk in pks if outbox.deliver(pk).status == "sent")


@db_periodic_task(crontab(minute="*/5"))
def flush_outbox() -> None:
    """Catch anything queued while no worker ran."""
    outbox.flush()
