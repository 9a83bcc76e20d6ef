"""PostgreSQL's binary COPY format for readings, built with numpy (pure: no Django).

Why binary: a text COPY makes the server parse every number back from its digits
(and Python format it first, `repr` of a float being the slowest part); the binary
form is the numbers' own bytes, laid out by numpy for a whole batch in one call.
Measured on the readings import (bench/bench_sensor_import.py, 1,000,000 readings,
2 cores): see docs/monitoring.md "Third-party networks".

The format (PostgreSQL docs, "COPY", Binary Format): an 11-byte signature, a
32-bit flags field and a 32-bit header-extension length; then per tuple a 16-bit
field count and per field a 32-bit length and the value in network byte order
(int8 and float8: 8 bytes); a 16-bit -1 ends the data.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
HEADER = SIGNATURE + struct.pack("!ii", 0, 0)
TRAILER = struct.pack("!h", -1)

# One reading: (sensor_id bigint, ts_ms bigint, value double precision).
READING = np.dtype(
    [
        ("fields", ">i2"),
        ("len_sensor", ">i4"),
        ("sensor", ">i8"),
        ("len_ts", ">i4"),
        ("ts", ">i8"),
        ("len_value", ">i4"),
        ("value", ">f8"),
    ]
)
assert READING.itemsize == 38


def readings(sensors: Sequence[int], ts: Sequence[int], values: Sequence[float]) -> bytes:
    """The tuples of a batch (no header or trailer: a COPY may take many batches)."""
    n = len(sensors)
    if not n == len(ts) == len(values):
        raise ValueError("sensors, ts and values differ in length")
    out = np.empty(n, READING)
    out["fields"] = 3
    out["len_sensor"] = out["len_ts"] = out["len_value"] = 8
    out["sensor"] = np.asarray(sensors, dtype=np.int64)
    out["ts"] = np.asarray(ts, dtype=np.int64)
    out["value"] = np.asarray(values, dtype=np.float64)
    return out.tobytes()


def decode(data: bytes) -> list[tuple[int, int, float]]:
    """The readings of a whole binary COPY stream (header, tuples, trailer): the
    inverse of HEADER + readings(...) + TRAILER, for tests and checks."""
    if not data.startswith(HEADER) or not data.endswith(TRAILER):
        raise ValueError("not a binary COPY stream of readings")
    body = np.frombuffer(data[len(HEADER) : -len(TRAILER)], READING)
    if (body["fields"] != 3).any():
        raise ValueError("a tuple without three fields")
    return [(int(r["sensor"]), int(r["ts"]), float(r["value"])) for r in body]
