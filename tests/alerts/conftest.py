"""Fixtures for the alerts tests: a small city with box-shaped districts (the
real Guangzhou pack is exercised by the demo test), people in the roles the
workflow needs, the standard population groups and a few subscribers."""

import pytest
from django.contrib.auth.models import User

from yingji.alerts import services
from yingji.alerts.models import Subscriber, SubscriberGroup
from yingji.core import regions
from yingji.core.models import Profile, Region, Role


def _box(x0, y0, x1, y1):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@pytest.fixture
def city(db):
    """广州市 with 天河区 (x 113.30–113.45) and 越秀区 (x 113.20–113.30), y 23.05–23.20;
    天河区's street 440106001 covers its western half."""
    gz = Region.objects.create(
        code="440100", name="广州市", level="city", boundary=_box(113.2, 23.05, 113.45, 23.2)
    )
    th = Region.objects.create(
        code="440106",
        name="天河区",
        level="district",
        parent=gz,
        boundary=_box(113.30, 23.05, 113.45, 23.2),
        centroid_lon=113.375,
        centroid_lat=23.125,
    )
    yx = Region.objects.create(
        code="440104",
        name="越秀区",
        level="district",
        parent=gz,
        boundary=_box(113.20, 23.05, 113.30, 23.2),
        centroid_lon=113.25,
        centroid_lat=23.125,
    )
    st = Region.objects.create(
        code="440106001",
        name="五山街道",
        level="street",
        parent=th,
        boundary=_box(113.30, 23.05, 113.375, 23.2),
    )
    regions.invalidate_index()
    services.ensure_groups()
    yield {"city": gz, "tianhe": th, "yuexiu": yx, "street": st}
    regions.invalidate_index()


def _user(name, role):
    user = User.objects.create_user(name, email=f"{name}@example.org", password="pw-123456")
    Profile.objects.create(user=user, role=role, full_name=name)
    return user


@pytest.fixture
def people(db):
    return {
        "author": _user("sanfang", Role.DEPT_STAFF),
        "leader": _user("leader", Role.LEADER),
        "duty": _user("duty", Role.DUTY_OFFICER),
        "viewer": _user("viewer", Role.SUPERVISOR),
    }


def subscriber(
    ext,
    *,
    lon=None,
    lat=None,
    home=None,
    groups=(),
    opted_out=False,
    phone="",
    email="",
    webhook="",
    channels=(),
    language="zh-CN",
):
    s = Subscriber.objects.create(
        external_id=ext,
        name=ext,
        phone=phone,
        email=email,
        webhook_url=webhook,
        last_lon=lon,
        last_lat=lat,
        home_region_id=home,
        opted_out=opted_out,
        channels=list(channels),
        language=language,
    )
    s.groups.set(SubscriberGroup.objects.filter(key__in=groups))
    return s


@pytest.fixture
def subscribers(city):
    """Who is where: a-* in 天河区, b-* in 越秀区, c-* nowhere known."""
    return {
        "a-public": subscriber(
            "a-public", lon=113.40, lat=23.10, phone="8613800000001", email="a1@example.org"
        ),
        "a-school": subscriber(
            "a-school",
            lon=113.32,
            lat=23.15,
            groups=["school"],
            phone="8613800000002",
            email="a2@example.org",
        ),
        "a-optout": subscriber(
            "a-optout", lon=113.41, lat=23.11, phone="8613800000003", opted_out=True
        ),
        "b-public": subscriber("b-public", lon=113.25, lat=23.10, phone="8613800000004"),
        "b-sanfang": subscriber(
            "b-sanfang",
            lon=113.22,
            lat=23.12,
            groups=["sanfang"],
            phone="8613800000005",
            email="b5@example.org",
        ),
        "c-home-tianhe": subscriber("c-home-tianhe", home="440106", phone="8613800000006"),
        "c-sanfang": subscriber("c-sanfang", groups=["sanfang"], email="c7@example.org"),
    }


def draft_spec(**overrides):
    spec = services.DraftSpec(
        hazard="rainstorm",
        colour="red",
        description="天河区过去3小时降雨量已达100毫米以上。",
        instruction="停课、停工、停业。",
        areas=[services.AreaSpec(region_code="440106")],
        channels=[],
    )
    for key, value in overrides.items():
        setattr(spec, key, value)
    return spec
