"""Incident level computation from the criteria data (pure)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yingji.response.levels import Consequences, category_of, compute_level, higher, rank


def test_no_casualties_is_a_general_incident():
    assert compute_level("事故灾难", Consequences()).level == "IV"


@pytest.mark.parametrize(
    ("facts", "level"),
    [
        (Consequences(deaths=2), "IV"),
        (Consequences(deaths=3), "III"),
        (Consequences(deaths=9, injured=49), "III"),
        (Consequences(deaths=10), "II"),
        (Consequences(injured=50), "II"),
        (Consequences(economic_loss=5000), "II"),
        (Consequences(deaths=30), "I"),
        (Consequences(injured=100), "I"),
        (Consequences(economic_loss=10000), "I"),
    ],
)
def test_thresholds_of_the_regulation(facts, level):
    assert compute_level("事故灾难", facts).level == level


def test_missing_persons_count_with_the_dead():
    result = compute_level("事故灾难", Consequences(deaths=2, missing=1))
    assert result.level == "III"
    assert "死亡(含失踪)人数 3 ≥ 3" in result.reasons


def test_any_single_threshold_is_enough_and_reasons_name_it():
    result = compute_level("事故灾难", Consequences(injured=60, economic_loss=10))
    assert result.level == "II" and result.reasons == ("重伤人数 60 ≥ 50",)


def test_natural_disasters_also_count_evacuees():
    assert compute_level("自然灾害", Consequences(evacuated=30000)).level == "II"
    # evacuees are not a criterion of accidents
    assert compute_level("事故灾难", Consequences(evacuated=30000)).level == "IV"


def test_criteria_are_data():
    criteria = {"default": {"I": {"deaths": 5}, "II": {"deaths": 2}, "III": {"deaths": 1}}}
    assert compute_level("事故灾难", Consequences(deaths=2), criteria).level == "II"


def test_categories_of_types():
    assert category_of("暴雨") == "自然灾害"
    assert category_of("危险化学品事故") == "事故灾难"
    assert category_of("外星人") is None


def test_rank_rejects_unknown_levels():
    assert rank("I") > rank("IV") and higher("III", "II") == "II"
    with pytest.raises(ValueError):
        rank("V")


@given(st.integers(0, 200), st.integers(0, 200), st.integers(0, 200))
def test_more_casualties_never_lower_the_level(deaths, injured, extra):
    base = compute_level("事故灾难", Consequences(deaths=deaths, injured=injured)).level
    worse = compute_level("事故灾难", Consequences(deaths=deaths + extra, injured=injured)).level
    assert rank(worse) >= rank(base)
