"""Units of measurement: each sensor type's canonical unit, and conversion to it.

Pure (no Django). Readings are stored in their type's canonical unit only; a
reading that says its unit (the ``unit`` field of an MQTT/HTTP object, the 4th
element of a batch row, a CSV column) is converted on the way in, and one whose
unit is unknown or of another kind (mm/h for a water level, ppm for %LEL) raises
UnitError with the reason in Chinese: the caller dead-letters it, it is never
stored as if it matched.

The conversions are pint's (a maintained units library), not tables of our own.
What is ours: the spellings people and third-party networks use (米, 毫米, ℃, 兆帕,
m³/s …) mapped to pint names, and a few units pint does not have, each defined as
a dimension of its own so that nothing converts into them by accident:

- ``%LEL`` (percent of the lower explosive limit): converting ppm or %vol to it
  needs the gas's LEL, which a reading does not carry, so they are refused;
- ``με`` (microstrain), ``度`` (seismic intensity) and ``dB/m`` (smoke
  obscuration).

A conversion is linear (``value * num / den + b``; b is non-zero only for
temperatures), so each (unit, type) pair is asked of pint once and cached: the ingest hot path
multiplies, it does not parse.
"""

from __future__ import annotations

import fractions
import functools
import math

import pint

# Canonical unit of each sensor type, as shown to people (the Sensor.unit column).
CANONICAL_UNITS: dict[str, str] = {
    "rain": "mm",
    "water_level": "m",
    "waterlogging": "cm",
    "flow": "m³/s",
    "gas": "%LEL",
    "combustible_gas": "%LEL",
    "pressure": "MPa",
    "strain": "με",
    "displacement": "mm",
    "tilt": "°",
    "temperature": "℃",
    "wind_speed": "m/s",
    "seismic": "度",
    "smoke": "dB/m",
}

# Units pint does not define, each its own dimension (see the module docstring).
_DEFINITIONS = (
    "lel_fraction = [explosive_limit]",
    "percent_lel = 0.01 * lel_fraction",
    "strain_ratio = [strain]",
    "microstrain = 1e-6 * strain_ratio",
    "seismic_intensity = [seismic_intensity]",
    "smoke_db_per_m = [smoke_obscuration]",
)

# Spellings -> pint expressions. Keys are compared after stripping spaces; the
# canonical spellings above are all here.
ALIASES: dict[str, str] = {
    # length
    "m": "meter",
    "米": "meter",
    "mm": "millimeter",
    "毫米": "millimeter",
    "cm": "centimeter",
    "厘米": "centimeter",
    "dm": "decimeter",
    "分米": "decimeter",
    "km": "kilometer",
    "千米": "kilometer",
    "公里": "kilometer",
    # flow
    "m³/s": "meter ** 3 / second",
    "m3/s": "meter ** 3 / second",
    "立方米/秒": "meter ** 3 / second",
    "立方米每秒": "meter ** 3 / second",
    "m³/h": "meter ** 3 / hour",
    "m3/h": "meter ** 3 / hour",
    "立方米/小时": "meter ** 3 / hour",
    "L/s": "liter / second",
    "l/s": "liter / second",
    "升/秒": "liter / second",
    "升每秒": "liter / second",
    "L/min": "liter / minute",
    "升/分钟": "liter / minute",
    # speed and intensity (a rate is not an amount: mm/h is refused for rain in mm)
    "m/s": "meter / second",
    "米/秒": "meter / second",
    "米每秒": "meter / second",
    "km/h": "kilometer / hour",
    "公里/小时": "kilometer / hour",
    "千米/小时": "kilometer / hour",
    "mm/h": "millimeter / hour",
    "毫米/小时": "millimeter / hour",
    "mm/min": "millimeter / minute",
    # pressure
    "Pa": "pascal",
    "帕": "pascal",
    "帕斯卡": "pascal",
    "kPa": "kilopascal",
    "千帕": "kilopascal",
    "MPa": "megapascal",
    "兆帕": "megapascal",
    "bar": "bar",
    "巴": "bar",
    "mbar": "millibar",
    "hPa": "hectopascal",
    "百帕": "hectopascal",
    # temperature
    "℃": "degree_Celsius",
    "°C": "degree_Celsius",
    "摄氏度": "degree_Celsius",
    "degC": "degree_Celsius",
    "K": "kelvin",
    "开": "kelvin",
    "开尔文": "kelvin",
    "℉": "degree_Fahrenheit",
    "°F": "degree_Fahrenheit",
    "华氏度": "degree_Fahrenheit",
    # angle (度 is an angle only for a tilt sensor: see _parse)
    "°": "degree",
    "deg": "degree",
    "rad": "radian",
    "弧度": "radian",
    "mrad": "milliradian",
    # gas: %LEL only; ppm and %vol are concentrations of another kind
    "%LEL": "percent_lel",
    "%lel": "percent_lel",
    "LEL%": "percent_lel",
    "LEL": "lel_fraction",
    "ppm": "ppm",
    "%": "percent",
    "%vol": "percent",
    "%VOL": "percent",
    # our own dimensions
    "με": "microstrain",
    "µε": "microstrain",
    "微应变": "microstrain",
    "度": "seismic_intensity",
    "dB/m": "smoke_db_per_m",
}

# Spellings that mean something else for one type.
_TYPE_ALIASES: dict[str, dict[str, str]] = {
    "tilt": {"度": "degree"},
}

# Reasons name units the way people read them.
_KIND_LABELS = {
    "[length]": "长度",
    "[length] ** 3 / [time]": "流量",
    "[length] / [time]": "速度/强度",
    "[mass] / [length] / [time] ** 2": "压强",
    "[temperature]": "温度",
    "[explosive_limit]": "爆炸下限百分比",
    "[strain]": "应变",
    "[seismic_intensity]": "地震烈度",
    "[smoke_obscuration]": "烟雾遮光度",
}
_ANGLES = {"degree", "radian", "milliradian", "arcminute", "arcsecond", "gradian", "turn"}


class UnitError(ValueError):
    """An unknown or incompatible unit; str() is the reason in Chinese."""


@functools.cache
def _registry() -> pint.UnitRegistry:
    ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=False)
    for line in _DEFINITIONS:
        ureg.define(line)
    return ureg


def canonical_unit(sensor_type: str) -> str:
    """The unit readings of `sensor_type` are stored in (as shown to people)."""
    try:
        return CANONICAL_UNITS[sensor_type]
    except KeyError:
        raise UnitError(f"未知的传感器类型:{sensor_type!r}") from None


def _clean(unit: str) -> str:
    return "".join(unit.split())


def _parse(unit: str, sensor_type: str) -> pint.Unit:
    ureg = _registry()
    key = _clean(unit)
    name = _TYPE_ALIASES.get(sensor_type, {}).get(key) or ALIASES.get(key)
    try:
        if name is not None:
            return ureg.parse_units(name)
        # Not a spelling of ours: pint's own names and symbols ("millimeter", "inch").
        # Anything that is not a plain unit expression is refused, not evaluated.
        if not key.replace("/", "").replace("*", "").replace("_", "").isalnum():
            raise ValueError
        return ureg.parse_units(key)
    except (pint.errors.PintError, ValueError, TypeError, AttributeError, SyntaxError):
        raise UnitError(f"无法识别的单位:{unit[:20]!r}") from None


def _is_angle(u: pint.Unit) -> bool:
    # pint counts angles as dimensionless like percent and ppm: a slope of 5 % is
    # not 0.05 rad, so among dimensionless units only angles convert to angles.
    return str(u) in _ANGLES


def _kind(u: pint.Unit) -> str:
    if u.dimensionless:
        return "角度" if _is_angle(u) else "无量纲比值"
    dim = str(u.dimensionality)
    return _KIND_LABELS.get(dim, dim)


@functools.lru_cache(maxsize=4096)
def _conversion(unit: str, sensor_type: str) -> tuple[float, float, float] | str:
    """(num, den, b) with canonical = value * num / den + b, or the reason the unit
    is refused (cached too: a flood of one bad unit is not parsed a million times)."""
    try:
        target = canonical_unit(sensor_type)
        if _clean(unit) == _clean(target):
            return 1.0, 1.0, 0.0
        src = _parse(unit, sensor_type)
        dst = _parse(target, sensor_type)
    except UnitError as exc:
        return str(exc)
    if src.dimensionality != dst.dimensionality or (
        src.dimensionless and (_is_angle(src) != _is_angle(dst))
    ):
        return f"单位不符:{unit[:20]}({_kind(src)})不能换算为{target}({_kind(dst)})"
    ureg = _registry()
    try:
        zero = float(ureg.Quantity(0.0, src).to(dst).magnitude)
        if zero == 0.0:
            a = float(ureg.Quantity(1.0, src).to(dst).magnitude)
        else:  # an offset unit (temperatures): the slope from two points
            a = float(ureg.Quantity(100.0, src).to(dst).magnitude - zero) / 100.0
    except pint.errors.PintError as exc:  # e.g. an offset unit inside a compound one
        return f"单位无法换算:{unit[:20]} → {target}({exc})"
    # A rational factor is applied as one (1 km/h = 5/18 m/s, 1 Pa = 1/1e6 MPa), so
    # 36 km/h is 10 m/s and 100000 Pa is 0.1 MPa exactly, not 0.09999999999999999.
    frac = fractions.Fraction(a).limit_denominator(10**9)
    if frac and abs(float(frac) - a) <= 1e-15 * abs(a):
        num, den = float(frac.numerator), float(frac.denominator)
    else:
        num, den = a, 1.0
    fb = fractions.Fraction(zero).limit_denominator(10**6)
    b = float(fb) if abs(float(fb) - zero) <= 1e-12 * max(1.0, abs(zero)) else zero
    return num, den, b


def conversion(unit: str, sensor_type: str) -> tuple[float, float, float]:
    """(num, den, b) with canonical = value * num / den + b; UnitError if `unit` is
    unknown or not of the kind `sensor_type` measures."""
    result = _conversion(unit, sensor_type)
    if isinstance(result, str):
        raise UnitError(result)
    return result


def to_canonical(value: float, unit: str | None, sensor_type: str) -> float:
    """`value` (in `unit`) in the canonical unit of `sensor_type`. None or "" means
    the value is canonical already. UnitError for an unknown or incompatible unit,
    or a value that is not finite once converted."""
    if unit is None or not unit.strip():
        return float(value)
    num, den, b = conversion(unit, sensor_type)
    if num == den and b == 0.0:
        return float(value)
    result = value * num / den + b
    if not math.isfinite(result):
        raise UnitError(f"换算后读数超出范围:{value!r} {unit[:20]}")
    return result
