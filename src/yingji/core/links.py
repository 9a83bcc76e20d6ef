"""Links one module shows on another module's lists without the list's owner
naming it: the module that holds the linked object registers a column for a model
label from its AppConfig.ready (like nav.py and layers.py), and the list asks
`attach` for the page it shows.

E.g. enforcement registers the column 回头看 on "risk.accident": for a page of
accidents it returns, per accident, the link to its look-back case labelled with
the case's state. Risk's accident list renders whatever columns come back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Link:
    text: str
    url: str


# For a page of objects: {object pk: Link} for those that have one.
Resolver = Callable[[Sequence[Any]], dict[Any, Link]]


@dataclass(frozen=True)
class LinkColumn:
    key: str
    title: str
    order: int
    resolve: Resolver


_COLUMNS: dict[str, dict[str, LinkColumn]] = {}


def register(
    model_label: str, key: str, title: str, resolve: Resolver, *, order: int = 100
) -> None:
    """Register (or replace) the column `key`, headed `title`, on lists of
    `model_label` ("app_label.model_name", lower case)."""
    _COLUMNS.setdefault(model_label, {})[key] = LinkColumn(key, title, order, resolve)


def columns(model_label: str) -> list[LinkColumn]:
    """The columns registered on `model_label`, in order."""
    return sorted(_COLUMNS.get(model_label, {}).values(), key=lambda c: (c.order, c.key))


def attach(model_label: str, objects: Sequence[Any]) -> list[LinkColumn]:
    """Set `obj.links` on every object (one Link or None per column, in column
    order; one resolver call per column for the whole page) and return the columns."""
    cols = columns(model_label)
    found = [c.resolve(objects) if objects else {} for c in cols]
    for obj in objects:
        obj.links = [f.get(obj.pk) for f in found]
    return cols
