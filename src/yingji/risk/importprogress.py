"""Progress of a running ledger import, shared between the background job and
the page that polls it (pure; no Django).

The import writes all its rows in one transaction (all or nothing), so a progress
row in the database would stay invisible to the page until the very end. The job
therefore writes its progress to a small JSON file beside the uploaded workbook
(atomically: a temporary file renamed over the old one), at most every
`interval` seconds and at every change of phase; the page reads it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

PHASES = {"queued": "排队等待", "read": "读取文件", "validate": "逐行校验", "write": "写入数据库"}
STALE_SECONDS = 600  # a running phase without news this long: the job has probably stopped


@dataclass(frozen=True)
class Snapshot:
    phase: str
    done: int
    total: int  # 0 while unknown (reading)
    at: float  # time.time() of the update

    @property
    def percent(self) -> int | None:
        return min(100, int(100 * self.done / self.total)) if self.total else None

    def stale(self, now: float | None = None) -> bool:
        """A running phase not updated for STALE_SECONDS (a queued job may wait longer)."""
        return self.phase != "queued" and (now or time.time()) - self.at > STALE_SECONDS

    def describe(self) -> str:
        """The progress in words, e.g. "逐行校验:已校验 30,000 / 100,000 行(30%)"."""
        name = PHASES.get(self.phase, self.phase)
        if self.phase == "queued":
            return f"{name}:后台任务尚未开始"
        if self.phase == "read":
            return f"{name}:已读取 {self.done:,} 行"
        verb = "已校验" if self.phase == "validate" else "已写入"
        return f"{name}:{verb} {self.done:,} / {self.total:,} 行({self.percent}%)"


class ProgressFile:
    """A progress callback `(phase, done, total)` that keeps `path` up to date."""

    def __init__(self, path: Path, *, interval: float = 0.5, clock=time.time):
        self.path, self.interval, self.clock = Path(path), interval, clock
        self._last: tuple[str, float] | None = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = self.clock()
        final = total and done >= total
        if (
            self._last
            and self._last[0] == phase
            and now - self._last[1] < self.interval
            and not final
        ):
            return
        self._last = (phase, now)
        write(self.path, Snapshot(phase, done, total, now))


def write(path: Path, snapshot: Snapshot) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(asdict(snapshot)), encoding="utf-8")
    os.replace(partial, path)


def read(path: Path) -> Snapshot | None:
    """The last snapshot written, or None (no file, or unreadable)."""
    try:
        return Snapshot(**json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
