"""Benchmark: the double-random draw over 100,000 entities and 2,000 inspectors
with every constraint (proportions per category, weights, district, certificate
validity per monthly slot, conflicts, not last time's inspector, a workload cap
of 14 per inspector), then the
verification re-run, which must give the identical result.

    .venv/bin/python bench/bench_enforcement_draw.py          # 100,000 × 2,000
    QUICK=1 .venv/bin/python bench/bench_enforcement_draw.py  # 20,000 × 400

Target: draw under 2 s. The figure is the slower of draw and re-run (median of
3 runs each). Needs no Django: the draw is pure. The last line printed is JSON.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import quick, report  # noqa: E402
from _enforcement_data import registers  # noqa: E402

from yingji.enforcement.draw import draw, inputs_document, rerun  # noqa: E402

TARGET_S = 2.0


def main() -> None:
    """Time the draw and its verification re-run; print the JSON summary last."""
    n_entities, n_inspectors = (20_000, 400) if quick() else (100_000, 2_000)
    entities, inspectors, parameters = registers(n_entities, n_inspectors)
    seed = "5b0c2f6e" * 8
    draw_times, rerun_times = [], []
    first = None
    for _ in range(3):
        started = time.perf_counter()
        result = draw(entities, inspectors, parameters, seed)
        draw_times.append(time.perf_counter() - started)
        doc = inputs_document(entities, inspectors, parameters, seed)
        started = time.perf_counter()
        again = rerun(doc)  # what a verifier does: from the published document
        rerun_times.append(time.perf_counter() - started)
        assert again.digest() == result.digest(), "re-run differs"
        first = first or result.digest()
        assert result.digest() == first
    d, r = statistics.median(draw_times), statistics.median(rerun_times)
    print(
        f"draw {n_entities:,} entities × {n_inspectors:,} inspectors → {len(result.picks):,} picks: "
        f"{d:.3f} s; re-run from published inputs {r:.3f} s; identical: yes "
        f"(sha256 {first[:16]}…; target < {TARGET_S} s)"
    )
    report("enforcement_draw", round(max(d, r), 3), unit="s", target=TARGET_S)


if __name__ == "__main__":
    main()
