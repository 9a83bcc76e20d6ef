"""Events the alerts (CAP warning) module publishes.

alert_published(sender, alert_id: int, identifier: str, status: str, msg_type: str,
                event: str, level: str | None, severity: str,
                area_codes: list[str], exercise: bool, at: datetime,
                references: list[str], monitoring_event: int | None)
    An approved alert (or its Update/Cancel) was released. level in
    blue / yellow / orange / red (None when not set); status is the CAP status
    (Actual, Exercise, Test …); exercise is True for drills. references lists
    every earlier message of an Update/Cancel chain as "sender,identifier,sent"
    (CAP <references>), oldest first; empty for a first Alert. monitoring_event
    is the monitoring.Event id the message was drafted from (None otherwise).
"""

from django.dispatch import Signal

alert_published = Signal()
