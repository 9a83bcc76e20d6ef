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
    services.Ingestor().ingest(
        [("RG-001", t0 + i * MIN, 6.0, "mm") for i in range(6)], source="t"
    )  # 36 mm → yellow
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
    r = client.post(
        reverse("monitoring:silence", args=[a.pk]), {"minutes": "30", "reason": ""}, follow=True
    )
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
    body = json.dumps(
        [
            {"sensor": "RG-002", "ts": t, "value": 1.5},
            {"sensor": "RG-002", "ts": t + MIN, "value": float("nan")},
        ]
    )
    r = client.post(
        "/api/v1/monitoring/ingest",
        body.replace("NaN", '"NaN"'),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 200, r.content
    assert r.json()["stored"] == 1 and r.json()["rejected"] == 1
    assert "读数不是数值" in r.json()["reasons"][0]
    nd = (
        "\n".join(
            json.dumps({"sensor": "RG-002", "ts": t + i * MIN, "value": 2.0}) for i in range(2, 6)
        )
        + "\n{broken\n"
    )
    r = client.post(
        "/api/v1/monitoring/ingest",
        nd,
        content_type="application/x-ndjson",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.json()["stored"] == 4 and r.json()["rejected"] == 1
    assert Reading.objects.count() == 5
    assert DeadLetter.objects.filter(source="http", reason__contains="第 5 行").exists()
    r = client.post(
        "/api/v1/monitoring/ingest",
        "[]",
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer wrong",
    )
    assert r.status_code == 401


def test_api_alarms_acknowledge_and_regional_levels(client, alarmed):
    client.force_login(alarmed["duty"])
    alarms = client.get("/api/v1/monitoring/alarms").json()
    assert [(a["sensor"], a["level"], a["state"]) for a in alarms] == [
        ("RG-001", "yellow", "firing")
    ]
    r = client.post(f"/api/v1/monitoring/alarms/{alarms[0]['id']}/acknowledge")
    assert r.json()["state"] == "acknowledged"
    r = client.post(f"/api/v1/monitoring/alarms/{alarms[0]['id']}/acknowledge")
    assert r.status_code == 422 and "已确认" in json.dumps(r.json(), ensure_ascii=False)
    levels = client.get("/api/v1/monitoring/regional-levels").json()
    assert {(lv["region_code"], lv["level"]) for lv in levels} == {
        ("440106", "yellow"),
        ("440106001", "yellow"),
    }


def test_dry_run_against_the_last_day(client, alarmed):
    client.force_login(alarmed["duty"])
    rule = {
        "name": "试",
        "sensor_type": "rain",
        "metric": "value",
        "thresholds": [5, None, None, None],
    }
    r = client.post("/api/v1/monitoring/rules/dry-run", rule, content_type="application/json")
    assert r.json()["alarming"] == [
        {"code": "RG-001", "name": "五山雨量站", "times": 1, "max_level": "blue"}
    ]
    rule["thresholds"] = [5, 3, None, None]
    r = client.post("/api/v1/monitoring/rules/dry-run", rule, content_type="application/json")
    assert r.status_code == 422 and "递增" in json.dumps(r.json(), ensure_ascii=False)
    html = client.post(
        reverse("monitoring:rules"),
        {
            "name": "页面试运行",
            "sensor_type": "rain",
            "metric": "sum",
            "window_s": "3600",
            "blue": "30",
        },
    ).content.decode()
    assert "会报警的传感器 1 个" in html and "最高 蓝色" in html


def test_district_staff_see_their_districts_sensors_on_the_live_page(client, world):
    from yingji.core.models import Role

    from .conftest import make_user

    tianhe_staff = make_user("tianhe_staff", role=Role.DISTRICT_STAFF, region=world["tianhe"])
    client.force_login(tianhe_staff)
    r = client.get("/monitoring/")
    assert r.status_code == 200
    from yingji.monitoring.services import visible_sensors

    assert set(visible_sensors(tianhe_staff).values_list("code", flat=True)) == {"RG-001", "WL-001"}


def _rule_post(**changes):
    data = {
        "name": "1小时雨量(试)",
        "sensor_type": "rain",
        "sensor_codes": "",
        "metric": "sum",
        "direction": "above",
        "blue": "30",
        "yellow": "",
        "orange": "",
        "red": "",
        "window_s": "3600",
        "hysteresis": "0",
        "for_s": "0",
        "escalate_every_s": "0",
        "k": "1",
        "composite_level": "orange",
        "escalate_after_min": "30",
        "remind_every_min": "60",
        "active": "on",
        "action": "save",
    }
    return data | changes


def test_rule_editor_explains_dry_runs_and_saves_with_audit(client, alarmed):
    from django.contrib.auth.models import Permission

    from yingji.core.models import AuditEntry, Role
    from yingji.monitoring.models import AlarmRule

    from .conftest import make_user

    client.force_login(alarmed["duty"])  # sees everything, manages no rules
    assert "新建规则" not in client.get(reverse("monitoring:rules")).content.decode()
    assert client.get(reverse("monitoring:rule_new")).status_code == 403
    client.force_login(make_user("leader", role=Role.LEADER))
    new = reverse("monitoring:rule_new")
    for changes, words in [
        ({"window_s": "0"}, "滚动累计须填写时间窗"),
        ({"window_s": "1000"}, "300 秒(5 分钟)的整数倍"),
        ({"yellow": "20"}, "黄色阈值(20)应大于蓝色阈值(30)"),
        ({"direction": "below", "yellow": "40"}, "黄色阈值(40)应小于蓝色阈值(30)"),
        ({"metric": "value"}, "时间窗只用于「滚动累计」"),
        ({"sensor_codes": "RG-001 XX-9"}, "未知传感器编号:XX-9"),
        ({"sensor_codes": "WL-001"}, "不是所选类型「雨量计」"),
        ({"blue": ""}, "至少填写一级阈值"),
    ]:
        html = client.post(new, _rule_post(**changes)).content.decode()
        assert words in html, changes
    # The dry run evaluates the edited rule against the last 24 hours, unsaved.
    html = client.post(new, _rule_post(action="dry_run")).content.decode()
    assert "会报警的传感器 1 个" in html and "五山雨量站(RG-001)" in html and "最高 蓝色" in html
    assert not AlarmRule.objects.filter(name="1小时雨量(试)").exists()
    r = client.post(new, _rule_post(), follow=True)
    assert "已保存规则「1小时雨量(试)」" in r.content.decode()
    rule = AlarmRule.objects.get(name="1小时雨量(试)")
    assert (
        AuditEntry.objects.get(
            content_type__model="alarmrule", object_pk=str(rule.pk), action="create"
        ).actor_label
        == "leader"
    )
    # Bureau monitoring staff with the model permission edit rules too; switching a
    # rule off resolves its open alarms.
    staff = alarmed["other"]
    staff.user_permissions.add(Permission.objects.get(codename="change_alarmrule"))
    client.force_login(staff)
    r = client.post(
        reverse("monitoring:rule_edit", args=[alarmed["rain"].pk]),
        _rule_post(name="1小时雨量", blue="25", yellow="35", active=""),
        follow=True,
    )
    assert "1 条未解除报警已解除" in r.content.decode()
    assert Alarm.objects.get().state == "resolved"
    assert AlarmRule.objects.get(pk=alarmed["rain"].pk).blue == 25
    client.post(reverse("monitoring:rule_toggle", args=[alarmed["rain"].pk]))
    assert AlarmRule.objects.get(pk=alarmed["rain"].pk).active


def test_api_creates_and_switches_off_rules_with_the_editors_checks(client, alarmed):
    from yingji.core.models import Role

    from .conftest import make_user

    body = {
        "name": "积水(接口)",
        "sensor_type": "waterlogging",
        "metric": "value",
        "direction": "below",
        "thresholds": [10, 20, None, None],
    }
    client.force_login(alarmed["duty"])
    assert (
        client.post("/api/v1/monitoring/rules", body, content_type="application/json").status_code
        == 403
    )
    client.force_login(make_user("leader", role=Role.LEADER))
    r = client.post("/api/v1/monitoring/rules", body, content_type="application/json")
    assert r.status_code == 422 and "应小于蓝色阈值" in r.json()["detail"]["yellow"][0]
    r = client.post(
        "/api/v1/monitoring/rules", body | {"direction": "above"}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["thresholds"] == [10, 20, None, None]
    rain = {
        "name": "1小时雨量",
        "sensor_type": "rain",
        "metric": "sum",
        "window_s": 3600,
        "thresholds": [20, 30, 50, 100],
        "active": False,
    }
    r = client.put(
        f"/api/v1/monitoring/rules/{alarmed['rain'].pk}", rain, content_type="application/json"
    )
    assert r.json()["active"] is False and Alarm.objects.get().state == "resolved"
