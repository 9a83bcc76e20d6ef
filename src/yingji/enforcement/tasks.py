from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from yingji.core import audit
from yingji.enforcement import services


@db_periodic_task(crontab(hour="8", minute="45"))
def late_publication_alarm() -> None:
    """Every morning: tell departments about inspection results not published in time."""
    with audit.acting_as(None, "公示提醒"):
        services.publication_alarm(services.today())


@db_periodic_task(crontab(hour="8", minute="50"))
def accident_lookback() -> None:
    """Every morning: open look-backs for new 较大-or-higher accidents, then remind
    and escalate overdue report items and evaluations (seed items 34 and 36)."""
    from yingji.enforcement import lookback

    with audit.acting_as(None, "事故整改评估(定时)"):
        day = services.today()
        lookback.open_cases(day)
        lookback.supervise(day)
