"""`/healthz`: is this installation able to do its work? (docs/operations.md)

Checks, each bounded by YINGJI_HEALTH_TIMEOUT_SECONDS (default 2 s):

- database   ``SELECT 1`` (PostgreSQL under a statement_timeout)
- queue      the job queue: Redis answers PING and the pending count is read
             (REDIS_URL set), else the SQLite queue file is read
- broker     the MQTT broker answers CONNECT with a CONNACK (only when
             YINGJI_MQTT_HOST is set: without it the installation has no broker)
- channel:X  each delivery channel (core/channelconfig.py): configured (or a demo
             channel) and not in a run of failures (ChannelState.reported)

Verdict: ``down`` when the database fails (nothing works without it: 503),
``degraded`` when anything else fails (200: the pages still answer, a load
balancer must keep the process), else ``ok``. A public caller gets only the
verdict; a staff user, or a caller sending YINGJI_HEALTH_TOKEN in the header
``X-Health-Token`` (or ``Authorization: Bearer …``), also gets every check with
its latency and a message in Chinese.

The result is kept YINGJI_HEALTH_CACHE_SECONDS (default 1 s) per process, so a
storm of probes costs one round of checks per second.
"""

from __future__ import annotations

import hmac
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

OK, DEGRADED, DOWN = "ok", "degraded", "down"


@dataclass
class Check:
    name: str
    ok: bool
    latency_ms: float
    message: str


def timeout() -> float:
    return float(getattr(settings, "YINGJI_HEALTH_TIMEOUT_SECONDS", 2.0) or 2.0)


def _timed(name: str, fn: Callable[[], str]) -> Check:
    """Run one check: `fn` returns the message when well, raises when not."""
    start = time.perf_counter()
    try:
        message, ok = fn(), True
    except CheckFailed as exc:
        message, ok = str(exc), False
    except Exception as exc:  # any failure of the thing checked is its verdict
        message, ok = f"{type(exc).__name__}: {exc}"[:300], False
    return Check(name, ok, round((time.perf_counter() - start) * 1000, 1), message)


class CheckFailed(Exception):
    """A check's own verdict, already in words."""


# ---------------------------------------------------------------- the checks


def check_database() -> str:
    limit_ms = int(timeout() * 1000)
    try:
        if connection.vendor == "postgresql":
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(f"SET LOCAL statement_timeout = {limit_ms}")
                cur.execute("SELECT 1")
                cur.fetchone()
        else:  # SQLite: no transaction (IMMEDIATE would wait for the writer's lock)
            with connection.cursor() as cur:
                cur.execute("SELECT 1")
                cur.fetchone()
    except Exception as exc:
        connection.close_if_unusable_or_obsolete()
        raise CheckFailed(f"数据库无法访问({type(exc).__name__}: {str(exc)[:200]})") from None
    return f"数据库正常({connection.vendor})"


def redis_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=timeout(), socket_connect_timeout=timeout())


def queue_depth() -> int:
    """Jobs waiting in the Huey queue (raises when the queue cannot be read)."""
    from huey.contrib.djhuey import HUEY

    url = getattr(settings, "REDIS_URL", "")
    if url:
        # RedisStorage's key (huey.redis.<name>); an immediate-mode Huey has none.
        key = getattr(HUEY.storage, "queue_key", None) or "huey.redis." + re.sub(
            r"[^A-Za-z0-9_]", "", HUEY.name
        )
        client = redis_client(url)
        try:
            return int(client.llen(key))
        finally:
            client.close()
    return int(HUEY.pending_count())


def check_queue() -> str:
    url = getattr(settings, "REDIS_URL", "")
    try:
        if url:
            client = redis_client(url)
            try:
                client.ping()
            finally:
                client.close()
        depth = queue_depth()
    except Exception as exc:
        where = "Redis" if url else "任务队列文件"
        raise CheckFailed(f"任务队列({where})无法访问({type(exc).__name__}: {exc})") from None
    return f"任务队列正常({'Redis' if url else 'SQLite'}),待处理 {depth} 个任务"


# MQTT 3.1.1 CONNECT, clean session, keep-alive 10 s, client id "yingji-health".
_CLIENT_ID = b"yingji-health"
_VARIABLE = b"\x00\x04MQTT\x04\x02\x00\x0a"
_PAYLOAD = struct.pack("!H", len(_CLIENT_ID)) + _CLIENT_ID
CONNECT = bytes([0x10, len(_VARIABLE) + len(_PAYLOAD)]) + _VARIABLE + _PAYLOAD
DISCONNECT = b"\xe0\x00"


def check_broker(host: str, port: int) -> str:
    try:
        with socket.create_connection((host, port), timeout=timeout()) as sock:
            sock.settimeout(timeout())
            sock.sendall(CONNECT)
            reply = b""
            while len(reply) < 4:
                chunk = sock.recv(4 - len(reply))
                if not chunk:
                    break
                reply += chunk
            if len(reply) == 4 and reply[0] == 0x20:
                sock.sendall(DISCONNECT)
    except OSError as exc:
        raise CheckFailed(
            f"MQTT 代理 {host}:{port} 无法连接({type(exc).__name__}: {exc})"
        ) from None
    if len(reply) < 4 or reply[0] != 0x20:
        raise CheckFailed(f"MQTT 代理 {host}:{port} 未按协议应答")
    if reply[3] != 0:
        # The broker is up and refuses anonymous clients: that is its answer.
        return f"MQTT 代理 {host}:{port} 在线(拒绝匿名连接,返回码 {reply[3]})"
    return f"MQTT 代理 {host}:{port} 在线"


def channel_checks() -> list[Check]:
    from yingji.core import channelconfig
    from yingji.core.models import ChannelState

    start = time.perf_counter()
    try:
        states = {s.name: s for s in ChannelState.objects.all()}
    except Exception as exc:
        ms = round((time.perf_counter() - start) * 1000, 1)
        return [
            Check(f"channel:{n}", False, ms, f"渠道状态无法读取({type(exc).__name__})")
            for n in channelconfig.NAMES
        ]
    out = []
    for name in channelconfig.NAMES:
        label = channelconfig.LABELS[name]
        state = states.get(name)
        lack = channelconfig.missing(name)
        demo = bool(lack) and channelconfig.demo_enabled()
        if lack and not demo:
            ok, message = False, f"{label}未配置:{lack}"
        elif state is not None and state.reported:
            since = f",自 {state.failing_since:%Y-%m-%d %H:%M}" if state.failing_since else ""
            ok, message = (
                False,
                f"{label}持续失败 {state.consecutive_failures} 条{since}:{state.last_error}",
            )
        else:
            ok = True
            message = f"{label}正常" + ("(演示通道)" if demo else "")
        ms = round((time.perf_counter() - start) * 1000, 1)
        out.append(Check(f"channel:{name}", ok, ms, message[:300]))
    return out


def run_checks() -> list[Check]:
    checks = [_timed("database", check_database)]
    checks.append(_timed("queue", check_queue))
    host = getattr(settings, "YINGJI_MQTT_HOST", "")
    if host:
        port = int(getattr(settings, "YINGJI_MQTT_PORT", 1883))
        checks.append(_timed("broker", lambda: check_broker(host, port)))
    if checks[0].ok:
        checks.extend(channel_checks())
    return checks


def verdict(checks: list[Check]) -> str:
    by_name = {c.name: c for c in checks}
    if not by_name["database"].ok:
        return DOWN
    return OK if all(c.ok for c in checks) else DEGRADED


# ---------------------------------------------------------------- cache and view

_lock = threading.Lock()
_cached: tuple[float, dict[str, Any]] | None = None


def report(now: float | None = None) -> dict[str, Any]:
    """The verdict and the checks, at most one round per cache period per process."""
    global _cached
    period = float(getattr(settings, "YINGJI_HEALTH_CACHE_SECONDS", 1.0) or 0.0)
    with _lock:
        now = time.monotonic() if now is None else now
        if period > 0 and _cached is not None and now - _cached[0] < period:
            return _cached[1]
        checks = run_checks()
        result = {
            "status": verdict(checks),
            "checked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "checks": [asdict(c) for c in checks],
        }
        _cached = (now, result)
        return result


def clear_cache() -> None:
    global _cached
    with _lock:
        _cached = None


def token_ok(request) -> bool:
    """The request carries YINGJI_HEALTH_TOKEN (X-Health-Token or a Bearer token)."""
    expected = getattr(settings, "YINGJI_HEALTH_TOKEN", "") or ""
    if not expected:
        return False
    given = request.headers.get("X-Health-Token", "")
    auth = request.headers.get("Authorization", "")
    if not given and auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def is_staff(request) -> bool:
    """A signed-in staff user or administrator (never raises: the database may be down)."""
    from yingji.core import scope

    try:
        user = request.user
        return bool(user.is_authenticated and (user.is_staff or scope.is_administrator(user)))
    except Exception:
        return False


@never_cache
def healthz(request):
    result = report()
    status = 503 if result["status"] == DOWN else 200
    if token_ok(request) or is_staff(request):
        return JsonResponse(result, status=status, json_dumps_params={"ensure_ascii": False})
    return JsonResponse({"status": result["status"]}, status=status)
