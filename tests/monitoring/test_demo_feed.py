"""Demo network, weather simulation (rainstorm, Mangkhut), CSV replay and the
sensor register import."""

import datetime as dt

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from yingji.core import departments, regions
from yingji.monitoring import demo, feed, services, simulate
from yingji.monitoring.models import Alarm, AlarmEvent, AlarmRule, Reading, RegionalLevel, Sensor

pytestmark = pytest.mark.django_db


@pytest.fixture
def guangzhou(db):
    regions.load_pack("guangzhou")
    departments.load_departments()
    demo.load_demo()


def test_demo_is_idempotent_and_places_sensors_in_their_streets(guangzhou):
    n = Sensor.objects.count()
    assert n > 300
    assert "新增 0" in demo.load_demo()
    assert Sensor.objects.count() == n
    rg = Sensor.objects.get(code="RG-440106001")
    assert rg.street_id == "440106001" and rg.district_id == "440106"
    assert rg.department.name == "三防处"


def only_rules(*names):
    """Keep the simulation tests small: only the rules they are about."""
    AlarmRule.objects.exclude(name__in=names).update(active=False)


def test_rainstorm_raises_escalates_and_resolves_alarms(guangzhou, capsys, client):
    only_rules("1小时雨量", "暴雨:3小时雨量(橙/红)")
    call_command("simulate", "rainstorm", "--direct", "--speed", "1000000", "--minutes", "90")
    fired = Alarm.objects.exclude(fired_at=None)
    assert fired.filter(rule__name="1小时雨量").count() > 5
    assert fired.filter(max_level="red").exists()
    # The cell has passed: its 1-hour alarms behind it are resolved.
    assert Alarm.objects.filter(rule__name="1小时雨量", state="resolved").exists()
    # Unacknowledged for 15 minutes of storm time: escalated to 指挥中心.
    assert Alarm.objects.exclude(escalated_at=None).exists()
    assert AlarmEvent.objects.filter(note__contains="未确认,已升级").exists()
    # Regional levels: districts on the cell's path are at orange or red for rainstorm.
    assert RegionalLevel.objects.filter(
        region__level="district", hazard="rainstorm", level__in=("orange", "red")
    ).exists()
    assert "经本进程直接入库" in capsys.readouterr().out
    # …and they show on the one map, in the layer of their level.
    from tests.monitoring.conftest import make_user
    from yingji.core.models import Role

    client.force_login(make_user("duty", role=Role.DUTY_OFFICER))
    shown = sum(
        len(client.get(f"/api/v1/geo/layers/monitoring_{lv}").json()["features"])
        for lv in ("red", "orange", "yellow", "blue")
    )
    assert (
        shown
        == Alarm.objects.filter(state="firing", sensor__isnull=False)
        .values("sensor")
        .distinct()
        .count()
        > 0
    )


def test_typhoon_mangkhut_track_drives_the_wind_gauges():
    track = simulate.read_track()
    assert len(track) == 105 and track[0].time.isoformat() == "2018-09-07T20:00:00+08:00"
    lon, lat, vmax = simulate.track_at(
        track, dt.datetime(2018, 9, 16, 17, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    )
    assert (lon, lat, vmax) == (112.5, 21.9, 45.0)
    # A gauge in 南沙 (near the track) sees stronger wind than one in 从化 (far north).
    frames = list(
        simulate.typhoon(
            np.array([113.55, 113.6]),
            np.array([22.75, 23.6]),
            np.array(["wind_speed", "wind_speed"]),
            start_s=0,
            hours=24,
        )
    )
    peak = np.max([f.values for f in frames], axis=0)
    assert peak[0] > 24.5 and peak[0] > peak[1]  # 南沙: orange (≥ 10 级) or more


def test_typhoon_simulation_command_raises_wind_alarms(guangzhou):
    only_rules("风速(蒲福风级)")
    call_command("simulate", "typhoon", "--direct", "--speed", "1000000", "--hours", "8")
    assert Alarm.objects.filter(rule__name="风速(蒲福风级)").exclude(fired_at=None).exists()


def test_replay_csv_with_speed(world, tmp_path, capsys):
    path = tmp_path / "rain.csv"
    path.write_text(
        "sensor,ts,value\n"
        + "".join(
            f"RG-001,2024-06-01T08:{m:02d}:00+08:00,{v}\n" for m, v in ((0, 10), (5, 15), (10, 12))
        ),
        encoding="utf-8",
    )
    slept = []
    rows = feed.read_csv(path)
    sink = feed.DirectSink()
    feed.paced(feed.replay_frames(rows, services.now_ms()), sink, speed=60, sleep=slept.append)
    assert sink.stats.stored == 3 and Reading.objects.count() == 3
    # 5 minutes at 60× is 5 s: due 5 s and 10 s after the start (the fake sleep takes no time)
    assert slept == [pytest.approx(5, abs=0.5), pytest.approx(10, abs=0.5)]
    assert Alarm.objects.get().level == "yellow"  # 37 mm in the hour


def test_replay_refuses_a_bad_file_naming_the_line(world, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "sensor,ts,value\nRG-001,2024-06-01T08:00:00+08:00,1\nRG-001,昨天,2\n", encoding="utf-8"
    )
    with pytest.raises(CommandError, match="bad.csv 第 3 行"):
        call_command("replay", str(path), "--direct")
    assert not Reading.objects.exists()


def test_sensor_import_is_all_or_nothing_and_locates_streets(world, tmp_path):
    good = "code,name,type,unit,lon,lat,department\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(
        good + "GS-9,燃气1,燃气浓度,%LEL,113.31,23.11,三防处\n"
        "GS-10,燃气2,未知类型,,113.31,23.11,\nGS-11,燃气3,gas,,abc,23.1,\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as err:
        call_command("sensors", "import", str(bad))
    assert "bad.csv 第 3 行:未知传感器类型「未知类型」" in str(err.value)
    assert "第 4 行:经纬度不是数值" in str(err.value)
    assert not Sensor.objects.filter(code__startswith="GS-").exists()
    ok = tmp_path / "ok.csv"
    ok.write_text(good + "GS-9,燃气1,燃气浓度,%LEL,113.31,23.11,三防处\n", encoding="utf-8")
    call_command("sensors", "import", str(ok))
    s = Sensor.objects.get(code="GS-9")
    assert (s.type, s.street_id, s.department.name) == ("gas", "440106001", "三防处")


def test_sensor_import_from_excel(world, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["编号", "名称", "类型", "经度", "纬度", "坐标系"])
    wb.active.append(["TL-1", "桥梁倾角", "tilt", 113.2105, 23.1105, "wgs84"])
    wb.save(tmp_path / "s.xlsx")
    assert services.import_sensors(tmp_path / "s.xlsx").created == 1
    s = Sensor.objects.get(code="TL-1")
    assert (s.unit, s.district_id) == ("°", "440105")


@pytest.mark.django_db(transaction=True)
def test_the_demo_rain_cell_is_one_event_one_draft_one_desk_item(guangzhou, client):
    """`yingji simulate rainstorm` on the demo network: the cell crosses several
    districts and is still one 暴雨 event, one warning draft naming its areas, one
    row on the duty desk proposing the plan."""
    from tests.monitoring.conftest import make_user
    from yingji.alerts.models import Alert
    from yingji.core.models import Role
    from yingji.monitoring.models import Event
    from yingji.response import plans
    from yingji.response.models import DeskItem

    only_rules("1小时雨量", "暴雨:3小时雨量(橙/红)", "积水深度")
    plan, _ = plans.load_red_rainstorm()
    call_command("simulate", "rainstorm", "--direct", "--speed", "1000000", "--minutes", "60")
    event = Event.objects.get(hazard="rainstorm")
    districts = {c[:6] for c in event.area_codes}
    assert len(districts) >= 3 and event.max_level in ("orange", "red")
    assert Alarm.objects.filter(hazard="rainstorm").exclude(event=event).count() == 0
    draft = Alert.objects.get(monitoring_event=event.pk)
    assert draft.state == "draft" and f"{len(event.area_codes)}个区域" in draft.headline
    item = DeskItem.objects.get(source="event", source_ref=str(event.pk))
    assert item.proposals and item.proposals[0]["plan_id"] == plan.pk
    client.force_login(make_user("duty", role=Role.DUTY_OFFICER))
    page = client.get("/response/").content.decode()
    assert page.count("暴雨红色") + page.count("暴雨橙色") >= 1
    assert f"个区的{len(event.area_codes)}个区域暴雨" in page
