"""Chinese warning conventions as data: levels, colours, severities, Guangdong
signal types, and identifiers in the national layout. Pure: no Django.

Sources: data/SOURCES.md. Red → Extreme and orange → Severe are the usual
convention, not a confirmed standard; keep them here, in one table.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

# Colour → (level number, Chinese level, CAP severity, headline suffix)
LEVELS: dict[str, tuple[int, str, str, str]] = {
    "red": (1, "一级", "Extreme", "[Ⅰ级/特别严重]"),
    "orange": (2, "二级", "Severe", "[Ⅱ级/严重]"),
    "yellow": (3, "三级", "Moderate", "[Ⅲ级/较重]"),
    "blue": (4, "四级", "Minor", "[Ⅳ级/一般]"),
}
COLOUR_NAMES = {"white": "白色", "blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}
COLOUR_ORDER = ("white", "blue", "yellow", "orange", "red")  # low → high


@dataclass(frozen=True)
class SignalType:
    """One Guangdong meteorological warning signal type and the colours it is issued in."""

    key: str
    name: str
    colours: tuple[str, ...]
    category: str = "Met"


SIGNAL_TYPES: dict[str, SignalType] = {
    s.key: s
    for s in (
        SignalType("typhoon", "台风", ("white", "blue", "yellow", "orange", "red")),
        SignalType("rainstorm", "暴雨", ("yellow", "orange", "red")),
        SignalType("heat", "高温", ("yellow", "orange", "red")),
        SignalType("cold", "寒冷", ("yellow", "orange", "red")),
        SignalType("fog", "大雾", ("yellow", "orange", "red")),
        SignalType("haze", "灰霾", ("yellow",)),
        SignalType("thunderstorm_gale", "雷雨大风", ("blue", "yellow", "orange", "red")),
        SignalType("road_icing", "道路结冰", ("yellow", "orange", "red")),
        SignalType("hail", "冰雹", ("orange", "red")),
        SignalType("forest_fire", "森林火险", ("yellow", "orange", "red")),
    )
}

# Monitoring's hazards that have no meteorological signal: the warning is the
# bureau's own, named here; the colour is the regional level.
OTHER_HAZARDS = {
    "waterlogging": ("内涝", "Met"),
    "gas": ("燃气", "Safety"),
    "structure": ("结构安全", "Infra"),
    "hazardous_chemicals": ("危险化学品", "CBRNE"),
    "earthquake": ("地震", "Geo"),
    "other": ("突发事件", "Other"),
}


def severity(colour: str) -> str:
    """CAP severity of a warning colour (white and unknown → Minor / Unknown)."""
    if colour in LEVELS:
        return LEVELS[colour][2]
    return "Minor" if colour == "white" else "Unknown"


def colour_for_severity(value: str) -> str | None:
    """The colour a CAP severity stands for in Chinese practice (None for Unknown)."""
    for colour, (_, _, sev, _) in LEVELS.items():
        if sev == value:
            return colour
    return None


def hazard_name(key: str) -> str:
    """Chinese name of a signal type or monitoring hazard key."""
    if key in SIGNAL_TYPES:
        return SIGNAL_TYPES[key].name
    return OTHER_HAZARDS.get(key, (key, ""))[0]


def hazard_category(key: str) -> str:
    if key in SIGNAL_TYPES:
        return SIGNAL_TYPES[key].category
    return OTHER_HAZARDS.get(key, ("", "Other"))[1]


def event_title(hazard: str, colour: str) -> str:
    """e.g. 暴雨红色预警."""
    return f"{hazard_name(hazard)}{COLOUR_NAMES.get(colour, '')}预警"


def headline(sender_name: str, hazard: str, colour: str, area: str = "") -> str:
    """The national headline form, naming the area when given:
    'X发布暴雨红色预警[Ⅰ级/特别严重]', 'X发布天河区石牌街道暴雨红色预警[Ⅰ级/特别严重]'."""
    suffix = LEVELS[colour][3] if colour in LEVELS else ""
    return f"{sender_name}发布{area}{event_title(hazard, colour)}{suffix}"


def check_signal(hazard: str, colour: str) -> None:
    """ValueError if a Guangdong signal type is not issued in that colour."""
    signal = SIGNAL_TYPES.get(hazard)
    if signal and colour not in signal.colours:
        allowed = "、".join(COLOUR_NAMES[c] for c in signal.colours)
        raise ValueError(
            f"{signal.name}预警信号只有{allowed},没有{COLOUR_NAMES.get(colour, colour)}"
        )


_ID_RE = re.compile(r"^(\d{6})(\d{3})(\d{5})_(\d{14})(?:_(\d+))?$")


def identifier(region_code: str, org_code: str, at: dt.datetime, serial: int = 0) -> str:
    """National identifier layout: 6-digit region code + 3-digit organisation code
    + '00000' + '_' + YYYYMMDDhhmmss (local time), e.g. 44010041600000_20240712213138.
    A serial > 0 is appended (_N) to tell apart messages of the same second."""
    region = (region_code or "")[:6].ljust(6, "0")
    org = (org_code or "").rjust(3, "0")[:3]
    if not (region.isdigit() and org.isdigit()):
        raise ValueError(f"区划代码与机构代码须为数字:{region_code!r}, {org_code!r}")
    text = f"{region}{org}00000_{at:%Y%m%d%H%M%S}"
    return f"{text}_{serial}" if serial else text


def split_identifier(text: str) -> dict[str, str] | None:
    """The parts of a national identifier, or None if it is not in that layout."""
    m = _ID_RE.match(text)
    if not m:
        return None
    return {"region": m.group(1), "org": m.group(2), "timestamp": m.group(4)}


# ------------------------------------------------------------------ default expiry

_EXPIRY_FILE = Path(__file__).with_name("data") / "expiry_defaults.csv"


def load_expiry_defaults(
    text: str, source: str = "expiry_defaults.csv"
) -> dict[tuple[str, str], float]:
    """(hazard, colour) → hours, from the CSV; ValueError naming the line and field."""
    table: dict[tuple[str, str], float] = {}
    lines = [
        (n, line)
        for n, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines or lines[0][1].replace(" ", "") != "hazard,colour,hours":
        raise ValueError(f"{source}:表头须为 hazard,colour,hours")
    for n, line in lines[1:]:
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 3:
            raise ValueError(f"{source} 第 {n} 行:须为 3 列(hazard,colour,hours)")
        hazard, colour, hours = parts
        try:
            value = float(hours)
        except ValueError:
            raise ValueError(f"{source} 第 {n} 行 hours:“{hours}”不是数字") from None
        if not 0 < value <= 24 * 30:
            raise ValueError(f"{source} 第 {n} 行 hours:须在 0 到 720 小时之间")
        table[(hazard, colour)] = value
    if ("*", "*") not in table:
        raise ValueError(f"{source}:缺少默认行 *,*,小时数")
    return table


_expiry_table: dict[tuple[str, str], float] | None = None


def default_expiry_hours(hazard: str, colour: str) -> float:
    """The most specific default: (hazard, colour), (hazard, *), (*, colour), (*, *)."""
    global _expiry_table
    if _expiry_table is None:
        _expiry_table = load_expiry_defaults(_EXPIRY_FILE.read_text(encoding="utf-8"))
    for key in ((hazard, colour), (hazard, "*"), ("*", colour), ("*", "*")):
        if key in _expiry_table:
            return _expiry_table[key]
    raise AssertionError("unreachable: the table has a *,* line")


def area_title(names: list[str], limit: int = 3) -> str:
    """The areas as a headline names them: '天河区石牌街道', '天河区、越秀区',
    '天河区、越秀区、海珠区等5个区域'."""
    names = [n for n in dict.fromkeys(names) if n]
    if len(names) <= limit:
        return "、".join(names)
    return "、".join(names[:limit]) + f"等{len(names)}个区域"


# Chinese labels of the CAP codes a person reads (CAP 1.2 §3.2.2; the Chinese terms of
# GB/T 35965.1 for severity, the usual translations for urgency and certainty).
SEVERITY_LABELS = {
    "Extreme": "特别严重",
    "Severe": "严重",
    "Moderate": "较重",
    "Minor": "一般",
    "Unknown": "未知",
}
URGENCY_LABELS = {
    "Immediate": "立即",
    "Expected": "预计即将发生",
    "Future": "将来",
    "Past": "已过去",
    "Unknown": "未知",
}
CERTAINTY_LABELS = {
    "Observed": "已观测到",
    "Likely": "很可能",
    "Possible": "可能",
    "Unlikely": "不太可能",
    "Unknown": "未知",
}
