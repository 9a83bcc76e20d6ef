"""Accident level from the national thresholds (pure; no Django).

生产安全事故报告和调查处理条例 (国务院令第493号, 2007), article 3: the level is
the highest met by deaths, serious injuries (incl. acute industrial poisoning) or
direct economic loss. "以上" includes the number, "以下" excludes it. Missing
persons count with the dead, as the accident statistics do ("死亡(含失踪)").
"""

from __future__ import annotations

from decimal import Decimal

LEVELS = ("general", "larger", "major", "extraordinary")
LEVEL_LABELS = {
    "general": "一般事故",
    "larger": "较大事故",
    "major": "重大事故",
    "extraordinary": "特别重大事故",
}
# Lower bounds (inclusive) of 较大, 重大, 特别重大.
DEATH_BOUNDS = (3, 10, 30)
INJURY_BOUNDS = (10, 50, 100)
LOSS_BOUNDS_WAN = (Decimal(1000), Decimal(5000), Decimal(10000))  # 10 M, 50 M, 100 M yuan


def _rank(value, bounds) -> int:
    return sum(1 for bound in bounds if value >= bound)


def level(
    deaths: int, serious_injuries: int, direct_loss_wan: Decimal | float | int, missing: int = 0
) -> str:
    """The level code ("general" … "extraordinary"); ValueError on negative input."""
    if min(deaths, serious_injuries, missing) < 0 or Decimal(str(direct_loss_wan)) < 0:
        raise ValueError("事故伤亡人数和直接经济损失不能为负数")
    rank = max(
        _rank(deaths + missing, DEATH_BOUNDS),
        _rank(serious_injuries, INJURY_BOUNDS),
        _rank(Decimal(str(direct_loss_wan)), LOSS_BOUNDS_WAN),
    )
    return LEVELS[rank]
