"""Readings that name their unit, end to end through the HTTP bulk ingest: stored in
the type's canonical unit, refused to the dead letters when the unit does not fit."""

import json

import pytest

from yingji.monitoring import services
from yingji.monitoring.models import Alarm, AlarmRule, DeadLetter, Reading, Sensor

pytestmark = pytest.mark.django_db
MIN = 60_000


@pytest.fixture
def station(world, monkeypatch):
    monkeypatch.setattr(services, "_shared", None)  # this test database's sensors
    AlarmRule.objects.create(
        name="河道水位", sensor_type="water_level", metric="value", yellow=3, orange=4, red=5
    )
    return Sensor.objects.create(
        code="SW-1",
        name="车陂涌水位站",
        type="water_level",
        unit="m",
        lon=113.31,
        lat=23.11,
        district=world["tianhe"],
        street=world["street"],
    )


def post(client, token, *items):
    r = client.post(
        "/api/v1/monitoring/ingest",
        json.dumps(list(items), ensure_ascii=False),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 200, r.content
    return r.json()


def test_a_water_level_in_mm_is_stored_in_metres_and_raises_no_false_alarm(client, station):
    token = services.issue_token("第三方水文网")
    t = services.now_ms() - 10 * MIN
    got = post(
        client,
        token,
        {"sensor": "SW-1", "ts": t, "value": 1500, "unit": "mm"},
        {"sensor": "SW-1", "ts": t + MIN, "value": 180, "unit": "厘米"},
    )
    assert (got["stored"], got["rejected"]) == (2, 0)
    assert sorted(Reading.objects.values_list("value", flat=True)) == [1.5, 1.8]
    assert not Alarm.objects.exists()  # 1500 "m" would have been red
    station.refresh_from_db()
    assert (station.last_value, station.unit) == (1.8, "m")

    post(client, token, {"sensor": "SW-1", "ts": t + 2 * MIN, "value": 5200, "unit": "毫米"})
    alarm = Alarm.objects.get()
    assert (alarm.level, alarm.value) == ("red", 5.2)


def test_an_unknown_or_incompatible_unit_goes_to_the_dead_letters_not_the_readings(client, station):
    token = services.issue_token("第三方水文网")
    t = services.now_ms() - 10 * MIN
    got = post(
        client,
        token,
        {"sensor": "SW-1", "ts": t, "value": 1500, "unit": "mm/h"},
        {"sensor": "SW-1", "ts": t + MIN, "value": 3, "unit": "英寻"},
        {"sensor": "SW-1", "ts": t + 2 * MIN, "value": 2.0},  # no unit: metres already
    )
    assert (got["stored"], got["rejected"]) == (1, 2)
    assert list(Reading.objects.values_list("value", flat=True)) == [2.0]
    reasons = sorted(DeadLetter.objects.values_list("reason", flat=True))
    assert any("SW-1" in r and "mm/h" in r and "不能换算为m" in r for r in reasons), reasons
    assert any("无法识别的单位" in r and "英寻" in r for r in reasons), reasons
    assert not Alarm.objects.exists()


def test_the_mqtt_batch_form_converts_its_fourth_element(station):
    from yingji.monitoring import payloads

    t = services.now_ms() - 10 * MIN
    body = json.dumps([["SW-1", t, 2500, "mm"], ["SW-1", t + MIN, 2.6, "m"]]).encode()
    records, problems = payloads.parse_mqtt(payloads.BATCH_TOPIC, body)
    stats = services.Ingestor().ingest(records, problems, source="mqtt")
    assert stats.stored == 2
    assert sorted(Reading.objects.values_list("value", flat=True)) == [2.5, 2.6]


def test_the_register_refuses_a_unit_other_than_the_types(world, tmp_path):
    from yingji.monitoring.services import MonitoringError, import_sensors

    head = "code,name,type,unit,lon,lat\n"
    (tmp_path / "bad.csv").write_text(head + "SW-9,水位站,water_level,mm,113.31,23.11\n")
    with pytest.raises(MonitoringError, match="单位「mm」不是水位计的存储单位 m"):
        import_sensors(tmp_path / "bad.csv")
    (tmp_path / "ok.csv").write_text(head + "TP-9,温度,temperature,°C,113.31,23.11\n")
    import_sensors(tmp_path / "ok.csv")
    assert Sensor.objects.get(code="TP-9").unit == "℃"
