"""SMS and webhook for the core outbox: other modules' one-off messages to staff
(e.g. a duty officer's phone) go through `outbox.enqueue(channel="sms", …)` and are
sent with the same channel classes the alerts use. Registered from AlertsConfig.ready."""

from __future__ import annotations

from yingji.alerts import channels, config
from yingji.core.models import Notification
from yingji.core.outbox import Channel


class _AlertChannelAdapter(Channel):
    def send(self, notification: Notification) -> None:
        message = channels.Outgoing(notification.pk, notification.address, notification.subject,
                                    notification.body)
        for result in config.channel(self.name).send_batch([message]):
            if result.outcome in (channels.FAILED, channels.RETRY):
                raise RuntimeError(result.reason or result.outcome)


class SmsOutboxChannel(_AlertChannelAdapter):
    """Outbox messages as SMS over the configured SMSC."""

    name = "sms"


class WebhookOutboxChannel(_AlertChannelAdapter):
    """Outbox messages to a WeCom/DingTalk group robot (address = webhook URL)."""

    name = "webhook"
