"""Shared monitoring fixtures: two districts with one street each (square
boundaries), a department with a mailbox, sensors and rules; a Mosquitto of the
test's own with the shipped configuration on a free port."""

import pytest
from django.contrib.auth.models import User

from yingji.core import regions
from yingji.core.models import Department, Profile, Region, Role
from yingji.monitoring.broker import Broker
from yingji.monitoring.models import AlarmRule, Sensor


def square(lon: float, lat: float, d: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
        ],
    }


def make_user(username: str, role: str = Role.DEPT_STAFF, department=None, region=None) -> User:
    u = User.objects.create_user(username, email=f"{username}@example.org", password="pw-123456")
    Profile.objects.create(
        user=u, role=role, department=department, region=region, full_name=username
    )
    return u


@pytest.fixture
def world(db):
    city = Region.objects.create(
        code="440100", name="广州市", level="city", boundary=square(113.0, 23.0, 1.0)
    )
    tianhe = Region.objects.create(
        code="440106",
        name="天河区",
        level="district",
        parent=city,
        boundary=square(113.3, 23.1, 0.1),
    )
    haizhu = Region.objects.create(
        code="440105",
        name="海珠区",
        level="district",
        parent=city,
        boundary=square(113.2, 23.1, 0.1),
    )
    street = Region.objects.create(
        code="440106001",
        name="五山街道",
        level="street",
        parent=tianhe,
        boundary=square(113.3, 23.1, 0.05),
    )
    hz_street = Region.objects.create(
        code="440105001",
        name="赤岗街道",
        level="street",
        parent=haizhu,
        boundary=square(113.2, 23.1, 0.05),
    )
    regions.invalidate_index()
    sanfang = Department.objects.create(name="三防处", email="sanfang@example.org")
    boss = Department.objects.create(name="指挥中心", email="zhihui@example.org")
    s1 = Sensor.objects.create(
        code="RG-001",
        name="五山雨量站",
        type="rain",
        unit="mm",
        lon=113.31,
        lat=23.11,
        department=sanfang,
        district=tianhe,
        street=street,
    )
    s2 = Sensor.objects.create(
        code="RG-002",
        name="赤岗雨量站",
        type="rain",
        unit="mm",
        lon=113.21,
        lat=23.11,
        department=sanfang,
        district=haizhu,
        street=hz_street,
    )
    w1 = Sensor.objects.create(
        code="WL-001",
        name="五山积水点",
        type="waterlogging",
        unit="cm",
        lon=113.32,
        lat=23.12,
        department=sanfang,
        district=tianhe,
        street=street,
    )
    rain = AlarmRule.objects.create(
        name="1小时雨量",
        sensor_type="rain",
        metric="sum",
        window_s=3600,
        blue=20,
        yellow=30,
        orange=50,
        red=100,
        escalate_to=boss,
        escalate_after_min=30,
        remind_every_min=60,
    )
    water = AlarmRule.objects.create(
        name="积水深度",
        sensor_type="waterlogging",
        metric="value",
        blue=10,
        yellow=20,
        orange=30,
        red=50,
        for_s=120,
    )
    duty = make_user("duty", role=Role.DUTY_OFFICER)
    staff = make_user("sanfang_staff", department=sanfang)
    other = make_user("other", department=boss)
    return {
        "tianhe": tianhe,
        "haizhu": haizhu,
        "street": street,
        "sanfang": sanfang,
        "boss": boss,
        "s1": s1,
        "s2": s2,
        "w1": w1,
        "rain": rain,
        "water": water,
        "duty": duty,
        "staff": staff,
        "other": other,
    }


@pytest.fixture
def broker():
    b = Broker().start()
    yield b
    b.stop(kill=True)


@pytest.fixture(autouse=True)
def _stop_workers():
    """Ingest workers a test started (mqtthelpers.start) never outlive it."""
    yield
    from .mqtthelpers import stop_all

    stop_all()
