"""Synthetic registers for the draw benchmark (pure; no Django): entities spread
over 11 districts and the key categories, inspectors with certificates, districts,
conflicts and last-time assignments, all from one numpy seed."""

from __future__ import annotations

import datetime as dt

import numpy as np

from yingji.enforcement.draw import Entity, Inspector, Parameters, Slot

DISTRICTS = [
    "440103",
    "440104",
    "440105",
    "440106",
    "440111",
    "440112",
    "440113",
    "440114",
    "440115",
    "440117",
    "440118",
]
CATEGORIES = [
    "hc_production",
    "hc_storage",
    "hc_trade",
    "hc_use",
    "town_gas",
    "crowded_place",
    "construction",
    "confined_space",
    "dust_explosion",
    "ammonia_refrigeration",
    "non_coal_mine",
    "steel_metallurgy",
    "general",
]


def monthly_slots(year: int) -> tuple[Slot, ...]:
    """Twelve monthly windows of a year."""
    out = []
    for m in range(1, 13):
        end = dt.date(year + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
        out.append(Slot(f"{year}年{m}月", dt.date(year, m, 1), end))
    return tuple(out)


def registers(
    n_entities: int, n_inspectors: int, seed: int = 7
) -> tuple[list[Entity], list[Inspector], Parameters]:
    """n entities and inspectors with every constraint in play (the workload cap
    in the full-size run)."""
    rng = np.random.default_rng(seed)
    inspectors = []
    year = 2022
    for i in range(n_inspectors):
        own = DISTRICTS[i % len(DISTRICTS)]
        extra = DISTRICTS[int(rng.integers(len(DISTRICTS)))]
        # A few certificates lapse mid-year: they may take only the early months.
        valid_to = (
            dt.date(year, int(rng.integers(6, 13)), 1)
            if rng.random() < 0.05
            else dt.date(year + 3, 12, 31)
        )
        inspectors.append(
            Inspector(
                f"Z{i:06d}", frozenset({own, extra}), dt.date(year - 2, 1, 1), valid_to, frozenset()
            )
        )
    ids = [f"91440100MA{i:08d}" for i in range(n_entities)]
    conflicts: dict[int, set[str]] = {}
    for e in rng.integers(n_entities, size=n_entities // 50):
        conflicts.setdefault(int(rng.integers(n_inspectors)), set()).add(ids[int(e)])
    inspectors = [
        Inspector(
            i.id,
            i.districts,
            i.certificate_valid_from,
            i.certificate_valid_to,
            frozenset(conflicts.get(k, ())),
        )
        for k, i in enumerate(inspectors)
    ]
    cats = rng.integers(len(CATEGORIES), size=n_entities)
    dists = rng.integers(len(DISTRICTS), size=n_entities)
    mhi = rng.random(n_entities) < 0.03
    open_major = rng.random(n_entities) < 0.01
    complaints = rng.poisson(0.1, size=n_entities)
    dishonest = rng.random(n_entities) < 0.005
    last = rng.integers(n_inspectors, size=(n_entities, 2))
    entities = [
        Entity(
            ids[k],
            CATEGORIES[cats[k]],
            DISTRICTS[dists[k]],
            bool(mhi[k]),
            int(open_major[k]),
            int(complaints[k]),
            bool(dishonest[k]),
            (f"Z{last[k, 0]:06d}", f"Z{last[k, 1]:06d}"),
        )
        for k in range(n_entities)
    ]
    parameters = Parameters(
        slots=monthly_slots(year),
        proportions={"hc_production": 0.2, "hc_storage": 0.15, "non_coal_mine": 0.3},
        default_proportion=0.05,
        # binds for the busiest inspectors (uncapped, the busiest gets ~21)
        max_per_inspector=14 if n_inspectors >= 2000 else None,
    )
    return entities, inspectors, parameters
