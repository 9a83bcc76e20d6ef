"""Who a plan's card or working group addresses. Pure: no Django.

A card template names either one department (the default) or a place-bound
addressee resolved at activation from the activation's area:

- ``area_streets``:   the street offices (镇街应急办) of every street in the area;
- ``area_districts``: the district offices (区政府, kind district_gov) of every
  district the area touches.

An area is a list of region codes (city 6 digits ending 00, district 6 digits,
street 9 digits); a code covers itself and every code below it.
"""

from __future__ import annotations

from collections.abc import Iterable

from yingji.core import regioncodes

DEPARTMENT, AREA_STREETS, AREA_DISTRICTS = "department", "area_streets", "area_districts"
LABELS = {
    DEPARTMENT: "指定单位",
    AREA_STREETS: "受影响区域镇街应急办",
    AREA_DISTRICTS: "受影响区域区应急办(区政府)",
}

# How a plan document or structure names the place-bound addressees.
MARKERS: dict[str, str] = {
    "受影响区域镇街": AREA_STREETS,
    "受影响区域镇街应急办": AREA_STREETS,
    "受影响镇街": AREA_STREETS,
    "属地镇街": AREA_STREETS,
    "各镇街": AREA_STREETS,
    "各镇(街)": AREA_STREETS,
    "各镇街应急办": AREA_STREETS,
    "受影响区域各区": AREA_DISTRICTS,
    "受影响区域区应急办": AREA_DISTRICTS,
    "受影响区": AREA_DISTRICTS,
    "属地区政府": AREA_DISTRICTS,
    "各区政府": AREA_DISTRICTS,
    "各区应急办": AREA_DISTRICTS,
    LABELS[AREA_STREETS]: AREA_STREETS,
    LABELS[AREA_DISTRICTS]: AREA_DISTRICTS,
}


def addressee_of(name: str) -> str:
    """AREA_STREETS / AREA_DISTRICTS for a marker name, else DEPARTMENT."""
    return MARKERS.get((name or "").strip(), DEPARTMENT)


def covers(area: Iterable[str], code: str) -> bool:
    """True when `code` is one of the area's regions or lies below one."""
    return regioncodes.within_any(code, area)


def normalise(codes: Iterable[str]) -> list[str]:
    """The area without duplicates or codes inside another of its codes, sorted."""
    unique = sorted(
        {c.strip() for c in codes if c and c.strip()}, key=lambda c: (len(regioncodes.prefix(c)), c)
    )
    out: list[str] = []
    for c in unique:
        if not covers(out, c):
            out.append(c)
    return sorted(out)


def streets_in(area: Iterable[str], street_codes: Iterable[str]) -> list[str]:
    """The streets (9-digit codes) the area covers."""
    area = list(area)
    return sorted(c for c in street_codes if covers(area, c))


def districts_in(area: Iterable[str], district_codes: Iterable[str]) -> list[str]:
    """The districts the area touches: covered by it, or holding one of its streets."""
    area = list(area)
    return sorted(
        d
        for d in district_codes
        if covers(area, d) or any(regioncodes.is_within(a, d) for a in area)
    )
