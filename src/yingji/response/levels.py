"""Incident levels I–IV (特别重大/重大/较大/一般), computed from criteria kept as
data (data/incident_criteria.json), never typed by hand. Pure: no Django.

A level is reached when ANY of its thresholds is met (the regulation's "或"):
30 deaths alone make an incident 特别重大 whatever the losses. Missing persons
count with the dead, as the regulation says "死亡(含失踪)".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"

# Highest first; the order in which criteria are tested.
LEVELS = ("I", "II", "III", "IV")
NUMERALS = {"I": "Ⅰ", "II": "Ⅱ", "III": "Ⅲ", "IV": "Ⅳ"}
LABELS = {"I": "Ⅰ级(特别重大)", "II": "Ⅱ级(重大)", "III": "Ⅲ级(较大)", "IV": "Ⅳ级(一般)"}
RESPONSE_LABELS = {"I": "一级响应", "II": "二级响应", "III": "三级响应", "IV": "四级响应"}
CATEGORIES = ("自然灾害", "事故灾难", "公共卫生事件", "社会安全事件")


def rank(level: str) -> int:
    """4 for I (most severe) … 1 for IV; ValueError for anything else."""
    try:
        return 4 - LEVELS.index(level)
    except ValueError:
        raise ValueError(f"未知的级别:{level!r}(应为 I、II、III、IV)") from None


def higher(a: str, b: str) -> str:
    """The more severe of two levels."""
    return a if rank(a) >= rank(b) else b


@dataclass(frozen=True)
class Consequences:
    """What a report says happened (numbers so far; 续报 replace them)."""

    deaths: int = 0
    missing: int = 0
    injured: int = 0
    economic_loss: float = 0.0  # 万元
    evacuated: int = 0

    def value(self, field: str) -> float:
        if field == "deaths":
            return self.deaths + self.missing
        return float(getattr(self, field))


@dataclass(frozen=True)
class LevelResult:
    level: str
    reasons: tuple[str, ...]  # which thresholds were met, in Chinese

    @property
    def label(self) -> str:
        return LABELS[self.level]


@cache
def load_criteria() -> dict[str, Any]:
    """The shipped criteria file (copied per call site as needed, never mutated)."""
    return json.loads((DATA / "incident_criteria.json").read_text(encoding="utf-8"))


@cache
def load_types() -> dict[str, list[str]]:
    """Category → incident types."""
    return json.loads((DATA / "incident_types.json").read_text(encoding="utf-8"))


def category_of(incident_type: str) -> str | None:
    """The category an incident type belongs to, or None."""
    for category, types in load_types().items():
        if incident_type in types:
            return category
    return None


def compute_level(
    category: str, facts: Consequences, criteria: Mapping[str, Any] | None = None
) -> LevelResult:
    """The incident level for `facts` under the criteria for `category`
    (falling back to the "default" table). Below every threshold: IV."""
    criteria = criteria if criteria is not None else load_criteria()
    table = criteria.get(category) or criteria["default"]
    names = criteria.get("fields", {})
    for level in LEVELS[:-1]:
        thresholds = table.get(level, {})
        met = tuple(
            f"{names.get(field, field)} {facts.value(field):g} ≥ {limit:g}"
            for field, limit in thresholds.items()
            if facts.value(field) >= limit
        )
        if met:
            return LevelResult(level, met)
    return LevelResult("IV", ())
