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

from yingji.settings import DATABASES  # noqa: E402

# Persistent connections from the live-server thread would keep the test database
# open and stop PostgreSQL from dropping it at the end of the run.
DATABASES["default"]["CONN_MAX_AGE"] = 0

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The SQLite test database is in memory with a shared cache, shared by the
    # live server's threads, the ingest worker's thread and the test. In shared-
    # cache mode a reader holds a table lock that makes a concurrent writer fail at
    # once with "database table is locked" (busy_timeout does not apply): a page's
    # htmx badges loading while a form posts failed the rain-cell test on a busy
    # machine. Readers that take no table locks (read_uncommitted, which only
    # applies to shared-cache connections) leave writers to wait on each other only.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["init_command"] = (
        _options.get("init_command", "") + " PRAGMA read_uncommitted=1;"
    ).strip()
