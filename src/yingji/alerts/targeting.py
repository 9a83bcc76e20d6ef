"""Recipient resolution: who is inside an alert's areas and groups. Pure: numpy
and shapely, no Django.

A release names rules; each rule is areas (region codes, polygons, circles) and/or
population groups. A subscriber matches a rule when they are in one of its areas
(by last known location, or home region for region areas) and, if the rule names
groups, belong to one of them. Recipients are the union over rules, minus
opt-outs.

`SubscriberIndex` precomputes what makes this fast for millions of subscribers:
- region codes as 12-digit integers, so "inside district 440106" is a range test
  on an array (street 440106001 lies in [440106001000, 440106002000));
- a grid of 0.002° cells (~200 m) with the points sorted by cell, so a drawn
  fence is answered by classifying only the cells under its bounding box: cells
  wholly inside contribute their points as contiguous ranges, and only points in
  cells the boundary crosses are tested against the exact shape;
- group membership as one 64-bit mask per subscriber.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from yingji.core import regioncodes

CELL_DEG = 0.002


def code_prefix(code: str) -> str:
    """The significant prefix of a region code: 440100 → 4401 (city), 440106 →
    440106, 440106000000 (a 12-digit CPEAS district geocode) → 440106."""
    code = code.strip()
    if not code.isdigit() or len(code) > 12:
        raise ValueError(f"区划代码应为不超过 12 位数字:{code!r}")
    return regioncodes.prefix(code)


def code_int(code: str | None) -> int:
    """A region code as a 12-digit integer (0 for none)."""
    return int(code.ljust(12, "0")) if code else 0


def code_range(code: str) -> tuple[int, int]:
    """[lo, hi) of 12-digit integers of the region and everything below it."""
    prefix = code_prefix(code)
    return int(prefix.ljust(12, "0")), int(str(int(prefix) + 1).ljust(12, "0"))


def circle_polygon(lat: float, lon: float, radius_km: float, segments: int = 64) -> Polygon:
    """A circle as a polygon in degrees (local equirectangular: fine at city scale)."""
    dlat = radius_km / 111.32
    dlon = radius_km / (111.32 * max(math.cos(math.radians(lat)), 1e-6))
    angles = np.linspace(0, 2 * math.pi, segments, endpoint=False)
    return Polygon(np.column_stack([lon + dlon * np.cos(angles), lat + dlat * np.sin(angles)]))


def simplify_for_cap(
    geometry: BaseGeometry, max_points: int = 100
) -> list[list[tuple[float, float]]]:
    """Rings for CAP <polygon> elements: each at most `max_points` points, closed,
    as (lat, lon). The exact shape stays with the alert for targeting; this is what
    other systems receive. The tolerance doubles until every ring fits."""
    polygons = list(getattr(geometry, "geoms", [geometry]))
    rings = []
    for poly in polygons:
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        tolerance, simple = 0.0, poly
        while len(simple.exterior.coords) > max_points:
            tolerance = tolerance * 2 if tolerance else 1e-4
            simple = poly.simplify(tolerance, preserve_topology=True)
        rings.append([(round(y, 6), round(x, 6)) for x, y in simple.exterior.coords])
    return rings


@dataclass(frozen=True)
class Rule:
    """One targeting rule: areas and/or groups (group bits, see SubscriberIndex)."""

    region_codes: tuple[str, ...] = ()
    shapes: tuple[BaseGeometry, ...] = ()
    group_bits: tuple[int, ...] = ()

    @property
    def has_area(self) -> bool:
        return bool(self.region_codes or self.shapes)


@dataclass
class SubscriberIndex:
    """Subscribers as arrays, sorted by grid cell. Build with `build`."""

    ids: np.ndarray
    lons: np.ndarray
    lats: np.ndarray
    located: np.ndarray  # 12-digit region code of the last known location (0: none)
    home: np.ndarray  # 12-digit home region code (0: none)
    groups: np.ndarray  # uint64 bit mask
    opted_out: np.ndarray  # bool
    origin: tuple[float, float] = (0.0, 0.0)
    shape: tuple[int, int] = (0, 0)  # rows, cols
    cell_start: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))

    @classmethod
    def build(
        cls,
        ids: Sequence[int] | np.ndarray,
        lons: np.ndarray,
        lats: np.ndarray,
        located: np.ndarray,
        home: np.ndarray,
        groups: np.ndarray,
        opted_out: np.ndarray,
        cell_deg: float = CELL_DEG,
    ) -> SubscriberIndex:
        """Sort the subscribers by grid cell and precompute cell offsets. Points
        without a location (NaN) sort last, outside every cell."""
        lons = np.asarray(lons, dtype=np.float64)
        lats = np.asarray(lats, dtype=np.float64)
        known = np.isfinite(lons) & np.isfinite(lats)
        if known.any():
            min_lon, min_lat = lons[known].min(), lats[known].min()
            cols = int((lons[known].max() - min_lon) / cell_deg) + 1
            rows = int((lats[known].max() - min_lat) / cell_deg) + 1
        else:
            min_lon = min_lat = 0.0
            rows = cols = 1
        cell = np.full(len(lons), rows * cols, dtype=np.int64)
        cell[known] = ((lats[known] - min_lat) / cell_deg).astype(np.int64) * cols + (
            (lons[known] - min_lon) / cell_deg
        ).astype(np.int64)
        order = np.argsort(cell, kind="stable")
        cell = cell[order]
        starts = np.searchsorted(cell, np.arange(rows * cols + 1), side="left")
        return cls(
            ids=np.asarray(ids, dtype=np.int64)[order],
            lons=lons[order],
            lats=lats[order],
            located=np.asarray(located, dtype=np.int64)[order],
            home=np.asarray(home, dtype=np.int64)[order],
            groups=np.asarray(groups, dtype=np.uint64)[order],
            opted_out=np.asarray(opted_out, dtype=bool)[order],
            origin=(float(min_lon), float(min_lat)),
            shape=(rows, cols),
            cell_start=starts.astype(np.int64),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def upsert(
        self,
        ids: Sequence[int] | np.ndarray,
        lons: np.ndarray,
        lats: np.ndarray,
        located: np.ndarray,
        home: np.ndarray,
        groups: np.ndarray,
        opted_out: np.ndarray,
    ) -> SubscriberIndex:
        """A new index with these subscribers replaced (same id) or added; the
        others are unchanged. When every new point falls inside the current grid,
        the untouched subscribers keep their cell order and the given ones are
        merged in (O(n) with a sort of only the given rows); otherwise the grid is
        built again from the combined arrays. Matching gives the same recipients
        as `build` over the same rows (the grid's origin may differ, which only
        changes the order of the result)."""
        ids = np.asarray(ids, dtype=np.int64)
        lons = np.asarray(lons, dtype=np.float64)
        lats = np.asarray(lats, dtype=np.float64)
        located = np.asarray(located, dtype=np.int64)
        home = np.asarray(home, dtype=np.int64)
        groups = np.asarray(groups, dtype=np.uint64)
        opted_out = np.asarray(opted_out, dtype=bool)
        if len(ids) == 0:
            return self
        keep = ~np.isin(self.ids, ids)
        rows, cols = self.shape
        n_cells = rows * cols
        min_lon, min_lat = self.origin
        known = np.isfinite(lons) & np.isfinite(lats)
        col = np.floor((lons[known] - min_lon) / CELL_DEG)
        row = np.floor((lats[known] - min_lat) / CELL_DEG)
        fits = (
            self.cell_start[-1] > 0
            and bool(np.all((col >= 0) & (col < cols)))
            and bool(np.all((row >= 0) & (row < rows)))
        )
        if not fits:  # a point outside the grid (or no grid yet): sort everything again
            return SubscriberIndex.build(
                np.concatenate([self.ids[keep], ids]),
                np.concatenate([self.lons[keep], lons]),
                np.concatenate([self.lats[keep], lats]),
                np.concatenate([self.located[keep], located]),
                np.concatenate([self.home[keep], home]),
                np.concatenate([self.groups[keep], groups]),
                np.concatenate([self.opted_out[keep], opted_out]),
            )
        new_cell = np.full(len(ids), n_cells, dtype=np.int64)
        new_cell[known] = row.astype(np.int64) * cols + col.astype(np.int64)
        order = np.argsort(new_cell, kind="stable")
        new_cell = new_cell[order]
        counts = np.diff(np.append(self.cell_start, len(self.ids)))
        kept_cell = np.repeat(np.arange(n_cells + 1, dtype=np.int64), counts)[keep]
        at = np.searchsorted(kept_cell, new_cell, side="right")

        def merged(old: np.ndarray, new: np.ndarray) -> np.ndarray:
            return np.insert(old[keep], at, new[order])

        cell = np.insert(kept_cell, at, new_cell)
        return SubscriberIndex(
            ids=merged(self.ids, ids),
            lons=merged(self.lons, lons),
            lats=merged(self.lats, lats),
            located=merged(self.located, located),
            home=merged(self.home, home),
            groups=merged(self.groups, groups),
            opted_out=merged(self.opted_out, opted_out),
            origin=self.origin,
            shape=self.shape,
            cell_start=np.searchsorted(cell, np.arange(n_cells + 1), side="left").astype(np.int64),
        )

    # ----------------------------------------------------------------- matching

    def in_region(self, code: str) -> np.ndarray:
        """Mask: located in, or living in, the region (or anywhere below it)."""
        lo, hi = code_range(code)
        return ((self.located >= lo) & (self.located < hi)) | ((self.home >= lo) & (self.home < hi))

    def in_shape(self, geometry: BaseGeometry) -> np.ndarray:
        """Positions of the points inside the shape (exact: the boundary cells'
        points are tested against the geometry itself)."""
        rows, cols = self.shape
        min_lon, min_lat = self.origin
        x0, y0, x1, y1 = geometry.bounds
        c0 = max(int((x0 - min_lon) / CELL_DEG), 0)
        c1 = min(int((x1 - min_lon) / CELL_DEG), cols - 1)
        r0 = max(int((y0 - min_lat) / CELL_DEG), 0)
        r1 = min(int((y1 - min_lat) / CELL_DEG), rows - 1)
        if c0 > c1 or r0 > r1:
            return np.empty(0, dtype=np.int64)
        rr, cc = np.meshgrid(np.arange(r0, r1 + 1), np.arange(c0, c1 + 1), indexing="ij")
        cells = (rr * cols + cc).ravel()
        counts = self.cell_start[cells + 1] - self.cell_start[cells]
        occupied = counts > 0
        cells, rr, cc = cells[occupied], rr.ravel()[occupied], cc.ravel()[occupied]
        bx = min_lon + cc * CELL_DEG
        by = min_lat + rr * CELL_DEG
        boxes = shapely.box(bx, by, bx + CELL_DEG, by + CELL_DEG)
        shapely.prepare(geometry)
        inside = shapely.contains(geometry, boxes)
        edge = ~inside & shapely.intersects(geometry, boxes)
        whole = _ranges(self.cell_start[cells[inside]], self.cell_start[cells[inside] + 1])
        candidates = _ranges(self.cell_start[cells[edge]], self.cell_start[cells[edge] + 1])
        hit = shapely.contains_xy(geometry, self.lons[candidates], self.lats[candidates])
        return np.concatenate([whole, candidates[hit]])

    def _rule_positions(self, rule: Rule) -> np.ndarray | None:
        """Positions matched by a fence-only rule (no full-length arrays touched:
        what keeps a district-sized fence fast over millions), else None."""
        if rule.region_codes or not rule.shapes:
            return None
        parts = [self.in_shape(g) for g in rule.shapes]
        positions = parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts))
        if rule.group_bits:
            bits = np.uint64(sum(1 << b for b in set(rule.group_bits)))
            positions = positions[(self.groups[positions] & bits) != 0]
        return positions

    def rule_mask(self, rule: Rule) -> np.ndarray:
        """Mask of subscribers matching one rule (opt-outs not yet removed)."""
        if rule.has_area:
            mask = np.zeros(len(self.ids), dtype=bool)
            for code in rule.region_codes:
                mask |= self.in_region(code)
            for geometry in rule.shapes:
                mask[self.in_shape(geometry)] = True
        elif rule.group_bits:
            mask = np.ones(len(self.ids), dtype=bool)
        else:
            return np.zeros(len(self.ids), dtype=bool)  # a rule naming nothing reaches no one
        if rule.group_bits:
            bits = np.uint64(sum(1 << b for b in set(rule.group_bits)))
            mask &= (self.groups & bits) != 0
        return mask

    def resolve_positions(self, rules: Sequence[Rule]) -> np.ndarray:
        """Index positions of the recipients: union of the rules, minus opt-outs."""
        fences = [self._rule_positions(r) for r in rules]
        if all(p is not None for p in fences):
            positions = (
                fences[0]
                if len(fences) == 1
                else np.unique(np.concatenate(fences))
                if fences
                else np.empty(0, dtype=np.int64)
            )
            return positions[~self.opted_out[positions]]
        mask = np.zeros(len(self.ids), dtype=bool)
        for rule, positions in zip(rules, fences, strict=True):
            if positions is not None:
                mask[positions] = True
            else:
                mask |= self.rule_mask(rule)
        mask &= ~self.opted_out
        return np.flatnonzero(mask)

    def resolve(self, rules: Sequence[Rule]) -> np.ndarray:
        """Subscriber ids of the recipients (each once, in index order)."""
        return self.ids[self.resolve_positions(rules)]

    def count(self, rules: Sequence[Rule]) -> int:
        """The population estimate: how many subscribers the rules reach."""
        return len(self.resolve_positions(rules))


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Concatenated aranges [starts[i], ends[i]) without a Python loop."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return offsets + np.arange(total, dtype=np.int64)
