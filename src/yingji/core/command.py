"""The command screen (指挥大屏) registry: the live feeds of /command/.

The command centre runs an emergency from one map on a wall screen: the map's
live layers (events and their level, warnings in force, sensors in alarm,
dispatches under way, shelters, unacknowledged action cards by area), side
panels (duty, timeline, the latest readings) and a bar of big figures, kept
current without reloading. The core names no module: each module registers its
feeds from its AppConfig.ready, like the one map's layers (layers.py):

    from yingji.core import command

    command.register("events", "监测事件", kind=command.LAYER, build=event_marks,
                     style={"shape": "ring", "size": 28}, modes=command.NORMAL_ONLY)
    command.register("readings", "报警传感器最新读数", kind=command.PANEL, build=readings)
    command.register("monitoring.figures", "监测", kind=command.FIGURES, build=figures)
    command.register("monitoring.timeline", "监测", kind=command.TIMELINE, build=timeline)
    command.register_drill(drill_title)   # (drill id) -> title, or None when unknown

A feed's `build(ctx)` gets a `Context` (user, scope, now, drill) and returns

- LAYER: a list of marks, or {"items": [...], "more": n} when it shows only the
  first of many. A mark is a compact dict with an "id" unique in its layer and
  one shape: "pt" [lon, lat]; "at" a region code (a point at the region's
  centre, named after it); "rg" a region code (the region's outline, from the
  simplified boundaries the page loads once, never shipped per update); "ci"
  [lon, lat, radius in metres]; "pg" polygon rings (simplified); "ln" a line
  [[lon, lat], …]. Optional: "lv" a level (red/orange/yellow/blue, I–IV, green,
  grey) for the colour, "n" a number shown on the mark, "c" further numbers
  (named by the layer style's "parts" in the mark's title), "tx" a short label,
  "ti" the full title (else one is made of the label or region, the level and
  the numbers), "dr" 1 for an exercise object (marked 演练).
- PANEL: {"rows": [{"t": title, "v": value, "d": detail, "l": level, "s": [numbers
  for a sparkline]}], "more": n, "empty": text when there are no rows}.
- FIGURES: a list of {"t": label, "v": value, "tone": "bad"|"good"|""}; the figures
  of every feed make the bar across the top.
- TIMELINE: a list of {"at": epoch seconds, "t": text, "k": kind label, "l": level};
  every feed's entries are merged, newest first (TIMELINE_LIMIT).

Modes: the normal screen shows real objects only; `?drill=<id>` shows only the
objects of that drill, every one and the page marked 演练. A feed registered for
NORMAL_ONLY (sensors, warnings: no drill owns them) is left out of a drill's
screen; a feed for both filters by `ctx.drill` itself.

The update (GET /command/update?v=key:version,…): every feed is built; a layer
or panel whose version (a digest of its content) equals the client's is left
out; a changed layer whose previous version is still in the snapshot store
ships only its changed marks ("put") and the ids removed ("del") against that
"base", else all its marks ("full"). Marks travel as rows under the layer's
keys ("k", named once), and a layer of more than LABEL_LIMIT marks (too many
to label on a screen) ships no labels ("tx"). Nothing changed: an update of a
few dozen bytes. So 1,000 events cost their size once, then only what moves.

Refresh: the page polls (POLL_SECONDS, settings.YINGJI_COMMAND_POLL_SECONDS),
each request scheduled when the previous answer arrived. Not server-sent
events: an SSE stream holds a worker for as long as the screen is open, and
the platform is served by WSGI workers (a sync worker per screen, forever);
a poll holds one for the few tens of milliseconds its update takes, survives
proxies and restarts, and with versions an unchanged poll ships almost nothing.

Pure: no Django import (the feeds import their models when called); tested
without a database.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

LAYER, PANEL, FIGURES, TIMELINE = "layer", "panel", "figures", "timeline"
KINDS = (LAYER, PANEL, FIGURES, TIMELINE)
NORMAL, DRILL = "normal", "drill"
BOTH = frozenset({NORMAL, DRILL})
NORMAL_ONLY = frozenset({NORMAL})
DRILL_ONLY = frozenset({DRILL})

# The merged panels' keys in an update.
FIGURES_KEY, TIMELINE_KEY = "_figures", "_timeline"
TIMELINE_LIMIT = 40
TIMELINE_ORDER = 50  # the timeline's place among the side panels
POLL_SECONDS = 5.0
# How many layer snapshots (a version's mark digests) are kept for diffs.
STORE_ENTRIES = 256
MAX_KNOWN = 64  # versions a client may send (one per feed)

SHAPES = ("pt", "at", "rg", "ci", "pg", "ln")


@dataclass
class Context:
    """What a feed needs to know: who asks, their scope, now, and the drill shown."""

    user: Any
    scope: Any  # core.scope.Scope
    now: Any  # an aware datetime
    drill: int | None = None
    drill_title: str = ""
    cache: dict[str, Any] = field(default_factory=dict)  # shared between feeds

    @property
    def mode(self) -> str:
        return DRILL if self.drill is not None else NORMAL


Build = Callable[[Context], Any]


@dataclass(frozen=True)
class Feed:
    key: str
    title: str
    kind: str
    build: Build
    order: int = 100
    style: Mapping[str, Any] = field(default_factory=dict)
    modes: frozenset[str] = BOTH
    default_on: bool = True


_feeds: dict[str, Feed] = {}
_drill_resolvers: list[Callable[[int], str | None]] = []


def register(
    key: str,
    title: str,
    *,
    kind: str,
    build: Build,
    order: int = 100,
    style: Mapping[str, Any] | None = None,
    modes: Iterable[str] = BOTH,
    default_on: bool = True,
) -> Feed:
    """Add (or replace, when ready() runs twice) the feed `key`."""
    if kind not in KINDS:
        raise ValueError(f"指挥大屏数据源类别须为 {KINDS} 之一:{kind!r}")
    if not key or not key.isascii() or key.startswith("_") or any(c in key for c in ":,"):
        raise ValueError(f"指挥大屏数据源 key 须为 ASCII,不含冒号、逗号,不以下划线开头:{key!r}")
    feed = Feed(key, title, kind, build, order, dict(style or {}), frozenset(modes), default_on)
    _feeds[key] = feed
    return feed


def register_drill(resolve: Callable[[int], str | None]) -> None:
    """A module that owns drills names one: (drill id) -> its title, None if unknown."""
    if resolve not in _drill_resolvers:
        _drill_resolvers.append(resolve)


def drill_title(drill_id: int) -> str | None:
    """The drill's title from the module that knows it; None when none does."""
    for resolve in _drill_resolvers:
        title = resolve(drill_id)
        if title is not None:
            return title
    return None


def feeds(mode: str | None = None) -> list[Feed]:
    out = sorted(_feeds.values(), key=lambda f: (f.order, f.key))
    return [f for f in out if mode is None or mode in f.modes]


def client_config(ctx: Context) -> dict[str, Any]:
    """The page's description of the screen: layers (with styles) and panels."""
    shown = feeds(ctx.mode)
    panels = [(f.order, f.key, f.title, PANEL) for f in shown if f.kind == PANEL]
    panels.append((TIMELINE_ORDER, TIMELINE_KEY, "事件时间线", TIMELINE))
    return {
        "layers": [
            {"key": f.key, "title": f.title, "style": dict(f.style), "on": f.default_on}
            for f in shown
            if f.kind == LAYER
        ],
        "panels": [
            {"key": key, "title": title, "kind": kind} for _, key, title, kind in sorted(panels)
        ],
        "drill": ctx.drill,
        "drillTitle": ctx.drill_title,
    }


# ------------------------------------------------------------------ versions and the wire

# A mark travels as a row: its values in the layer's key order ("k"), the keys
# named once per change instead of once per mark.
KEY_ORDER = ("id", "pt", "at", "rg", "ci", "pg", "ln", "lv", "n", "c", "tx", "ti", "dr")
# A layer with more marks than this shows no permanent labels on the screen, so
# its marks' labels ("tx") are not shipped (the title, "ti", always is).
LABEL_LIMIT = 40

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    """Compact JSON, Chinese as it is (a character is 3 bytes, not 6)."""
    return _ENCODER.encode(value)


def digest(text: str) -> str:
    """A short, stable version (the same in every process)."""
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def parse_known(text: str | None) -> dict[str, str]:
    """'events:ab12,readings:cd34' → {"events": "ab12", …}; malformed parts are
    ignored (the feed is then sent whole)."""
    out: dict[str, str] = {}
    for part in (text or "").split(",")[:MAX_KNOWN]:
        key, sep, version = part.partition(":")
        if sep and key and version and len(version) <= 32 and version.isalnum():
            out[key] = version
    return out


def format_known(known: Mapping[str, str]) -> str:
    return ",".join(f"{k}:{v}" for k, v in known.items())


@dataclass
class Layer:
    """A layer's marks as rows, in id order, with one version for all of them."""

    version: str
    keys: list[str]
    rows: dict[str, list]  # id → row
    more: int = 0

    @classmethod
    def of(cls, built: Any) -> Layer:
        items, more = built, 0
        if isinstance(built, Mapping):
            items, more = built.get("items", []), int(built.get("more", 0) or 0)
        marks: dict[str, Mapping[str, Any]] = {}
        for mark in items:
            if "id" not in mark:
                raise ValueError(f"图层标记缺少 id:{mark!r}")
            marks[str(mark["id"])] = mark
        labelled = len(marks) <= LABEL_LIMIT
        used = {k for m in marks.values() for k in m if m[k] is not None}
        if not labelled:
            used.discard("tx")
        keys = [k for k in KEY_ORDER if k in used] + sorted(used - set(KEY_ORDER))
        rows = {mid: [marks[mid].get(k) for k in keys] for mid in sorted(marks)}
        # One encoding of the whole layer (the C encoder, one call) is its version.
        version = digest(_ENCODER.encode([keys, more, list(rows.values())]))
        return cls(version, keys, rows, more)

    def hashes(self) -> dict[str, int]:
        # Per process, as the store is: they never leave it. The keys count too:
        # the same values under other keys are other marks.
        salt = hash(tuple(self.keys))
        return {k: hash(repr(row)) ^ salt for k, row in self.rows.items()}


class SnapshotStore:
    """The last layer versions served (per process, least recently used out):
    a version's mark digests, to send a client only what changed since it."""

    def __init__(self, entries: int = STORE_ENTRIES) -> None:
        self.entries = entries
        self._data: OrderedDict[tuple[str, str], dict[str, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, version: str) -> dict[str, int] | None:
        with self._lock:
            got = self._data.get((key, version))
            if got is not None:
                self._data.move_to_end((key, version))
            return got

    def put(self, key: str, version: str, hashes: dict[str, int]) -> None:
        with self._lock:
            self._data[(key, version)] = hashes
            self._data.move_to_end((key, version))
            while len(self._data) > self.entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


STORE = SnapshotStore()


def layer_change(
    key: str, layer: Layer, known: str | None, store: SnapshotStore
) -> dict[str, Any] | None:
    """What a client holding version `known` of layer `key` needs: None when it is
    current; {"v", "k", "base", "put", "del"} against a version still in the
    store; else {"v", "k", "full"}. Rows are in the order of "k"; "more" counts
    the marks the layer did not show."""
    hashes = layer.hashes()
    store.put(key, layer.version, hashes)
    if known == layer.version:
        return None
    old = store.get(key, known) if known else None
    out: dict[str, Any]
    if old is None:
        out = {"v": layer.version, "k": layer.keys, "full": list(layer.rows.values())}
    else:
        put = [layer.rows[k] for k, h in hashes.items() if old.get(k) != h]
        gone = [k for k in old if k not in hashes]
        out = {"v": layer.version, "k": layer.keys, "base": known, "put": put, "del": gone}
    out["more"] = layer.more
    return out


def unpack(keys: list[str], row: list) -> dict[str, Any]:
    """A row back into a mark (None values left out)."""
    return {k: v for k, v in zip(keys, row, strict=False) if v is not None}


def apply_change(marks: dict[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """The client's side of `layer_change` (command.js does the same): the marks
    after the change, by id."""
    keys = change["k"]
    if "full" in change:
        return {str(m["id"]): m for m in (unpack(keys, r) for r in change["full"])}
    gone = set(change.get("del", []))
    out = {k: v for k, v in marks.items() if k not in gone}
    for m in (unpack(keys, r) for r in change.get("put", [])):
        out[str(m["id"])] = m
    return out


def encode(update: Mapping[str, Any]) -> str:
    """An update as compact JSON (one call of the C encoder)."""
    return _ENCODER.encode(update)


def merge_timeline(entries: Iterable[Mapping[str, Any]], limit: int | None = None) -> list:
    """Every feed's timeline entries, newest first, at most `limit` (TIMELINE_LIMIT)."""
    limit = TIMELINE_LIMIT if limit is None else limit
    return sorted(entries, key=lambda e: (-(e.get("at") or 0), e.get("t", "")))[:limit]


def _now_ms() -> int:
    return int(time.time() * 1000)


def build_update(
    ctx: Context,
    known: Mapping[str, str] | None = None,
    *,
    store: SnapshotStore = STORE,
    only: Iterable[str] | None = None,
    timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    """One update for a client holding the versions `known` ({feed key: version}).

    {"t": server time (epoch ms), "mode": normal|drill, "f": {key: change},
     "err": [titles of feeds that failed], "ms": build time}. A feed that raises
    is named in "err" and left out (the client keeps what it had): one module's
    bug never blanks the screen. `timings`, when given, receives each feed's
    build time in ms (the benchmark's breakdown)."""
    known = dict(known or {})
    wanted = set(only) if only is not None else None
    started = time.perf_counter()
    changes: dict[str, Any] = {}
    errors: list[str] = []
    figures: list[Any] = []
    timeline: list[Any] = []
    merged_ok = {FIGURES: True, TIMELINE: True}
    for feed in feeds(ctx.mode):
        if wanted is not None and feed.key not in wanted:
            continue
        began = time.perf_counter()
        try:
            built = feed.build(ctx)
            if feed.kind == LAYER:
                change = layer_change(feed.key, Layer.of(built), known.get(feed.key), store)
                if change is not None:
                    changes[feed.key] = change
            elif feed.kind == PANEL:
                data = built if built is not None else {"rows": []}
                version = digest(dumps(data))
                if known.get(feed.key) != version:
                    changes[feed.key] = {"v": version, "data": data}
            elif feed.kind == FIGURES:
                figures.extend(built or [])
            else:
                timeline.extend(built or [])
        except Exception as exc:  # noqa: BLE001 - named on the screen and logged
            log.exception("command feed %s failed", feed.key)
            errors.append(f"{feed.title}:{type(exc).__name__}")
            if feed.kind in merged_ok:
                merged_ok[feed.kind] = False
        if timings is not None:
            timings[feed.key] = round((time.perf_counter() - began) * 1000, 1)
    for key, kind, data in (
        (FIGURES_KEY, FIGURES, figures),
        (TIMELINE_KEY, TIMELINE, merge_timeline(timeline)),
    ):
        if wanted is not None or not merged_ok[kind]:
            continue  # a part would look like the whole: keep what the client has
        version = digest(dumps(data))
        if known.get(key) != version:
            changes[key] = {"v": version, "data": data}
    return {
        "t": _now_ms(),
        "mode": ctx.mode,
        "f": changes,
        "err": errors,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }
