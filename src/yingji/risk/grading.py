"""Risk assessment by LEC and LS and the four-colour grade (pure; no Django).

Scales and bands are data (data/grading.json, after DOMAIN.md); a band applies
when the score is strictly above its `min` (DOMAIN.md: "> 320, 160–320, …"), the
last band catching everything else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT_SCALES = Path(__file__).parent / "data" / "grading.json"
GRADE_ORDER = ("red", "orange", "yellow", "blue")  # highest first
GRADE_LABELS = {"red": "重大风险", "orange": "较大风险", "yellow": "一般风险", "blue": "低风险"}
GRADE_COLOURS = {"red": "#d32f2f", "orange": "#f57c00", "yellow": "#fbc02d", "blue": "#1976d2"}


class AssessmentError(ValueError):
    """An assessment value not on its scale; the message names the factor."""


@dataclass(frozen=True)
class Result:
    score: float
    grade: str
    band_label: str


@lru_cache(maxsize=4)
def load_scales(path: str | Path = DEFAULT_SCALES) -> dict:
    """The scales and bands (cached; pass another path for another table)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _band(score: float, bands: list[dict]) -> tuple[str, str]:
    for band in bands:
        if score > band["min"]:
            return band["grade"], band["label"]
    return bands[-1]["grade"], bands[-1]["label"]


def _on_scale(name: str, value: float, scale: list[float]) -> float:
    if not any(abs(float(value) - s) < 1e-9 for s in scale):
        allowed = "、".join(f"{s:g}" for s in scale)
        raise AssessmentError(f"{name}取值{value:g}不在标度内(可选:{allowed})")
    return float(value)


def lec(
    likelihood: float, exposure: float, consequence: float, scales: dict | None = None
) -> Result:
    """D = L × E × C, graded by the LEC bands."""
    table = (scales or load_scales())["lec"]
    score = (
        _on_scale("L(事故发生可能性)", likelihood, table["L"])
        * _on_scale("E(暴露频繁程度)", exposure, table["E"])
        * _on_scale("C(后果严重程度)", consequence, table["C"])
    )
    grade, label = _band(score, table["bands"])
    return Result(round(score, 3), grade, label)


def ls(likelihood: float, severity: float, scales: dict | None = None) -> Result:
    """R = L × S, graded by the LS bands."""
    table = (scales or load_scales())["ls"]
    score = _on_scale("L(可能性)", likelihood, table["L"]) * _on_scale(
        "S(严重程度)", severity, table["S"]
    )
    grade, label = _band(score, table["bands"])
    return Result(score, grade, label)


def highest(grades) -> str:
    """The highest of some grades ("" when none): an enterprise's grade."""
    present = {g for g in grades if g}
    for grade in GRADE_ORDER:
        if grade in present:
            return grade
    return ""
