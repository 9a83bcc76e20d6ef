"""What the register does when other modules act: a 三防 response activated for
an area calls the area's 三防责任人 to their posts by SMS, through the one
delivery system (one message per person per activation, never twice)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q

from yingji.core import outbox, regioncodes
from yingji.responsibility import roster

# The hazards of 防汛、防旱、防风 (the plan vocabulary of response/triggers.py).
SANFANG_HAZARDS = frozenset(
    {"暴雨", "台风", "洪水", "内涝", "山洪", "地质灾害", "风暴潮", "干旱", "大风", "强降雨"}
)


def people_in(area_codes: list[str]):
    from yingji.responsibility.models import Responsible

    condition = Q(pk__isnull=True)
    for code in area_codes:
        condition |= Q(obj__region__code__startswith=regioncodes.prefix(code))
    return Responsible.objects.filter(condition).select_related("obj")


def call_to_posts(
    sender: Any,
    *,
    activation_id: int,
    plan_title: str,
    hazard: str,
    level_label: str,
    area_codes: list[str],
    is_exercise: bool,
    **_: Any,
) -> int:
    if hazard not in SANFANG_HAZARDS or not area_codes:
        return 0
    mark = "【演练】" if is_exercise else ""
    queued = 0
    with transaction.atomic(), outbox.batch():
        for person in people_in(area_codes):
            outbox.enqueue(
                channel="sms",
                address=person.phone,
                subject=f"{mark}三防响应到岗通知",
                body=(
                    f"{mark}《{plan_title}》已启动{level_label}。请{person.name}同志立即到岗,"
                    f"履行{person.obj.name}{roster.ROLE_KINDS[person.role]}职责。"
                ),
                dedupe_key=f"activation:{activation_id}:sanfang:{person.pk}",
                person=person,
            )
            queued += 1
    return queued


def connect() -> None:
    from yingji.response import events

    events.activation_started.connect(call_to_posts, dispatch_uid="responsibility.call_to_posts")
