"""Prometheus metrics of the HTTP service (``GET /metrics``).

Each application gets its own registry, so several apps in one process (tests, an embedded
server beside a worker) never collide. Request metrics are labelled by the route *template*
(``/api/v1/system/purchase-orders/{po_id}``), never the concrete path: a path can carry a
business key, and a label per key would grow without bound. The backbone gauges are read from
the database when Prometheus scrapes, through the same service ``suture status`` uses; when the
database does not answer, the scrape still answers, with ``suture_backbone_up`` 0 and without
them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import structlog
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from suture.adapters.db.errors import StorageError
from suture.bootstrap import Hub
from suture.services.status import backbone_status

log = structlog.get_logger("suture.http")

#: Latency buckets (seconds) around the 20 ms p99 target of DESIGN.md §10.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class HttpMetrics:
    """Request counters and latency histograms on a registry of their own."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "suture_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "suture_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=BUCKETS,
            registry=registry,
        )


class BackboneCollector(Collector):
    """Inbox, bus work, deliveries and exception gauges, read at scrape time."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def collect(self) -> Iterator[Metric]:
        try:
            status = backbone_status(self._hub.read_uow_factory, self._hub.clock())
        except StorageError:
            # The scrape still answers, with the request counters (the 503s of the outage
            # among them) and this gauge at 0: failing it would show the instance as down.
            yield _backbone_up(0)
            return
        yield _backbone_up(1)
        inbox = GaugeMetricFamily(
            "suture_inbox_messages", "Inbound messages by status.", labels=["status"]
        )
        for name, n in sorted(status.inbox.items()):
            inbox.add_metric([name], n)
        yield inbox
        yield GaugeMetricFamily(
            "suture_bus_pending_work", "Handler work items not yet done.", value=status.pending_work
        )
        yield GaugeMetricFamily(
            "suture_bus_oldest_pending_age_seconds",
            "Age of the oldest pending handler work item.",
            value=status.oldest_pending_age_seconds,
        )
        deliveries = GaugeMetricFamily(
            "suture_deliveries", "Outbound deliveries by status.", labels=["status"]
        )
        for name, n in sorted(status.deliveries.items()):
            deliveries.add_metric([name], n)
        yield deliveries
        exceptions = GaugeMetricFamily(
            "suture_open_exceptions", "Open exception work items by type.", labels=["type"]
        )
        for name, n in sorted(status.open_exceptions.items()):
            exceptions.add_metric([name], n)
        yield exceptions
        yield GaugeMetricFamily(
            "suture_overdue_exceptions",
            "Open exception items past their SLA due time.",
            value=status.overdue_exceptions,
        )


def _backbone_up(value: int) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "suture_backbone_up",
        "1 when the backbone gauges were read from the database at this scrape; 0 when the "
        "database did not answer, and the other backbone gauges are left out.",
        value=value,
    )


class MeasureRequests:
    """Pure ASGI middleware: count, time and log each HTTP request by its route template.

    The log line names the route template, status, duration and API client, never the concrete
    path or query, which can carry business keys and patient data (DESIGN.md §6).

    Plain ASGI rather than ``@app.middleware("http")``, which wraps every request in extra
    tasks and streams: this runs on every call and the read path has a latency budget.
    """

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - started
            route = str(getattr(scope.get("route"), "path", "unmatched"))
            method = scope["method"]
            self._metrics.latency.labels(method, route).observe(elapsed)
            self._metrics.requests.labels(method, route, str(status[0])).inc()
            principal = scope.get("state", {}).get("principal")
            log.info(
                "http.request",
                method=method,
                route=route,
                status=status[0],
                duration_ms=round(elapsed * 1000, 2),
                client_id=getattr(principal, "client_id", None),
            )


def install(app: FastAPI, hub: Hub) -> HttpMetrics:
    """Count every request on ``app`` and register the backbone gauges."""
    registry = CollectorRegistry()
    metrics = HttpMetrics(registry)
    registry.register(BackboneCollector(hub))
    app.add_middleware(MeasureRequests, metrics=metrics)
    return metrics
