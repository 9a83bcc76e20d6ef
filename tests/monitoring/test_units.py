"""Units: each sensor type's canonical unit and conversion to it (pure, no database)."""

import pytest

from yingji.monitoring import units
from yingji.monitoring.units import UnitError, canonical_unit, to_canonical


@pytest.mark.parametrize(
    ("value", "unit", "stype", "expected"),
    [
        (1500, "mm", "water_level", 1.5),
        (150, "厘米", "water_level", 1.5),
        (2.5, "米", "water_level", 2.5),
        (2, "m", "waterlogging", 200),
        (35, "毫米", "waterlogging", 3.5),
        (500, "L/s", "flow", 0.5),
        (3600, "m3/h", "flow", 1.0),
        (1.2, "m³/s", "flow", 1.2),
        (500, "kPa", "pressure", 0.5),
        (100_000, "Pa", "pressure", 0.1),
        (0.4, "兆帕", "pressure", 0.4),
        (293.15, "K", "temperature", 20.0),
        (68, "°F", "temperature", 20.0),
        (20, "摄氏度", "temperature", 20.0),
        (36, "km/h", "wind_speed", 10.0),
        (12, "%LEL", "gas", 12),
        (3, "度", "tilt", 3),
        (7, "度", "seismic", 7),
        (1, "inch", "rain", 25.4),
        (4.2, " m ", "displacement", 4200),
    ],
)
def test_converts_to_the_types_canonical_unit(value, unit, stype, expected):
    assert to_canonical(value, unit, stype) == pytest.approx(expected, rel=1e-12)


def test_exact_factors_stay_exact():
    # What a person reads back is what they sent, not 0.09999999999999999.
    assert to_canonical(100_000, "Pa", "pressure") == 0.1
    assert to_canonical(36, "km/h", "wind_speed") == 10.0
    assert to_canonical(1500, "mm", "water_level") == 1.5


@pytest.mark.parametrize("unit", [None, "", "  "])
def test_no_unit_means_canonical(unit):
    assert to_canonical(2.75, unit, "water_level") == 2.75


@pytest.mark.parametrize(
    ("unit", "stype", "says"),
    [
        ("mm/h", "rain", "不能换算为mm"),  # an intensity is not an amount
        ("ppm", "gas", "不能换算为%LEL"),  # needs the gas's LEL
        ("%", "tilt", "不能换算为°"),  # a slope in percent is not an angle
        ("kPa", "water_level", "不能换算为m"),
        ("°", "seismic", "不能换算为度"),
        ("furlongs per fortnight", "wind_speed", "无法识别"),
        ("foo", "rain", "无法识别的单位"),
        ("__import__('os')", "rain", "无法识别的单位"),
        ("m", "no_such_type", "未知的传感器类型"),
    ],
)
def test_unknown_or_incompatible_units_are_refused_with_the_reason(unit, stype, says):
    with pytest.raises(UnitError, match=says):
        to_canonical(1.0, unit, stype)


def test_a_value_beyond_a_float_once_converted_is_refused():
    with pytest.raises(UnitError, match="超出范围"):
        to_canonical(1e308, "km", "displacement")


def test_every_sensor_type_has_a_canonical_unit_that_parses():
    from yingji.monitoring.models import TYPE_UNITS, SensorType

    for stype in SensorType.values:
        assert canonical_unit(stype) == TYPE_UNITS[stype]
        assert to_canonical(1.0, canonical_unit(stype), stype) == 1.0
    assert units.CANONICAL_UNITS == TYPE_UNITS
