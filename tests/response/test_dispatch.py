"""Nearest resources, dispatch order states and shelter allocation (pure)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yingji.response import dispatch
from yingji.response.dispatch import ResourceIndex, ShelterSlot, allocate_shelters, haversine_km


def test_haversine_known_distance():
    # 0.1° of latitude is about 11.1 km
    assert haversine_km(113.3, 23.1, np.array([113.3]), np.array([23.2]))[0] == pytest.approx(
        11.12, abs=0.02
    )


def index():
    return ResourceIndex(
        ids=[1, 2, 3, 4, 5],
        lons=[113.30, 113.31, 113.50, 113.32, 113.301],
        lats=[23.10, 23.10, 23.30, 23.10, 23.10],
        capabilities=[["排涝"], ["排涝", "水上救援"], ["水上救援"], ["城市搜救"], ["排涝"]],
        available=[True, True, True, True, False],
    )


def test_nearest_by_capability_nearest_first():
    hits = index().nearest(113.30, 23.10, ["排涝"], k=3)
    # 5 is closest but unavailable
    assert [h.id for h in hits] == [1, 2]
    assert hits[0].distance_km == 0


def test_all_capabilities_must_be_present():
    assert [h.id for h in index().nearest(113.30, 23.10, ["排涝", "水上救援"])] == [2]


def test_unknown_capability_matches_nothing_and_exclusions_apply():
    assert index().nearest(113.30, 23.10, ["核生化"]) == []
    assert [h.id for h in index().nearest(113.30, 23.10, ["排涝"], exclude=[1])] == [2]


def test_k_nearest_agrees_with_brute_force():
    rng = np.random.default_rng(7)
    n = 5000
    lons, lats = rng.uniform(113, 114, n), rng.uniform(22.6, 23.9, n)
    caps = [["a"] if i % 3 == 0 else ["b"] for i in range(n)]
    idx = ResourceIndex(list(range(n)), lons, lats, caps)
    got = [h.id for h in idx.nearest(113.5, 23.2, ["a"], k=10)]
    d = haversine_km(113.5, 23.2, lons, lats)
    expected = [int(i) for i in np.argsort(d) if i % 3 == 0][:10]
    assert got == expected


def test_order_states_follow_the_machine():
    dispatch.check_order_transition(dispatch.ORDERED, dispatch.EN_ROUTE)
    dispatch.check_order_transition(dispatch.EN_ROUTE, dispatch.ON_SCENE)
    dispatch.check_order_transition(dispatch.ON_SCENE, dispatch.RETURNED)
    with pytest.raises(dispatch.OrderTransitionError, match="到场"):
        dispatch.check_order_transition(dispatch.ORDERED, dispatch.ON_SCENE)
    with pytest.raises(dispatch.OrderTransitionError):
        dispatch.check_order_transition(dispatch.RETURNED, dispatch.EN_ROUTE)


def test_shelters_fill_nearest_first_by_free_capacity():
    shelters = [
        ShelterSlot(1, 113.30, 23.10, free=100),
        ShelterSlot(2, 113.31, 23.10, free=50),
        ShelterSlot(3, 113.40, 23.10, free=1000, is_open=False),
    ]
    result = allocate_shelters(113.30, 23.10, 400, shelters)
    assert [(p.shelter_id, p.people, p.opens) for p in result.placements] == [
        (1, 100, False),
        (2, 50, False),
        (3, 250, True),
    ]
    assert result.unplaced == 0


def test_shelters_report_who_cannot_be_placed():
    result = allocate_shelters(
        113.30,
        23.10,
        400,
        [ShelterSlot(1, 113.30, 23.10, free=100), ShelterSlot(2, 113.31, 23.10, free=0)],
        allow_closed=False,
    )
    assert result.unplaced == 300 and len(result.placements) == 1


slots = st.lists(
    st.tuples(st.floats(113.0, 114.0), st.floats(22.6, 23.9), st.integers(0, 500), st.booleans()),
    max_size=12,
)


@given(slots, st.integers(0, 3000), st.booleans())
def test_allocation_never_overfills_and_accounts_for_everyone(raw, evacuees, allow_closed):
    shelters = [
        ShelterSlot(i, lon, lat, free, is_open) for i, (lon, lat, free, is_open) in enumerate(raw)
    ]
    result = allocate_shelters(113.3, 23.1, evacuees, shelters, allow_closed=allow_closed)
    by_id = {s.id: s for s in shelters}
    assert sum(p.people for p in result.placements) + result.unplaced == evacuees
    for p in result.placements:
        assert 0 < p.people <= by_id[p.shelter_id].free
        assert allow_closed or by_id[p.shelter_id].is_open
    assert [p.distance_km for p in result.placements] == sorted(
        p.distance_km for p in result.placements
    )
    usable = sum(s.free for s in shelters if s.is_open or allow_closed)
    assert result.unplaced == max(evacuees - usable, 0)


@given(st.integers(1, 20), st.floats(113.0, 114.0), st.floats(22.6, 23.9))
def test_nearest_hits_come_nearest_first_and_all_have_the_capability(k, lon, lat):
    idx = index()
    hits = idx.nearest(lon, lat, ["排涝"], k=k)
    assert [h.distance_km for h in hits] == sorted(h.distance_km for h in hits)
    assert {h.id for h in hits} <= {1, 2} and len(hits) == min(k, 2)
