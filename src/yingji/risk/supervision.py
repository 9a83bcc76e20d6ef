"""The "三管三必须" table (seed item 16): which department supervises an
enterprise, from its industry (GB/T 4754-2017) and key categories. Pure; the
table is data (data/supervision.csv), names resolve to departments elsewhere."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TABLE = Path(__file__).parent / "data" / "supervision.csv"

# GB/T 4754-2017 sections: letter -> (first division, last division, name).
SECTIONS: dict[str, tuple[int, int, str]] = {
    "A": (1, 5, "农、林、牧、渔业"),
    "B": (6, 12, "采矿业"),
    "C": (13, 43, "制造业"),
    "D": (44, 46, "电力、热力、燃气及水生产和供应业"),
    "E": (47, 50, "建筑业"),
    "F": (51, 52, "批发和零售业"),
    "G": (53, 60, "交通运输、仓储和邮政业"),
    "H": (61, 62, "住宿和餐饮业"),
    "I": (63, 65, "信息传输、软件和信息技术服务业"),
    "J": (66, 69, "金融业"),
    "K": (70, 70, "房地产业"),
    "L": (71, 72, "租赁和商务服务业"),
    "M": (73, 75, "科学研究和技术服务业"),
    "N": (76, 79, "水利、环境和公共设施管理业"),
    "O": (80, 82, "居民服务、修理和其他服务业"),
    "P": (83, 83, "教育"),
    "Q": (84, 85, "卫生和社会工作"),
    "R": (86, 90, "文化、体育和娱乐业"),
    "S": (91, 96, "公共管理、社会保障和社会组织"),
    "T": (97, 97, "国际组织"),
}


def section_of(code: str) -> str | None:
    """The section letter of an industry code ("2614" -> "C"), None if invalid."""
    if len(code) < 2 or not code[:2].isdigit():
        return None
    division = int(code[:2])
    for letter, (first, last, _) in SECTIONS.items():
        if first <= division <= last:
            return letter
    return None


def normalise_industry(text: str) -> tuple[str, str | None]:
    """(digits, problem): accepts "C2614", "2614", "26"; 2 to 4 digits."""
    raw = (text or "").strip().upper()
    if raw.endswith(".0"):  # Excel turns 2614 into 2614.0
        raw = raw[:-2]
    letter = raw[:1] if raw[:1].isalpha() else ""
    digits = raw[1:] if letter else raw
    if not digits.isdigit() or not 2 <= len(digits) <= 4:
        return digits, f"行业代码“{text}”须为GB/T 4754-2017的2至4位数字代码(可带门类字母)"
    section = section_of(digits)
    if section is None:
        return digits, f"行业代码“{text}”不在GB/T 4754-2017的大类范围(01-97)"
    if letter and letter != section:
        return digits, f"行业代码“{text}”门类字母应为“{section}”"
    return digits, None


def industry_label(code: str) -> str:
    """A short Chinese label: the section name of the code."""
    section = section_of(code or "")
    return SECTIONS[section][2] if section else "未知行业"


@dataclass(frozen=True)
class SupervisionTable:
    """Industry prefixes and categories mapped to department names."""

    by_prefix: dict[str, str]
    by_category: dict[str, str]

    def department_for(self, industry_code: str, categories: Iterable[str] = ()) -> str | None:
        """The supervising department's name: a key-category rule first, then the
        longest matching industry prefix; None when nothing matches."""
        for category in categories:
            if category in self.by_category:
                return self.by_category[category]
        code = industry_code or ""
        for length in range(len(code), 1, -1):
            name = self.by_prefix.get(code[:length])
            if name:
                return name
        return None


def load_table(path: str | Path = DEFAULT_TABLE) -> SupervisionTable:
    """Read the table; lines starting with # are comments."""
    by_prefix: dict[str, str] = {}
    by_category: dict[str, str] = {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        lines = [line for line in fh if line.strip() and not line.lstrip().startswith("#")]
    for row in csv.DictReader(lines):
        match = (row.get("match") or "").strip()
        department = (row.get("department") or "").strip()
        if not match or not department:
            continue
        if match.startswith("category:"):
            by_category[match.removeprefix("category:")] = department
        else:
            by_prefix[match] = department
    return SupervisionTable(by_prefix, by_category)
