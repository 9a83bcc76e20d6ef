"""Pages and API: live board, acknowledge/silence, sensor chart, map layers,
HTTP bulk ingest with a token, dry run, scoping."""

import json

import pytest
from django.urls import reverse

from yingji.monitoring import services
from yingji.monitoring.models import Alarm, DeadLetter, Reading

pytestmark = pytest.mark.django_db
MIN = 60_000


@pytest.fixture
def alarmed(world):
    t0 = services.now_ms() - 30 * MIN
    services.Ingestor().ingest([("RG-001", t0 + i * MIN, 6.0, "mm") for i in range(6)],
                               source="t")  # 36 mm → yellow
    world["alarm"] = Alarm.objects.get()
    return world


def test_live_page_lists_alarms_and_regional_levels(client, alarmed):
    assert client.get(reverse("monitoring:live")).status_code == 302
    client.force_login(alarmed["duty"])
    html = client.get(reverse("monitoring:live")).content.decode()
    assert "1小时雨量" in html and "五山雨量站" in html and "黄色" in html
    assert "天河区" in html and "暴雨" in html  # regional level
    partial = client.get(reverse("monitoring:live"), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "五山雨量站" in partial


def test_acknowledge_and_silence_from_the_page(client, alarmed):
    client.force_login(alarmed["staff"])  # 三防处 owns the sensor
    a = alarmed["alarm"]
    r = client.post(reverse("monitoring:acknowledge", args=[a.pk]), follow=True)
    assert "已确认报警" in r.content.decode()
    a.refresh_from_db()
    assert a.state == "acknowledged" and a.acknowledged_by == alarmed["staff"]
    r = client.post(reverse("monitoring:silence", args=[a.pk]), {"minutes": "30", "reason": ""},
                    follow=True)
    assert "请填写静默原因" in r.content.decode()
    client.post(reverse("monitoring:silence", args=[a.pk]), {"minutes": "30", "reason": "现场处置"})
    a.refresh_from_db()
    assert a.state == "silenced"


def test_other_department_cannot_see_or_acknowledge(client, alarmed):
    client.force_login(alarmed["other"])
    assert "五山雨量站" not in client.get(reverse("monitoring:live")).content.decode()
    r = client.post(reverse("monitoring:acknowledge", args=[alarmed["alarm"].pk]))
    assert r.status_code == 404
    assert Alarm.objects.get().state == "firing"


def test_sensor_page_draws_recent_readings(client, alarmed):
    client.force_login(alarmed["duty"])
    html = client.get(reverse("monitoring:sensor", args=[alarmed["s1"].pk])).content.decode()
    assert "<polyline" in html and "6 条" in html and "五山街道" in html


def test_map_layers_put_sensors_in_their_level(client, alarmed):
    client.force_login(alarmed["duty"])
    red = client.get("/api/v1/geo/layers/monitoring_yellow").json()
    assert [f["properties"]["code"] for f in red["features"]] == ["RG-001"]
    normal = client.get("/api/v1/geo/layers/monitoring_normal").json()
    assert {f["properties"]["code"] for f in normal["features"]} == {"RG-002", "WL-001"}


def test_http_bulk_ingest_json_and_ndjson_with_token(client, world, monkeypatch):
    monkeypatch.setattr(services, "_shared", None)  # this test database's sensors
    token = services.issue_token("测试网关")
    t = services.now_ms() - 10 * MIN
    body = json.dumps([{"sensor": "RG-002", "ts": t, "value": 1.5},
                       {"sensor": "RG-002", "ts": t + MIN, "value": float("nan")}])
    r = client.post("/api/v1/monitoring/ingest", body.replace("NaN", "\"NaN\""),
                    content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200, r.content
    assert r.json()["stored"] == 1 and r.json()["rejected"] == 1
    assert "读数不是数值" in r.json()["reasons"][0]
    nd = "\n".join(json.dumps({"sensor": "RG-002", "ts": t + i * MIN, "value": 2.0})
                   for i in range(2, 6)) + "\n{broken\n"
    r = client.post("/api/v1/monitoring/ingest", nd, content_type="application/x-ndjson",
                    HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.json()["stored"] == 4 and r.json()["rejected"] == 1
    assert Reading.objects.count() == 5
    assert DeadLetter.objects.filter(source="http", reason__contains="第 5 行").exists()
    r = client.post("/api/v1/monitoring/ingest", "[]", content_type="application/json",
                    HTTP_AUTHORIZATION="Bearer wrong")
    assert r.status_code == 401


def test_api_alarms_acknowledge_and_regional_levels(client, alarmed):
    client.force_login(alarmed["duty"])
    alarms = client.get("/api/v1/monitoring/alarms").json()
    assert [(a["sensor"], a["level"], a["state"]) for a in alarms] == [("RG-001", "yellow", "firing")]
    r = client.post(f"/api/v1/monitoring/alarms/{alarms[0]['id']}/acknowledge")
    assert r.json()["state"] == "acknowledged"
    r = client.post(f"/api/v1/monitoring/alarms/{alarms[0]['id']}/acknowledge")
    assert r.status_code == 422 and "已确认" in json.dumps(r.json(), ensure_ascii=False)
    levels = client.get("/api/v1/monitoring/regional-levels").json()
    assert {(lv["region_code"], lv["level"]) for lv in levels} == {
        ("440106", "yellow"), ("440106001", "yellow")}


def test_dry_run_against_the_last_day(client, alarmed):
    client.force_login(alarmed["duty"])
    rule = {"name": "试", "sensor_type": "rain", "metric": "value",
            "thresholds": [5, None, None, None]}
    r = client.post("/api/v1/monitoring/rules/dry-run", rule, content_type="application/json")
    assert r.json()["alarming"] == [{"code": "RG-001", "name": "五山雨量站", "times": 1,
                                     "max_level": "blue"}]
    rule["thresholds"] = [5, 3, None, None]
    r = client.post("/api/v1/monitoring/rules/dry-run", rule, content_type="application/json")
    assert r.status_code == 422 and "递增" in json.dumps(r.json(), ensure_ascii=False)
    html = client.post(reverse("monitoring:rules"), {"name": "页面试运行", "sensor_type": "rain",
                                                     "metric": "sum", "window_s": "3600",
                                                     "blue": "30"}).content.decode()
    assert "会报警的传感器 1 个" in html


def test_district_staff_see_their_districts_sensors_on_the_live_page(client, world):
    from yingji.core.models import Role

    from .conftest import make_user

    tianhe_staff = make_user("tianhe_staff", role=Role.DISTRICT_STAFF, region=world["tianhe"])
    client.force_login(tianhe_staff)
    r = client.get("/monitoring/")
    assert r.status_code == 200
    from yingji.monitoring.services import visible_sensors

    assert set(visible_sensors(tianhe_staff).values_list("code", flat=True)) == {"RG-001", "WL-001"}
