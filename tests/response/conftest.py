"""Fixtures for the response tests: a small region, the shipped red rainstorm
plan with its departments, and the people who use it."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from yingji.core.models import Department, Profile, Region, Role
from yingji.response import plans, services

TIANHE = (113.3612, 23.1247)


def make_user(
    username: str, role: str = Role.DEPT_STAFF, department: Department | None = None
) -> User:
    u = User.objects.create_user(username, email=f"{username}@example.org", password="pw-123456")
    Profile.objects.create(user=u, role=role, department=department, full_name=username)
    return u


@pytest.fixture
def tianhe(db):
    """天河区 and one street as boxes around TIANHE (enough for the one lookup)."""

    def box(x0, y0, x1, y1):
        return {
            "type": "Polygon",
            "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
        }

    city = Region.objects.create(
        code="440100", name="广州市", level="city", boundary=box(112.9, 22.5, 114.1, 23.95)
    )
    district = Region.objects.create(
        code="440106",
        name="天河区",
        level="district",
        parent=city,
        boundary=box(113.30, 23.09, 113.45, 23.25),
        centroid_lon=113.37,
        centroid_lat=23.16,
    )
    street = Region.objects.create(
        code="440106001",
        name="石牌街道",
        level="street",
        parent=district,
        boundary=box(113.34, 23.11, 113.38, 23.14),
        centroid_lon=113.36,
        centroid_lat=23.125,
    )
    return {"district": district, "street": street}


@pytest.fixture
def red_plan(db):
    plan, _ = plans.load_red_rainstorm()
    return plan


@pytest.fixture
def people(db, red_plan):
    command = (
        Department.objects.get(name="指挥中心")
        if Department.objects.filter(name="指挥中心").exists()
        else Department.objects.create(name="指挥中心")
    )
    return {
        "duty": make_user("duty", Role.DUTY_OFFICER, command),
        "leader": make_user("leader", Role.LEADER),
        "jiaoyu": make_user("jiaoyu", department=Department.objects.get(name="市教育局")),
        "jiaotong": make_user("jiaotong", department=Department.objects.get(name="市交通运输局")),
    }


@pytest.fixture
def at():
    return timezone.make_aware(dt.datetime(2024, 6, 10, 14, 0))


@pytest.fixture
def incident(tianhe, people, at):
    return services.register_incident(
        services.IncidentInput(
            title="天河区暴雨内涝",
            incident_type="暴雨",
            occurred_at=at,
            lon=TIANHE[0],
            lat=TIANHE[1],
            address="天河区石牌",
        ),
        user=people["duty"],
        at=at,
    )
