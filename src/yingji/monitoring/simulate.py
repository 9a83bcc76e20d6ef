"""Weather driving the sensors, for the demo and the simulation command. Pure
(numpy, no Django): frames of (time, sensor indices, values).

- `rainstorm`: a convective cell crossing the city west → east; rain gauges get
  a Gaussian rain rate around the cell centre, waterlogging points fill with
  the local rain and drain slowly, wind gauges see gusts near the cell.
- `typhoon`: Typhoon 1822 Mangkhut's real track (data/typhoon_1822_mangkhut_track.csv,
  CMA via HulkZhang001/TaiFengDemo) interpolated in time; wind follows a modified
  Rankine vortex from the track's maximum wind, rain decays with distance from the
  centre. The default window is 2018-09-16 06:00 – 09-17 06:00 (landfall at Taishan
  about 17:00 on the 16th), the day Guangzhou felt it.

Times in frames are simulated epoch seconds from ``start_s``; the caller maps
them onto real time and paces them.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TRACK = Path(__file__).resolve().parent / "data" / "typhoon_1822_mangkhut_track.csv"
KM_PER_DEG = 111.0


@dataclass(frozen=True)
class Frame:
    ts_s: float
    idx: np.ndarray
    values: np.ndarray


def _distance_km(lon: np.ndarray, lat: np.ndarray, clon: float, clat: float) -> np.ndarray:
    dx = (lon - clon) * KM_PER_DEG * math.cos(math.radians(clat))
    dy = (lat - clat) * KM_PER_DEG
    return np.hypot(dx, dy)


def rainstorm(
    lons: np.ndarray,
    lats: np.ndarray,
    types: np.ndarray,
    *,
    start_s: float,
    minutes: int = 180,
    step_s: int = 300,
    peak_mm_per_5min: float = 25.0,
    radius_km: float = 12.0,
    path: tuple[tuple[float, float], tuple[float, float]] = ((113.05, 23.05), (113.65, 23.25)),
) -> Iterator[Frame]:
    """A rain cell moving along `path` over `minutes`."""
    lons, lats, types = np.asarray(lons), np.asarray(lats), np.asarray(types)
    rain_i = np.flatnonzero(types == "rain")
    water_i = np.flatnonzero(types == "waterlogging")
    wind_i = np.flatnonzero(types == "wind_speed")
    depth = np.zeros(len(water_i))
    steps = max(1, minutes * 60 // step_s)
    (x0, y0), (x1, y1) = path
    for k in range(steps + 1):
        f = k / steps
        cx, cy = x0 + (x1 - x0) * f, y0 + (y1 - y0) * f
        # The cell builds up, peaks mid-way and weakens.
        strength = math.sin(math.pi * min(1.0, max(0.0, f))) ** 0.5
        rate = peak_mm_per_5min * step_s / 300 * strength
        d_rain = _distance_km(lons[rain_i], lats[rain_i], cx, cy)
        rain = np.round(rate * np.exp(-(d_rain**2) / (2 * radius_km**2)), 1)
        d_water = _distance_km(lons[water_i], lats[water_i], cx, cy)
        local = rate * np.exp(-(d_water**2) / (2 * radius_km**2))
        depth = np.maximum(0.0, depth + local * 0.8 - 2.0 * step_s / 300)
        d_wind = _distance_km(lons[wind_i], lats[wind_i], cx, cy)
        wind = np.round(3 + 18 * strength * np.exp(-(d_wind**2) / (2 * (2 * radius_km) ** 2)), 1)
        yield Frame(
            start_s + k * step_s,
            np.concatenate([rain_i, water_i, wind_i]),
            np.concatenate([rain, np.round(depth, 1), wind]),
        )


@dataclass(frozen=True)
class TrackPoint:
    time: dt.datetime
    lon: float
    lat: float
    wind_ms: float
    pressure: float
    grade: str


def read_track(path: Path = TRACK) -> list[TrackPoint]:
    """The track points, Beijing time (UTC+8)."""
    tz = dt.timezone(dt.timedelta(hours=8))
    with path.open(encoding="utf-8") as fh:
        return [
            TrackPoint(
                dt.datetime.fromisoformat(r["time"]).replace(tzinfo=tz),
                float(r["longitude"]),
                float(r["latitude"]),
                float(r["speed"]),
                float(r["pressure"]),
                r["strong"],
            )
            for r in csv.DictReader(fh)
        ]


def track_at(track: list[TrackPoint], when: dt.datetime) -> tuple[float, float, float]:
    """Centre lon, lat and maximum wind (m/s) interpolated at `when`."""
    times = np.array([p.time.timestamp() for p in track])
    t = min(max(when.timestamp(), times[0]), times[-1])
    return (
        float(np.interp(t, times, [p.lon for p in track])),
        float(np.interp(t, times, [p.lat for p in track])),
        float(np.interp(t, times, [p.wind_ms for p in track])),
    )


def typhoon(
    lons: np.ndarray,
    lats: np.ndarray,
    types: np.ndarray,
    *,
    start_s: float,
    track: list[TrackPoint] | None = None,
    begin: dt.datetime | None = None,
    hours: float = 24.0,
    step_s: int = 600,
    rmax_km: float = 40.0,
) -> Iterator[Frame]:
    """Mangkhut over the sensors: one frame per `step_s` of storm time."""
    track = track or read_track()
    tz = dt.timezone(dt.timedelta(hours=8))
    begin = begin or dt.datetime(2018, 9, 16, 6, 0, tzinfo=tz)
    lons, lats, types = np.asarray(lons), np.asarray(lats), np.asarray(types)
    rain_i = np.flatnonzero(types == "rain")
    wind_i = np.flatnonzero(types == "wind_speed")
    water_i = np.flatnonzero(types == "waterlogging")
    depth = np.zeros(len(water_i))
    steps = int(hours * 3600 // step_s)
    for k in range(steps + 1):
        cx, cy, vmax = track_at(track, begin + dt.timedelta(seconds=k * step_s))
        r = _distance_km(lons[wind_i], lats[wind_i], cx, cy)
        wind = np.where(r < rmax_km, vmax * r / rmax_km, vmax * (rmax_km / np.maximum(r, 1)) ** 0.5)
        rr = _distance_km(lons[rain_i], lats[rain_i], cx, cy)
        rain = 30.0 * step_s / 3600 * np.exp(-rr / 180.0)  # mm per step
        rw = _distance_km(lons[water_i], lats[water_i], cx, cy)
        depth = np.maximum(
            0.0, depth + 30.0 * step_s / 3600 * np.exp(-rw / 180.0) * 0.8 - 2.0 * step_s / 300
        )
        yield Frame(
            start_s + k * step_s,
            np.concatenate([rain_i, wind_i, water_i]),
            np.round(np.concatenate([rain, wind, depth]), 1),
        )
