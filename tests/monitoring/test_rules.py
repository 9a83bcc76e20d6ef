"""The pure rule engine: thresholds, hysteresis, duration, rate, rolling sums,
no data, rising severity and composites — no database."""

import numpy as np
import pytest

from yingji.monitoring.rules import CompositeRule, Engine, Rule, RuleError

T0 = 1_700_000_000.0


def feed(engine, sensor_id, pairs):
    """Feed (seconds after T0, value) readings of one sensor, one batch each."""
    out = []
    for t, v in pairs:
        out += engine.process(
            np.array([engine.index_of[sensor_id]]), np.array([T0 + t]), np.array([float(v)])
        )
    return out


def states(changes):
    return [(c.state, c.level) for c in changes]


def test_four_levels_fire_and_resolve_at_once():
    e = Engine(
        [1, 2],
        ["water_level", "water_level"],
        [Rule(1, "水位", thresholds=(1, 2, 3, 4), sensor_type="water_level")],
    )
    ch = feed(e, 1, [(0, 0.5), (60, 2.5), (120, 4.2), (180, 0.1)])
    assert states(ch) == [("firing", 2), ("firing", 4), ("resolved", 0)]
    assert e.level_of(1, 2) == 0  # the other sensor is untouched


def test_hysteresis_keeps_level_until_value_falls_below_band():
    e = Engine(
        [1],
        ["gas"],
        [Rule(1, "燃气", thresholds=(10, None, None, 50), hysteresis=2, sensor_type="gas")],
    )
    ch = feed(e, 1, [(0, 11), (1, 9.5), (2, 8.5), (3, 7.5)])
    assert states(ch) == [("firing", 1), ("resolved", 0)]
    assert ch[1].at == T0 + 3


def test_duration_is_pending_first_and_pending_that_ends_never_fires():
    e = Engine(
        [1],
        ["gas"],
        [Rule(1, "燃气", thresholds=(10, None, None, None), for_s=120, sensor_type="gas")],
    )
    assert states(feed(e, 1, [(0, 12), (60, 12), (90, 3)])) == [("pending", 1), ("resolved", 0)]
    ch = feed(e, 1, [(200, 12), (260, 13), (330, 14)])
    assert states(ch) == [("pending", 1), ("firing", 1)]
    assert ch[-1].at == T0 + 330


def test_rate_of_change_per_minute():
    e = Engine(
        [1],
        ["water_level"],
        [
            Rule(
                1,
                "涨速",
                metric="rate",
                thresholds=(0.1, 0.3, None, None),
                sensor_type="water_level",
            )
        ],
    )
    ch = feed(e, 1, [(0, 1.0), (60, 1.05), (120, 1.40)])
    assert states(ch) == [("firing", 2)]
    assert ch[0].value == pytest.approx(0.35)


def test_rolling_rain_sums_follow_cma_rainstorm_criteria():
    # orange ≥ 50 mm / 3 h, red ≥ 100 mm / 3 h, as a rule on the 3-hour sum.
    rule = Rule(
        1,
        "暴雨3小时",
        metric="sum",
        window_s=3 * 3600,
        thresholds=(None, None, 50, 100),
        sensor_type="rain",
    )
    e = Engine([1], ["rain"], [rule], bucket_s=300)
    ch = feed(e, 1, [(i * 300, 4.0) for i in range(12)])  # 48 mm in the first hour
    assert ch == []
    ch = feed(e, 1, [(3600, 5.0)])  # 53 mm
    assert states(ch) == [("firing", 3)]
    assert e.window_sum(1, 3 * 3600) == pytest.approx(53)
    # Four quiet hours later the old rain has left the window: resolved.
    ch = feed(e, 1, [(3600 * 5, 0.0)])
    assert states(ch) == [("resolved", 0)]
    assert e.window_sum(1, 3 * 3600) == pytest.approx(0)


def test_window_sums_match_a_naive_recount():
    rng = np.random.default_rng(7)
    rule = Rule(
        1, "1h", metric="sum", window_s=3600, thresholds=(1e9, None, None, None), sensor_type="rain"
    )
    e = Engine(list(range(20)), ["rain"] * 20, [rule], bucket_s=60)
    history = []
    t = 0.0
    for _ in range(200):
        t += float(rng.integers(1, 200))
        idx = rng.integers(0, 20, 5)
        vals = rng.random(5)
        e.process(idx, np.full(5, T0 + t), vals)
        history += [(int(i), T0 + t, float(v)) for i, v in zip(idx, vals, strict=True)]
    for s in range(20):
        last = e.last_ts[s]
        if np.isnan(last):
            continue
        now_b = np.floor(last / 60)
        expected = sum(v for i, ts, v in history if i == s and now_b - np.floor(ts / 60) < 60)
        assert e.window_sum(s, 3600) == pytest.approx(expected)


def test_window_sums_with_batches_across_buckets_and_late_readings():
    """Batches spanning several buckets, late readings and three windows at once
    give the same sums as recounting every reading."""
    rng = np.random.default_rng(11)
    windows = (600, 1800, 3600)
    rules = [
        Rule(
            i + 1,
            f"{w}s",
            metric="sum",
            window_s=w,
            thresholds=(1e9, None, None, None),
            sensor_type="rain",
        )
        for i, w in enumerate(windows)
    ]
    e = Engine(list(range(12)), ["rain"] * 12, rules, bucket_s=60)
    history: list[tuple[int, float, float]] = []
    t = 0.0
    for _ in range(150):
        t += float(rng.integers(1, 400))
        n = int(rng.integers(1, 30))
        ts = T0 + t - rng.integers(0, 900, n)  # up to 15 min late, several buckets
        idx = rng.integers(0, 12, n)
        vals = rng.random(n)
        e.process(idx, ts, vals)
        history += [(int(i), float(x), float(v)) for i, x, v in zip(idx, ts, vals, strict=True)]
    for s in range(12):
        newest = max((np.floor(x / 60) for i, x, _ in history if i == s), default=None)
        if newest is None:
            continue
        for w in windows:
            expected = sum(
                v for i, x, v in history if i == s and newest - np.floor(x / 60) < w // 60
            )
            assert e.window_sum(s, w) == pytest.approx(expected), (s, w)


def test_adopt_keeps_live_state_across_a_rule_edit():
    """A running engine rebuilt after an edit keeps the sums, the last readings and
    the state of unchanged rules; the edited rule starts clear; a new sensor joins."""
    rain1h = Rule(
        1, "1h", metric="sum", window_s=3600, thresholds=(20, 30, 50, 100), sensor_type="rain"
    )
    level = Rule(2, "值", thresholds=(5, None, None, None), for_s=600, sensor_type="rain")
    old = Engine([10, 11], ["rain", "rain"], [rain1h, level], bucket_s=300)
    feed(old, 10, [(0, 6.0), (600, 8.0), (1200, 9.0)])  # 23 mm: blue; value rule fires
    assert old.level_of(1, 10) == 1 and old.level_of(2, 10) == 1
    edited = Rule(2, "值", thresholds=(50, None, None, None), sensor_type="rain")
    new = Engine([10, 11, 12], ["rain"] * 3, [rain1h, edited], bucket_s=300)
    assert new.adopt(old)
    assert new.window_sum(10, 3600) == pytest.approx(23.0)
    assert new.level_of(1, 10) == 1 and new.level_of(2, 10) == 0
    assert new.last_value[new.index_of[10]] == 9.0
    # The sum carries on from the adopted buckets: 23 + 8 = 31 mm → yellow.
    assert states(feed(new, 10, [(1500, 8.0)])) == [("firing", 2)]
    feed(new, 12, [(1500, 1.0)])  # the new sensor works
    assert new.window_sum(12, 3600) == pytest.approx(1.0)


def test_adopt_asks_for_a_replay_when_a_longer_window_is_added():
    short = Rule(
        1, "1h", metric="sum", window_s=3600, thresholds=(20, None, None, None), sensor_type="rain"
    )
    old = Engine([10], ["rain"], [short], bucket_s=300)
    feed(old, 10, [(0, 6.0)])
    longer = Rule(
        2,
        "24h",
        metric="sum",
        window_s=24 * 3600,
        thresholds=(50, None, None, None),
        sensor_type="rain",
    )
    assert not Engine([10], ["rain"], [short, longer], bucket_s=300).adopt(old)


def test_severity_rises_with_time_and_falls_back():
    e = Engine(
        [1],
        ["temperature"],
        [
            Rule(
                1,
                "高温",
                thresholds=(60, 80, 100, 120),
                escalate_every_s=600,
                sensor_type="temperature",
            )
        ],
    )
    ch = feed(e, 1, [(0, 65), (300, 65), (600, 65), (1200, 65), (1300, 5)])
    assert states(ch) == [("firing", 1), ("firing", 2), ("firing", 3), ("resolved", 0)]


def test_no_data_fires_and_clears_when_data_returns():
    e = Engine(
        [1, 2],
        ["rain", "rain"],
        [Rule(1, "离线", metric="no_data", thresholds=(600, None, None, None), sensor_type="rain")],
    )
    feed(e, 1, [(0, 1)])
    assert e.check_no_data(T0 + 100) == []
    ch = e.check_no_data(T0 + 650)
    # sensor 2 was never heard from: its clock started at the first check (T0+100)
    assert [(c.sensor, c.state) for c in ch] == [(1, "firing")]
    assert [(c.sensor, c.state) for c in e.check_no_data(T0 + 750)] == [(2, "firing")]
    assert e.check_no_data(T0 + 800) == []  # still silent: no repeat
    back = feed(e, 1, [(900, 1)])
    assert states(back) == [("resolved", 0)]


def test_composite_k_of_n_per_area():
    rule = Rule(1, "积水", thresholds=(0.1, None, None, None), sensor_type="waterlogging")
    comp = CompositeRule(9, "片区积水", child=1, k=2, level=3)
    e = Engine([1, 2, 3], ["waterlogging"] * 3, [rule], [comp], areas=["A", "A", "B"])
    ch = feed(e, 1, [(0, 0.2)])
    assert [c for c in ch if c.area] == []
    ch = feed(e, 2, [(10, 0.3)])
    area = [c for c in ch if c.area]
    assert [(c.area, c.state, c.level) for c in area] == [("A", "firing", 3)]
    ch = feed(e, 2, [(20, 0.0)])
    assert [(c.area, c.state) for c in ch if c.area] == [("A", "resolved")]


def test_below_direction_and_batch_trough():
    e = Engine(
        [1],
        ["pressure"],
        [
            Rule(
                1,
                "低压",
                thresholds=(0.3, 0.2, None, None),
                direction="below",
                sensor_type="pressure",
            )
        ],
    )
    ch = e.process(np.array([0, 0, 0]), np.array([T0, T0 + 1, T0 + 2]), np.array([0.5, 0.15, 0.5]))
    # the trough inside the batch counts; the batch ends back to normal → no flap inside one batch
    assert states(ch) == [("firing", 2)]


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"thresholds": (None, None, None, None)}, "至少需要一级阈值"),
        ({"thresholds": (5, 3, None, None)}, "递增"),
        ({"metric": "sum"}, "时间窗"),
        ({"metric": "avg"}, "未知指标"),
    ],
)
def test_bad_rules_are_named_in_chinese(kwargs, words):
    rule = Rule(1, "坏规则", sensor_type="gas", **{"thresholds": (1, 2, 3, 4), **kwargs})
    with pytest.raises(RuleError, match=words) as err:
        rule.validate()
    assert "坏规则" in str(err.value)


# ------------------------------------------------------- per-sensor thresholds


def typical_high_engine(**rule_kw):
    """Three stations with typical highs 2.0, 3.0 and 4.0 m and one without."""
    rule = Rule(
        7,
        "超常年高值",
        sensor_type="water_level",
        threshold_refs=(None, "常年高值", None, "警戒水位"),
        **rule_kw,
    )
    return Engine(
        [1, 2, 3, 4],
        ["water_level"] * 4,
        [rule],
        thresholds=[
            {"常年高值": 2.0, "警戒水位": 5.0},
            {"常年高值": 3.0, "警戒水位": 6.0},
            {"常年高值": 4.0, "警戒水位": 7.0},
            {"警戒水位": 5.0},  # no typical high: not watched
        ],
    )


def test_one_rule_each_station_against_its_own_typical_high():
    e = typical_high_engine()
    changes = e.process(np.array([0, 1, 2, 3]), np.full(4, T0), np.array([3.5, 3.5, 3.5, 9.0]))
    # 3.5 m is above the typical high of stations 1 and 2 only; 4 has none.
    assert sorted((c.sensor, c.state, c.level) for c in changes) == [
        (1, "firing", 2),
        (2, "firing", 2),
    ]
    assert e.lacking == {7: 1}
    # Station 1 passes its own warning level (5 m): red; station 3 still quiet at 4.5.
    changes = e.process(np.array([0, 2]), np.full(2, T0 + 60), np.array([5.2, 3.9]))
    assert [(c.sensor, c.level) for c in changes] == [(1, 4)]


def test_per_sensor_thresholds_keep_hysteresis_and_resolve():
    e = typical_high_engine(hysteresis=0.2)
    e.process(np.array([1]), np.array([T0]), np.array([3.1]))
    assert e.level_of(7, 2) == 2
    assert feed(e, 2, [(60, 2.9)]) == []  # within 0.2 of its 3.0
    assert states(feed(e, 2, [(120, 2.7)])) == [("resolved", 0)]


def test_evaluable_and_validation_of_references():
    rule = Rule(1, "r", sensor_type="water_level", threshold_refs=(None, None, None, "警戒水位"))
    rule.validate()
    assert rule.evaluable({"警戒水位": 3.0}) and not rule.evaluable({"常年高值": 3.0})
    assert not rule.evaluable({"警戒水位": float("nan")}) and not rule.evaluable(None)
    with pytest.raises(RuleError, match="红色阈值不能既填数值又引用"):
        Rule(
            1,
            "r",
            sensor_type="water_level",
            thresholds=(None, None, None, 3.0),
            threshold_refs=(None, None, None, "警戒水位"),
        ).validate()


def test_a_reference_with_an_offset_fires_above_or_below_the_stations_own_level():
    """黄色 at each station's 警戒水位, 橙色 half a metre above it, 红色 at 保证水位."""
    rule = Rule(
        8,
        "超警戒",
        sensor_type="water_level",
        threshold_refs=(None, "警戒水位", "警戒水位+0.5", "保证水位"),
    )
    rule.validate()
    assert rule.refs == ("警戒水位", "保证水位")
    e = Engine(
        [1, 2],
        ["water_level"] * 2,
        [rule],
        thresholds=[{"警戒水位": 5.0, "保证水位": 7.0}, {"警戒水位": 6.0, "保证水位": 8.0}],
    )
    changes = e.process(np.array([0, 1]), np.full(2, T0), np.array([5.6, 6.4]))
    assert sorted((c.sensor, c.level) for c in changes) == [(1, 3), (2, 2)]
    low = Rule(
        9,
        "低于",
        sensor_type="water_level",
        direction="below",
        threshold_refs=(None, None, None, "警戒水位 - 2"),
    )
    e = Engine([1], ["water_level"], [low], thresholds=[{"警戒水位": 5.0}])
    assert [c.level for c in e.process(np.array([0]), np.array([T0]), np.array([2.9]))] == [4]


@pytest.mark.parametrize("ref", ["+0.5", "警戒水位+", "警戒水位+半米", ""])
def test_a_malformed_reference_is_named(ref):
    rule = Rule(
        1, "坏引用", sensor_type="water_level", threshold_refs=(None, None, None, ref or " ")
    )
    with pytest.raises(RuleError, match="坏引用.*红色阈值引用.*警戒水位\\+0.5"):
        rule.validate()
