"""Every delivery channel's configuration, in one place.

Read from settings.YINGJI_DELIVERY (a dict) when a key is there, else from the
environment variable DELIVERY_<KEY>, else the default below:

    DELIVERY_SMPP_HOST / _PORT / _SYSTEM_ID / _PASSWORD / _SOURCE / _WINDOW
                            the SMS centre (SMPP 3.4); no host: SMS not configured
    DELIVERY_RATE_SMS / _RATE_EMAIL / _RATE_WEBHOOK   messages per second (0: none)
    DELIVERY_MAX_ATTEMPTS   attempts before a message is marked failed (default 5)
    DELIVERY_RETRY_BASE_SECONDS   first retry delay, doubled each time (default 30)
    DELIVERY_BATCH          messages claimed per send (default 500)
    DELIVERY_FAILING_AFTER  consecutive failures of a channel that put one item on
                            the duty desk (default 20)
    DELIVERY_STALE_SECONDS  a batch still in `sending` this long after its claim
                            was left by a worker that died (default 600; see
                            outbox.recover_stale)

E-mail uses Django's own settings (EMAIL_HOST etc.; see settings.py): configured
when EMAIL_HOST is set or a backend other than the console fallback (memory, file)
is chosen.
Webhooks need no server: the address is the robot's URL.

YINGJI_DEMO_CHANNELS=1 (set by `make demo`) replaces every channel that is not
configured with a DemoChannel, labelled 演示通道 wherever its messages show; a
configured channel is used as it is. Without it an unconfigured channel fails its
messages at once with the reason, never silently.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings

from yingji.core import channels

DEFAULTS: dict[str, Any] = {
    "SMPP_HOST": "",
    "SMPP_PORT": 2775,
    "SMPP_SYSTEM_ID": "yingji",
    "SMPP_PASSWORD": "",
    "SMPP_SOURCE": "12379",
    "SMPP_WINDOW": 50,
    "SMPP_RECEIPT_WAIT": 2.0,
    "RATE_SMS": 200.0,
    "RATE_EMAIL": 50.0,
    "RATE_WEBHOOK": 20.0,
    "MAX_ATTEMPTS": 5,
    "BATCH": 500,
    "RETRY_BASE_SECONDS": 30,
    "FAILING_AFTER": 20,
    "STALE_SECONDS": 600,
}

# name → Chinese label, in the order pages list them. A new channel: one entry here,
# one branch in `channel()`, one subclass in channels.py.
LABELS: dict[str, str] = {"sms": "短信", "email": "邮件", "webhook": "群机器人"}
NAMES = tuple(LABELS)
# What each channel connects to, for error messages ("短信中心连接被拒绝").
SERVERS: dict[str, str] = {"sms": "短信中心", "email": "邮件服务器", "webhook": "机器人地址"}
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"


def get(key: str) -> Any:
    """One setting: YINGJI_DELIVERY[key], else $DELIVERY_<key>, else the default."""
    configured = getattr(settings, "YINGJI_DELIVERY", {}) or {}
    if key in configured:
        return configured[key]
    default = DEFAULTS[key]
    raw = os.environ.get(f"DELIVERY_{key}")
    if raw is None:
        return default
    return type(default)(raw) if not isinstance(default, str) else raw


def in_flight(name: str) -> int:
    """How many messages of one batch the channel can have handed to the network
    without their results recorded yet: the SMSC's window for SMPP, one for the
    channels that send and record one message at a time."""
    if name == "sms" and not missing(name):
        return max(1, int(get("SMPP_WINDOW")))
    return 1


def demo_enabled() -> bool:
    configured = getattr(settings, "YINGJI_DEMO_CHANNELS", None)
    if configured is not None:
        return bool(configured)
    return os.environ.get("YINGJI_DEMO_CHANNELS", "").lower() in ("1", "true", "yes", "on")


def missing(name: str) -> str:
    """What is not configured for a channel ('' when it is ready to use)."""
    if name == "sms":
        return "" if get("SMPP_HOST") else "未设置短信中心 DELIVERY_SMPP_HOST"
    if name == "email":
        # The console backend is what settings.py falls back to when nothing is set.
        backend = settings.EMAIL_BACKEND
        if backend == CONSOLE_BACKEND:
            return "未设置邮件服务器 EMAIL_HOST"
        if backend == SMTP_BACKEND and not (
            os.environ.get("EMAIL_HOST") or settings.EMAIL_HOST != "localhost"
        ):
            return "未设置邮件服务器 EMAIL_HOST"
        return ""
    if name == "webhook":
        return ""
    raise ValueError(f"未知的投递渠道:{name}")


def label(name: str) -> str:
    base = LABELS.get(name, name)
    return f"{base}(演示通道)" if missing(name) and demo_enabled() else base


def channel(name: str) -> channels.Channel:
    """The channel object that sends `name` messages now."""
    lack = missing(name)
    if lack:
        if demo_enabled():
            return channels.DemoChannel(name, LABELS[name], settings.VAR_DIR / "demo-sink")
        return channels.UnconfiguredChannel(name, LABELS[name], lack)
    if name == "sms":
        return channels.SmppChannel(
            get("SMPP_HOST"),
            int(get("SMPP_PORT")),
            system_id=get("SMPP_SYSTEM_ID"),
            password=get("SMPP_PASSWORD"),
            source_addr=get("SMPP_SOURCE"),
            window=int(get("SMPP_WINDOW")),
            rate=float(get("RATE_SMS")),
            receipt_wait=float(get("SMPP_RECEIPT_WAIT")),
        )
    if name == "email":
        return channels.EmailChannel(
            sender=settings.DEFAULT_FROM_EMAIL, rate=float(get("RATE_EMAIL"))
        )
    return channels.WebhookChannel(rate=float(get("RATE_WEBHOOK")))
