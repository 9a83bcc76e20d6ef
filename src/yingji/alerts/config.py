"""Alert configuration: settings.YINGJI_ALERTS (a dict) when present, else
environment variables, else defaults. The channels (SMSC, mail, rates, retries)
are the delivery system's, configured in `core/channelconfig.py`.

    ALERTS_ORG_CODE      3-digit organisation code in identifiers (default 416)
    ALERTS_SENDER        CAP <sender> (default the bureau's domain-style name)
    ALERTS_PUBLIC_URL    base URL of the public pages, for links in messages
    ALERTS_DELIVERY_MINUTES  minutes after release by which a warning must have
                         reached its people (or its expiry, if sooner); rows still
                         waiting then are shown late, in red (default 30)
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "ORG_CODE": "416",
    "SENDER": "",
    "PUBLIC_URL": "http://127.0.0.1:8000",
    "DELIVERY_MINUTES": 30,
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
