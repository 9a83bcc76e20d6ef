"""What `yingji demo` loads after the core's own steps: each module registers its
demo loader from its AppConfig.ready, so the core names no module (like nav.py
and layers.py).

A loader is called with a `DemoRun` and returns a one-line summary, printed as
"· {label}:{summary}", or None when it printed its own lines. Loaders must be
idempotent: `yingji demo` runs them all every time, in `order`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class DemoRun:
    """What a loader gets: where to write, the command's options and helpers.

    `step(label, *command, line=-1, **kwargs)` runs another management command
    and prints its summary line as the core's own steps do; `links` collects
    (label, path) pairs printed with the address once everything is loaded."""

    stdout: Any
    seed: int
    verbosity: int = 1
    step: Callable[..., str] | None = None
    links: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class DemoLoader:
    order: int
    label: str
    load: Callable[[DemoRun], str | None]


_LOADERS: dict[str, DemoLoader] = {}


def register(order: int, label: str, loader: Callable[[DemoRun], str | None]) -> None:
    """Register (or replace) the demo loader shown as `label`."""
    _LOADERS[label] = DemoLoader(order, label, loader)


def loaders() -> list[DemoLoader]:
    """The registered loaders in the order they run."""
    return sorted(_LOADERS.values(), key=lambda d: (d.order, d.label))
