"""The assessment's arithmetic, without a database."""

import pytest

from yingji.responsibility import scoring
from yingji.responsibility.scoring import Indicator


def test_trimmed_mean_drops_highest_and_lowest():
    assert scoring.aggregate([60, 90, 91, 92, 100]) == 91.0
    assert scoring.aggregate([60, 90, 91, 92, 100], "mean") == 86.6
    assert scoring.aggregate([60, 90, 100], "median") == 90
    assert scoring.aggregate([80, 90], "trimmed", 1) == 85.0  # too few to trim
    assert scoring.aggregate([]) is None
    with pytest.raises(scoring.ScoreError, match="汇总方式"):
        scoring.aggregate([1], "mode")


def test_score_out_of_range_names_the_indicator():
    ind = Indicator("B1", "安全生产责任制落实", "evidence", 15)
    assert scoring.check_range(ind, "12.5") == 12.5
    with pytest.raises(scoring.ScoreError, match="B1 安全生产责任制落实.*16.*0–15"):
        scoring.check_range(ind, 16)
    with pytest.raises(scoring.ScoreError, match="B1.*不是数字"):
        scoring.check_range(ind, "十")
    veto = Indicator("V1", "瞒报", "veto", 1)
    with pytest.raises(scoring.ScoreError, match="V1.*0.*或 1"):
        scoring.check_range(veto, 0.5)


def test_total_with_bonus_deduction_and_veto():
    inds = [
        Indicator("A", "计算", "computed", 50),
        Indicator("B", "材料", "evidence", 50),
        Indicator("C", "扣分", "deduction", 10),
        Indicator("D", "加分", "bonus", 5),
        Indicator("V", "较大事故", "veto", 1),
    ]
    t = scoring.sheet_total(inds, {"A": 40, "B": 45, "C": 3, "D": 2, "V": 0})
    assert (t.total, t.vetoed) == (84.0, False)
    t = scoring.sheet_total(inds, {"A": 40, "B": 45, "C": 3, "D": 2, "V": 1})
    assert t.total == 0 and t.vetoed and "V 较大事故" in t.veto_reason
    assert scoring.sheet_total(inds, {"A": 1}).missing == ("B",)


def test_computed_points():
    assert scoring.computed_points("per_count", {"count": 3}, 10, {"per": 2}) == 4
    assert scoring.computed_points("per_count", {"count": 30}, 10, {"per": 2}) == 0
    assert scoring.computed_points("ratio", {"done": 45, "of": 50}, 10, {"target": 1}) == 9
    assert scoring.computed_points("ratio", {"done": 0, "of": 0}, 10, {}) == 10
    assert scoring.computed_points("decrease", {"this": 5, "last": 7}, 10, {"per": 2}) == 10
    assert scoring.computed_points("decrease", {"this": 9, "last": 7}, 10, {"per": 2}) == 6


def test_differences_ranking_ties_and_bottom():
    diff = scoring.differences({"a": 10, "b": 5, "c": None}, {"a": 7, "b": 6, "c": 3}, 2)
    assert diff == {"a": (10, 7)}
    ranked = scoring.rank({"x": 90, "y": 80, "z": 80, "w": 70, "v": 95})
    assert [(k, r) for k, _, r in ranked] == [("v", 1), ("x", 2), ("y", 3), ("z", 3), ("w", 5)]
    assert scoring.bottom(ranked, 1) == ["w"]
    assert sorted(scoring.bottom(ranked, 2)) == ["w", "y", "z"]  # the tie at the border is in
    assert scoring.bottom(ranked, 0) == []
