"""Regions in the database, and THE point → region lookup.

Every module that needs to know where a point lies (an enterprise, a sensor, an
incident, a shelter, a warning's target) calls

    regions.lookup(lon, lat, crs="wgs84") -> {"district": Region|None, "street": Region|None}

or, for arrays of points without touching the ORM, `lookup_codes_many`. The
lookup runs on one `geo.RegionIndex` per process, rebuilt lazily when regions
change: saves and deletes of Region in this process bump a version (signals);
changes made by other processes (or by bulk updates, which send no signals) are
noticed through a cheap fingerprint query at most every
`settings.YINGJI_REGION_INDEX_TTL` seconds (default 10). An index built inside a
transaction is re-checked on every use until it is confirmed outside one, because
a rollback sends no signal.

Loading: `load_pack("guangzhou")` for a shipped pack (data/regions/<name>/),
`import_files(paths)` for any GeoJSON/CSV pack; both validate the whole pack
first (`regionpack.read_pack`) and write in one transaction, upserting by code.
Streets of shipped packs get synthetic polygons (see `geo.synthesise_subdivisions`),
flagged `boundary_synthetic` with the source "合成示意边界(非法定)".
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Count, Max, Sum
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver
from shapely.geometry.base import BaseGeometry

from yingji.core import geo, inputlimits, regionpack
from yingji.core.models import AuditEntry, Region
from yingji.core.regionpack import Problem, RegionPack, RegionPackError

logger = logging.getLogger(__name__)

PACKS_DIR = Path(__file__).resolve().parent / "data" / "regions"
SYNTHETIC_SOURCE = "合成示意边界(非法定)"
INDEX_LEVELS = ("district", "street", "community")
PACK_SUFFIXES = (".geojson", ".json", ".csv")


# ------------------------------------------------------------------------ loading


@dataclass
class ImportResult:
    """What an import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    synthesised: int = 0
    notes: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        """One line in Chinese for people."""
        text = f"新增 {self.created} 个,更新 {self.updated} 个,未变 {self.unchanged} 个区划"
        if self.synthesised:
            text += f";其中 {self.synthesised} 个镇街使用合成示意边界(非法定)"
        return text


def available_packs() -> list[str]:
    """Names of the region packs shipped with the platform."""
    return sorted(p.name for p in PACKS_DIR.iterdir() if p.is_dir()) if PACKS_DIR.is_dir() else []


def pack_files(name: str) -> list[Path]:
    """The data files of a shipped pack; RegionPackError if there is no such pack."""
    if name not in available_packs():
        known = "、".join(available_packs()) or "无"
        raise RegionPackError([Problem(f"数据包 {name}", f"不存在(可用:{known})")])
    return sorted(p for p in (PACKS_DIR / name).iterdir() if p.suffix.lower() in PACK_SUFFIXES)


# Sent (after commit) when a region import created or changed regions;
# kwargs: codes (the imported region codes). Receivers recompute what they derived
# from boundaries.
regions_changed = Signal()


def load_pack(name: str) -> ImportResult:
    """Load a shipped pack (e.g. "guangzhou"); streets without boundaries get
    synthetic ones. Idempotent: loading again changes nothing."""
    return import_files(pack_files(name), synthesise_streets=True)


def import_files(paths: Iterable[str | Path], *, synthesise_streets: bool = False) -> ImportResult:
    """Validate the files as one pack, then upsert every region by code in one
    transaction. Raises RegionPackError (nothing written) if anything is wrong.

    A region given without geometry keeps the boundary it already has. With
    `synthesise_streets`, streets that have no boundary anywhere get synthetic
    cells inside their district (never over a real boundary).
    """
    existing = set(Region.objects.values_list("code", flat=True))
    pack = regionpack.read_pack(
        paths,
        existing_codes=existing,
        max_bytes=inputlimits.setting("YINGJI_REGIONPACK_MAX_BYTES"),
    )
    synthetic = _synthesise_streets(pack) if synthesise_streets else {}
    result = ImportResult(notes=list(pack.notes), synthesised=len(synthetic))
    with transaction.atomic():
        current = Region.objects.in_bulk([r.code for r in pack.records])
        for record in pack.records:
            values = _field_values(record, synthetic.get(record.code))
            region = current.get(record.code)
            if region is None:
                Region.objects.create(code=record.code, **values)
                result.created += 1
            elif any(getattr(region, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(region, key, value)
                region.save()
                result.updated += 1
            else:
                result.unchanged += 1
        if result.created or result.updated:
            # After commit: modules that store a region per point (alerts'
            # subscribers) recompute theirs against the new boundaries.
            codes = [r.code for r in pack.records]
            transaction.on_commit(lambda: regions_changed.send(sender=Region, codes=codes))
    return result


def _geojson(geometry: BaseGeometry) -> dict[str, Any]:
    # Full float precision: synthetic cells share vertices with their district,
    # and rounding would open hairline gaps the lookup could fall through.
    return json.loads(shapely.to_geojson(geometry))


def _centroid(geometry: BaseGeometry) -> tuple[float, float]:
    point = geometry.centroid
    if not geometry.contains(point):  # a concave region's centroid can lie outside it
        point = geometry.point_on_surface()
    return round(point.x, 7), round(point.y, 7)


def _field_values(record: regionpack.RegionRecord, synthetic: BaseGeometry | None) -> dict:
    values: dict[str, Any] = {
        "name": record.name,
        "level": record.level,
        "parent_id": record.parent,
    }
    geometry = record.geometry if record.geometry is not None else synthetic
    if geometry is not None:
        lon, lat = _centroid(geometry)
        values.update(
            boundary=_geojson(geometry),
            boundary_synthetic=record.geometry is None,
            boundary_source=(
                SYNTHETIC_SOURCE
                if record.geometry is None
                else record.source or f"导入文件 {record.file}"
            )[:200],
            centroid_lon=lon,
            centroid_lat=lat,
        )
    elif record.lon is not None and record.lat is not None:
        values.update(centroid_lon=round(record.lon, 7), centroid_lat=round(record.lat, 7))
    return values


def _shape(boundary: Any) -> BaseGeometry | None:
    """A stored boundary as a shapely geometry; None (and a log line) if unusable."""
    if not boundary:
        return None
    try:
        geometry = shapely.geometry.shape(boundary)
    except Exception:  # hand-edited JSON can be anything
        logger.warning("区划边界无法解析,已忽略:%.80s", boundary)
        return None
    return None if geometry.is_empty else geometry


def _synthesise_streets(pack: RegionPack) -> dict[str, BaseGeometry]:
    """Synthetic polygons for the pack's streets that have no boundary anywhere:
    each district's area not covered by real street boundaries is split among them."""
    wanted: dict[str, list[str]] = {}
    for record in pack.by_level("street"):
        if record.geometry is None:
            wanted.setdefault(record.parent, []).append(record.code)
    if not wanted:
        return {}
    real: dict[str, tuple[str, BaseGeometry]] = {}  # street code -> (district, geometry)
    stored = Region.objects.filter(
        level="street", parent_id__in=wanted, boundary_synthetic=False, boundary__isnull=False
    )
    for code, parent, boundary in stored.values_list("code", "parent_id", "boundary"):
        if (geometry := _shape(boundary)) is not None:
            real[code] = (parent, geometry)
    for record in pack.by_level("street"):
        if record.geometry is not None and record.parent in wanted:
            real[record.code] = (record.parent, record.geometry)

    districts = {r.code: r.geometry for r in pack.by_level("district") if r.geometry is not None}
    missing = set(wanted) - set(districts)
    for code, boundary in Region.objects.filter(code__in=missing).values_list("code", "boundary"):
        if (geometry := _shape(boundary)) is not None:
            districts[code] = geometry

    cells: dict[str, BaseGeometry] = {}
    for district, codes in sorted(wanted.items()):
        area = districts.get(district)
        codes = [c for c in codes if c not in real]
        if area is None or not codes:
            continue
        taken = [g for parent, g in real.values() if parent == district]
        if taken:
            area = geo.polygonal(area.difference(shapely.union_all(taken)))
        cells.update(geo.synthesise_subdivisions(area, codes))
    return cells


# ------------------------------------------------------------------------- lookup

_lock = threading.Lock()
_version = 0  # bumped on every Region save/delete in this process
_ROW_FIELDS = tuple(f.attname for f in Region._meta.concrete_fields if f.attname != "boundary")


@dataclass(frozen=True)
class _Snapshot:
    version: int
    fingerprint: tuple
    provisional: bool  # built inside a transaction, whose data may still roll back
    checked_at: float
    index: geo.RegionIndex
    rows: dict[str, tuple]  # code -> Region field values (boundary deferred)


_snapshot: _Snapshot | None = None


@receiver([post_save, post_delete], sender=Region, dispatch_uid="yingji.regions.index")
def _region_changed(sender: type, **kwargs: Any) -> None:
    global _version
    _version += 1


def invalidate_index() -> None:
    """Force a rebuild on the next lookup (after bulk changes that send no signals)."""
    global _snapshot
    _snapshot = None


def _fingerprint() -> tuple:
    """Cheap summary that changes whenever regions do: count and centroid sums catch
    additions, deletions and new boundaries; the last audit entry catches renames."""
    agg = Region.objects.aggregate(
        n=Count("code"), lat=Sum("centroid_lat"), lon=Sum("centroid_lon")
    )
    last_audit = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Region)
    ).aggregate(m=Max("id"))["m"]
    return agg["n"], round(agg["lat"] or 0.0, 6), round(agg["lon"] or 0.0, 6), last_audit


def _build(version: int) -> _Snapshot:
    fingerprint = _fingerprint()
    started = time.perf_counter()
    records, rows = [], {}
    for values in Region.objects.filter(level__in=INDEX_LEVELS).values_list(
        *_ROW_FIELDS, "boundary"
    ):
        code, level, boundary = values[0], values[2], values[-1]
        rows[code] = values[:-1]
        records.append((code, level, _shape(boundary)))
    index = geo.RegionIndex(records)
    logger.debug(
        "区划索引重建:%d 个多边形,%.1f ms", len(index), (time.perf_counter() - started) * 1000
    )
    return _Snapshot(
        version, fingerprint, connection.in_atomic_block, time.monotonic(), index, rows
    )


def _current() -> _Snapshot:
    global _snapshot
    snap = _snapshot
    if snap is not None and snap.version == _version:
        ttl = float(getattr(settings, "YINGJI_REGION_INDEX_TTL", 10.0))
        if not snap.provisional and time.monotonic() - snap.checked_at < ttl:
            return snap
        if _fingerprint() == snap.fingerprint:
            snap = dataclasses.replace(
                snap, checked_at=time.monotonic(), provisional=connection.in_atomic_block
            )
            _snapshot = snap
            return snap
    with _lock:
        if _snapshot is not None and _snapshot is not snap and _snapshot.version == _version:
            return _snapshot  # another thread rebuilt it while this one waited
        _snapshot = _build(_version)
        return _snapshot


def _region(snap: _Snapshot, code: str | None) -> Region | None:
    if code is None or code not in snap.rows:
        return None
    return Region.from_db(Region.objects.db, _ROW_FIELDS, snap.rows[code])


def lookup_codes(lon: float, lat: float, crs: str = "wgs84") -> dict[str, str]:
    """{level: code} of the regions containing the point (levels district, street,
    community where boundaries exist); {} outside every region. No ORM objects."""
    wlon, wlat = geo.to_wgs84(lon, lat, crs)
    return _current().index.lookup(wlon, wlat)


def lookup(lon: float, lat: float, crs: str = "wgs84") -> dict[str, Region | None]:
    """The district and street containing the point given in `crs` (wgs84, gcj02,
    bd09; ValueError for any other). A point on a boundary counts as inside.
    Street boundaries may be synthetic (`Region.boundary_synthetic`): such a
    street is indicative only."""
    wlon, wlat = geo.to_wgs84(lon, lat, crs)
    snap = _current()
    codes = snap.index.lookup(wlon, wlat)
    return {level: _region(snap, codes.get(level)) for level in ("district", "street")}


def lookup_codes_many(
    lons: Sequence[float] | np.ndarray, lats: Sequence[float] | np.ndarray, crs: str = "wgs84"
) -> dict[str, np.ndarray]:
    """For arrays of points: {"district": codes, "street": codes, …}, object arrays
    with None where a point lies in no region of that level."""
    wlons, wlats = geo.to_wgs84_many(lons, lats, crs)
    found = _current().index.lookup_many(wlons, wlats)
    for level in ("district", "street"):
        found.setdefault(level, np.full(len(wlons), None, dtype=object))
    return found


def describe(codes: Sequence[str], limit: int = 3) -> str:
    """Areas as a person reads them, by name: '天河区石牌街道', '天河区石牌街道、越秀区',
    or for many, by district: '荔湾区、越秀区、海珠区等8个区的141个区域'. Unknown codes
    are left out (a code is never shown to a person). Names only: no boundary is read."""
    codes = list(dict.fromkeys(c for c in codes if c))
    rows = {
        code: (name, level, parent)
        for code, name, level, parent in Region.objects.filter(code__in=codes).values_list(
            "code", "name", "level", "parent__name"
        )
    }
    found = [rows[c] for c in codes if c in rows]
    if len(found) <= limit:
        return "、".join(
            f"{parent}{name}" if level == "street" and parent else name
            for name, level, parent in found
        )
    districts = list(
        dict.fromkeys(
            parent if level == "street" and parent else name for name, level, parent in found
        )
    )
    head = "、".join(districts[:limit]) + (
        f"等{len(districts)}个区" if len(districts) > limit else ""
    )
    return f"{head}的{len(found)}个区域"


# ------------------------------------------------------------------------- output


def feature_collection(
    level: str, bbox: tuple[float, float, float, float] | None = None
) -> dict[str, Any]:
    """Regions of one level as a GeoJSON FeatureCollection for the map, coordinates
    rounded to 6 decimals (≈ 0.1 m), optionally only those meeting a WGS-84 bbox."""
    rows = list(
        Region.objects.filter(level=level, boundary__isnull=False).values_list(
            "code",
            "name",
            "level",
            "parent_id",
            "boundary",
            "boundary_synthetic",
            "boundary_source",
        )
    )
    geometries = np.array([_shape(row[4]) for row in rows], dtype=object)
    keep = np.array([g is not None for g in geometries], dtype=bool)
    if bbox is not None and len(rows):
        keep &= shapely.intersects(geometries, shapely.box(*bbox))
    features = []
    for i in np.flatnonzero(keep):
        code, name, lvl, parent, _, synthetic, source = rows[i]
        rounded = shapely.transform(geometries[i], lambda xy: np.round(xy, 6))
        features.append(
            {
                "type": "Feature",
                "id": code,
                "properties": {
                    "code": code,
                    "name": name,
                    "level": lvl,
                    "parent": parent,
                    "synthetic": bool(synthetic),
                    "source": source,
                },
                "geometry": json.loads(shapely.to_geojson(rounded)),
            }
        )
    return {"type": "FeatureCollection", "features": features}


SIMPLIFY_TOLERANCE = 0.001  # degrees, ≈ 100 m: a wall screen's outline, not a boundary
_simplified: tuple[tuple, str, str] | None = None
_simplified_lock = threading.Lock()


def simplified(tolerance: float = SIMPLIFY_TOLERANCE) -> tuple[str, str]:
    """(version, JSON text): every district and street once, for a screen that
    draws areas by code — names, parents, centroids and outlines simplified to
    `tolerance` degrees and rounded to 4 decimals (≈ 10 m). Built once per
    process and rebuilt when regions change (the lookup's fingerprint): the
    command screen loads it once and never ships a boundary per update.

    The JSON: {"regions": [{"code", "name", "level", "parent", "c": [lon, lat] | null,
    "g": GeoJSON geometry | null, "synthetic": bool}]}"""
    global _simplified
    fingerprint = (_version, _fingerprint(), tolerance)
    cached = _simplified
    if cached is not None and cached[0] == fingerprint:
        return cached[1], cached[2]
    with _simplified_lock:
        rows = Region.objects.filter(level__in=("district", "street")).order_by("code")
        out = []
        for code, name, level, parent, clon, clat, boundary, synthetic in rows.values_list(
            "code",
            "name",
            "level",
            "parent_id",
            "centroid_lon",
            "centroid_lat",
            "boundary",
            "boundary_synthetic",
        ):
            shape = _shape(boundary)
            geometry = None
            if shape is not None:
                thin = shapely.transform(
                    shape.simplify(tolerance, preserve_topology=True), lambda xy: np.round(xy, 4)
                )
                geometry = json.loads(shapely.to_geojson(thin))
                if clon is None or clat is None:
                    point = shape.representative_point()
                    clon, clat = point.x, point.y
            out.append(
                {
                    "code": code,
                    "name": name,
                    "level": level,
                    "parent": parent,
                    "c": [round(clon, 4), round(clat, 4)] if clon is not None else None,
                    "g": geometry,
                    "synthetic": bool(synthetic),
                }
            )
        text = json.dumps({"regions": out}, ensure_ascii=False, separators=(",", ":"))
        version = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
        _simplified = (fingerprint, version, text)
        return version, text
