"""Warnings on the command screen: the warnings in force with light areas (a
region by code, a circle by centre and radius, a drawn polygon simplified),
never drafts, exercises or expired warnings; the panel, figure and timeline."""

import datetime as dt
import math

import pytest
from django.utils import timezone

from yingji.alerts import command as feeds
from yingji.alerts.models import Alert, AlertArea
from yingji.core import command, scope
from yingji.core.models import Profile, Region, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def duty(django_user_model):
    user = django_user_model.objects.create_user("duty", password="pw-123456")
    Profile.objects.create(user=user, role=Role.DUTY_OFFICER)
    return user


def ctx(user, now=None):
    return command.Context(user=user, scope=scope.scope_for(user), now=now or timezone.now())


def warning(n, colour="red", state="published", cap_status="Actual", **extra):
    now = timezone.now()
    return Alert.objects.create(
        identifier=f"test-{n}",
        sender="gz",
        state=state,
        cap_status=cap_status,
        hazard="暴雨",
        colour=colour,
        event="暴雨预警",
        headline=f"天河区暴雨{feeds.COLOUR_WORDS[colour]}预警{n}",
        description="测试",
        sent=extra.pop("sent", now - dt.timedelta(minutes=n)),
        expires=extra.pop("expires", now + dt.timedelta(hours=6)),
        **extra,
    )


def wiggly_circle(lon, lat, r, points=2000):
    ring = [
        [lon + r * math.cos(2 * math.pi * i / points) * (1 + 0.0001 * (i % 2)),
         lat + r * math.sin(2 * math.pi * i / points)]
        for i in range(points)
    ]  # fmt: skip
    return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


def test_warnings_in_force_travel_as_codes_circles_and_simplified_polygons(duty):
    Region.objects.create(code="440106", name="天河区", level="district")
    red = warning(1)
    AlertArea.objects.create(alert=red, kind="region", region_id="440106", description="天河区")
    AlertArea.objects.create(
        alert=red,
        kind="circle",
        geometry={"type": "Point", "coordinates": [113.36123456, 23.12471234]},
        radius_km=3.5,
        description="石牌周边",
    )
    drawn = AlertArea.objects.create(
        alert=red,
        kind="polygon",
        geometry=wiggly_circle(113.4, 23.2, 0.05),
        description="手绘区域",
    )
    marks = {m["id"]: m for m in feeds.warning_marks(ctx(duty))}
    assert len(marks) == 3 and all(m["lv"] == "red" for m in marks.values())
    region, circle, polygon = (marks[a.pk] for a in red.areas.order_by("pk"))
    assert region["rg"] == "440106" and "天河区暴雨红色预警1" in region["ti"]
    assert circle["ci"] == [113.3612, 23.1247, 3500]
    [ring] = polygon["pg"]
    assert 4 <= len(ring) <= feeds.MAX_VERTICES  # 2,000 vertices drawn, far fewer shipped
    assert all(len(str(x).split(".")[-1]) <= 4 for point in ring for x in point)
    assert "手绘区域" in polygon["ti"] and drawn.pk == polygon["id"]


def test_drafts_exercises_and_expired_warnings_are_not_in_force(duty):
    for i, extra in enumerate(
        [
            {"state": "draft"},
            {"state": "review"},
            {"state": "cancelled"},
            {"cap_status": "Exercise"},
            {"expires": timezone.now() - dt.timedelta(minutes=1)},
        ]
    ):
        alert = warning(10 + i, **extra)
        AlertArea.objects.create(
            alert=alert,
            kind="circle",
            geometry={"type": "Point", "coordinates": [113.3, 23.1]},
            radius_km=1,
            description="圆",
        )
    c = ctx(duty)
    assert feeds.warning_marks(c) == []
    assert feeds.warnings_panel(c)["rows"] == []
    assert feeds.figures(c) == [{"t": "生效预警", "v": 0, "tone": ""}]


def test_the_panel_lists_the_most_severe_first_and_the_timeline_the_releases(duty):
    warning(1, colour="yellow")
    warning(2, colour="red")
    warning(3, colour="orange", msg_type="Update")
    c = ctx(duty)
    rows = feeds.warnings_panel(c)["rows"]
    assert [r["v"] for r in rows] == ["红色", "橙色", "黄色"]
    assert rows[0]["l"] == "red" and rows[0]["d"].startswith("发布 ")
    [figure] = feeds.figures(c)
    assert figure == {"t": "生效预警(红橙 2)", "v": 3, "tone": "bad"}
    timeline = feeds.timeline(c)
    assert [e["t"] for e in timeline] == [
        "发布:天河区暴雨黄色预警1",
        "发布:天河区暴雨红色预警2",
        "更新:天河区暴雨橙色预警3",
    ]
    assert {e["k"] for e in timeline} == {"预警"}
