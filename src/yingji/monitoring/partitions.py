"""Partitioned ingest: which worker evaluates which sensors (pure, no Django).

Mosquitto deals a shared subscription's messages round robin, so with several
workers in one group one sensor's readings reach different workers, and rules
with state (rolling sums, rates of change, durations, k-of-n composites) would
each see part of the stream. A broker with per-topic affinity (EMQX's
``hash_topic``) would solve it in the broker; Mosquitto has none.

So workers can instead be started as partitions of the stream
(``yingji ingest --partition 0/2`` and ``--partition 1/2``): every partition
receives every message (its own shared-subscription group, so its queue and
persistent session are its own) and keeps only the readings of the sensors it
owns. A sensor belongs to the partition of its area — its street, else its
district, else its own code — so all readings of a sensor, and all sensors of a
street (the area of a composite rule), are evaluated by one worker, exactly as a
single worker would. Parsing is repeated in every partition (a few microseconds a
reading); storing and evaluating, the expensive part, is split.

Each message's parse problems and each unknown sensor are dead-lettered by one
partition only, chosen by the same hash, so nothing is kept twice.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass


class PartitionError(ValueError):
    pass


@dataclass(frozen=True)
class Partition:
    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise PartitionError(f"分区 {self.index}/{self.count} 无效:应为 i/N,0 ≤ i < N,例如 0/2")

    @classmethod
    def parse(cls, spec: str | None) -> Partition:
        """'i/N' (e.g. '1/4'); empty or None: the whole stream."""
        if not spec:
            return cls()
        left, sep, right = spec.strip().partition("/")
        if not sep or not left.strip().isdigit() or not right.strip().isdigit():
            raise PartitionError(f"分区「{spec}」格式不对:应为 i/N,例如 0/2")
        return cls(int(left), int(right))

    @property
    def whole(self) -> bool:
        return self.count == 1

    def owns(self, key: str) -> bool:
        """Whether this partition owns `key` (an area code or a sensor code)."""
        # surrogatepass: a code from JSON may hold a lone surrogate (\ud800).
        return (
            self.whole
            or zlib.crc32(key.encode("utf-8", "surrogatepass")) % self.count == self.index
        )

    def owns_message(self, topic: str, payload: bytes) -> bool:
        """Whether this partition keeps a message's parse problems."""
        return (
            self.whole
            or zlib.crc32(payload, zlib.crc32(topic.encode("utf-8", "surrogatepass"))) % self.count
            == self.index
        )

    def group(self, base: str) -> str:
        """The shared-subscription group of this partition."""
        return base if self.whole else f"{base}.p{self.index}of{self.count}"

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def sensor_key(code: str, street: str | None, district: str | None) -> str:
    """The partition key of a sensor: its street, else district, else its code."""
    return street or district or code
