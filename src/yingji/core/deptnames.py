"""Department names: normalisation and near-duplicate detection. Pure Python, no Django.

Plans, ledgers and people write the same body in several ways (科技处 / 科技和统计处,
火灾处 / 火灾管理处 / 防火处, 指挥中心 / 三防指挥中心). This module only *suggests*
pairs that may be the same; an administrator decides (see `departments.merge`).

The rule
--------
Every name is first normalised (`normalize`: NFKC folds full-width letters, digits
and brackets to half-width; all white space, including the ideographic space, is
removed). It is then split (`analyse`) into

* an optional city prefix (``广州市``, ``市`` — `NameRules.prefixes`),
* the organ type at the end (处, 室, 局, 中心, 党委, 纪委, 委, 支队, 区政府 …:
  `NameRules.organ_types`; 委员会 counts as 委, 区人民政府 as 区政府),
* the stem in between, and the stem's *core*: the stem without generic words
  (`NameRules.generic_suffixes` such as 管理, 监督, 和统计 at its end and
  `NameRules.generic_prefixes` such as 安全生产 at its start).

Two names are suggested as possibly the same, with the first reason that applies:

1. ``规范化后相同`` — equal after normalisation (full-width, spaces);
2. ``去掉市名前缀后相同`` — equal once the city prefix is dropped (市地震局 / 地震局);

and, only when both names have the same organ type (a 处 is never the same body as
a 中心 or a 局, which keeps 指挥处 / 指挥中心, 三防处 / 三防指挥中心, 地震局 /
地震监测中心 and 机关党委 / 机关纪委 apart), or when one of them has no recognised type:

3. ``去掉通用后缀后相同`` — the cores are equal (火灾管理处 / 火灾处, 科技和统计处 / 科技处);
4. ``名称包含关系`` — one stem (or core) of at least two characters begins or ends
   the other (指挥中心 / 三防指挥中心). Only at either end: 综合 inside
   风险监测和综合减灾 is a different body;
5. ``同义词:A≈B`` — both cores belong to one group of the synonym table
   (`NameRules.synonyms`, kept as data: 防火 ≈ 火灾 gives 防火处 / 火灾处);
6. ``字面相似度 0.xx`` — the cores share at least two characters and their
   difflib ratio reaches `NameRules.threshold` (0.67), for variants such as
   科技信息化处 / 科技和信息化处.

Among the department names of the 2022 seed plan this suggests exactly 科技处 /
科技和统计处, 火灾处 / 火灾管理处, 火灾处 / 防火处, 火灾管理处 / 防火处 and
指挥中心 / 三防指挥中心 (tests/core/test_deptnames.py lists the pairs that must
and must not be suggested).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

_SPACES = re.compile(r"\s+")
K = TypeVar("K")

# Longest first, so 区人民政府 wins over 政府 and 委员会 over 委.
DEFAULT_ORGAN_TYPES: dict[str, str] = {
    "区人民政府": "区政府",
    "区政府": "区政府",
    "人民政府": "政府",
    "政府": "政府",
    "委员会": "委",
    "党委": "党委",
    "纪委": "纪委",
    "工委": "工委",
    "委": "委",
    "指挥部": "指挥部",
    "支队": "支队",
    "大队": "大队",
    "中队": "中队",
    "中心": "中心",
    "处": "处",
    "室": "室",
    "局": "局",
    "厅": "厅",
    "科": "科",
    "站": "站",
    "所": "所",
    "院": "院",
    "办": "办",
    "队": "队",
    "区": "区",
}

DEFAULT_SYNONYMS: tuple[frozenset[str], ...] = (
    # 火灾(防治)处 and 防火处 are the usual short forms of one fire-prevention division.
    frozenset({"防火", "火灾", "火灾防治"}),
    frozenset({"危化", "危险化学品", "危化品"}),
    frozenset({"三防", "防汛防旱防风"}),
)


@dataclass(frozen=True)
class NameRules:
    """The data the rule runs on; every part can be replaced for another city."""

    prefixes: tuple[str, ...] = ("广州市", "市")
    organ_types: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ORGAN_TYPES))
    generic_suffixes: tuple[str, ...] = ("管理", "监督", "和统计")
    generic_prefixes: tuple[str, ...] = ("安全生产",)
    synonyms: tuple[frozenset[str], ...] = DEFAULT_SYNONYMS
    threshold: float = 0.67

    def with_prefixes(self, *prefixes: str) -> NameRules:
        """These rules with more city prefixes (longest are tried first)."""
        merged = tuple(dict.fromkeys([*prefixes, *self.prefixes]))
        return NameRules(
            merged,
            self.organ_types,
            self.generic_suffixes,
            self.generic_prefixes,
            self.synonyms,
            self.threshold,
        )


DEFAULT_RULES = NameRules()


@dataclass(frozen=True)
class NameParts:
    """A name taken apart: normalised, without city prefix, stem, organ type, core."""

    normalized: str
    unprefixed: str
    stem: str
    organ_type: str | None
    core: str


def normalize(name: str) -> str:
    """Full-width to half-width (NFKC) and no white space at all."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", name or ""))


def analyse(name: str, rules: NameRules = DEFAULT_RULES) -> NameParts:
    """Split a department name into the parts the similarity rule compares."""
    normalized = normalize(name)
    unprefixed = normalized
    for prefix in sorted(rules.prefixes, key=len, reverse=True):
        # Only one prefix, and never the whole name: 市市场监管局 keeps 市场.
        if unprefixed.startswith(prefix) and len(unprefixed) > len(prefix):
            unprefixed = unprefixed[len(prefix) :]
            break
    stem, organ_type = unprefixed, None
    for suffix in sorted(rules.organ_types, key=len, reverse=True):
        if unprefixed.endswith(suffix) and len(unprefixed) > len(suffix):
            stem, organ_type = unprefixed[: -len(suffix)], rules.organ_types[suffix]
            break
    return NameParts(normalized, unprefixed, stem, organ_type, _core(stem, rules))


def _core(stem: str, rules: NameRules) -> str:
    core, changed = stem, True
    while changed:
        changed = False
        for word in rules.generic_suffixes:
            if core.endswith(word) and len(core) > len(word):
                core, changed = core[: -len(word)], True
        for word in rules.generic_prefixes:
            if core.startswith(word) and len(core) > len(word):
                core, changed = core[len(word) :], True
    return core


def _ends_with_other(a: str, b: str) -> bool:
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 2 and short != long_ and (long_.startswith(short) or long_.endswith(short))


def _synonym_group(core: str, rules: NameRules) -> frozenset[str] | None:
    for group in rules.synonyms:
        if core in group:
            return group
    return None


def compare(a: NameParts, b: NameParts, rules: NameRules = DEFAULT_RULES) -> str | None:
    """The reason two analysed names may be the same department, or None."""
    if not a.normalized or not b.normalized:
        return None
    if a.normalized == b.normalized:
        return "规范化后相同"
    if a.unprefixed == b.unprefixed:
        return "去掉市名前缀后相同"
    if a.organ_type and b.organ_type and a.organ_type != b.organ_type:
        return None
    if a.core and a.core == b.core:
        return "去掉通用后缀后相同"
    if _ends_with_other(a.stem, b.stem) or _ends_with_other(a.core, b.core):
        return "名称包含关系"
    group = _synonym_group(a.core, rules)
    if group is not None and b.core in group:
        return f"同义词:{a.core}≈{b.core}"
    if len(set(a.core) & set(b.core)) >= 2:
        ratio = difflib.SequenceMatcher(None, a.core, b.core).ratio()
        if ratio >= rules.threshold:
            return f"字面相似度 {ratio:.2f}"
    return None


def similar(a: str, b: str, rules: NameRules = DEFAULT_RULES) -> str | None:
    """The reason names `a` and `b` may be the same department, or None."""
    return compare(analyse(a, rules), analyse(b, rules), rules)


def similar_pairs(
    names: Iterable[str], rules: NameRules = DEFAULT_RULES
) -> list[tuple[str, str, str]]:
    """Every pair of `names` that may be the same department, as (a, b, reason).

    `a` comes before `b` in the input; an exactly repeated name is ignored.
    """
    unique = list(dict.fromkeys(names))
    return [(a, b, reason) for _, a, _, b, reason in similar_keyed(enumerate(unique), rules)]


def similar_keyed(
    entries: Iterable[tuple[K, str]], rules: NameRules = DEFAULT_RULES
) -> list[tuple[K, str, K, str, str]]:
    """Near-duplicates among names that belong to keys (a department and its aliases).

    Names of the same key are never compared with each other. For each pair of keys
    only the first matching pair of names counts, so list each key's main name
    before its aliases to have reasons speak of main names where they can.
    Returns (key_a, name_a, key_b, name_b, reason), `a` earlier in the input.
    """
    items: Sequence[tuple[K, str, NameParts]] = [(k, n, analyse(n, rules)) for k, n in entries]
    found: dict[frozenset, tuple[K, str, K, str, str]] = {}
    for i, (key_a, name_a, parts_a) in enumerate(items):
        for key_b, name_b, parts_b in items[i + 1 :]:
            pair = frozenset((key_a, key_b))
            if key_a == key_b or pair in found:
                continue
            reason = compare(parts_a, parts_b, rules)
            if reason:
                found[pair] = (key_a, name_a, key_b, name_b, reason)
    return list(found.values())
