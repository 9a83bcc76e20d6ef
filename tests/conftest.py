"""Shared test set-up.

Settings are yingji.test_settings (jobs inline, throw-away var/ directory).
In CI (CI=true) a skipped test fails the run: tests that need a service must
talk to it, never skip.
"""

import os


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
