"""The port of the integration inventory's storage: interfaces and unmanaged traffic.

``adapters/db/repositories/interfaces.py`` implements :class:`InterfaceRepository` on SQLite and
PostgreSQL; the unit of work offers it as ``uow.interfaces``, so the inbox records unmanaged
traffic in the transaction that stores the messages (``services/unmanaged_traffic.py``).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from suture.domain.interfaces import Interface, Route, UnmanagedSource


class InterfaceRepository(Protocol):
    """Interfaces by name, and unmanaged sources by route.

    At most one active (not retired) inbound interface per route ``(channel, source_system)``:
    a database fact, so two registrations racing for one route leave one.
    """

    def get(self, name: str) -> Interface | None: ...

    def add(self, interface: Interface) -> None:
        """Insert a new interface; a name or an active route already taken is a StorageError."""
        ...

    def save(self, interface: Interface) -> None:
        """Replace the stored interface of the same name."""
        ...

    def list(
        self, *, include_retired: bool = False, after: str | None = None, limit: int = 1000
    ) -> builtins.list[Interface]:
        """Interfaces ordered by name, those after ``after``, at most ``limit``."""
        ...

    def routes(self) -> set[Route]:
        """The routes of every active inbound interface (what the inbox matches traffic on)."""
        ...

    def record_unmanaged(self, sources: Sequence[UnmanagedSource]) -> None:
        """Add each source's messages to its route's row, widening first and last seen;
        a route seen for the first time gets a row of its own."""
        ...

    def unmanaged(self) -> builtins.list[UnmanagedSource]:
        """Every route ever recorded as unmanaged, ordered by channel and source system."""
        ...

    def inbound_traffic(self, since: datetime) -> dict[Route, int]:
        """Inbound messages stored at or after ``since``, counted per route (read from the
        inbox: every stored message, whatever its status)."""
        ...
