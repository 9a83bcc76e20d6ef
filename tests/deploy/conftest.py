"""Tests marked needs_pg_redis start processes that share the database and the job
queue, so they need PostgreSQL and Redis. On SQLite such a test cannot run: it is
skipped outside CI, and deselected in CI, where the PostgreSQL pass is required
(scripts/test-all) and runs it. On PostgreSQL an unreachable Redis fails it in CI
and skips it elsewhere."""

import os
import socket
from urllib.parse import urlparse

import pytest

IN_CI = os.environ.get("CI") == "true"


def _on_postgresql() -> bool:
    from django.conf import settings

    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def _redis_answers() -> bool:
    u = urlparse(redis_url())
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(config, items):
    marked = [i for i in items if i.get_closest_marker("needs_pg_redis")]
    if not marked or _on_postgresql():
        return
    if IN_CI:  # the PostgreSQL pass, required in CI, runs them
        config.hook.pytest_deselected(items=marked)
        items[:] = [i for i in items if not i.get_closest_marker("needs_pg_redis")]
        return
    for item in marked:
        item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (runs in the PostgreSQL pass)"))


@pytest.fixture(autouse=True)
def _redis(request):
    if request.node.get_closest_marker("needs_pg_redis") and not _redis_answers():
        message = f"Redis does not answer at {redis_url()}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
