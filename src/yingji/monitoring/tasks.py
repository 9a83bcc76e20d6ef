"""Periodic monitoring jobs (Huey). The ingest worker runs the pipeline itself
every few seconds; these keep it going when no worker runs, and roll up and trim
readings."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from yingji.monitoring import folding, services


@db_periodic_task(crontab(minute="*"))
def notification_pipeline() -> None:
    """Grouped notifications, escalations, reminders, expired silences."""
    services.run_pipeline()


@db_periodic_task(crontab(minute="*"))
def close_quiet_events() -> None:
    """Events whose alarms have all been quiet for 30 minutes end."""
    folding.close_quiet_events()


@db_periodic_task(crontab(minute="*/5"))
def rollups() -> None:
    """Minute and hour rollups of the last two hours (upserts: safe to repeat)."""
    now = services.now_ms()
    services.rollup(now - 2 * 3600_000, now)


@db_periodic_task(crontab(hour="3", minute="15"))
def retention() -> None:
    """Drop raw readings and minute rollups past their retention."""
    services.apply_retention()
