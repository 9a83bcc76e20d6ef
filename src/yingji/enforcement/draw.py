"""The double-random draw (双随机): pure, deterministic, re-runnable. No Django.

    result = draw(entities, inspectors, parameters, seed)

The result is a pure function of (entities, inspectors, parameters, seed,
ALGORITHM). Anyone holding the published inputs (`inputs_document()`) can re-run
it — with this module alone: `python -m yingji.enforcement.draw verify inputs.json`.

Algorithm `yingji-draw/1`
-------------------------
Randomness: a SHA-256 counter. ``uniform(seed, label, key)`` takes the first 8
bytes of SHA-256("<seed>|<label>|<key>") (UTF-8) as a big-endian integer, keeps
its top 53 bits n and returns (n + 0.5) / 2**53, a float strictly inside (0, 1).
Every random number depends only on the seed and the name of the thing it decides
(an entity's credit code, a slot, an inspector pick), never on input order, so
adding one entity to the register does not reshuffle the others.

1. Weight of an entity: 1 × ``major_hazard_installation`` (if it has one) ×
   ``open_major_hazard`` (if any major hazard is open) × ``complaint`` ** min(n,
   ``complaint_cap``) × ``dishonest`` (if on the serious-dishonesty list).
2. Entities per category: ``counts[c]`` if given, else ceil(n × proportion)
   (``proportions[c]`` or ``default_proportion``); or, when ``total`` is set,
   ``total`` entities from the whole register as one pool. Weighted sampling without
   replacement by Efraimidis–Spirakis: key = -ln(u) / weight, the k smallest
   keys win (ties by entity id).
3. Slots (months of the annual plan, or one key period): the selected entities,
   ordered by uniform(seed, "slot", id), are dealt round-robin over the slots.
4. Inspectors: for each selected entity (in id order) the eligible inspectors are
   those, sorted by id, whose districts include the entity's district, whose
   certificate is valid for the whole slot (issued on or before its start,
   expiring on or after its end), who declared no conflict with the entity and
   who did not inspect it last time and, when ``max_per_inspector`` is set, who
   have not yet reached that many assignments in this draw (counted as entities
   are processed in id order). ``inspectors_per_entity`` are taken without
   replacement: pick j takes index floor(uniform(seed, "inspector", id#j) × m)
   of the m still available.

If any selected entity cannot get enough inspectors the draw fails with
`DrawImpossible`, naming every such entity and, per constraint, how many
inspectors it removed.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import NamedTuple

ALGORITHM = "yingji-draw/1"


# ---------------------------------------------------------------- randomness

_SCALE = float(2**53)


def uniform(seed: str, label: str, key: str) -> float:
    """The documented PRNG: a float in (0, 1) from SHA-256("seed|label|key")."""
    digest = hashlib.sha256(f"{seed}|{label}|{key}".encode()).digest()
    return ((int.from_bytes(digest[:8], "big") >> 11) + 0.5) / _SCALE


def _stream(seed: str, label: str):
    """uniform(seed, label, ·) with the common prefix hashed once (same numbers)."""
    prefix = hashlib.sha256(f"{seed}|{label}|".encode())
    from_bytes = int.from_bytes

    def u(key: str) -> float:
        h = prefix.copy()
        h.update(key.encode())
        return ((from_bytes(h.digest()[:8], "big") >> 11) + 0.5) / _SCALE

    return u


def seed_from_public_value(value: str) -> str:
    """The seed fixed from a public value (a named lottery result, a published
    text): the hex SHA-256 of its UTF-8 bytes, whitespace at the ends removed."""
    return hashlib.sha256(value.strip().encode()).hexdigest()


def derive_seed(seed: str, label: str, salt: str = "") -> str:
    """A sub-seed for one of several draws made from one published seed (the
    annual draw, each key-date draw): SHA-256("seed|label"), or
    SHA-256("seed|label|salt") with a salt committed to before the seed was known
    and revealed after the draw's windows (so nobody can compute an unannounced
    visit in advance)."""
    text = f"{seed}|{label}|{salt}" if salt else f"{seed}|{label}"
    return hashlib.sha256(text.encode()).hexdigest()


def provenance_problems(inputs: Mapping) -> list[str]:
    """Check the chain public value → plan seed → this draw's seed recorded in an
    inputs document ("plan_seed"), and the salt against its commitment.
    [] when all holds (or the document records no provenance)."""
    origin = inputs.get("plan_seed")
    if not origin:
        return []
    problems = []
    if seed_from_public_value(origin.get("value", "")) != origin.get("seed"):
        problems.append("计划种子不是公开值的 SHA-256")
    salt = origin.get("salt", "")
    if salt and hashlib.sha256(salt.encode()).hexdigest() != origin.get("salt_sha256"):
        problems.append("盐值与事先公布的承诺(SHA-256)不符")
    if derive_seed(origin.get("seed", ""), origin.get("label", ""), salt) != inputs.get("seed"):
        problems.append("本次种子不能由计划种子、抽取名称和盐值推出")
    return problems


# ---------------------------------------------------------------- inputs


class Entity(NamedTuple):
    """One inspectable entity (检查对象) as the draw sees it (a named tuple:
    a register holds 100,000 of them and they are built fast)."""

    id: str  # unified social credit code
    category: str
    district: str  # 6-digit district code
    major_hazard_installation: bool = False
    open_major_hazards: int = 0
    complaints: int = 0
    dishonest: bool = False
    last_inspectors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Inspector:
    """One law-enforcement officer (执法人员) as the draw sees it."""

    id: str  # enforcement certificate number
    districts: frozenset[str]
    certificate_valid_from: date
    certificate_valid_to: date
    conflicts: frozenset[str] = frozenset()  # entity ids with a declared conflict


@dataclass(frozen=True)
class Slot:
    """A window in which the inspection takes place (a month, a key period)."""

    label: str
    start: date
    end: date


@dataclass(frozen=True)
class Weights:
    """Multipliers that raise an entity's chance of being drawn."""

    major_hazard_installation: float = 2.0
    open_major_hazard: float = 3.0
    complaint: float = 1.5
    complaint_cap: int = 3
    dishonest: float = 3.0


@dataclass(frozen=True)
class Parameters:
    slots: tuple[Slot, ...]
    proportions: Mapping[str, float] = field(default_factory=dict)
    default_proportion: float = 0.05
    counts: Mapping[str, int] = field(default_factory=dict)
    # When set, draw this many over the whole register together (key-date visits)
    # instead of per category.
    total: int | None = None
    inspectors_per_entity: int = 2
    # Workload cap per inspector in this draw (None: no cap).
    max_per_inspector: int | None = None
    weights: Weights = field(default_factory=Weights)


def weight(entity: Entity, w: Weights) -> float:
    """How much more likely than an ordinary entity this one is to be drawn."""
    value = 1.0
    if entity.major_hazard_installation:
        value *= w.major_hazard_installation
    if entity.open_major_hazards > 0:
        value *= w.open_major_hazard
    if entity.complaints > 0:
        value *= w.complaint ** min(entity.complaints, w.complaint_cap)
    if entity.dishonest:
        value *= w.dishonest
    return value


def validate(parameters: Parameters) -> None:
    """ValueError (Chinese message) for parameters no draw can use."""
    if not parameters.slots:
        raise ValueError("至少需要一个检查时段")
    for s in parameters.slots:
        if s.end < s.start:
            raise ValueError(f"检查时段“{s.label}”结束日期早于开始日期")
    for cat, p in {**parameters.proportions, "默认": parameters.default_proportion}.items():
        if not 0 <= p <= 1:
            raise ValueError(f"抽查比例须在 0 与 1 之间:{cat} = {p}")
    if parameters.total is not None and parameters.total < 0:
        raise ValueError(f"抽查总数不能为负:{parameters.total}")
    for cat, n in parameters.counts.items():
        if n < 0:
            raise ValueError(f"抽查数量不能为负:{cat} = {n}")
    if parameters.max_per_inspector is not None and parameters.max_per_inspector < 1:
        raise ValueError(f"每名执法人员的检查上限至少为 1:{parameters.max_per_inspector}")
    if parameters.inspectors_per_entity < 2:
        raise ValueError("双随机要求每个检查对象至少 2 名执法人员")
    for name, value in asdict(parameters.weights).items():
        if value <= 0:
            raise ValueError(f"权重须为正数:{name} = {value}")


# ---------------------------------------------------------------- result


@dataclass(frozen=True)
class Pick:
    """One drawn entity: its slot, inspectors and why it was likely."""

    entity_id: str
    category: str
    slot: int  # index into parameters.slots
    inspectors: tuple[str, ...]
    weight: float


@dataclass(frozen=True)
class Result:
    algorithm: str
    seed: str
    picks: tuple[Pick, ...]  # in entity id order
    population: Mapping[str, int]  # entities per category in the register

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the picks: what verification compares."""
        return sha256_json(result_document(self))


@dataclass(frozen=True)
class Shortfall:
    """Why one selected entity cannot be staffed."""

    entity_id: str
    district: str
    slot: str
    needed: int
    eligible: int
    in_district: int
    certificate_invalid: int
    conflict: int
    inspected_last_time: int
    at_capacity: int = 0

    def explain(self) -> str:
        parts = [
            f"检查对象 {self.entity_id}({self.district},{self.slot})需要 {self.needed} 名执法人员,"
            f"仅 {self.eligible} 名符合条件:"
        ]
        if self.in_district == 0:
            parts.append(f"没有执法人员负责辖区 {self.district}")
        else:
            parts.append(f"负责该辖区的 {self.in_district} 名中")
            reasons = []
            if self.certificate_invalid:
                reasons.append(f"{self.certificate_invalid} 名执法证在该时段无效")
            if self.conflict:
                reasons.append(f"{self.conflict} 名申报了利益冲突")
            if self.inspected_last_time:
                reasons.append(f"{self.inspected_last_time} 名上次检查过该对象")
            if self.at_capacity:
                reasons.append(f"{self.at_capacity} 名已达本次检查上限")
            parts.append("、".join(reasons) if reasons else "人数不足")
        return "".join(parts)


class DrawImpossible(Exception):
    """The constraints cannot be met; `shortfalls` names each entity and why."""

    def __init__(self, shortfalls: Sequence[Shortfall]):
        self.shortfalls = list(shortfalls)
        head = f"无法完成抽取:{len(self.shortfalls)} 个被抽中的检查对象无法配齐执法人员。"
        lines = [s.explain() for s in self.shortfalls[:20]]
        if len(self.shortfalls) > 20:
            lines.append(f"……另有 {len(self.shortfalls) - 20} 个")
        super().__init__("\n".join([head, *lines]))


# ---------------------------------------------------------------- the draw


def _quota(n: int, category: str, parameters: Parameters) -> int:
    if category in parameters.counts:
        return min(n, parameters.counts[category])
    p = parameters.proportions.get(category, parameters.default_proportion)
    # round(…, 9) keeps 0.05 × 100 from becoming 5.000000000000001 → 6.
    return min(n, math.ceil(round(n * p, 9)))


def select(
    entities: Iterable[Entity], parameters: Parameters, seed: str
) -> tuple[list[tuple[Entity, float]], dict[str, int]]:
    """Step 1–2: the entities drawn per category (with their weight), and the
    population of each category."""
    by_category: dict[str, list[tuple[float, str, Entity, float]]] = defaultdict(list)
    w = parameters.weights
    u, log = _stream(seed, "entity"), math.log
    for e in entities:
        wt = weight(e, w)
        by_category[e.category].append((-log(u(e.id)) / wt, e.id, e, wt))
    chosen: list[tuple[Entity, float]] = []
    population = {c: len(rows) for c, rows in sorted(by_category.items())}
    pools = by_category
    if parameters.total is not None:
        pools = {"*": [r for rows in by_category.values() for r in rows]}
    for category in sorted(pools):
        rows = pools[category]
        k = (
            min(len(rows), parameters.total)
            if parameters.total is not None
            else _quota(len(rows), category, parameters)
        )
        if k:
            rows.sort()  # by key, then id (ids are unique, so entities are never compared)
            chosen.extend((r[2], r[3]) for r in rows[:k])
    return chosen, population


def draw(
    entities: Iterable[Entity], inspectors: Iterable[Inspector], parameters: Parameters, seed: str
) -> Result:
    """Draw entities and assign inspectors (see the module docstring); raises
    DrawImpossible or ValueError."""
    validate(parameters)
    entities = list(entities)
    ids = [e.id for e in entities]
    if len(set(ids)) != len(ids):
        raise ValueError("检查对象名录中有重复的统一社会信用代码")
    chosen, population = select(entities, parameters, seed)

    slots = parameters.slots
    u_slot = _stream(seed, "slot")
    order = sorted(chosen, key=lambda c: (u_slot(c[0].id), c[0].id))
    slot_of = {c[0].id: i % len(slots) for i, c in enumerate(order)}

    # Inspectors covering each district, and of those the ones certified for
    # each slot: sorted id lists, built once (11 districts × 12 slots, not per entity).
    staff = sorted(inspectors, key=lambda i: i.id)
    by_district: dict[str, list[Inspector]] = defaultdict(list)
    for insp in staff:
        for d in insp.districts:
            by_district[d].append(insp)
    certified: dict[tuple[str, int], tuple[list[str], dict[str, int]]] = {}

    def base(district: str, slot: int) -> tuple[list[str], dict[str, int]]:
        key = (district, slot)
        if key not in certified:
            s = slots[slot]
            ids = [
                i.id
                for i in by_district.get(district, ())
                if i.certificate_valid_from <= s.start and i.certificate_valid_to >= s.end
            ]
            certified[key] = (ids, {x: n for n, x in enumerate(ids)})
        return certified[key]

    conflicted: dict[str, set[str]] = defaultdict(set)
    for insp in staff:
        for entity_id in insp.conflicts:
            conflicted[entity_id].add(insp.id)

    need = parameters.inspectors_per_entity
    picks: list[Pick] = []
    shortfalls: list[Shortfall] = []
    u_pick = _stream(seed, "inspector")
    cap = parameters.max_per_inspector
    load: dict[str, int] = defaultdict(int)
    full: set[str] = set()  # inspectors at the cap
    for entity, wt in sorted(chosen, key=lambda c: c[0].id):
        slot = slot_of[entity.id]
        pool, position = base(entity.district, slot)
        excluded = conflicted.get(entity.id, set()) | set(entity.last_inspectors)
        # Positions in the pool that are not available, ascending: picking the
        # k-th available inspector then skips them, which is the same as taking
        # index k of the pool with those removed, without copying the pool.
        blocked_set = {position[i] for i in excluded if i in position}
        if full:
            if len(full) < len(pool):
                blocked_set.update(position[i] for i in full if i in position)
            else:
                blocked_set.update(n for n, i in enumerate(pool) if i in full)
        blocked = sorted(blocked_set)
        available = len(pool) - len(blocked)
        if available < need:
            shortfalls.append(
                _shortfall(
                    entity,
                    slots[slot],
                    need,
                    available,
                    by_district.get(entity.district, []),
                    conflicted.get(entity.id, set()),
                    full,
                )
            )
            continue
        taken = []
        for j in range(need):
            index = int(u_pick(f"{entity.id}#{j}") * (available - j))
            for p in blocked:
                if p > index:
                    break
                index += 1
            taken.append(pool[index])
            bisect.insort(blocked, index)
        if cap is not None:
            for i in taken:
                load[i] += 1
                if load[i] >= cap:
                    full.add(i)
        picks.append(Pick(entity.id, entity.category, slot, tuple(taken), wt))
    if shortfalls:
        raise DrawImpossible(shortfalls)
    return Result(ALGORITHM, seed, tuple(picks), population)


def _shortfall(
    entity: Entity,
    slot: Slot,
    need: int,
    eligible: int,
    covering: list[Inspector],
    conflicts: set[str],
    full: set[str],
) -> Shortfall:
    """Count, constraint by constraint, which inspectors of the district fell out."""
    invalid = conflict = last = capacity = 0
    for insp in covering:
        if not (
            insp.certificate_valid_from <= slot.start and insp.certificate_valid_to >= slot.end
        ):
            invalid += 1
        elif insp.id in conflicts:
            conflict += 1
        elif insp.id in entity.last_inspectors:
            last += 1
        elif insp.id in full:
            capacity += 1
    return Shortfall(
        entity.id,
        entity.district,
        slot.label,
        need,
        eligible,
        len(covering),
        invalid,
        conflict,
        last,
        capacity,
    )


# ---------------------------------------------------------------- publication


def sha256_json(document: object) -> str:
    """SHA-256 of canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def inputs_document(
    entities: Iterable[Entity], inspectors: Iterable[Inspector], parameters: Parameters, seed: str
) -> dict:
    """Everything the draw reads, as JSON-ready data (what is published)."""
    return {
        "algorithm": ALGORITHM,
        "seed": seed,
        "parameters": {
            "slots": [
                {"label": s.label, "start": s.start.isoformat(), "end": s.end.isoformat()}
                for s in parameters.slots
            ],
            "proportions": dict(sorted(parameters.proportions.items())),
            "default_proportion": parameters.default_proportion,
            "counts": dict(sorted(parameters.counts.items())),
            "total": parameters.total,
            "inspectors_per_entity": parameters.inspectors_per_entity,
            "max_per_inspector": parameters.max_per_inspector,
            "weights": asdict(parameters.weights),
        },
        "entities": [
            {
                "id": e.id,
                "category": e.category,
                "district": e.district,
                "major_hazard_installation": e.major_hazard_installation,
                "open_major_hazards": e.open_major_hazards,
                "complaints": e.complaints,
                "dishonest": e.dishonest,
                "last_inspectors": sorted(e.last_inspectors),
            }
            for e in sorted(entities, key=lambda e: e.id)
        ],
        "inspectors": [
            {
                "id": i.id,
                "districts": sorted(i.districts),
                "certificate_valid_from": i.certificate_valid_from.isoformat(),
                "certificate_valid_to": i.certificate_valid_to.isoformat(),
                "conflicts": sorted(i.conflicts),
            }
            for i in sorted(inspectors, key=lambda i: i.id)
        ],
    }


def from_inputs_document(doc: Mapping) -> tuple[list[Entity], list[Inspector], Parameters, str]:
    """The inverse of inputs_document(); ValueError for another algorithm."""
    if doc.get("algorithm") != ALGORITHM:
        raise ValueError(f"输入文件的算法为 {doc.get('algorithm')!r},本程序实现的是 {ALGORITHM}")
    p = doc["parameters"]
    parameters = Parameters(
        slots=tuple(
            Slot(s["label"], date.fromisoformat(s["start"]), date.fromisoformat(s["end"]))
            for s in p["slots"]
        ),
        proportions=dict(p["proportions"]),
        default_proportion=p["default_proportion"],
        counts=dict(p["counts"]),
        total=p["total"],
        inspectors_per_entity=p["inspectors_per_entity"],
        max_per_inspector=p.get("max_per_inspector"),
        weights=Weights(**p["weights"]),
    )
    entities = [
        Entity(
            e["id"],
            e["category"],
            e["district"],
            e["major_hazard_installation"],
            e["open_major_hazards"],
            e["complaints"],
            e["dishonest"],
            tuple(e["last_inspectors"]),
        )
        for e in doc["entities"]
    ]
    inspectors = [
        Inspector(
            i["id"],
            frozenset(i["districts"]),
            date.fromisoformat(i["certificate_valid_from"]),
            date.fromisoformat(i["certificate_valid_to"]),
            frozenset(i["conflicts"]),
        )
        for i in doc["inspectors"]
    ]
    return entities, inspectors, parameters, doc["seed"]


def result_document(result: Result) -> dict:
    """The result as JSON-ready data (what is published and compared)."""
    return {
        "algorithm": result.algorithm,
        "seed": result.seed,
        "population": dict(sorted(result.population.items())),
        "picks": [
            {
                "entity": p.entity_id,
                "category": p.category,
                "slot": p.slot,
                "inspectors": list(p.inspectors),
                "weight": p.weight,
            }
            for p in result.picks
        ],
    }


def rerun(inputs: Mapping) -> Result:
    """Re-run a draw from its published inputs document."""
    entities, inspectors, parameters, seed = from_inputs_document(inputs)
    return draw(entities, inspectors, parameters, seed)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m yingji.enforcement.draw verify INPUTS.json [RESULT_SHA256]`:
    re-run a published draw without the platform; exit 1 on a mismatch."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (2, 3) or args[0] != "verify":
        print(main.__doc__)
        return 2
    with open(args[1], encoding="utf-8") as fh:
        inputs = json.load(fh)
    problems = provenance_problems(inputs)
    for problem in problems:
        print(f"种子来源核对不通过:{problem}")
    result = rerun(inputs)
    digest = result.digest()
    print(f"{ALGORITHM}: inputs sha256 {sha256_json(inputs)}")
    print(f"{ALGORITHM}: {len(result.picks)} picks, result sha256 {digest}")
    if len(args) == 3:
        ok = digest == args[2].lower() and not problems
        print("一致" if ok else "不一致")
        return 0 if ok else 1
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
