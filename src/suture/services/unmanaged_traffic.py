"""Recording inbound traffic that matches no registered interface (DESIGN.md §6).

The inbox calls :meth:`TrafficMonitor.record` inside the transaction that stores a batch, with
the messages it newly stored (a re-delivered duplicate is not traffic again). A message's route
is its ``(interface, source_system)``, the inbox's channel and source; a route that no active
inbound interface has (``domain/interfaces.py``) is unmanaged, and its batch adds one row of
counts per route to ``unmanaged_sources``.

Why record on write, and why this way. Computing unmanaged traffic from the inbox on read
(``GROUP BY interface, source_system``) would cost nothing at ingest, but it scans every message
ever stored (the inbox only has an index on ``received_at``; a route index would be paid on every
insert instead), and "first seen" would be lost as soon as old messages are archived. On write,
the steady state, where every route is registered, costs **no statement at all**: the active
routes are held in memory and reloaded at most every ``refresh`` (5 s by default, measured on
the batches' own ``received_at``, so no clock is read), one small ``SELECT`` of the inventory. Only
a batch that carries unmanaged traffic pays: one multi-row upsert, one row per distinct route
(the MLLP listener's group commit puts hundreds of messages in a batch, usually of one route).
Measured by ``benchmarks/unmanaged_traffic.py`` (100 batches of 256 through
``Inbox.receive_many`` on SQLite): 300 statements without this hook, 301 with every route
registered, 401 with every message unmanaged. On
PostgreSQL the upsert holds its route's row until the store transaction commits, so concurrent
writers of *unmanaged* traffic from one route take turns there; rows are upserted in route order,
so they cannot deadlock.

The price of the cache: for up to ``refresh`` after an interface is registered its traffic may
still be counted as unmanaged (``suture interfaces unmanaged`` hides routes that are registered
now, so it never shows), and for up to ``refresh`` after one is retired its traffic is not yet
counted. The governed-traffic KPI is computed from the inbox itself and does not depend on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from suture.domain.interfaces import Route, UnmanagedSource
from suture.domain.messages import InboundMessage
from suture.services.unit_of_work import UnitOfWork

DEFAULT_REFRESH = timedelta(seconds=5)


class TrafficMonitor:
    """Counts unmanaged inbound traffic; one per :class:`~suture.services.inbox.Inbox`.

    ``refresh`` of zero reloads the routes for every batch (tests, and anyone who prefers one
    small ``SELECT`` per batch to the cache). Not thread-safe beyond what the inbox needs: at
    worst two threads both reload the routes.
    """

    def __init__(self, refresh: timedelta = DEFAULT_REFRESH) -> None:
        self._refresh = refresh
        self._routes: frozenset[Route] = frozenset()
        self._loaded_at: datetime | None = None

    def record(self, uow: UnitOfWork, messages: Sequence[InboundMessage]) -> None:
        """Count ``messages`` (newly stored, in ``uow``'s transaction) whose route is unmanaged."""
        if not messages:
            return
        latest = max(message.received_at for message in messages)
        seen: dict[Route, list[InboundMessage]] = {}
        for message in messages:
            seen.setdefault(Route(message.interface, message.source_system), []).append(message)
        routes = self._current(uow, latest)
        unmanaged = [
            UnmanagedSource(
                channel=route.channel,
                source_system=route.source_system,
                format=group[-1].format,
                first_seen=min(m.received_at for m in group),
                last_seen=max(m.received_at for m in group),
                message_count=len(group),
            )
            for route, group in seen.items()
            if route not in routes
        ]
        if unmanaged:
            uow.interfaces.record_unmanaged(unmanaged)

    def _current(self, uow: UnitOfWork, now: datetime) -> frozenset[Route]:
        loaded = self._loaded_at
        if loaded is None or not timedelta(0) <= now - loaded < self._refresh:
            self._routes = frozenset(uow.interfaces.routes())
            self._loaded_at = now
        return self._routes
