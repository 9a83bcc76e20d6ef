from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from yingji.core import audit
from yingji.enforcement import services


@db_periodic_task(crontab(hour="8", minute="45"))
def late_publication_alarm() -> None:
    """Every morning: tell departments about inspection results not published in time."""
    with audit.acting_as(None, "公示提醒"):
        services.publication_alarm(services.today())
