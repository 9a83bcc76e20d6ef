"""Queued and periodic risk jobs (Huey)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from yingji.core.audit import acting_as
from yingji.risk import services
from yingji.risk.supervise import supervise


@db_periodic_task(crontab(hour="8", minute="40"))
def daily_hazard_supervision() -> None:
    """Every morning: deadline reminders, overdue escalation, late acceptance, 回头看."""
    with acting_as(None, "隐患督办(定时)"):
        supervise(services.today())


@db_task()
def ledger_import(record_id: int) -> None:
    """An Excel ledger import started from the web page (progress polled by the page)."""
    from yingji.risk import imports

    imports.run(record_id)
