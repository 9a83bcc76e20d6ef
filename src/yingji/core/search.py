"""The search box: one query, every module's objects found by code or name.

Each module registers a finder from its AppConfig.ready (like nav.py, layers.py
and workbench.py):

    search.register("hazard", "隐患", find_hazards, order=21)

A finder gets the user's scope, the cleaned query and a limit, and returns
`Hit`s it may show to that user (its own scope filter: the search box never
shows what the user would get 404 for). `run` calls every finder and returns
the groups with hits, in order.

Input limits: the query is stripped and cut to MAX_QUERY characters; one with
fewer than MIN_QUERY characters finds nothing (a single letter would match half
the registers).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

MAX_QUERY = 60
MIN_QUERY = 2
PER_KIND = 8


@dataclass(frozen=True)
class Hit:
    title: str
    url: str
    code: str = ""
    detail: str = ""


Finder = Callable[[Any, str, int], list[Hit]]  # (scope, query, limit) -> hits


@dataclass(frozen=True)
class Kind:
    key: str
    title: str
    find: Finder
    order: int = 100


@dataclass
class Group:
    key: str
    title: str
    hits: list[Hit]
    more: bool  # the finder had more than the limit


_kinds: dict[str, Kind] = {}


def register(key: str, title: str, find: Finder, *, order: int = 100) -> None:
    _kinds[key] = Kind(key, title, find, order)


def kinds() -> list[Kind]:
    return sorted(_kinds.values(), key=lambda k: (k.order, k.key))


def clean(query: str | None) -> str:
    """The query as searched: whitespace folded, at most MAX_QUERY characters."""
    return " ".join((query or "").split())[:MAX_QUERY]


def run(scope: Any, query: str | None, *, per_kind: int = PER_KIND) -> tuple[str, list[Group]]:
    """(the cleaned query, the groups with hits). A finder that fails is logged
    and left out."""
    q = clean(query)
    if len(q) < MIN_QUERY:
        return q, []
    out = []
    for kind in kinds():
        try:
            hits = list(kind.find(scope, q, per_kind + 1))
        except Exception:  # noqa: BLE001 - one module's bug never breaks the box
            log.exception("search finder %s failed", kind.key)
            continue
        if hits:
            out.append(Group(kind.key, kind.title, hits[:per_kind], len(hits) > per_kind))
    return q, out
