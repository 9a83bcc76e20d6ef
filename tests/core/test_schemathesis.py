"""Schemathesis over the whole API (issue 13): no input a client can send gives a
server error, and every response matches its declared schema.

Every operation of the OpenAPI schema is called with generated requests (valid
by the schema, and invalid ones), as a user who sees everything and as 天河区 staff,
on the two districts' records of tests/scope_world.py, through the real WSGI
stack (session cookie and CSRF token, as a browser sends them). Each request
runs in a savepoint that is rolled back, so one request's writes never decide
the next one's outcome. The run is bounded and deterministic (a fixed number of
examples per operation, derandomised), so CI takes the same few minutes each
time; a failure names the operation and the request that broke it.
"""

from __future__ import annotations

import secrets
import time

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

# Examples per operation and kind of input, for the user who sees everything and
# (fewer: most of their requests end in the same 403/404) for 天河区 staff.
EXAMPLES = {
    "leader": {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 3},
    "th": {GenerationMode.POSITIVE: 3, GenerationMode.NEGATIVE: 2},
}
CHECKS = [not_a_server_error, response_schema_conformance]
# Operations that answer slowly by design (a Word document with charts): fewer examples.
SLOW = {"/api/v1/risk/reports/quarterly.docx", "/api/v1/risk/reports/quarterly"}


@pytest.fixture(scope="module")
def wsgi_app():
    """The WSGI application, with the per-request connection closing that the test
    client also switches off (it would end the test's transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def session_of(user) -> tuple[dict, dict]:
    """(cookies, headers) of a logged-in browser: session and CSRF token."""
    client = Client()
    client.force_login(user)
    token = secrets.token_hex(16)
    cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": token}
    return cookies, {"X-CSRFToken": token}


def operations(app):
    from yingji.api import api

    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    schema.app = app
    for result in schema.get_all_operations():
        yield result.ok()


def run_operation(operation, app, cookies, headers, mode, examples: int) -> str | None:
    """The first failure of a bounded run of one operation, or None."""
    examples = examples if operation.path not in SLOW else 1

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        with transaction.atomic():
            response = case.call(app=app, cookies=cookies, headers=headers)
            transaction.set_rollback(True)
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        check()
    except Unsatisfiable:  # nothing of the operation can be made invalid (no parameters)
        return None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - check failures are exception groups
        return f"{operation.method.upper()} {operation.path} ({mode.value}):\n{exc}"
    return None


@pytest.mark.parametrize("username", ["leader", "th"])
def test_no_request_gives_a_server_error_or_breaks_the_response_schema(
    two_districts, db, wsgi_app, username
):
    cookies, headers = session_of(two_districts.users[username])
    failures = []
    count = 0
    timings = []
    for operation in operations(wsgi_app):
        count += 1
        started = time.perf_counter()
        for mode, examples in EXAMPLES[username].items():
            failure = run_operation(operation, wsgi_app, cookies, headers, mode, examples)
            if failure:
                failures.append(failure)
        timings.append((time.perf_counter() - started, operation.path))
    print("slowest:", [(round(t, 1), p) for t, p in sorted(timings, reverse=True)[:8]])
    assert count >= 141
    assert not failures, f"{len(failures)} 个接口出错:\n\n" + "\n\n".join(failures)
