"""Gunicorn's configuration module (`-c python:yingji.core.gunicornconf`, added
by core/webserver.py): server hooks only; sizes and addresses stay on the
command line. No Django import: gunicorn's master loads this before the app."""

from __future__ import annotations

import os


def child_exit(server, worker) -> None:
    """A dead worker's live gauges leave the multiprocess metrics directory
    (PROMETHEUS_MULTIPROC_DIR, docs/operations.md)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
