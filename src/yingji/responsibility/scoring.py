"""The arithmetic of the annual assessment and the 述职 review (pure: no Django).

- `aggregate(values, method, trim)`: the reviewers' scores into one (trimmed mean
  by default: the `trim` highest and lowest dropped, then the mean);
- `check_range(indicator, value)`: a score outside an indicator's range is
  refused, naming the indicator;
- `computed_points(rule, metric, max_points)`: a platform figure into points;
- `sheet_total(indicators, values)`: the total of one sheet: ordinary and
  evidence points plus bonus minus deductions, floored at 0; a veto item that is
  set zeroes the total and the reason says which;
- `differences(first, second, threshold)`: the indicators on which two
  assessors differ by more than the threshold;
- `rank(totals)`: competition ranking (1, 2, 2, 4) within a group;
- `bottom(ranked, n)`: the bottom n of a group, ties at the border included.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

KINDS = {
    "computed": "平台数据计算",
    "evidence": "佐证材料评分",
    "deduction": "扣分项",
    "bonus": "加分项",
    "veto": "一票否决",
}
GROUPS = {"district": "各区", "department": "市直部门"}
METHODS = {"trimmed": "去掉最高最低后平均", "mean": "算术平均", "median": "中位数"}
# computed rules: how a platform figure becomes points
RULES = {
    "per_count": "每发生一起扣分(扣完为止)",
    "ratio": "完成率达到目标得满分,按比例得分",
    "decrease": "不高于上年得满分,每增加一起(人)扣分",
}


class ScoreError(ValueError):
    """A score refused; the message (Chinese) names the indicator."""


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    kind: str
    max_points: float
    rule: str = ""
    params: Mapping[str, float] = field(default_factory=dict)


def _num(value: object, what: str) -> float:
    if isinstance(value, bool):
        return float(value)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ScoreError(f"{what}的分值“{value}”不是数字") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ScoreError(f"{what}的分值“{value}”不是数字")
    return number


def check_range(ind: Indicator, value: object) -> float:
    """The value as a number within the indicator's range, or ScoreError naming it.
    A veto item takes 0 (not triggered) or 1 (triggered)."""
    what = f"指标“{ind.code} {ind.name}”"
    number = _num(value, what)
    if ind.kind == "veto":
        if number not in (0.0, 1.0):
            raise ScoreError(f"{what}为一票否决项,只能填 0(未触发)或 1(触发),不能是 {value}")
        return number
    if not 0 <= number <= ind.max_points:
        raise ScoreError(f"{what}的分值 {value} 超出范围 0–{ind.max_points:g}")
    return round(number, 2)


def aggregate(values: Sequence[float], method: str = "trimmed", trim: int = 1) -> float | None:
    """The reviewers' scores combined (None when there are none). A trimmed mean
    with too few scores to drop `trim` at each end falls back to the plain mean."""
    if method not in METHODS:
        raise ScoreError(f"未知的汇总方式:{method}")
    vals = sorted(float(v) for v in values)
    if not vals:
        return None
    if method == "median":
        return round(statistics.median(vals), 2)
    if method == "trimmed" and trim > 0 and len(vals) > 2 * trim:
        vals = vals[trim:-trim]
    return round(sum(vals) / len(vals), 2)


def computed_points(rule: str, metric: Mapping[str, float], max_points: float, params) -> float:
    """Points from a platform figure. `metric` holds what the feed measured:
    per_count: {"count"}; ratio: {"done", "of"}; decrease: {"this", "last"}."""
    per = float(params.get("per", 1))
    if rule == "per_count":
        points = max_points - per * metric.get("count", 0)
    elif rule == "ratio":
        target = float(params.get("target", 1.0))
        of = metric.get("of", 0)
        rate = (metric.get("done", 0) / of) if of else 1.0
        points = max_points * min(1.0, rate / target) if target else max_points
    elif rule == "decrease":
        rise = metric.get("this", 0) - metric.get("last", 0)
        points = max_points - per * max(0.0, rise)
    else:
        raise ScoreError(f"未知的计算规则:{rule}")
    return round(min(max_points, max(0.0, points)), 2)


@dataclass(frozen=True)
class Total:
    total: float
    base: float
    bonus: float
    deduction: float
    vetoed: bool
    veto_reason: str
    missing: tuple[str, ...]


def sheet_total(indicators: Iterable[Indicator], values: Mapping[str, float | None]) -> Total:
    """The total of one sheet from its final values (code → points)."""
    base = bonus = deduction = 0.0
    vetoes: list[str] = []
    missing: list[str] = []
    for ind in indicators:
        v = values.get(ind.code)
        if v is None:
            if ind.kind in ("computed", "evidence"):
                missing.append(ind.code)
            continue
        if ind.kind == "veto":
            if v:
                vetoes.append(f"{ind.code} {ind.name}")
        elif ind.kind == "bonus":
            bonus += v
        elif ind.kind == "deduction":
            deduction += v
        else:
            base += v
    if vetoes:
        reason = "触发一票否决:" + "、".join(vetoes) + ",总分记为 0"
        return Total(0.0, base, bonus, deduction, True, reason, tuple(missing))
    total = round(max(0.0, base + bonus - deduction), 2)
    return Total(
        total, round(base, 2), round(bonus, 2), round(deduction, 2), False, "", tuple(missing)
    )


def differences(
    first: Mapping[str, float | None], second: Mapping[str, float | None], threshold: float
) -> dict[str, tuple[float, float]]:
    """Indicators both assessors scored whose values differ by more than threshold."""
    out = {}
    for code, a in first.items():
        b = second.get(code)
        if a is None or b is None:
            continue
        if abs(a - b) > threshold + 1e-9:
            out[code] = (a, b)
    return out


def rank(totals: Mapping[object, float]) -> list[tuple[object, float, int]]:
    """(key, total, rank) best first; equal totals share a rank (1, 2, 2, 4)."""
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1], str(kv[0])))
    out: list[tuple[object, float, int]] = []
    for i, (key, total) in enumerate(ordered):
        place = out[-1][2] if out and out[-1][1] == total else i + 1
        out.append((key, total, place))
    return out


def bottom(ranked: Sequence[tuple[object, float, int]], n: int) -> list[object]:
    """The keys of the bottom n; whoever ties with the n-th from the bottom is in too."""
    if n <= 0 or not ranked:
        return []
    n = min(n, len(ranked))
    border = ranked[-n][1]
    return [key for key, total, _ in ranked if total <= border]
