"""What a warning says to each recipient: the alert's rows in the delivery ledger
carry no text of their own (one text for a million people), so the ledger asks
this formatter at send time. Each channel then shapes it (an SMS is short, a group
robot gets markdown with the link, an e-mail the full text)."""

from __future__ import annotations

from yingji.alerts import config
from yingji.alerts.models import Alert, Subscriber
from yingji.core.channels import Message
from yingji.core.models import Notification


def message(alert: Alert, row: Notification, language: str = "zh-CN") -> Message:
    english = language.startswith("en") and bool(alert.headline_en)
    headline = alert.headline_en if english else alert.headline
    description = (alert.description_en or alert.headline_en) if english else alert.description
    instruction = alert.instruction_en if english else alert.instruction
    prefix = (
        "[EXERCISE] "
        if alert.cap_status == "Exercise"
        else ("[TEST] " if alert.cap_status == "Test" else "")
    )
    text = f"{prefix}{headline}\n{description}"
    if instruction:
        text += f"\n{instruction}"
    return Message(
        row.pk,
        row.address,
        f"{prefix}{headline}",
        text,
        short=f"{prefix}{headline}:{description}",
        link=f"{config.get('PUBLIC_URL')}/alerts/public/{alert.pk}/",
        extra={
            "identifier": alert.identifier,
            "msgType": alert.msg_type,
            "status": alert.cap_status,
            "level": alert.colour,
            "severity": alert.severity,
            "event": alert.event,
        },
    )


def alert_messages(alert: Alert, rows: list[Notification]) -> dict[int, Message]:
    """The formatter registered for alerts: each row in its recipient's language."""
    ids = {r.person_id for r in rows if r.person_id is not None}
    languages = dict(Subscriber.objects.filter(pk__in=ids).values_list("pk", "language"))
    return {r.pk: message(alert, r, languages.get(r.person_id) or "zh-CN") for r in rows}
