"""Incoming CAP from other agencies: received (pushed or polled), stored once per
(sender, identifier) with its validation problems, and re-released locally.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from yingji.alerts import cap, capvalidate, conventions
from yingji.alerts.models import (
    Alert,
    IncomingCap,
    IncomingFeed,
)
from yingji.alerts.services import (
    AreaSpec,
    DraftSpec,
    _invalid,
    _reference_exists,
    create_draft,
    submit,
)
from yingji.core import channelconfig, inputlimits

log = logging.getLogger(__name__)

# --------------------------------------------------------------- incoming CAP


def receive_cap(data: bytes, feed: IncomingFeed | None = None) -> list[IncomingCap]:
    """Store every alert in an incoming document (validated; problems kept with
    the message). A message already received is not stored twice, but one kept
    with problems does not hold its (sender, identifier): the next message with
    them replaces it, so a rejected message never blocks the valid one. CapError
    when the document is unsafe, larger than YINGJI_CAP_MAX_BYTES, or holds no
    CAP."""
    root = cap.read_xml(data, max_bytes=inputlimits.setting("YINGJI_CAP_MAX_BYTES"))
    elements = cap.alert_elements(root)
    if not elements:
        raise cap.CapError("文档中没有 CAP 1.2 <alert> 元素")
    from lxml import etree

    stored = []
    for n, el in enumerate(elements, 1):
        try:
            message = cap.alert_from_element(el)
            problems = capvalidate.validate_element(el, references_exist=_reference_exists)
        except cap.CapError:
            raise
        except Exception as exc:  # what another agency sends must never be a 500
            log.warning("incoming CAP alert %d unreadable: %r", n, exc)
            raise cap.CapError(f"第 {n} 条 <alert> 无法读取({type(exc).__name__})") from None
        info = next(
            (i for i in message.infos if i.language.lower().startswith("zh")),
            message.infos[0] if message.infos else None,
        )
        fields = {
            "feed": feed,
            # Clipped to the columns (values beyond them are schema problems anyway).
            "sent": message.sent[:32],
            "msg_type": message.msg_type[:8],
            "cap_status": message.status[:10],
            "headline": (info.headline if info else "")[:300],
            "event": (info.event if info else "")[:100],
            "severity": (info.severity if info else "")[:10],
            "xml": etree.tostring(el, encoding="unicode"),
            "problems": [str(p) for p in problems],
        }
        item, created = IncomingCap.objects.get_or_create(
            sender=message.sender[:200], identifier=message.identifier[:200], defaults=fields
        )
        if not created and item.problems:
            # Kept with problems: this message replaces it (the record and anything
            # re-released from it stay linked).
            for name, value in fields.items():
                setattr(item, name, value)
            item.received_at = timezone.now()
            item.save()
        stored.append(item)
    return stored


def poll_feed(feed: IncomingFeed, *, timeout: float = 15.0) -> list[IncomingCap]:
    """Fetch a feed URL and store its alerts; errors are kept on the feed."""
    import urllib.request

    feed.last_polled_at = timezone.now()
    try:
        limit = inputlimits.setting("YINGJI_CAP_MAX_BYTES")
        with urllib.request.urlopen(feed.url, timeout=timeout) as response:
            data = response.read(limit + 1)  # one byte more: receive_cap refuses it
        stored = receive_cap(data, feed)
        feed.last_error = ""
    except Exception as exc:  # a bad feed is shown to people, not raised at the worker
        feed.last_error = f"{type(exc).__name__}: {exc}"[:500]
        stored = []
    feed.save(update_fields=["last_polled_at", "last_error"])
    return stored


def rerelease(
    incoming: IncomingCap,
    user: Any,
    *,
    areas: list[AreaSpec],
    groups: Sequence[str] = (),
    groups_anywhere: Sequence[str] = (),
    channels: Sequence[str] = channelconfig.NAMES,
    hazard: str | None = None,
    colour: str | None = None,
) -> Alert:
    """Re-release an incoming alert locally to chosen targets: a local draft with
    its text, submitted for the one approval it needs."""
    message = cap.parse_one(incoming.xml)
    info = next(
        (i for i in message.infos if i.language.lower().startswith("zh")),
        message.infos[0] if message.infos else None,
    )
    if info is None:
        raise _invalid("incoming", "该消息没有 info 内容,无法转发")
    level = (
        colour
        or next((v for k, v in info.parameters if k == "level"), None)
        or conventions.colour_for_severity(info.severity)
        or ""
    )
    guessed = hazard or next(
        (k for k, s in conventions.SIGNAL_TYPES.items() if s.name in info.event), "other"
    )
    spec = DraftSpec(
        hazard=guessed,
        colour=level if level in conventions.COLOUR_NAMES else "",
        headline=f"【转发】{info.headline or info.event}"[:200],
        description=info.description or info.headline or info.event,
        instruction=info.instruction,
        areas=areas,
        groups=list(groups),
        groups_anywhere=list(groups_anywhere),
        channels=list(channels),
        cap_status=message.status if message.status in ("Actual", "Exercise", "Test") else "Actual",
        urgency=info.urgency or "Expected",
        certainty=info.certainty or "Likely",
        expires=cap.parse_time(info.expires) if info.expires else None,
    )
    if spec.expires is not None and spec.expires <= timezone.now():
        # Re-released now, so the event goes on: the default validity from now, and
        # the reviewers are told why it differs from the source.
        spec.internal_note = (
            f"原消息失效时间 {timezone.localtime(spec.expires):%Y-%m-%d %H:%M} "
            "已过,已按默认时长重新设定,请核实。"
        )
        spec.expires = None
    if spec.colour:
        try:
            conventions.check_signal(spec.hazard, spec.colour)
        except ValueError:
            spec.hazard = "other"
    alert = create_draft(user, spec, origin=Alert.Origin.INCOMING, incoming=incoming)
    return submit(alert, user)
