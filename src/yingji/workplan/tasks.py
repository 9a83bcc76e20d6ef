from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from yingji.workplan import services


@db_periodic_task(crontab(hour="8", minute="30"))
def daily_supervision() -> None:
    """Every morning: reminders, supervision notices and escalations for today."""
    services.supervise(services.today())
