"""Periodic response jobs: card escalation and drill injection every minute,
plan review reminders every morning."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from yingji.core import audit


@db_periodic_task(crontab(minute="*"))
def escalate_action_cards() -> None:
    """Escalate action cards past their acknowledgement or completion limits."""
    from yingji.response import services

    with audit.acting_as(None, "行动卡督办"):
        services.escalate_overdue()


@db_periodic_task(crontab(minute="*"))
def run_drills() -> None:
    """Inject the drill scenario steps that are due."""
    from yingji.response import drills

    with audit.acting_as(None, "演练导调"):
        drills.tick()


@db_periodic_task(crontab(hour="8", minute="40"))
def plan_review_reminders() -> None:
    """Remind owners of plans whose review (评估修订) is due within 30 days."""
    from yingji.response import plans

    with audit.acting_as(None, "预案管理"):
        plans.remind_reviews()
