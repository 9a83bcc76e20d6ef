"""Settings for the test suite: the real settings with jobs run inline and a
throw-away var/ directory, so tests never touch a developer's data. An install on
one machine (YINGJI_DEMO=1: plain HTTP, a generated secret key, no second factor
unless a test turns it on); tests of the production refusal start their own
process without it."""

import os
import tempfile

os.environ.setdefault("YINGJI_VAR_DIR", tempfile.mkdtemp(prefix="yingji-test-"))
os.environ.setdefault("YINGJI_DEMO", "1")

from yingji.settings import *  # noqa: E402,F401,F403
from yingji.settings import HUEY  # noqa: E402

HUEY = {**HUEY, "immediate": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
YINGJI_HEALTH_CACHE_SECONDS = 0  # every probe in a test runs the checks
# Test transactions roll back without the commit that bumps a cached public page's
# version: the copy would outlive the test's data (tests/alerts/test_public_cache.py
# turns it on).
YINGJI_PUBLIC_PAGE_CACHE = False
YINGJI_PAGE_CACHE_SECONDS = 0  # the same for the working pages (core/pagecache.py)

from yingji.settings import DATABASES  # noqa: E402

# Persistent connections from the live-server thread would keep the test database
# open and stop PostgreSQL from dropping it at the end of the run.
DATABASES["default"]["CONN_MAX_AGE"] = 0

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The SQLite test database is a file in this run's var/ directory, not Django's
    # default in-memory database with a shared cache: in shared-cache mode a second
    # writer (the live server's thread, the ingest worker's thread, the test) fails
    # at once with "database table is locked" — busy_timeout does not apply there —
    # which failed the rain-cell browser test on a busy machine. On a file with WAL
    # (settings), writers wait for each other up to busy_timeout, as in production.
    from yingji.settings import VAR_DIR  # noqa: E402

    DATABASES["default"]["TEST"]["NAME"] = str(VAR_DIR / "test-yingji.sqlite3")
