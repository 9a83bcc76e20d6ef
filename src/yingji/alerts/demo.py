"""Demo data for the alerts module (`yingji demo` runs `load_demo`).

Deterministic (seed 2026) and idempotent: 3,000 subscribers spread over
Guangzhou's districts with groups and locations; a published red rainstorm alert
for 天河区, 越秀区 and 海珠区, its messages sent through the delivery system (under
`make demo` the demo channel set records them as delivered; no SMSC is
needed); a yellow heat alert drafted and waiting for approval; an external CAP
from the meteorological bureau received and shown under 外部预警.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from yingji.alerts import incoming, services
from yingji.alerts.models import Alert, IncomingCap, IncomingFeed, Subscriber
from yingji.alerts.models import SubscriberGroup as Group
from yingji.core import audit, outbox
from yingji.core.models import Region

SEED = 2026
SUBSCRIBERS = 3000
MARK = "【演示】"
SAMPLE = Path(__file__).resolve().parent / "data" / "demo_incoming_cap.xml"
# Share of each group among demo subscribers (the rest are the public only).
GROUP_SHARE = {
    "school": 0.04,
    "hospital": 0.02,
    "care_home": 0.02,
    "construction": 0.03,
    "hazchem_officer": 0.02,
    # 三防责任人 come from the responsibility register (its demo syncs them).
    "district_duty": 0.005,
    "street_duty": 0.01,
}


def _user(name: str) -> Any:
    return get_user_model().objects.filter(username=name).first()


def _points_in(geometry: Any, n: int, rng: np.random.Generator) -> np.ndarray:
    x0, y0, x1, y1 = geometry.bounds
    found: list[np.ndarray] = []
    total = 0
    while total < n:
        xs, ys = rng.uniform(x0, x1, 4 * n), rng.uniform(y0, y1, 4 * n)
        inside = shapely.contains_xy(geometry, xs, ys)
        found.append(np.column_stack([xs[inside], ys[inside]]))
        total += int(inside.sum())
    return np.concatenate(found)[:n]


def _subscribers() -> int:
    if Subscriber.objects.filter(external_id__startswith="DEMO-").exists():
        return 0
    rng = np.random.default_rng(SEED)
    districts = list(
        Region.objects.filter(level="district").exclude(boundary=None).order_by("code")
    )
    groups = {g.key: g for g in Group.objects.all()}
    rows, memberships = [], []
    per = SUBSCRIBERS // max(len(districts), 1)
    n = 0
    for district in districts:
        shape = shapely.geometry.shape(district.boundary)
        for lon, lat in _points_in(shape, per, rng):
            n += 1
            keys = ["public"] + [k for k, share in GROUP_SHARE.items() if rng.random() < share]
            rows.append(
                Subscriber(
                    external_id=f"DEMO-{n:05d}",
                    name=f"演示订阅人{n:05d}",
                    phone=f"86139{n:08d}",
                    email=f"demo{n:05d}@example.org" if n % 3 == 0 else "",
                    webhook_url="",
                    language="en-US" if n % 50 == 0 else "zh-CN",
                    home_region_id=district.code,
                    last_lon=round(float(lon), 6),
                    last_lat=round(float(lat), 6),
                    located_at=timezone.now(),
                    opted_out=rng.random() < 0.01,
                )
            )
            memberships.append(keys)
    codes = services.located_codes([r.last_lon for r in rows], [r.last_lat for r in rows])
    for row, code in zip(rows, codes, strict=True):
        row.located_region = code
    with audit.suspended():
        created = Subscriber.objects.bulk_create(rows, batch_size=1000)
        through = Subscriber.groups.through
        through.objects.bulk_create(
            [
                through(subscriber_id=s.pk, subscribergroup_id=groups[k].pk)
                for s, keys in zip(created, memberships, strict=True)
                for k in keys
            ],
            batch_size=2000,
        )
    return len(created)


def _published(author: Any, approver: Any) -> Alert | None:
    if Alert.objects.filter(description__startswith=MARK, hazard="rainstorm").exists():
        return None
    spec = services.DraftSpec(
        hazard="rainstorm",
        colour="red",
        description=f"{MARK}天河区、越秀区、海珠区过去3小时降雨量已达100毫米以上,且降雨将持续。",
        instruction="停课、停工、停业、停运、停产(五停);转移危险区域人员,切勿涉水。",
        areas=[services.AreaSpec(region_code=c) for c in ("440106", "440104", "440105")],
        groups_anywhere=["sanfang", "district_duty"],
        channels=["sms", "email"],
        urgency="Immediate",
        response_type="Shelter",
        expires=timezone.now() + dt.timedelta(hours=12),
        headline_en="Red rainstorm warning for Tianhe, Yuexiu and Haizhu",
        description_en="More than 100 mm of rain in 3 hours; rain will continue.",
    )
    alert = services.create_draft(author, spec)
    services.submit(alert, author)
    with outbox.held():
        alert = services.approve(alert, approver)
    # Sent now, through the channels as configured: under `make demo` the demo
    # channel set (YINGJI_DEMO_CHANNELS=1) records every message as delivered.
    outbox.send_source(ContentType.objects.get_for_model(Alert).pk, alert.pk)
    return alert


def _awaiting(author: Any) -> Alert | None:
    if Alert.objects.filter(description__startswith=MARK, hazard="heat").exists():
        return None
    spec = services.DraftSpec(
        hazard="heat",
        colour="yellow",
        description=f"{MARK}未来三天白云区、花都区最高气温将达35℃以上。",
        instruction="减少户外活动,注意防暑降温。",
        areas=[services.AreaSpec(region_code=c) for c in ("440111", "440114")],
        groups=["school", "care_home", "construction"],
        channels=["sms", "email"],
        expires=timezone.now() + dt.timedelta(days=3),
    )
    return services.submit(services.create_draft(author, spec), author)


DEMO_FEED = "广州市气象台(演示推送)"
# The token of the demo feed before tokens were generated per install: an install
# that still has it gets a new one.
OLD_FIXED_TOKEN = "demo-cma"


def _incoming() -> tuple[int, str]:
    """The demo's pushing feed and its sample message; the feed's push token is
    generated per install (the new token when it was made, else "")."""
    feed = IncomingFeed.objects.filter(name=DEMO_FEED).first()
    new_token = ""
    if feed is None or feed.token == OLD_FIXED_TOKEN:
        new_token = secrets.token_urlsafe(24)
        if feed is None:
            feed = IncomingFeed.objects.create(name=DEMO_FEED, token=new_token)
        else:
            feed.token = new_token
            feed.save(update_fields=["token"])
    before = IncomingCap.objects.count()
    incoming.receive_cap(SAMPLE.read_bytes(), feed)
    return IncomingCap.objects.count() - before, new_token


def load_demo(stdout: Any) -> str:
    """Load the alerts demo (idempotent); returns a one-line summary."""
    services.ensure_groups()
    author = _user("sanfang") or _user("admin")
    approver = _user("leader") or _user("duty")
    with transaction.atomic():
        made = _subscribers()
    with audit.acting_as(author):
        published = _published(author, approver)
        waiting = _awaiting(author)
    received, token = _incoming()
    total = Subscriber.objects.filter(external_id__startswith="DEMO-").count()
    parts = [f"订阅人 {total} 人" + (f"(新增 {made})" if made else "")]
    if published:
        parts.append(f"已发布暴雨红色预警(投递 {services.warning_rows(published).count()} 条)")
    if waiting:
        parts.append(f"待审核高温黄色预警(预计覆盖 {waiting.population_estimate} 人)")
    if received:
        parts.append("已接收外部 CAP 1 条")
    if token:
        parts.append(
            f"外部 CAP 推送地址(口令本安装随机生成,仅显示这一次):/api/v1/alerts/incoming/{token}"
        )
    if not (made or published or waiting or received or token):
        parts.append("已是最新,无改动")
    return ";".join(parts)
