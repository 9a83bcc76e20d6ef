"""`/metrics`: Prometheus metrics (prometheus-client; docs/operations.md).

Counted where things happen (one call each):

- ``yingji_http_request_duration_seconds{route,method}`` and
  ``yingji_http_requests_total{route,method,status}``: `RequestMetricsMiddleware`,
  labelled by the resolved URL name (``alerts:list``), never the raw path, so the
  number of series stays bounded (an unmatched path is ``unmatched``).
- ``yingji_readings_stored_total{path}``: readings written (monitoring/services.py
  for the live paths, monitoring/sensorimport.py for file imports);
  ``rate(...[1m])`` is the ingest rate.
- ``yingji_deliveries_total{channel,outcome}``: messages sent and failed attempts
  per channel (core/outbox.py), ``rate`` is the delivery rate.

Computed from the database at each scrape (`DatabaseCollector`):
``yingji_queue_depth`` (Huey jobs waiting), ``yingji_alarms_firing{level}``,
``yingji_warnings_in_force{colour}``, ``yingji_deliveries_waiting{channel}``,
``yingji_deliveries_failed{channel}`` (ledger rows), ``yingji_channel_failing{channel}``.

Several processes (gunicorn workers, queue consumers, ingest workers on one
machine): set PROMETHEUS_MULTIPROC_DIR to an empty directory writable by all of
them before they start; every process then writes its counters there and any
web process serves the sum. Gunicorn's config must call `child_exit` below
(``child_exit = "yingji.core.metrics:child_exit"`` does not work: gunicorn wants
the function itself; ``from yingji.core.metrics import child_exit`` in the
config file does). Empty the directory at each start of the deployment.

Access: from the loopback address (a Prometheus on the same machine scraping
the application port directly, no proxy headers), with YINGJI_METRICS_TOKEN as
``Authorization: Bearer …`` (falls back to YINGJI_HEALTH_TOKEN), or as a staff
user. A request that came through a proxy (X-Forwarded-For / X-Real-IP present)
is not loopback even when the proxy is on the same machine.
"""

from __future__ import annotations

import hmac
import logging
import os
import time

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.urls import Resolver404, resolve
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # A missing directory would fail every counted request; make it instead.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

REQUEST_SECONDS = Histogram(
    "yingji_http_request_duration_seconds",
    "请求耗时(秒),按路由名",
    ["route", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REQUESTS = Counter("yingji_http_requests", "请求数,按路由名与状态码", ["route", "method", "status"])
READINGS = Counter("yingji_readings_stored", "写入的读数条数", ["path"])
DELIVERIES = Counter(
    "yingji_deliveries", "投递结果条数,按渠道(sent 成功,failed 失败尝试)", ["channel", "outcome"]
)

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def readings_stored(n: int, path: str = "live") -> int:
    """Count `n` readings written by `path` (live, replay, import); returns `n`."""
    if n:
        READINGS.labels(path).inc(n)
    return n


def deliveries(channel: str, sent: int, failed: int) -> None:
    if sent:
        DELIVERIES.labels(channel, "sent").inc(sent)
    if failed:
        DELIVERIES.labels(channel, "failed").inc(failed)


def route_of(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:  # answered by a middleware (static files, a page cache) or no route
        static = "/" + settings.STATIC_URL.lstrip("/")
        if request.path_info.startswith(static):
            return "static"
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return "unmatched"
    if match.url_name:
        return match.view_name  # namespace:url_name
    return match.route[:80] or "unnamed"


class RequestMetricsMiddleware:
    """Time every request, labelled by its resolved route (first in MIDDLEWARE)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        response = self.get_response(request)
        try:
            method = request.method if request.method in METHODS else "OTHER"
            route = route_of(request)
            REQUEST_SECONDS.labels(route, method).observe(time.perf_counter() - start)
            REQUESTS.labels(route, method, str(response.status_code)).inc()
        except Exception:  # counting never fails a request
            log.exception("request metrics not recorded")
        return response


class DatabaseCollector:
    """Gauges read from the database (and the queue) when Prometheus scrapes."""

    def describe(self):
        return []  # nothing is read at registration, only at a scrape

    def collect(self):
        from django.db.models import Count, Q
        from django.utils import timezone

        from yingji.core import channelconfig, health
        from yingji.core.models import ChannelState, Notification

        try:
            depth = health.queue_depth()
        except Exception:
            depth = float("nan")
        g = GaugeMetricFamily("yingji_queue_depth", "任务队列中等待的任务数(Huey)")
        g.add_metric([], depth)
        yield g

        from yingji.alerts import workflow as wf
        from yingji.alerts.models import Alert
        from yingji.monitoring.models import Alarm

        g = GaugeMetricFamily("yingji_alarms_firing", "报警中的报警数,按级别", labels=["level"])
        rows = (
            Alarm.objects.filter(state=Alarm.State.FIRING)
            .values_list("level")
            .annotate(n=Count("id"))
            .order_by()
        )
        for level, n in rows:
            g.add_metric([level or "none"], n)
        yield g

        now = timezone.now()
        g = GaugeMetricFamily(
            "yingji_warnings_in_force", "生效中的预警数,按颜色", labels=["colour"]
        )
        rows = (
            Alert.objects.filter(state=wf.PUBLISHED, cap_status="Actual")
            .filter(Q(expires__isnull=True) | Q(expires__gt=now))
            .values_list("colour")
            .annotate(n=Count("id"))
            .order_by()
        )
        for colour, n in rows:
            g.add_metric([colour or "none"], n)
        yield g

        waiting = dict(
            Notification.objects.filter(
                status__in=(Notification.Status.QUEUED, Notification.Status.SENDING)
            )
            .values_list("channel")
            .annotate(n=Count("id"))
            .order_by()
        )
        failed = dict(
            Notification.objects.filter(status=Notification.Status.FAILED)
            .values_list("channel")
            .annotate(n=Count("id"))
            .order_by()
        )
        failing = set(ChannelState.objects.filter(reported=True).values_list("name", flat=True))
        g = GaugeMetricFamily(
            "yingji_deliveries_waiting", "待投递消息数,按渠道", labels=["channel"]
        )
        f = GaugeMetricFamily(
            "yingji_channel_failing", "渠道持续失败(1)或正常(0)", labels=["channel"]
        )
        d = GaugeMetricFamily(
            "yingji_deliveries_failed", "投递台账中发送失败的消息数,按渠道", labels=["channel"]
        )
        for name in channelconfig.NAMES:
            g.add_metric([name], waiting.get(name, 0))
            f.add_metric([name], 1 if name in failing else 0)
            d.add_metric([name], failed.get(name, 0))
        yield g
        yield f
        yield d


def _loopback(request) -> bool:
    if request.META.get("HTTP_X_FORWARDED_FOR") or request.META.get("HTTP_X_REAL_IP"):
        return False
    return request.META.get("REMOTE_ADDR", "") in ("127.0.0.1", "::1")


def allowed(request) -> bool:
    from yingji.core import health

    token = getattr(settings, "YINGJI_METRICS_TOKEN", "") or getattr(
        settings, "YINGJI_HEALTH_TOKEN", ""
    )
    auth = request.headers.get("Authorization", "")
    if token and auth.lower().startswith("bearer "):
        if hmac.compare_digest(auth[7:].strip().encode(), token.encode()):
            return True
    return _loopback(request) or health.is_staff(request)


def exposition() -> bytes:
    """The text format: this process's (or, multiprocess, every process's) counters
    and the gauges read from the database now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        counted = generate_latest(registry)
    else:
        counted = generate_latest(REGISTRY)
    db = CollectorRegistry()
    db.register(DatabaseCollector())
    try:
        gauges = generate_latest(db)
    except Exception as exc:  # the database is down: the counters still answer
        gauges = f"# yingji: gauges unavailable: {type(exc).__name__}\n".encode()
    return counted + gauges


@never_cache
def metrics_view(request):
    if not allowed(request):
        return HttpResponseForbidden(
            "仅限本机、持令牌或管理员访问监控指标", content_type="text/plain; charset=utf-8"
        )
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


from yingji.core.gunicornconf import child_exit  # noqa: E402,F401 (the hook's one home)
