"""One rule, thousands of stations: a rule's threshold names each sensor's own
(「常年高值」, 「警戒水位」), set in the register or the admin."""

import pytest
from django.urls import reverse

from yingji.monitoring import services
from yingji.monitoring.models import Alarm, AlarmRule, Sensor

pytestmark = pytest.mark.django_db
MIN = 60_000


@pytest.fixture
def stations(world):
    rule = AlarmRule.objects.create(
        name="超常年高值", sensor_type="water_level", metric="value", yellow_ref="常年高值"
    )
    made = {}
    for code, high in (("SW-1", 2.0), ("SW-2", 3.0), ("SW-3", 4.0), ("SW-4", None)):
        made[code] = Sensor.objects.create(
            code=code,
            name=f"{code} 水位站",
            type="water_level",
            unit="m",
            lon=113.31,
            lat=23.11,
            district=world["tianhe"],
            street=world["street"],
            thresholds={"常年高值": high} if high is not None else {},
        )
    return rule, made


def test_one_rule_alarms_only_where_a_station_exceeds_its_own_typical_high(stations):
    t = services.now_ms() - 10 * MIN
    services.Ingestor().ingest(
        [(code, t, 3.5, None) for code in ("SW-1", "SW-2", "SW-3", "SW-4")], source="t"
    )
    alarmed = dict(Alarm.objects.values_list("sensor__code", "level"))
    assert alarmed == {"SW-1": "yellow", "SW-2": "yellow"}  # 3.5 > 2.0 and > 3.0 only


def test_the_rule_page_says_how_many_sensors_lack_the_threshold(client, stations):
    client.force_login(_duty())
    html = client.get(reverse("monitoring:rules")).content.decode()
    assert "黄色:本站「常年高值」" in html
    assert "1 个传感器缺少该阈值,不参与此规则(共 4 个)" in html


def _duty():
    from django.contrib.auth.models import User

    return User.objects.get(username="duty")


def test_a_threshold_set_later_is_picked_up_by_the_running_ingest(stations):
    rule, made = stations
    ing = services.Ingestor()
    t = services.now_ms() - 10 * MIN
    ing.ingest([("SW-4", t, 3.5, None)], source="t")
    assert not Alarm.objects.exists()
    made["SW-4"].thresholds = {"常年高值": 1.0}
    made["SW-4"].save()
    ing.checked_at = 0  # the next batch checks for edits at once (as after 10 s)
    ing.ingest([("SW-4", t + MIN, 3.6, None)], source="t")
    assert Alarm.objects.get().sensor.code == "SW-4"


def test_named_thresholds_from_the_register(world, tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(
        "code,name,type,lon,lat,阈值:警戒水位,阈值:常年高值\n"
        "SW-8,一号站,water_level,113.31,23.11,3.2,2.5\n"
        "SW-9,二号站,water_level,113.31,23.11,,2.0\n",
        encoding="utf-8",
    )
    services.import_sensors(path)
    got = dict(Sensor.objects.filter(code__startswith="SW-").values_list("code", "thresholds"))
    assert got == {"SW-8": {"警戒水位": 3.2, "常年高值": 2.5}, "SW-9": {"常年高值": 2.0}}
    path.write_text(
        "code,name,type,lon,lat,阈值:警戒水位\nSW-9,二号站,water_level,113.31,23.11,高\n"
    )
    with pytest.raises(services.MonitoringError, match="阈值「警戒水位」不是数值"):
        services.import_sensors(path)


def test_the_rule_editor_saves_a_reference(client, world):
    from yingji.core.models import Role

    from .conftest import make_user

    client.force_login(make_user("leader", role=Role.LEADER))
    r = client.post(
        reverse("monitoring:rule_new"),
        {
            "name": "超警戒水位",
            "sensor_type": "water_level",
            "metric": "value",
            "direction": "above",
            "red_ref": "警戒水位",
            "window_s": 0,
            "hysteresis": 0,
            "for_s": 0,
            "escalate_every_s": 0,
            "k": 1,
            "composite_level": "orange",
            "escalate_after_min": 30,
            "remind_every_min": 60,
            "active": "on",
            "action": "save",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    assert AlarmRule.objects.get(name="超警戒水位").red_ref == "警戒水位"


def test_the_api_takes_a_reference_and_dry_runs_it(client, stations):
    from yingji.core.models import Role

    from .conftest import make_user

    client.force_login(make_user("leader", role=Role.LEADER))
    body = {
        "name": "超警戒水位(接口)",
        "sensor_type": "water_level",
        "metric": "value",
        "thresholds": [None, None, None, None],
        "threshold_refs": [None, None, None, "警戒水位"],
    }
    r = client.post("/api/v1/monitoring/rules", body, content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["threshold_refs"] == [None, None, None, "警戒水位"]
    t = services.now_ms() - 10 * MIN
    services.Ingestor().ingest([("SW-1", t, 1.9, None), ("SW-3", t, 4.5, None)], source="t")
    r = client.post(
        "/api/v1/monitoring/rules/dry-run",
        body | {"threshold_refs": [None, "常年高值", None, None]},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert [e["code"] for e in r.json()["alarming"]] == ["SW-3"]  # 4.5 > its 4.0
    sensors = {s["code"]: s for s in client.get("/api/v1/monitoring/sensors").json()}
    assert sensors["SW-2"]["thresholds"] == {"常年高值": 3.0}
