"""Alert delivery configuration: settings.YINGJI_ALERTS (a dict) when present,
else environment variables, else defaults. The channel objects are built here.

    ALERTS_SMPP_HOST / _PORT / _SYSTEM_ID / _PASSWORD / _SOURCE / _WINDOW
    ALERTS_RATE_SMS / ALERTS_RATE_EMAIL / ALERTS_RATE_WEBHOOK   messages per second (0: none)
    ALERTS_ORG_CODE      3-digit organisation code in identifiers (default 416)
    ALERTS_SENDER        CAP <sender> (default the bureau's domain-style name)
    ALERTS_PUBLIC_URL    base URL of the public pages, for links in messages
    ALERTS_MAX_ATTEMPTS  attempts before a delivery is marked failed (default 5)
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings

from yingji.alerts import channels

DEFAULTS: dict[str, Any] = {
    "SMPP_HOST": "127.0.0.1", "SMPP_PORT": 2775, "SMPP_SYSTEM_ID": "yingji",
    "SMPP_PASSWORD": "", "SMPP_SOURCE": "12379", "SMPP_WINDOW": 50,
    "SMPP_RECEIPT_WAIT": 2.0,
    "RATE_SMS": 200.0, "RATE_EMAIL": 50.0, "RATE_WEBHOOK": 20.0,
    "ORG_CODE": "416", "SENDER": "", "PUBLIC_URL": "http://127.0.0.1:8000",
    "MAX_ATTEMPTS": 5, "BATCH": 500, "RETRY_BASE_SECONDS": 30,
}


def get(key: str) -> Any:
    """One setting: YINGJI_ALERTS[key], else $ALERTS_<key>, else the default."""
    configured = getattr(settings, "YINGJI_ALERTS", {}) or {}
    if key in configured:
        return configured[key]
    default = DEFAULTS[key]
    raw = os.environ.get(f"ALERTS_{key}")
    if raw is None:
        return default
    return type(default)(raw) if default is not None and not isinstance(default, str) else raw


def sender() -> str:
    return get("SENDER") or f"{settings.YINGJI_CITY_CODE}{get('ORG_CODE')}@yingji"


def channel(name: str) -> channels.AlertChannel:
    """The configured channel object for a channel name."""
    if name == "sms":
        return channels.SmppChannel(
            get("SMPP_HOST"), int(get("SMPP_PORT")), system_id=get("SMPP_SYSTEM_ID"),
            password=get("SMPP_PASSWORD"), source_addr=get("SMPP_SOURCE"),
            window=int(get("SMPP_WINDOW")), rate=float(get("RATE_SMS")),
            receipt_wait=float(get("SMPP_RECEIPT_WAIT")))
    if name == "email":
        return channels.SmtpChannel(
            settings.EMAIL_HOST, int(settings.EMAIL_PORT), sender=settings.DEFAULT_FROM_EMAIL,
            username=getattr(settings, "EMAIL_HOST_USER", ""),
            password=getattr(settings, "EMAIL_HOST_PASSWORD", ""),
            use_tls=bool(getattr(settings, "EMAIL_USE_TLS", False)),
            rate=float(get("RATE_EMAIL")))
    if name == "webhook":
        return channels.WebhookChannel(rate=float(get("RATE_WEBHOOK")))
    raise ValueError(f"未知的预警发布渠道:{name}")


CHANNEL_NAMES = ("sms", "email", "webhook")
CHANNEL_LABELS = {"sms": "短信", "email": "邮件", "webhook": "群机器人"}
