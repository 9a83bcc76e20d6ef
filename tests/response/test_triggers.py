"""Trigger matching (pure)."""

import pytest

from yingji.response.triggers import Event, Trigger, hazard_of, match

RAIN = [
    Trigger(1, "alert", "暴雨", "yellow", "IV"),
    Trigger(1, "alert", "暴雨", "orange", "III"),
    Trigger(1, "alert", "暴雨", "red", "II"),
    Trigger(1, "incident", "暴雨", "I", "I"),
    Trigger(2, "alarm", "内涝", "orange", "III"),
    Trigger(3, "alert", "台风", "blue", "IV"),
]


def test_alert_colour_maps_to_the_highest_fitting_response_level():
    got = match(Event("alert", "暴雨红色预警信号", "red"), RAIN)
    assert [(p.plan_id, p.response_level) for p in got] == [(1, "II")]
    assert match(Event("alert", "暴雨", "orange"), RAIN)[0].response_level == "III"


def test_below_the_lowest_trigger_nothing_is_proposed():
    assert match(Event("alert", "暴雨", "blue"), RAIN) == []


def test_alarm_and_alert_are_different_sources():
    assert match(Event("alarm", "暴雨", "red"), RAIN) == []
    assert [p.plan_id for p in match(Event("alarm", "waterlogging", "red"), RAIN)] == [2]


def test_incident_levels_use_the_incident_scale():
    assert match(Event("incident", "暴雨", "II"), RAIN) == []
    assert match(Event("incident", "暴雨", "I"), RAIN)[0].response_level == "I"


def test_several_plans_most_severe_first():
    triggers = RAIN + [Trigger(4, "alert", "暴雨", "red", "I")]
    assert [p.plan_id for p in match(Event("alert", "暴雨", "red"), triggers)] == [4, 1]


@pytest.mark.parametrize(
    ("text", "hazard"),
    [
        ("rainstorm", "暴雨"),
        ("暴雨红色预警信号", "暴雨"),
        ("暴雨内涝", "暴雨"),
        ("typhoon", "台风"),
        ("城市内涝", "内涝"),
        ("高温橙色预警", "高温"),
    ],
)
def test_hazard_names_are_normalised(text, hazard):
    assert hazard_of(text) == hazard


def test_unknown_level_is_an_error():
    with pytest.raises(ValueError):
        match(Event("alert", "暴雨", "purple"), RAIN)


def test_a_monitoring_event_matches_as_its_alarms_do():
    assert [p.plan_id for p in match(Event("event", "waterlogging", "red"), RAIN)] == [2]
    assert match(Event("event", "暴雨", "red"), RAIN) == []
