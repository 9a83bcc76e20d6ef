"""Pages every logged-out visitor sees alike (the public warning page and its
feed), kept rendered and answered without running the rest of the stack.

A module registers a page by URL name under a *version name*
(`register("alerts:public", "alerts")`) and calls `bump(name)` whenever what the
page shows changes (the alerts app does on every save of a released warning:
publish, update, cancel, expiry), after the transaction commits. Each web
process keeps the rendered response with the version it was rendered under and
answers the next logged-out GET from it while the version is unchanged, so a new
warning is on the page at the next request.

The version lives where every process of the installation reads it: in the
Django cache when that is shared (Redis, REDIS_URL), else in a small file under
VAR_DIR (one machine). Served from the copy only: GET without a query string and
without a session cookie (a logged-in user always gets the page rendered for
them), and stored only from a 200 that sets no cookie. settings
YINGJI_PUBLIC_PAGE_CACHE=False turns it off (the test suite, whose transactions
roll back without the commit that bumps a version).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction
from django.http import HttpResponse
from django.urls import NoReverseMatch, reverse

CACHE_HEADER = "X-Yingji-Cache"
_registry: dict[str, str] = {}  # URL name -> version name


def register(url_name: str, version_name: str) -> None:
    """Serve the page named `url_name` (no URL arguments) from the copy while
    `version_name` is unchanged."""
    _registry[url_name] = version_name


def _shared_cache():
    """The Django cache when every process shares it, else None."""
    cache = caches["default"]
    if isinstance(cache, LocMemCache | DummyCache):
        return None
    return cache


def _version_file(name: str) -> Path:
    return Path(settings.VAR_DIR) / "page-versions" / name


def version(name: str) -> str:
    """The current version of `name` (created on first use)."""
    cache = _shared_cache()
    key = f"page-version:{name}"
    if cache is not None:
        value = cache.get(key)
        if value is None:
            value = uuid.uuid4().hex
            if not cache.add(key, value, timeout=None):
                value = cache.get(key) or value
        return value
    path = _version_file(name)
    try:
        return path.read_text()
    except FileNotFoundError:
        return _write_version(path)


def _write_version(path: Path) -> str:
    value = uuid.uuid4().hex
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(value)
    os.replace(tmp, path)  # atomic: a reader sees the old version or the new one
    return value


def bump_now(name: str) -> None:
    cache = _shared_cache()
    if cache is not None:
        cache.set(f"page-version:{name}", uuid.uuid4().hex, timeout=None)
    else:
        _write_version(_version_file(name))


def bump(name: str) -> None:
    """`name` changed: once the current transaction commits (at once outside one),
    every process renders its pages afresh. Bumped before the commit, a request
    in between would keep the old data under the new version."""
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        # Once per name and transaction (a bulk load saves thousands of rows): an
        # earlier bump that a rollback would not undo without undoing this change.
        active = set(connection.savepoint_ids)
        for savepoints, func, _robust in connection.run_on_commit:
            if isinstance(func, _Bump) and func.name == name and not func.done:
                if savepoints <= active:
                    return
    transaction.on_commit(_Bump(name))


class _Bump:
    """bump_now(name) as an on-commit callback that says whether it ran."""

    def __init__(self, name: str) -> None:
        self.name, self.done = name, False

    def __call__(self) -> None:
        self.done = True
        bump_now(self.name)


class PublicPageCacheMiddleware:
    """Placed before the session middleware: a hit costs one version read."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._paths: dict[str, str] | None = None
        # path -> (version, status, headers, body); one entry per registered page.
        self._copies: dict[str, tuple[str, int, list[tuple[str, str]], bytes]] = {}

    def paths(self) -> dict[str, str]:
        if self._paths is None:
            paths = {}
            for url_name, name in _registry.items():
                try:
                    paths[reverse(url_name)] = name
                except NoReverseMatch:
                    continue
            self._paths = paths
        return self._paths

    def __call__(self, request):
        if (
            request.method != "GET"
            or request.META.get("QUERY_STRING")
            or settings.SESSION_COOKIE_NAME in request.COOKIES
            or not getattr(settings, "YINGJI_PUBLIC_PAGE_CACHE", True)
        ):
            return self.get_response(request)
        path = request.path_info
        name = self.paths().get(path)
        if name is None:
            return self.get_response(request)
        current = version(name)
        copy = self._copies.get(path)
        if copy is not None and copy[0] == current:
            _, status, headers, body = copy
            response = HttpResponse(body, status=status, headers=dict(headers))
            response[CACHE_HEADER] = "hit"
            return response
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and "private" not in response.get("Cache-Control", "")
            and (user is None or not user.is_authenticated)
        ):
            self._copies[path] = (current, 200, list(response.items()), response.content)
            response[CACHE_HEADER] = "miss"
        return response
