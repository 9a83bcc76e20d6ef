"""Standing down when the warning behind a response ends. Pure: no Django.

When a CAP Cancel (解除) or an Update that lowers the colour is published for an
alert that led to plan activations, the duty desk gets a proposal: for each
activation the alert triggered, the level the remaining grounds still call for.
The grounds are every other reason the plan has (the incident's own level,
other alarms or alerts on the incident, for an Update the new colour); with
none left the proposal is to stand down (终止响应), with a lower one to lower
the level, and an activation its remaining grounds still justify is left alone.
Nothing is done until the duty officer confirms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from yingji.response.levels import RESPONSE_LABELS, rank
from yingji.response.triggers import COLOURS


@dataclass(frozen=True)
class Running:
    """An active activation the ended alert triggered."""

    activation_id: int
    incident_id: int
    plan_id: int
    plan: str
    level: str


@dataclass(frozen=True)
class Action:
    activation_id: int
    incident_id: int
    plan_id: int
    plan: str
    from_level: str
    to_level: str | None  # None: stand down

    @property
    def text(self) -> str:
        now = RESPONSE_LABELS[self.from_level]
        if self.to_level is None:
            return f"终止《{self.plan}》{now}"
        return f"《{self.plan}》由{now}降为{RESPONSE_LABELS[self.to_level]}"

    def as_json(self) -> dict:
        return {
            "activation_id": self.activation_id,
            "incident_id": self.incident_id,
            "plan_id": self.plan_id,
            "plan": self.plan,
            "from": self.from_level,
            "to": self.to_level,
            "text": self.text,
        }


def lowers(previous: str | None, new: str | None) -> bool:
    """True when an Update moves the colour down (red → orange …) or drops it."""
    if previous not in COLOURS:
        return False
    if new not in COLOURS:
        return True
    return COLOURS.index(new) < COLOURS.index(previous)


def actions(running: Iterable[Running], remaining: Mapping[int, Iterable[str]]) -> list[Action]:
    """What to propose for each running activation given the response levels
    the remaining grounds still call for, per plan id (most severe wins)."""
    out = []
    for r in running:
        levels = [lv for lv in remaining.get(r.plan_id, ()) if lv]
        target = max(levels, key=rank) if levels else None
        if target is not None and rank(target) >= rank(r.level):
            continue
        out.append(Action(r.activation_id, r.incident_id, r.plan_id, r.plan, r.level, target))
    return sorted(out, key=lambda a: (a.incident_id, a.activation_id))


def reference_identifiers(references: Iterable[str] | str) -> list[str]:
    """Identifiers from CAP references: "sender,identifier,sent" entries,
    whitespace-separated in one string or given as a list; bare identifiers pass."""
    if isinstance(references, str):
        references = references.split()
    out = []
    for ref in references:
        parts = [p.strip() for p in str(ref).split(",")]
        ident = parts[1] if len(parts) >= 3 else parts[0]
        if ident and ident not in out:
            out.append(ident)
    return out
