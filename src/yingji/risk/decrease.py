"""The "double decrease" (双下降) comparison (pure; no Django): accidents and
deaths this year to date against the same period last year, and the target."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


def same_period_last_year(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """(1 January, same day) of the previous year; 29 February maps to the 28th."""
    year = as_of.year - 1
    day = min(as_of.day, 28) if as_of.month == 2 and as_of.day == 29 else as_of.day
    return dt.date(year, 1, 1), dt.date(year, as_of.month, day)


@dataclass(frozen=True)
class Comparison:
    """One figure against last year's same period (and optionally a target)."""

    current: int
    previous: int
    target: int | None = None

    @property
    def change(self) -> int:
        return self.current - self.previous

    @property
    def change_pct(self) -> float | None:
        """Percentage change; None when last year had none."""
        return None if self.previous == 0 else round(100.0 * self.change / self.previous, 1)

    @property
    def decreased(self) -> bool:
        return self.current < self.previous or (self.current == 0 and self.previous == 0)

    @property
    def within_target(self) -> bool | None:
        return None if self.target is None else self.current <= self.target

    def as_dict(self) -> dict:
        return {
            "current": self.current,
            "previous": self.previous,
            "change": self.change,
            "change_pct": self.change_pct,
            "decreased": self.decreased,
            "target": self.target,
            "within_target": self.within_target,
        }


def verdict(accidents: Comparison, deaths: Comparison) -> str:
    """The headline: 双下降, 单下降 or 未下降."""
    if accidents.decreased and deaths.decreased:
        return "实现“双下降”"
    if accidents.decreased:
        return "事故起数下降,死亡人数未下降"
    if deaths.decreased:
        return "死亡人数下降,事故起数未下降"
    return "事故起数和死亡人数均未下降"
