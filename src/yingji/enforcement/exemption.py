"""The penalty exemption list (免处罚清单, seed item 18) as data rules (pure; no
Django). A rule marks a finding exempt from penalty and names the clause that
allows it: 首违不罚 (first minor violation, corrected in time, no harm), 轻微不罚.

A rule applies when every condition it sets holds:

- ``checklist_codes``: the finding is against one of these checklist items
  (empty: any item);
- ``general_only``: the hazard is a general one, not 重大事故隐患;
- ``first_offence``: the entity had no finding against the same item before;
- ``corrected``: the violation was corrected within the deadline set;
- ``no_harm``: it caused no harm (no accident, no injury).

Rules are tried in order; the first that applies wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rule:
    """One entry of the exemption list."""

    code: str
    title: str
    clause: str  # the legal basis, quoted on the finding
    checklist_codes: frozenset[str] = field(default_factory=frozenset)
    general_only: bool = True
    first_offence: bool = True
    corrected: bool = True
    no_harm: bool = True


@dataclass(frozen=True)
class FindingFacts:
    """What the rules look at."""

    checklist_code: str
    major: bool
    first_offence: bool
    corrected: bool
    harm: bool


@dataclass(frozen=True)
class Decision:
    rule: Rule | None
    reasons: tuple[str, ...]  # why each rule did not apply, when none did

    @property
    def exempt(self) -> bool:
        return self.rule is not None


def unmet(rule: Rule, facts: FindingFacts) -> list[str]:
    """The conditions of `rule` the finding does not meet (Chinese), [] if it applies."""
    out = []
    if rule.checklist_codes and facts.checklist_code not in rule.checklist_codes:
        out.append("检查项不在本条适用范围")
    if rule.general_only and facts.major:
        out.append("属重大事故隐患")
    if rule.first_offence and not facts.first_offence:
        out.append("非首次违法")
    if rule.corrected and not facts.corrected:
        out.append("未在期限内改正")
    if rule.no_harm and facts.harm:
        out.append("已造成危害后果")
    return out


def decide(facts: FindingFacts, rules: Sequence[Rule]) -> Decision:
    """The first rule that exempts the finding, or why none does."""
    reasons = []
    for rule in rules:
        problems = unmet(rule, facts)
        if not problems:
            return Decision(rule, ())
        reasons.append(f"{rule.code}:" + "、".join(problems))
    return Decision(None, tuple(reasons))


def codes(values: Iterable[str]) -> frozenset[str]:
    """Checklist codes from a comma/space separated text or a list."""
    if isinstance(values, str):
        values = re.split(r"[\s,，、;；]+", values)
    return frozenset(v.strip() for v in values if v.strip())
