"""Benchmark: Excel import of 100,000 hazard rows into a ledger of 1,000,000,
SQLite and PostgreSQL side by side (target < 60 s, i.e. 60,000 ms, with progress).

A generated .xlsx of new hazards of existing enterprises is imported through
`ledger.import_ledger` with a LedgerImport record and a progress file (as the web
page's job does), then imported again (nothing changes; reported beside it). QUICK=1: a
tenth of the data and 10,000 rows. Data and caching: see bench/_risk_bench.py.

    .venv/bin/python bench/bench_risk_import.py
    QUICK=1 .venv/bin/python bench/bench_risk_import.py

The last line is one JSON object: figure = the worse import time of the two
databases, in ms.
"""

from __future__ import annotations

import io
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _risk_bench  # noqa: E402


def measure() -> dict:
    from openpyxl import Workbook

    from yingji.risk import importprogress, ledger
    from yingji.risk.models import Enterprise, LedgerImport

    rows = 10_000 if _risk_bench.quick() else 100_000
    rng = random.Random(2026)
    codes = list(Enterprise.objects.values_list("credit_code", flat=True)[:5000])
    book = Workbook(write_only=True)
    sheet = book.create_sheet("隐患台账")
    sheet.append(
        [
            "隐患编号",
            "统一社会信用代码",
            "隐患等级",
            "来源",
            "类别",
            "隐患描述",
            "发现日期",
            "整改期限",
            "状态",
        ]
    )
    for i in range(rows):
        sheet.append(
            [
                f"IM{i:08d}",
                rng.choice(codes),
                "一般隐患",
                "企业自查",
                "消防安全",
                "导入基准:灭火器过期",
                "2026-03-02",
                "2026-03-20",
                "整改中",
            ]
        )
    buf = io.BytesIO()
    book.save(buf)
    data = buf.getvalue()
    record = LedgerImport.objects.create(kind="hazards", filename="bench.xlsx")
    shown = []

    def progress(done: int, total: int) -> None:
        if not shown or done - shown[-1] >= total // 4 or done == total:
            shown.append(done)
            print(f"    import progress {done:,}/{total:,}", flush=True)

    t = time.perf_counter()
    report = ledger.import_ledger(
        "hazards",
        data,
        filename="bench.xlsx",
        record=record,
        progress=progress,
        track=importprogress.ProgressFile(Path.cwd() / f"{record.pk}.progress.json"),
    )
    import_s = time.perf_counter() - t
    assert report.written and report.created == rows, report.summary()
    t = time.perf_counter()
    again = ledger.import_ledger("hazards", data, filename="bench.xlsx")
    reimport_s = time.perf_counter() - t
    assert again.unchanged == rows
    return {
        "import_ms": round(1000 * import_s),
        "reimport_ms": round(1000 * reimport_s),
        "rows": rows,
        "rows_per_s": round(rows / import_s),
    }


if __name__ == "__main__":
    sys.exit(
        _risk_bench.main(
            __file__,
            bench="risk_hazard_import",
            title="Excel import of hazard rows",
            measure=measure,
            figure_key="import_ms",
            unit="ms",
            target=60_000,
            keys=["import_ms", "reimport_ms", "rows_per_s"],
        )
    )
