"""Coordinates and region geometry, pure (no Django).

- Chinese coordinate systems: WGS-84 (GPS, CAP, what the platform stores), GCJ-02
  (AMap, Tencent: WGS-84 with the state-mandated offset) and BD-09 (Baidu: GCJ-02
  offset again). The formulas are the public, widely reproduced ones; the inverse
  directions have no closed form and are solved by fixed-point iteration. Outside
  China (a bounding box, as every implementation uses) GCJ-02 equals WGS-84.
- `RegionIndex`: which region of each level contains a point, for one point or
  for arrays of points, over ONE shapely STRtree.
- `synthesise_subdivisions`: demo polygons for streets, which have no public
  boundaries (see docs: they are labelled synthetic wherever they are shown).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

CRS_CHOICES = ("wgs84", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 offset.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0
# The inverse transforms stop once the forward transform reproduces the input to
# this many degrees (≈ 0.1 mm), far inside the 1e-6° the platform promises.
_INVERSE_TOLERANCE = 1e-9
_INVERSE_MAX_STEPS = 30


@dataclass(frozen=True)
class _Ops:
    """Math functions for scalars (math, fast for one point) or arrays (numpy)."""

    sin: Callable[[Any], Any]
    cos: Callable[[Any], Any]
    sqrt: Callable[[Any], Any]
    fabs: Callable[[Any], Any]
    atan2: Callable[[Any, Any], Any]


_SCALAR = _Ops(math.sin, math.cos, math.sqrt, math.fabs, math.atan2)
_ARRAY = _Ops(np.sin, np.cos, np.sqrt, np.fabs, np.arctan2)


def normalise_crs(crs: str) -> str:
    """'WGS-84', 'gcj02', 'BD09' … → one of CRS_CHOICES; ValueError otherwise."""
    key = str(crs or "").strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    if key not in CRS_CHOICES:
        raise ValueError(f"不支持的坐标系 {crs!r}:应为 wgs84、gcj02 或 bd09 之一")
    return key


def out_of_china(lon: float, lat: float) -> bool:
    """True where GCJ-02 applies no offset (outside China's bounding box)."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _gcj_offset(lon: Any, lat: Any, m: _Ops) -> tuple[Any, Any]:
    """The GCJ-02 offset (dlon, dlat) in degrees at a WGS-84 position."""
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * m.sqrt(m.fabs(x))
    dlat += (20.0 * m.sin(6.0 * x * pi) + 20.0 * m.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat += (20.0 * m.sin(y * pi) + 40.0 * m.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * m.sin(y / 12.0 * pi) + 320.0 * m.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * m.sqrt(m.fabs(x))
    dlon += (20.0 * m.sin(6.0 * x * pi) + 20.0 * m.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlon += (20.0 * m.sin(x * pi) + 40.0 * m.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * m.sin(x / 12.0 * pi) + 300.0 * m.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = m.sin(radlat)
    magic = 1.0 - _EE * magic * magic
    sqrtmagic = m.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * m.cos(radlat) * pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 → GCJ-02 (identity outside China)."""
    if out_of_china(lon, lat):
        return lon, lat
    dlon, dlat = _gcj_offset(lon, lat, _SCALAR)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 → WGS-84 by iteration: the WGS-84 point whose GCJ-02 image is (lon, lat)."""
    if out_of_china(lon, lat):
        return lon, lat
    wlon, wlat = lon, lat
    for _ in range(_INVERSE_MAX_STEPS):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = glon - lon, glat - lat
        if abs(elon) < _INVERSE_TOLERANCE and abs(elat) < _INVERSE_TOLERANCE:
            break
        wlon, wlat = wlon - elon, wlat - elat
    return wlon, wlat


def _gcj_to_bd(lon: Any, lat: Any, m: _Ops) -> tuple[Any, Any]:
    z = m.sqrt(lon * lon + lat * lat) + 0.00002 * m.sin(lat * _X_PI)
    theta = m.atan2(lat, lon) + 0.000003 * m.cos(lon * _X_PI)
    return z * m.cos(theta) + 0.0065, z * m.sin(theta) + 0.006


def _bd_to_gcj_estimate(lon: Any, lat: Any, m: _Ops) -> tuple[Any, Any]:
    x, y = lon - 0.0065, lat - 0.006
    z = m.sqrt(x * x + y * y) - 0.00002 * m.sin(y * _X_PI)
    theta = m.atan2(y, x) - 0.000003 * m.cos(x * _X_PI)
    return z * m.cos(theta), z * m.sin(theta)


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 → BD-09."""
    return _gcj_to_bd(lon, lat, _SCALAR)


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 → GCJ-02: the published closed-form estimate (off by up to ~1e-5°),
    refined by iteration against the forward formula."""
    glon, glat = _bd_to_gcj_estimate(lon, lat, _SCALAR)
    for _ in range(_INVERSE_MAX_STEPS):
        blon, blat = _gcj_to_bd(glon, glat, _SCALAR)
        elon, elat = blon - lon, blat - lat
        if abs(elon) < _INVERSE_TOLERANCE and abs(elat) < _INVERSE_TOLERANCE:
            break
        glon, glat = glon - elon, glat - elat
    return glon, glat


def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 → BD-09 (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 → WGS-84 (through GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon: float, lat: float, crs: str = "wgs84") -> tuple[float, float]:
    """Convert one point given in `crs` ("wgs84", "gcj02", "bd09", any case) to WGS-84."""
    crs = normalise_crs(crs)
    lon, lat = float(lon), float(lat)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError(f"坐标不是有限数值:{lon}, {lat}")
    if crs == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if crs == "bd09":
        return bd09_to_wgs84(lon, lat)
    return lon, lat


def _in_china_mask(lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    return (lons >= 72.004) & (lons <= 137.8347) & (lats >= 0.8293) & (lats <= 55.8271)


def _wgs84_to_gcj02_many(lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_offset(lons, lats, _ARRAY)
    inside = _in_china_mask(lons, lats)
    return np.where(inside, lons + dlon, lons), np.where(inside, lats + dlat, lats)


def _gcj02_to_wgs84_many(lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    inside = _in_china_mask(lons, lats)
    wlon, wlat = lons.copy(), lats.copy()
    for _ in range(_INVERSE_MAX_STEPS):
        glon, glat = _wgs84_to_gcj02_many(wlon, wlat)
        elon, elat = np.where(inside, glon - lons, 0.0), np.where(inside, glat - lats, 0.0)
        if not len(lons) or max(np.abs(elon).max(), np.abs(elat).max()) < _INVERSE_TOLERANCE:
            break
        wlon, wlat = wlon - elon, wlat - elat
    return wlon, wlat


def _bd09_to_gcj02_many(lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    glon, glat = _bd_to_gcj_estimate(lons, lats, _ARRAY)
    for _ in range(_INVERSE_MAX_STEPS):
        blon, blat = _gcj_to_bd(glon, glat, _ARRAY)
        elon, elat = blon - lons, blat - lats
        if not len(lons) or max(np.abs(elon).max(), np.abs(elat).max()) < _INVERSE_TOLERANCE:
            break
        glon, glat = glon - elon, glat - elat
    return glon, glat


def to_wgs84_many(
    lons: Sequence[float] | np.ndarray, lats: Sequence[float] | np.ndarray, crs: str = "wgs84"
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised `to_wgs84`: arrays of longitudes and latitudes in, float64 arrays out."""
    crs = normalise_crs(crs)
    lon_arr = np.asarray(lons, dtype=np.float64)
    lat_arr = np.asarray(lats, dtype=np.float64)
    if lon_arr.shape != lat_arr.shape:
        raise ValueError("经度与纬度数组长度不一致")
    if crs == "gcj02":
        return _gcj02_to_wgs84_many(lon_arr, lat_arr)
    if crs == "bd09":
        return _gcj02_to_wgs84_many(*_bd09_to_gcj02_many(lon_arr, lat_arr))
    return lon_arr.copy(), lat_arr.copy()


def geometry_to_wgs84(geometry: BaseGeometry, crs: str) -> BaseGeometry:
    """Every coordinate of `geometry` converted from `crs` to WGS-84."""
    if normalise_crs(crs) == "wgs84":
        return geometry
    return shapely.transform(
        geometry, lambda xy: np.column_stack(to_wgs84_many(xy[:, 0], xy[:, 1], crs))
    )


# --------------------------------------------------------------------------- index


class RegionIndex:
    """Point → region of every level, over one STRtree of all region polygons.

    Built from (code, level, geometry) records in WGS-84. A point on a boundary
    counts as inside; where it lies in several regions of one level (a shared
    edge) the lowest code wins, which keeps district and street consistent
    because street codes begin with their district's code.
    """

    def __init__(self, records: Iterable[tuple[str, str, BaseGeometry | None]]):
        rows = sorted(
            (str(code), str(level), geom)
            for code, level, geom in records
            if geom is not None and not geom.is_empty
        )
        self.codes = np.array([code for code, _, _ in rows], dtype=object)
        self.levels: tuple[str, ...] = tuple(dict.fromkeys(level for _, level, _ in rows))
        self._level_of = np.array(
            [self.levels.index(level) for _, level, _ in rows], dtype=np.int16
        )
        self._geoms = np.empty(len(rows), dtype=object)
        self._geoms[:] = [geom for _, _, geom in rows]
        # Prepared polygons make each point-in-polygon test logarithmic; the tree's
        # own predicate query would not use them, so the tree only gives bbox candidates.
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)

    def __len__(self) -> int:
        return len(self.codes)

    def lookup(self, lon: float, lat: float) -> dict[str, str]:
        """{level: code} of the regions containing the WGS-84 point; {} if none."""
        candidates = self._tree.query(shapely.Point(lon, lat))
        if not len(candidates):
            return {}
        candidates.sort()  # lowest code first
        hits = candidates[shapely.intersects_xy(self._geoms[candidates], lon, lat)]
        found: dict[str, str] = {}
        for i in hits:
            found.setdefault(self.levels[self._level_of[i]], self.codes[i])
        return found

    def lookup_many(
        self, lons: Sequence[float] | np.ndarray, lats: Sequence[float] | np.ndarray
    ) -> dict[str, np.ndarray]:
        """{level: array of codes (None where no region)} for arrays of WGS-84 points."""
        lon_arr = np.asarray(lons, dtype=np.float64)
        lat_arr = np.asarray(lats, dtype=np.float64)
        if lon_arr.shape != lat_arr.shape or lon_arr.ndim != 1:
            raise ValueError("经度与纬度须为等长的一维数组")
        n = len(lon_arr)
        result = {level: np.full(n, None, dtype=object) for level in self.levels}
        if not n or not len(self.codes):
            return result
        point_idx, geom_idx = self._tree.query(shapely.points(lon_arr, lat_arr))
        inside = shapely.intersects_xy(
            self._geoms[geom_idx], lon_arr[point_idx], lat_arr[point_idx]
        )
        point_idx, geom_idx = point_idx[inside], geom_idx[inside]
        order = np.lexsort((geom_idx, point_idx))  # by point, then lowest code
        point_idx, geom_idx = point_idx[order], geom_idx[order]
        level_idx = self._level_of[geom_idx]
        for k, level in enumerate(self.levels):
            sel = level_idx == k
            p, g = point_idx[sel], geom_idx[sel]
            first = np.ones(len(p), dtype=bool)
            first[1:] = p[1:] != p[:-1]
            result[level][p[first]] = self.codes[g[first]]
        return result


# ---------------------------------------------------------------- synthetic streets


def polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """The polygon parts of a geometry as a Polygon or MultiPolygon: clipping and
    make_valid can leave stray lines and points beside the polygons."""
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type in ("Polygon", "MultiPolygon")]
    polygons = [q for p in parts for q in shapely.get_parts(p)]
    if len(polygons) == 1:
        return polygons[0]
    return shapely.MultiPolygon(polygons)


def _sample_inside(area: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = area.bounds
    found: list[np.ndarray] = []
    count = 0
    while count < n:
        xy = np.column_stack((rng.uniform(minx, maxx, 64 * n), rng.uniform(miny, maxy, 64 * n)))
        xy = xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])]
        found.append(xy)
        count += len(xy)
    return np.concatenate(found)[:n]


def _voronoi_cells(area: BaseGeometry, seeds: np.ndarray) -> list[BaseGeometry]:
    diagram = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=area, ordered=True)
    cells = shapely.intersection(shapely.get_parts(diagram), area)
    return [polygonal(cell) for cell in cells]


def _cell_centre(cell: BaseGeometry) -> tuple[float, float]:
    centre = cell.centroid
    if not cell.contains(centre):  # concave cells: keep the seed inside its cell
        centre = cell.point_on_surface()
    return centre.x, centre.y


def synthesise_subdivisions(
    area: BaseGeometry, codes: Sequence[str], *, relax_steps: int = 3
) -> dict[str, BaseGeometry]:
    """Split `area` into one polygon per code: a Voronoi diagram of points sampled
    inside the area, clipped to it, so the cells cover the area without gaps or
    overlaps. Deterministic: the random seed is derived from the codes. A few
    Lloyd steps even out the cell sizes so the demo map looks plausible.

    These are NOT real boundaries; callers must label them as synthetic.
    """
    ordered = sorted(set(codes))
    if not ordered or area.is_empty:
        return {}
    if len(ordered) == 1:
        return {ordered[0]: area}
    digest = hashlib.sha256(",".join(ordered).encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
    shapely.prepare(area)
    seeds = _sample_inside(area, len(ordered), rng)
    # Relax on a simplified outline: centroids only need to be roughly right, and
    # clipping against thousands of vertices several times would dominate the cost.
    minx, miny, maxx, maxy = area.bounds
    rough = shapely.simplify(area, max(maxx - minx, maxy - miny) / 500)
    if rough.is_empty or not rough.is_valid:
        rough = area
    for _ in range(relax_steps):
        moved = np.array([_cell_centre(cell) for cell in _voronoi_cells(rough, seeds)])
        # A seed must stay inside the real outline, or its final cell could be empty.
        keep = shapely.contains_xy(area, moved[:, 0], moved[:, 1])
        seeds = np.where(keep[:, None], moved, seeds)
    return dict(zip(ordered, _voronoi_cells(area, seeds), strict=True))
