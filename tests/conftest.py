"""Shared test set-up.

Settings are yingji.test_settings (jobs inline, throw-away var/ directory).
In CI (CI=true) a skipped test fails the run: tests that need a service must
talk to it, never skip.
"""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# Two districts' records for the scope tests (issue 13): the `two_districts` fixture.
pytest_plugins = ["tests.scope_world"]


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    return f"yingji database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('HOST') or db['NAME']}"


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CI") == "true" and skipped:
        reporter.write_line(f"CI: {skipped} test(s) skipped; in CI nothing may skip", red=True)
        session.exitstatus = 1


@pytest.fixture
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed (apt install chromium); CI installs it")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in the test's thread; the ORM calls
    # the test itself makes (fixtures, assertions) are plain synchronous code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            yield b
            b.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def logged_in_page(browser, live_server):
    """A factory for browser tests: `page = logged_in_page(user)` is a new page
    in its own browser context (its own cookies, so two users can work side by
    side), already logged in as `user` (a User or a username).

    The login is Django's own: the test client's force_login creates the
    session and its cookie is handed to the browser, so no test depends on the
    login form's markup or on a user's password. Keyword arguments go to the
    browser context: `logged_in_page(user, viewport={"width": 375, "height": 740})`."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    def make(user, **context_options):
        if isinstance(user, str):
            user = get_user_model().objects.get(username=user)
        client = Client()
        client.force_login(user)
        context = browser.new_context(**context_options)
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        return context.new_page()

    return make


@pytest.fixture(scope="session")
def _end_stray_sessions_at_exit(django_db_setup, django_db_blocker):
    """At the end of a run that used the live server on PostgreSQL, end the test
    database's other sessions before it is dropped: the session-long live-server
    thread keeps one idle connection open (it serves every live-server test, so it
    cannot be closed between tests), and the test database could otherwise not be
    dropped ("is being accessed by other users")."""
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture(autouse=True)
def _live_server_cleanup(request):
    if "live_server" in request.fixturenames:
        request.getfixturevalue("_end_stray_sessions_at_exit")
