"""The busiest working pages (the plan board, the hazard list, the duty desk, the
alert list), kept rendered per user while the data they show is unchanged.

    @login_required
    @pagecache.per_user("workplan")
    def board(request, plan_id): ...

A page is answered from its copy when the same user asks for the same URL
again (from any of their sessions: the copy's CSRF tokens are replaced by the
requesting session's own, freshly masked, at each answer), the
*data versions* of the apps it reads (and of core: people, departments,
regions) have not changed, and the copy is younger than YINGJI_PAGE_CACHE_SECONDS
(default 30). Every save or delete of a model of an app bumps that app's version
after its transaction commits (core/publiccache.py keeps versions: Redis when
REDIS_URL is set, else a file under VAR_DIR), so a change made through the
application shows at the next request. The age limit bounds what no signal
reports — a bulk UPDATE, another system writing to the database, text relative
to the clock ("已逾期 3 天", "12 分钟前").

Never from the copy: anything but GET, a logged-out request, one with
messages waiting to be shown, a response other than a 200
or one that sets a cookie. Copies live in each process's memory (at most
MAX_BYTES, oldest dropped first). YINGJI_PAGE_CACHE_SECONDS=0 turns it off
(the test suite does: its transactions roll back without the commits that
bump the versions).
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.middleware.csrf import _unmask_cipher_token, get_token

from yingji.core import publiccache

CACHE_HEADER = "X-Yingji-Page-Cache"
CSRF_MARK = b"\x00csrf-token\x00"
# A masked CSRF token: 64 letters and digits, not part of a longer run.
_TOKEN = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
MAX_BYTES = 64 * 1024 * 1024  # of copies per process; the oldest go first
_copies: OrderedDict[tuple, tuple[float, tuple, int, list, bytes]] = OrderedDict()
_size = [0]
_lock = threading.Lock()
_rendering: dict[tuple, threading.Event] = {}
WAIT_SECONDS = 10.0  # for another thread's render of the same page


def seconds() -> float:
    return float(getattr(settings, "YINGJI_PAGE_CACHE_SECONDS", 0) or 0)


def data_version_name(app_label: str) -> str:
    return f"data-{app_label}"


def data_changed(app_label: str) -> None:
    """A model of `app_label` was saved or deleted: bump its version at commit."""
    if seconds() > 0:
        publiccache.bump(data_version_name(app_label))


def _on_model_change(sender: Any, **kwargs: Any) -> None:
    meta = getattr(sender, "_meta", None)
    if meta is not None and meta.app_config is not None:
        if meta.app_config.name.startswith("yingji."):
            data_changed(meta.app_label)


def connect_signals() -> None:
    """Every model of the platform's apps bumps its app's version (core's ready)."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    for signal in (post_save, post_delete, m2m_changed):
        signal.connect(_on_model_change, dispatch_uid="yingji.core.pagecache")


def _messages_waiting(request) -> bool:
    if request.COOKIES.get("messages"):
        return True
    session = getattr(request, "session", None)
    return bool(session is not None and session.get("_messages"))


def _answer(request, copy: tuple) -> HttpResponse:
    _, _, status, headers, body = copy
    if CSRF_MARK in body:  # this request's own token, freshly masked
        body = body.replace(CSRF_MARK, get_token(request).encode())
    response = HttpResponse(body, status=status, headers=dict(headers))
    response[CACHE_HEADER] = "hit"
    return response


def _without_token(request, body: bytes) -> bytes:
    """The page with every CSRF token of this request's secret (forms, hx-headers)
    replaced by CSRF_MARK: the copy is the user's, each request gets its own token."""
    secret = request.META.get("CSRF_COOKIE")
    if not secret:
        return body

    def mark(match: re.Match) -> bytes:
        token = match.group(0).decode()
        return CSRF_MARK if _unmask_cipher_token(token) == secret else match.group(0)

    return _TOKEN.sub(mark, body)


def _keep(key: tuple, copy: tuple) -> None:
    with _lock:
        old = _copies.pop(key, None)
        if old is not None:
            _size[0] -= len(old[4])
        _copies[key] = copy
        _size[0] += len(copy[4])
        while _size[0] > MAX_BYTES and _copies:
            _, dropped = _copies.popitem(last=False)
            _size[0] -= len(dropped[4])


def forget() -> None:
    """Drop every copy of this process (tests)."""
    with _lock:
        _copies.clear()
        _size[0] = 0


def per_user(*apps: str) -> Callable:
    """Decorate a view whose page shows data of `apps` (core is always read)."""
    names = tuple(data_version_name(a) for a in ("core", *apps))

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request, *args: Any, **kwargs: Any):
            ttl = seconds()
            if (
                ttl <= 0
                or request.method != "GET"
                or not request.user.is_authenticated
                or _messages_waiting(request)
            ):
                return view(request, *args, **kwargs)
            key = (
                view.__module__,
                view.__qualname__,
                request.get_full_path(),
                request.headers.get("HX-Request", ""),
                request.user.pk,
            )
            versions = tuple(publiccache.version(n) for n in names)
            now = time.monotonic()
            copy = _copies.get(key)
            if copy is not None and copy[1] == versions and now - copy[0] < ttl:
                return _answer(request, copy)
            # One render per page and process at a time: the others wait for it
            # (a copy only too old meanwhile answers them at once, for at most
            # the time the render takes); fifty users must not render one page
            # fifty times over the moment its copy ages out.
            with _lock:
                rendering = _rendering.get(key)
                leader = rendering is None
                if leader:
                    rendering = _rendering[key] = threading.Event()
            if not leader:
                if copy is not None and copy[1] == versions:
                    return _answer(request, copy)
                rendering.wait(WAIT_SECONDS)
                fresh = _copies.get(key)
                if fresh is not None and fresh[1] == versions:
                    return _answer(request, fresh)
                return view(request, *args, **kwargs)
            try:
                response = view(request, *args, **kwargs)
                if (
                    response.status_code == 200
                    and not response.streaming
                    and not response.cookies
                    and getattr(response, "is_rendered", True)
                ):
                    body = _without_token(request, response.content)
                    _keep(key, (now, versions, 200, list(response.items()), body))
            finally:
                with _lock:
                    _rendering.pop(key, None)
                rendering.set()
            return response

        return wrapper

    return decorate
