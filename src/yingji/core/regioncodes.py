"""Region codes: the one rule for which region lies inside which. Pure: no Django.

Chinese administrative division codes (GB/T 2260, extended to streets and
communities) nest by prefix: city 440100, district 440106, street 440106001,
community 440106001001. Province and city codes are padded with zeros (44 0000,
4401 00), and a 12-digit CPEAS geocode pads any code to 12 digits (440106000000
is district 440106). So a region lies inside another exactly when its code starts
with the other's significant prefix (`prefix`): 440106001 is inside 440100
because it starts with 4401.

Querysets keep `code__startswith=prefix(ancestor)`; everything else asks
`is_within` / `within_any`.
"""

from __future__ import annotations

from collections.abc import Iterable

CITY, DISTRICT, STREET, COMMUNITY = "city", "district", "street", "community"

# Where a code's levels end: province 2, city 4, district 6, street 9, community 12.
_LEVEL_LENGTHS = (2, 4, 6, 9, 12)
DISTRICT_LENGTH = 6


def prefix(code: str | None) -> str:
    """The significant prefix shared by a region and everything inside it: the
    code without its zero padding (440100 → 4401, 440000 → 44, 440106 → 440106,
    440106001 → 440106001, 440106000000 → 440106)."""
    code = (code or "").strip()
    for length in _LEVEL_LENGTHS:
        if length <= len(code) and set(code[length:]) <= {"0"}:
            return code[:length]
    return code


def is_within(code: str | None, ancestor: str | None) -> bool:
    """True when `code` is `ancestor` itself or lies inside it; False when either
    is empty."""
    code = (code or "").strip()
    wanted = prefix(ancestor)
    return bool(code) and bool(wanted) and code.startswith(wanted)


def within_any(code: str | None, ancestors: Iterable[str | None]) -> bool:
    """True when `code` is one of `ancestors` or lies inside one (empty ones ignored)."""
    return any(is_within(code, a) for a in ancestors)


def level_of(code: str) -> str | None:
    """The level a well-formed code implies (city for XXXX00, district for other
    6-digit codes, street for 9 digits, community for 12), or None if malformed."""
    if not code.isascii() or not code.isdigit():
        return None
    if len(code) == 6:
        return CITY if code.endswith("00") else DISTRICT
    return {9: STREET, 12: COMMUNITY}.get(len(code))


def parent_of(code: str) -> str | None:
    """The parent a code implies: district → its city XXXX00, street → its first
    6 digits, community → its first 9; a city (or a malformed code) has none."""
    level = level_of(code)
    if level == DISTRICT:
        return code[:4] + "00"
    if level == STREET:
        return code[:6]
    if level == COMMUNITY:
        return code[:9]
    return None


def ancestors(code: str) -> list[str]:
    """Every region a code implies it lies inside, nearest first
    (440106001001 → 440106001, 440106, 440100)."""
    out: list[str] = []
    parent = parent_of(code)
    while parent is not None:
        out.append(parent)
        parent = parent_of(parent)
    return out


def district_of(code: str | None) -> str | None:
    """The 6-digit code heading `code`: a street's or community's district, a
    district (or city) code itself; None when the code is shorter than 6 digits."""
    code = (code or "").strip()
    return code[:DISTRICT_LENGTH] if len(code) >= DISTRICT_LENGTH else None
