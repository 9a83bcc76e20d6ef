"""The audit log's hash chain (pure: no Django).

Every audit entry stores the hash of the entry before it (`prev_hash`) and its
own `hash` = SHA-256 over `prev_hash` and the entry's content in a canonical
form. Changing, inserting or deleting an entry breaks the chain at that entry:
its recomputed hash no longer matches, or its `prev_hash` is not the hash of
the entry before it. The chain runs in id order; the first entry of a purged
log starts from its stored `prev_hash` (the hash of the last purged entry).

What is hashed is what the row stores, read back from the database:
`content_type_id`, `object_pk`, `object_repr`, `action`, `actor_label`, `at`
(as UTC ISO 8601), `before`, `after` and `changed_fields` (as canonical JSON).
The actor's user id is not: deleting a user sets it to NULL, which is not
tampering; `actor_label` keeps who it was.

JSON is canonical so that a value reads back the same from SQLite's text and
PostgreSQL's jsonb: keys sorted, no spaces, and a float with an integral value
written as an integer (jsonb returns 1e20 as 100000000000000000000).

Anyone who can write the table can also recompute every hash after an edit;
`yingji audit verify` therefore prints the last link (id and hash) so that it
can be kept outside the database, and `--anchor ID:HASH` checks that the chain
still passes through a link written down earlier.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
# The fields of an entry that its hash covers, in this order.
FIELDS = (
    "content_type_id",
    "object_pk",
    "object_repr",
    "action",
    "actor_label",
    "at",
    "before",
    "after",
    "changed_fields",
)


def _normal(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return int(value) if value.is_integer() and abs(value) < 1e300 else value
    if kind is dict:
        return {str(k): _normal(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_normal(v) for v in value]
    if isinstance(value, float):
        return _normal(float(value))
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    return json.dumps(
        _normal(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )


def utc_iso(at: dt.datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC)
    return at.replace(tzinfo=None).isoformat(timespec="microseconds")


def digest(prev_hash: str, entry: dict[str, Any]) -> str:
    """The hash of one entry (a dict with FIELDS) chained to `prev_hash`."""
    parts = [
        prev_hash,
        str(entry["content_type_id"]),
        entry["object_pk"],
        entry["object_repr"],
        entry["action"],
        entry["actor_label"],
        utc_iso(entry["at"]),
        canonical_json([entry["before"], entry["after"], entry["changed_fields"]]),
    ]
    # A unit separator cannot occur in the text fields' meaning; lengths are
    # included so that no two different entries give the same byte string.
    data = "\x1f".join(f"{len(p)}:{p}" for p in parts)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Break:
    """The first broken link: the entry and what is wrong with it."""

    id: int
    reason: str  # "content" | "link" | "unchained" | "anchor"
    expected: str = ""
    found: str = ""

    def describe(self) -> str:
        return {
            "content": f"第 {self.id} 条的内容与其哈希不符(记录被修改)",
            "link": f"第 {self.id} 条与上一条不相连(上一条被删除、插入或改动)",
            "unchained": f"第 {self.id} 条没有哈希(未经审计日志写入)",
            "anchor": f"第 {self.id} 条的哈希与记下的锚点不符(日志被整体重算或截断)",
        }[self.reason]


@dataclass
class Verification:
    checked: int = 0
    first_id: int | None = None
    last_id: int | None = None
    last_hash: str = ""
    start_hash: str = ""  # the prev_hash the chain starts from (GENESIS unless purged)
    broken: Break | None = None
    anchor_seen: bool = False


def verify(
    rows: Iterable[dict[str, Any]], *, anchor: tuple[int, str] | None = None
) -> Verification:
    """Walk entries in id order (dicts with id, prev_hash, hash and FIELDS);
    stop at the first broken link. `anchor` (id, hash): that entry must be in
    the chain with that hash."""
    result = Verification()
    previous: str | None = None
    for row in rows:
        result.checked += 1
        if result.first_id is None:
            result.first_id = row["id"]
            result.start_hash = row["prev_hash"]
        if not row["hash"]:
            result.broken = Break(row["id"], "unchained")
            return result
        if previous is not None and row["prev_hash"] != previous:
            result.broken = Break(row["id"], "link", previous, row["prev_hash"])
            return result
        computed = digest(row["prev_hash"], row)
        if computed != row["hash"]:
            result.broken = Break(row["id"], "content", computed, row["hash"])
            return result
        if anchor is not None and row["id"] == anchor[0]:
            if row["hash"] != anchor[1]:
                result.broken = Break(row["id"], "anchor", anchor[1], row["hash"])
                return result
            result.anchor_seen = True
        previous = row["hash"]
        result.last_id, result.last_hash = row["id"], row["hash"]
    return result
