"""The sensor register import within limits: an Excel file that would unpack to
far more than it weighs is refused before it is unpacked, a file over
YINGJI_XLSX_MAX_BYTES from its size, a file that is not Excel with a clear error."""

import pytest
from django.core.management import CommandError, call_command

from tests.zipbombs import MB, xlsx_bomb
from yingji.monitoring import services
from yingji.monitoring.models import Sensor


def test_a_sensor_workbook_bomb_is_refused_naming_the_file(world, tmp_path):
    path = tmp_path / "传感器.xlsx"
    path.write_bytes(xlsx_bomb(20 * MB).read_bytes())
    with pytest.raises(CommandError, match=r"传感器\.xlsx:其中 xl/sharedStrings\.xml .*压缩比"):
        call_command("sensors", "import", str(path))
    assert Sensor.objects.count() == 3  # the fixture's


def test_an_oversized_or_broken_sensor_file_is_refused(world, tmp_path, settings):
    settings.YINGJI_XLSX_MAX_BYTES = 1000
    big = tmp_path / "传感器.csv"
    big.write_text("code,name,type,lon,lat\n" + "X,雨量,rain,113.3,23.1\n" * 100)
    with pytest.raises(services.MonitoringError, match=r"传感器\.csv:文件过大,.*上限 1,000 字节"):
        services.import_sensors(big)
    settings.YINGJI_XLSX_MAX_BYTES = 10 * MB
    broken = tmp_path / "传感器.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(services.MonitoringError, match=r"传感器\.xlsx:不是有效的 Excel"):
        services.import_sensors(broken)
