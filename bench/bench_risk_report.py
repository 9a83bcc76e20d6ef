"""Benchmark: the quarterly risk report as .docx (figures, three charts, tables),
1,000,000 hazards and 20,000 accidents, SQLite and PostgreSQL side by side
(target < 10 s, i.e. 10,000 ms).

Reports of 2026 Q1, Q2 and Q3 for the whole city; the figure is the slowest of the
three, the time of the figures alone (`quarterly_data`) is reported beside it
(QUICK=1: a tenth of the data). Data and caching: see bench/_risk_bench.py.

    .venv/bin/python bench/bench_risk_report.py
    QUICK=1 .venv/bin/python bench/bench_risk_report.py

The last line is one JSON object: figure = the worse of the two databases, in ms.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _risk_bench  # noqa: E402


def measure() -> dict:
    from yingji.risk import reports

    reports.charts  # noqa: B018 (the module is imported before timing)
    totals, figures = [], []
    for quarter in (1, 2, 3):
        t = time.perf_counter()
        data = reports.quarterly_data(2026, quarter)
        figures.append(time.perf_counter() - t)
        body = reports.quarterly_docx(data)
        totals.append(time.perf_counter() - t)
        assert body[:2] == b"PK"
    return {"report_ms": round(1000 * max(totals)), "figures_ms": round(1000 * max(figures))}


if __name__ == "__main__":
    sys.exit(
        _risk_bench.main(
            __file__,
            bench="risk_quarterly_report",
            title="quarterly report .docx",
            measure=measure,
            figure_key="report_ms",
            unit="ms",
            target=10_000,
            keys=["report_ms", "figures_ms"],
        )
    )
