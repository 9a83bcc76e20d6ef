"""Time-partition planning (pure): the window around now, the partitions a span of
rows needs, what retention drops and trims, bounds read from the catalogue."""

import datetime as dt

import pytest

from yingji.core import partitionplan as pp

DAY_MS = 86_400_000
NOW = pp.ms(dt.datetime(2026, 12, 4, 13, 30, tzinfo=dt.UTC))
READINGS = pp.Spec("r", "ts_ms", pp.DAY, retention_days=30, ahead=7)
MINUTES = pp.Spec("m", "start_ms", pp.MONTH, retention_days=180, ahead=2)


def have(spec, ranges):
    return [pp.Existing(r.name, r.lo, r.hi) for r in ranges] + [
        pp.Existing(spec.default, None, None)
    ]


def test_day_partitions_are_aligned_utc_days_with_their_names():
    rs = pp.ranges(READINGS, NOW, NOW + DAY_MS)
    assert [r.name for r in rs] == ["r_p20261204", "r_p20261205"]
    assert rs[0].lo == pp.ms(dt.date(2026, 12, 4)) and rs[0].hi == rs[1].lo
    assert rs[1].hi - rs[1].lo == DAY_MS


def test_month_partitions_cross_the_year():
    rs = pp.ranges(MINUTES, pp.ms(dt.date(2026, 11, 20)), pp.ms(dt.date(2027, 1, 3)))
    assert [r.name for r in rs] == ["m_p202611", "m_p202612", "m_p202701"]
    assert rs[-1].hi == pp.ms(dt.date(2027, 2, 1))


def test_the_window_runs_from_the_retention_cut_to_ahead_and_only_what_is_missing():
    want = pp.window(READINGS, [], NOW)
    assert want[0].name == "r_p20261104" and want[-1].name == "r_p20261211"
    assert len(want) == 38  # 30 days kept, today, 7 ahead
    assert pp.window(READINGS, have(READINGS, want), NOW) == []
    later = pp.window(READINGS, have(READINGS, want), NOW + 2 * DAY_MS)
    assert [r.name for r in later] == ["r_p20261212", "r_p20261213"]
    assert [r.name for r in pp.window(READINGS, have(READINGS, want), NOW, ahead=9)] == [
        "r_p20261212",
        "r_p20261213",
    ]
    with pytest.raises(pp.PlanError, match="--ahead"):
        pp.window(READINGS, [], NOW, ahead=-1)


def test_a_table_kept_forever_gets_partitions_from_now_on():
    forever = pp.Spec("f", "ts_ms", pp.DAY, retention_days=None, ahead=1)
    assert [r.name for r in pp.window(forever, [], NOW)] == ["f_p20261204", "f_p20261205"]
    assert pp.retention(forever, [], NOW) is None


def test_covering_a_replay_of_past_days_skips_what_exists_and_what_retention_drops():
    existing = have(READINGS, pp.ranges(READINGS, NOW, NOW))  # today only
    lo = NOW - 40 * DAY_MS  # the file starts past retention
    need = pp.covering(READINGS, existing, lo, NOW, NOW)
    assert need[0].name == "r_p20261104"  # from the cut's day, not 40 days back
    assert need[-1].name == "r_p20261203" and len(need) == 30
    assert pp.covering(READINGS, existing, NOW, NOW + 10, NOW) == []


def test_a_partition_made_by_hand_that_overlaps_is_left_alone():
    odd = pp.Existing("r_manual", NOW - 3_600_000, NOW + 3_600_000)
    need = pp.covering(READINGS, [odd], NOW - DAY_MS, NOW + DAY_MS, NOW)
    assert [r.name for r in need] == ["r_p20261203", "r_p20261205"]


def test_retention_drops_whole_partitions_before_the_cut_and_trims_default():
    parts = have(READINGS, pp.ranges(READINGS, NOW - 33 * DAY_MS, NOW))
    plan = pp.retention(READINGS, parts, NOW)
    assert plan.cut_ms == NOW - 30 * DAY_MS
    assert [e.name for e in plan.drop] == ["r_p20261101", "r_p20261102", "r_p20261103"]
    assert all(e.hi <= plan.cut_ms for e in plan.drop)
    # the cut falls at 13:30 on 4 Nov: that day is kept whole until the next run
    assert plan.trim == ["r_default"]
    exact = pp.retention(READINGS, parts, NOW, exact=True)
    assert exact.drop == plan.drop and exact.trim == ["r_p20261104", "r_default"]
    nextday = pp.retention(READINGS, parts, NOW + DAY_MS)
    assert nextday.drop[-1].name == "r_p20261104"


def test_retention_at_midnight_has_no_boundary_partition():
    midnight = pp.ms(dt.date(2026, 12, 4))
    parts = have(READINGS, pp.ranges(READINGS, midnight - 32 * DAY_MS, midnight))
    plan = pp.retention(READINGS, parts, midnight, exact=True)
    assert [e.name for e in plan.drop][-1] == "r_p20261103"
    assert plan.trim == ["r_default"]


def test_bounds_are_read_from_the_catalogue_text():
    e = pp.parse_bound("r_p1", "FOR VALUES FROM ('1796342400000') TO ('1796428800000')")
    assert (e.lo, e.hi, e.is_range) == (1796342400000, 1796428800000, True)
    assert not pp.parse_bound("r_default", "DEFAULT").is_range
    assert not pp.parse_bound("x", "FOR VALUES FROM (MINVALUE) TO ('5')").is_range
    assert pp.describe(e) == "2026-12-04 00:00 – 2026-12-05 00:00 UTC"


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [({"period": "week"}, "周期"), ({"ahead": -1}, "负"), ({"retention_days": 0}, "保留天数")],
)
def test_a_bad_spec_names_the_table_and_the_problem(kwargs, words):
    with pytest.raises(pp.PlanError, match=f"分区表 r.*{words}"):
        pp.Spec("r", "ts_ms", **kwargs)
