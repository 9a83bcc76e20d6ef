"""Monitoring on the workbench and in the search box, as the people who use them
see it: alarms to acknowledge (most urgent first, with the time they escalate),
the leader's figure of open events, sensors found by code or name within scope."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.workbench_items import figures, hits, workbench
from yingji.core.models import Role
from yingji.core.scope import scope_for
from yingji.core.workbench import Context
from yingji.monitoring import folding, services
from yingji.monitoring import workbench as monitoring_workbench
from yingji.monitoring.models import Alarm, Event

from .conftest import make_user

pytestmark = pytest.mark.django_db
MIN = 60_000


def _at(alarm: Alarm, minutes: int) -> str:
    return timezone.localtime(alarm.fired_at + dt.timedelta(minutes=minutes)).strftime(
        "%Y-%m-%d %H:%M"
    )


@pytest.fixture
def alarms(world):
    """五山雨量站 red (10 minutes ago), 赤岗雨量站 (海珠区) yellow fired 50 minutes ago
    (its 30 minutes to acknowledge have passed), 五山积水点 yellow (just fired)."""
    now = services.now_ms()
    ing = services.Ingestor()
    ing.ingest([("RG-002", now - 50 * MIN, 35.0, "mm")], source="t")
    ing.ingest([("RG-001", now - 10 * MIN, 120.0, "mm")], source="t")
    ing.ingest([("WL-001", now - 6 * MIN, 25.0, "cm")], source="t")  # pending …
    ing.ingest([("WL-001", now - 3 * MIN, 26.0, "cm")], source="t")  # … firing after 2 minutes
    by_code = {a.sensor.code: a for a in Alarm.objects.select_related("sensor")}
    assert {c: a.state for c, a in by_code.items()} == {
        "RG-001": "firing",
        "RG-002": "firing",
        "WL-001": "firing",
    }
    world["alarms"] = by_code
    world["tianhe_staff"] = make_user("tianhe", Role.DISTRICT_STAFF, region=world["tianhe"])
    world["haizhu_staff"] = make_user("haizhu", Role.DISTRICT_STAFF, region=world["haizhu"])
    world["leader"] = make_user("leader", Role.LEADER)
    return world


def test_the_duty_officer_sees_every_firing_alarm_red_first_then_by_escalation_time(client, alarms):
    client.force_login(alarms["duty"])
    items = workbench(client, source="monitoring.alarms")
    red, late, fresh = (alarms["alarms"][c] for c in ("RG-001", "RG-002", "WL-001"))
    assert [i.title for i in items] == [
        "红色报警:五山雨量站(RG-001)",
        "黄色报警:赤岗雨量站(RG-002)",
        "黄色报警:五山积水点(WL-001)",
    ]
    assert [i.urgency for i in items] == ["紧急", "已逾期", "即将到期"]
    assert [i.level for i in items] == ["red", "yellow", "yellow"]
    # due when the rule escalates an unacknowledged alarm (30 minutes after firing)
    assert items[0].deadline == f"期限 {_at(red, 30)}"
    assert items[1].deadline == f"期限 {_at(late, 30)}"
    assert items[2].deadline == f"期限 {_at(fresh, 30)}"
    assert items[0].detail == "1小时雨量 · 暴雨 · 天河区五山街道 · 触发值 120mm"
    assert items[1].detail.startswith("1小时雨量 · 暴雨 · 海珠区赤岗街道")
    assert all(i.kind == "待确认报警" and i.action == "确认" for i in items)
    # one click to act: the live board, at the alarm's row with its 确认 button
    page = client.get(items[0].url)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="alarm-{red.pk}"' in html and f"/monitoring/alarms/{red.pk}/acknowledge/" in html
    assert items[0].url.endswith(f"#alarm-{red.pk}")


def test_each_district_and_department_sees_only_its_own_alarms(client, alarms):
    def titles(user):
        client.force_login(user)
        return [i.title for i in workbench(client, source="monitoring.alarms")]

    assert titles(alarms["tianhe_staff"]) == [
        "红色报警:五山雨量站(RG-001)",
        "黄色报警:五山积水点(WL-001)",
    ]
    assert titles(alarms["haizhu_staff"]) == ["黄色报警:赤岗雨量站(RG-002)"]
    assert len(titles(alarms["staff"])) == 3  # 三防处 owns every sensor
    assert titles(alarms["other"]) == []  # 指挥中心 owns none and has no region


def test_an_acknowledged_or_silenced_alarm_leaves_the_workbench(client, alarms):
    client.force_login(alarms["tianhe_staff"])
    red = alarms["alarms"]["RG-001"]
    client.post(f"/monitoring/alarms/{red.pk}/acknowledge/")
    services.silence(alarms["alarms"]["WL-001"], alarms["duty"], 60, "现场处置")
    assert workbench(client, source="monitoring.alarms") == []
    client.force_login(alarms["duty"])
    assert [i.title for i in workbench(client, source="monitoring.alarms")] == [
        "黄色报警:赤岗雨量站(RG-002)"
    ]


def test_alarms_are_read_in_two_queries_however_many_and_without_boundaries(alarms):
    ctx = Context(
        user=alarms["duty"], scope=scope_for(alarms["duty"]), now=timezone.now(), limit=200
    )
    with CaptureQueriesContext(connection) as queries:
        items = monitoring_workbench.alarm_items(ctx)
        n = monitoring_workbench.count_alarms(ctx)
    assert len(items) == n == 3
    assert len(queries) == 3  # the alarms, the region names, the count
    assert not any("boundary" in q["sql"] for q in queries)


def test_the_leader_sees_open_events_by_highest_level_and_a_district_does_not(client, alarms):
    # The rain cell is one event (the three sensors lie within 20 km); a gas leak is another.
    assert list(Event.objects.filter(state="open").values_list("max_level", flat=True)) == ["red"]
    now = timezone.now()
    gas = Event.objects.create(
        hazard="gas",
        district=alarms["haizhu"],
        level="yellow",
        max_level="yellow",
        started_at=now,
        changed_at=now,
    )
    client.force_login(alarms["leader"])
    figure = figures(client)["未结监测事件"]
    assert (figure.value, figure.detail) == ("2", "红色 1 · 黄色 1")
    assert client.get(figure.url).status_code == 200
    folding.close_event(Event.objects.get(max_level="red"), "测试", now)
    gas.state = "closed"
    gas.save()
    figure = figures(client)["未结监测事件"]
    assert (figure.value, figure.detail) == ("0", "没有进行中的监测事件")
    client.force_login(alarms["tianhe_staff"])
    assert "未结监测事件" not in figures(client)


def test_sensors_are_found_by_code_or_name_within_scope(client, alarms):
    client.force_login(alarms["duty"])
    found = hits(client, "RG-00")["监测传感器"]
    assert [text for text, _ in found] == ["RG-001 五山雨量站", "RG-002 赤岗雨量站"]
    assert client.get(found[0][1]).status_code == 200
    assert [t for t, _ in hits(client, "积水点")["监测传感器"]] == ["WL-001 五山积水点"]
    # the exact code first
    assert hits(client, "rg-002")["监测传感器"][0][0] == "RG-002 赤岗雨量站"

    client.force_login(alarms["tianhe_staff"])
    assert [t for t, _ in hits(client, "雨量站")["监测传感器"]] == ["RG-001 五山雨量站"]
    assert "监测传感器" not in hits(client, "赤岗")
    assert client.get(f"/monitoring/sensors/{alarms['s2'].pk}/").status_code == 404
    client.force_login(alarms["other"])
    assert "监测传感器" not in hits(client, "RG-00")
