"""Ledger imports from the web page, run as a background job with progress.

The page saves the uploaded workbook under VAR_DIR/risk-imports/, creates the
LedgerImport record and queues `tasks.ledger_import`; the job runs the ordinary
`ledger.import_ledger` (every row checked, all or nothing, or the valid rows when
chosen) and keeps a progress file beside the workbook that the page polls
(importprogress.py says why a file). At the end the record holds the report and
both files are removed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from yingji.core.audit import acting_as
from yingji.risk import importprogress, ledger
from yingji.risk.models import LedgerImport

log = logging.getLogger(__name__)


def _directory() -> Path:
    return Path(settings.VAR_DIR) / "risk-imports"


def workbook_path(record: LedgerImport) -> Path:
    return _directory() / f"{record.pk}.xlsx"


def progress_path(record: LedgerImport) -> Path:
    return _directory() / f"{record.pk}.progress.json"


def start(kind: str, data: bytes, *, filename: str, user: Any, valid_only: bool) -> LedgerImport:
    """Save the workbook, record the import and queue the job (run at once in tests)."""
    from yingji.risk.tasks import ledger_import

    record = LedgerImport.objects.create(
        kind=kind,
        filename=filename[:200],
        valid_only=valid_only,
        started_by=user if getattr(user, "is_authenticated", False) else None,
    )
    path = workbook_path(record)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    importprogress.write(
        progress_path(record), importprogress.Snapshot("queued", 0, 0, timezone.now().timestamp())
    )
    ledger_import(record.pk)
    return record


def run(record_id: int) -> None:
    """The job: import the saved workbook into the record, with progress."""
    record = LedgerImport.objects.select_related("started_by").filter(pk=record_id).first()
    if record is None or record.status != LedgerImport.Status.RUNNING:
        return
    path = workbook_path(record)
    try:
        with acting_as(record.started_by, None if record.started_by else "台账导入"):
            ledger.import_ledger(
                record.kind,
                path.read_bytes(),
                filename=record.filename,
                user=record.started_by,
                valid_only=record.valid_only,
                record=record,
                track=importprogress.ProgressFile(progress_path(record)),
            )
    except Exception as exc:  # the page must not wait for ever: record the failure
        log.exception("ledger import %s failed", record_id)
        record.status = LedgerImport.Status.FAILED
        record.errors = [ledger.RowError(0, "", f"导入出错,未导入任何数据:{exc}").as_dict()]
        record.finished_at = timezone.now()
        record.save()
    finally:
        path.unlink(missing_ok=True)
        progress_path(record).unlink(missing_ok=True)


def visible_imports(user: Any):
    """The imports a user may look at: their own, or every one for those who see everything."""
    from yingji.core.scope import scope_for

    if scope_for(user).sees_all:
        return LedgerImport.objects.all()
    return LedgerImport.objects.filter(started_by=user if user.is_authenticated else None)


def progress(record: LedgerImport) -> importprogress.Snapshot | None:
    """Where a running import stands (None once finished)."""
    if record.status != LedgerImport.Status.RUNNING:
        return None
    return importprogress.read(progress_path(record))


def report(record: LedgerImport) -> ledger.ImportReport | None:
    """The finished import's report (None while running)."""
    if record.status == LedgerImport.Status.RUNNING:
        return None
    return ledger.ImportReport(
        kind=record.kind,
        filename=record.filename,
        total=record.total_rows,
        errors=[ledger.RowError(e["row"], e["column"], e["message"]) for e in record.errors],
        created=record.created,
        updated=record.updated,
        unchanged=record.unchanged,
        written=record.status == LedgerImport.Status.DONE,
        valid_only=record.valid_only,
    )
