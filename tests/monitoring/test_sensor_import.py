"""Importing a third-party network: a hydrology station list under a column mapping
(command and page: upload, choose columns, preview, confirm), and its readings file
with bad lines dead-lettered."""

import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.monitoring.conftest import make_user
from yingji.core.models import AuditEntry, Role
from yingji.monitoring.models import DeadLetter, Reading, Sensor

FIXTURES = Path(__file__).parent / "fixtures"
STATION_MAP = (
    "code=reference,name=name,lat=lat,lon=lon,typical_high=typical range high,region=region code"
)


def _run(*args) -> str:
    import io

    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_a_hydrology_station_list_imports_under_a_mapping(world):
    out = _run(
        "sensors",
        "import",
        str(FIXTURES / "hydro_stations.csv"),
        "--map",
        STATION_MAP,
        "--type",
        "water_level",
        "--no-coords",
        "region",
    )
    assert "新增 4 个、更新 0 个传感器" in out
    assert "1 个无坐标的测站放在所在区划的中心" in out
    assert "第 6 行:HY-1005 无坐标且无区划代码,已跳过" in out
    s = Sensor.objects.get(code="HY-1001")
    assert (s.name, s.type, s.unit, s.district_id, s.street_id) == (
        "车陂涌水位站",
        "water_level",
        "m",
        "440106",
        None,
    )
    assert s.thresholds == {"常年高值": 2.35, "常年低值": 0.4}  # named, rules can use them
    assert Sensor.objects.get(code="HY-1003").district_id == "440105"
    placed = Sensor.objects.get(code="HY-1004")
    assert placed.district_id == "440106"
    assert AuditEntry.objects.filter(object_pk=str(s.pk), action="create").exists()
    assert not Sensor.objects.filter(code="HY-1005").exists()
    # Again, unchanged: nothing written twice.
    out = _run(
        "sensors",
        "import",
        str(FIXTURES / "hydro_stations.csv"),
        "--map",
        STATION_MAP,
        "--type",
        "water_level",
    )
    assert "新增 0 个、更新 0 个传感器,3 个无变化" in out
    assert "2 个无坐标的测站已跳过" in out


def test_a_bad_station_row_refuses_the_whole_import_naming_line_and_field(world, tmp_path):
    path = tmp_path / "站表.csv"
    path.write_text(
        "测站编码,站名,纬度,经度\nHY-1,一号站,23.12,113.35\nHY-2,二号站,北纬23,113.35\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match=r"站表\.csv 第 3 行「纬度」:不是数值「北纬23」"):
        call_command("sensors", "import", str(path), "--map", "auto", "--type", "水位计")
    assert not Sensor.objects.filter(code__startswith="HY-").exists()


def _stations(world):
    call_command(
        "sensors",
        "import",
        str(FIXTURES / "hydro_stations.csv"),
        "--map",
        STATION_MAP,
        "--type",
        "water_level",
        stdout=open("/dev/null", "w"),
    )


def test_bad_reading_lines_go_to_the_dead_letters_and_the_good_ones_are_stored(world):
    _stations(world)
    out = _run("readings", "import", str(FIXTURES / "hydro_readings.csv"))
    assert "共 10 行:入库 4 条,重复 1 条,转入死信 5 条" in out
    assert Reading.objects.filter(sensor__code__startswith="HY-").count() == 4
    letters = {d.topic: d.reason for d in DeadLetter.objects.filter(source="csv")}
    assert letters == {
        "hydro_readings.csv 第 3 行": "「读数(value)」:一格中有多个读数「1.2|1.3」",
        "hydro_readings.csv 第 5 行": "「读数(value)」:为空",
        "hydro_readings.csv 第 7 行": "「时间(time)」:无法识别的时间「昨天上午」",
        "hydro_readings.csv 第 8 行": "「测站(station)」:未知测站「HY-9999」",
        "hydro_readings.csv 第 9 行": letters.get("hydro_readings.csv 第 9 行", "?"),
    }
    assert "mm/h" in letters["hydro_readings.csv 第 9 行"]
    assert letters["hydro_readings.csv 第 9 行"].startswith("「单位(unit)」")


def test_strict_refuses_the_file_at_its_first_bad_line(world):
    _stations(world)
    with pytest.raises(
        CommandError, match=r"hydro_readings\.csv 第 3 行「读数\(value\)」:一格中有多个读数"
    ):
        call_command("readings", "import", str(FIXTURES / "hydro_readings.csv"), "--strict")
    assert not Reading.objects.filter(sensor__code__startswith="HY-").exists()
    assert not DeadLetter.objects.exists()


def test_a_readings_file_over_its_limit_is_refused_before_it_is_read(world, settings, tmp_path):
    settings.YINGJI_READINGS_MAX_BYTES = 100
    path = tmp_path / "r.csv"
    shutil.copy(FIXTURES / "hydro_readings.csv", path)
    with pytest.raises(CommandError, match=r"r\.csv:文件过大"):
        call_command("readings", "import", str(path))


def test_readings_in_another_unit_are_converted(world, tmp_path):
    pytest.importorskip("yingji.monitoring.units")
    _stations(world)
    path = tmp_path / "cm.csv"
    path.write_text("station,time,value,unit\nHY-1001,2026-07-01 09:00,120,cm\n", encoding="utf-8")
    assert "入库 1 条" in _run("readings", "import", str(path))
    assert Reading.objects.get(sensor__code="HY-1001", ts_ms=1782867600000).value == pytest.approx(
        1.2
    )


def _upload(client, name="hydro_stations.csv"):
    with open(FIXTURES / name, "rb") as fh:
        return client.post(reverse("monitoring:sensor_import"), {"action": "upload", "file": fh})


def _choices(**extra):
    data = {
        "col_code": "reference",
        "col_name": "name",
        "col_lat": "lat",
        "col_lon": "lon",
        "col_typical_high": "typical range high",
        "col_typical_low": "typical range low",
        "col_region": "region code",
        "default_type": "water_level",
        "no_coords": "region",
    }
    return {**data, **extra}


def test_the_import_page_guesses_columns_previews_and_writes_only_on_confirm(client, world):
    leader = make_user("leader", role=Role.LEADER)
    client.force_login(leader)
    assert "导入传感器" in client.get(reverse("monitoring:live")).content.decode()
    html = _upload(client).content.decode()
    # The columns were recognised from the English headers.
    assert '<option value="reference" selected>' in html
    assert '<option value="typical range high" selected>' in html
    assert "「类型」:为空(请指定类型列或默认类型)" in html  # no type column yet
    r = client.post(
        reverse("monitoring:sensor_import"),
        {"action": "preview", **_choices()},
        HTTP_HX_REQUEST="true",
    )
    html = r.content.decode()
    assert "将新增 4 个、更新 0 个传感器" in html
    assert "车陂涌水位站" in html and "天河区" in html and "(区划中心)" in html
    assert "HY-1005 无坐标且无区划代码,已跳过" in html
    assert "确认导入" in html
    assert not Sensor.objects.filter(code__startswith="HY-").exists()  # a preview writes nothing
    r = client.post(
        reverse("monitoring:sensor_import"), {"action": "confirm", **_choices()}, follow=True
    )
    assert "hydro_stations.csv:新增 4 个、更新 0 个传感器" in r.content.decode()
    s = Sensor.objects.get(code="HY-1003")
    assert s.district_id == "440105"
    entry = AuditEntry.objects.get(object_pk=str(s.pk), action="create")
    assert entry.actor == leader


def test_district_staff_import_only_within_their_district(client, world):
    staff = make_user("tianhe_staff", role=Role.DISTRICT_STAFF, region=world["tianhe"])
    client.force_login(staff)
    assert client.get(reverse("monitoring:sensor_import")).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="add_sensor"))
    _upload(client)
    html = client.post(
        reverse("monitoring:sensor_import"), {"action": "preview", **_choices()}
    ).content.decode()
    assert (
        "hydro_stations.csv 第 4 行「经纬度」:测站 HY-1003 位于您的管辖范围之外(海珠区赤岗街道)"
        in html
    )
    assert "确认导入" not in html
    client.post(reverse("monitoring:sensor_import"), {"action": "confirm", **_choices()})
    assert not Sensor.objects.filter(code__startswith="HY-").exists()


def _readings_file(tmp_path, lines: list[str], name="batch.csv") -> Path:
    path = tmp_path / name
    path.write_text("station,time,parameter,value,unit\n" + "".join(lines), encoding="utf-8")
    return path


def _line(code: str, minute: int, value: float, unit: str = "m") -> str:
    return f"{code},2026-07-01 08:{minute:02d},水位,{value},{unit}\n"


def test_readings_stream_in_small_batches_duplicates_in_later_chunks_stored_once(
    world, tmp_path, monkeypatch
):
    """Many COPY batches and chunks (batch 2, chunk 4): a chunk whose readings are
    all new goes straight in; one that meets readings stored by an earlier chunk or
    an earlier import falls back to ON CONFLICT and stores each new reading once."""
    from yingji.monitoring import sensorimport

    _stations(world)
    monkeypatch.setattr(sensorimport, "BATCH", 2)
    lines = [_line("HY-1001", m, 1 + m / 100) for m in range(10)]
    lines += [_line("HY-1001", 3, 1.03)]  # a duplicate of a reading of the first chunk
    lines += [_line("HY-1002", m, 0.5 + m / 100, "cm") for m in range(5)]
    r = sensorimport.import_readings(_readings_file(tmp_path, lines), chunk=4)
    assert (r.lines, r.stored, r.duplicates, r.dead_lettered) == (16, 15, 1, 0)
    stored = dict(Reading.objects.filter(sensor__code="HY-1002").values_list("ts_ms", "value"))
    assert len(stored) == 5 and min(stored.values()) == pytest.approx(0.005)  # cm → m
    # the same file again: every reading is a duplicate, nothing stored twice
    again = sensorimport.import_readings(_readings_file(tmp_path, lines), chunk=4)
    assert (again.stored, again.duplicates) == (0, 16)
    assert Reading.objects.filter(sensor__code__startswith="HY-").count() == 15
    # a new file overlapping the stored readings by half
    more = [_line("HY-1003", m, 1.0) for m in range(0, 12)]
    sensorimport.import_readings(_readings_file(tmp_path, more[:6], "a.csv"), chunk=4)
    r = sensorimport.import_readings(_readings_file(tmp_path, more, "b.csv"), chunk=4)
    assert (r.stored, r.duplicates) == (6, 6)
    assert Reading.objects.filter(sensor__code="HY-1003").count() == 12


def test_a_strict_refusal_while_a_copy_is_open_writes_nothing(world, tmp_path, monkeypatch):
    from yingji.monitoring import sensorimport

    _stations(world)
    monkeypatch.setattr(sensorimport, "BATCH", 2)
    lines = [_line("HY-1001", m, 1.0) for m in range(7)] + ["HY-1001,坏时间,水位,1.0,m\n"]
    with pytest.raises(sensorimport.MonitoringError, match="第 9 行「时间"):
        sensorimport.import_readings(_readings_file(tmp_path, lines), strict=True, chunk=4)
    assert not Reading.objects.filter(sensor__code__startswith="HY-").exists()
    # the connection is usable afterwards, and the same file without --strict imports
    r = sensorimport.import_readings(_readings_file(tmp_path, lines), chunk=4)
    assert (r.stored, r.dead_lettered) == (7, 1)
    assert DeadLetter.objects.filter(topic="batch.csv 第 9 行").exists()


def test_a_readings_file_saved_by_excel_in_gb18030_imports(world, tmp_path):
    """Chinese Excel saves CSV in GB18030 with Chinese headers: read as such."""
    from yingji.monitoring import sensorimport

    _stations(world)
    path = tmp_path / "gbk.csv"
    text = "测站,时间,要素,读数,单位\n" + "".join(
        _line("HY-1001", m, 120 + m, "cm") for m in range(3)
    )
    path.write_bytes(text.encode("gb18030"))
    given = {"sensor": "测站", "ts": "时间", "parameter": "要素", "value": "读数", "unit": "单位"}
    r = sensorimport.import_readings(path, given)
    assert (r.stored, r.dead_lettered) == (3, 0)
    values = sorted(Reading.objects.filter(sensor__code="HY-1001").values_list("value", flat=True))
    assert values == pytest.approx([1.20, 1.21, 1.22])


def test_a_readings_workbook_imports_with_its_bad_rows_dead_lettered(world, tmp_path):
    import datetime as dt

    from openpyxl import Workbook

    from yingji.monitoring import sensorimport

    _stations(world)
    wb = Workbook()
    ws = wb.active
    ws.append(["station", "time", "parameter", "value", "unit"])
    ws.append(["HY-1002", dt.datetime(2026, 7, 1, 8, 0), "水位", 0.95, "m"])
    ws.append(["HY-1002", dt.datetime(2026, 7, 1, 8, 5), "水位", 960, "mm"])
    ws.append(["HY-1002", "不是时间", "水位", 0.97, "m"])
    path = tmp_path / "readings.xlsx"
    wb.save(path)
    r = sensorimport.import_readings(path)
    assert (r.lines, r.stored, r.dead_lettered) == (3, 2, 1)
    assert sorted(
        Reading.objects.filter(sensor__code="HY-1002").values_list("value", flat=True)
    ) == pytest.approx([0.95, 0.96])
    assert DeadLetter.objects.filter(topic="readings.xlsx 第 4 行").exists()
