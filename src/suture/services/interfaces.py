"""The integration inventory's use cases: register, change, retire, import, govern, measure.

One object, :class:`InterfaceInventory`, over a unit of work factory and a clock; each call is
one transaction, so the CLI (``suture interfaces``) and the HTTP API call the same methods. The
rules are the domain's (``domain/interfaces.py``); this module adds what needs storage: a name
is registered once (a retired name is not reused: its history stays readable), and one active
inbound interface per route. Errors::

    SutureError
    ├── DomainError
    │   └── InterfaceError           a field of an interface is invalid (field, reason)
    └── InventoryError
        ├── UnknownInterfaceError    no interface has the name (field "name")
        ├── InterfaceExistsError     the name is registered already (field "name")
        ├── InterfaceRetiredError    the interface is retired and cannot change (field "name")
        └── RouteTakenError          another active inbound interface has the route (field
                                     "channel")

The KPI (DESIGN.md §7, "governed integrations"), :meth:`InterfaceInventory.governed_share`:
the share of active registered interfaces whose governance status is ``governed``, and the share
of the last ``days`` days' inbound messages (counted from the inbox) that arrived over a
governed interface; traffic on an unmanaged route counts as not governed.
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from suture.domain.errors import SutureError
from suture.domain.interfaces import (
    Governance,
    GovernanceStatus,
    Interface,
    InterfaceError,
    Route,
    UnmanagedSource,
    assess,
)
from suture.services.clock import Clock
from suture.services.unit_of_work import UnitOfWork

#: Fields :meth:`InterfaceInventory.update` may change (not the name, nor what storage sets).
CHANGEABLE = frozenset(
    f.name
    for f in dataclasses.fields(Interface)
    if f.name not in {"name", "registered_at", "updated_at", "retired_on"}
)


class InventoryError(SutureError):
    """The inventory cannot do what was asked."""


class UnknownInterfaceError(InventoryError):
    """No interface has this name."""


class InterfaceExistsError(InventoryError):
    """An interface of this name is registered already (perhaps retired)."""


class InterfaceRetiredError(InventoryError):
    """The interface is retired; it is kept for history and does not change."""


class RouteTakenError(InventoryError):
    """Another active inbound interface has this route."""


@dataclass(frozen=True, slots=True)
class ImportSummary:
    added: int
    updated: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class GovernanceKpi:
    """The governed share of the inventory and of recent inbound traffic.

    Shares are fractions in [0, 1], None when there is nothing to divide (no interface, no
    message in the window).
    """

    registered: int
    governed: int
    needs_attention: int
    ungoverned: int
    governed_share: float | None
    window_days: int
    messages: int
    governed_messages: int
    unmanaged_messages: int
    governed_traffic_share: float | None


class InterfaceInventory:
    """The use cases of the inventory (module docstring)."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    def today(self) -> date:
        """The date governance is judged on: the clock's, in UTC."""
        return self._clock().date()

    def add(self, interface: Interface) -> Interface:
        """Register a new interface; its registration time is now."""
        now = self._clock()
        stored = dataclasses.replace(interface, registered_at=now, updated_at=now)
        with self._uow() as uow:
            if uow.interfaces.get(interface.name) is not None:
                raise InterfaceExistsError("name", f"interface {interface.name!r} exists")
            _check_route(uow, stored)
            uow.interfaces.add(stored)
            uow.commit()
        return stored

    def update(self, name: str, changes: Mapping[str, Any]) -> Interface:
        """Change the given fields of an active interface; the domain re-validates the whole."""
        unknown = sorted(set(changes) - CHANGEABLE)
        if unknown:
            raise InterfaceError(unknown[0], "is not a field that can be changed")
        with self._uow() as uow:
            current = self._active(uow, name)
            changed = dataclasses.replace(current, **changes, updated_at=self._clock())
            _check_route(uow, changed)
            uow.interfaces.save(changed)
            uow.commit()
        return changed

    def retire(self, name: str, on: date | None = None) -> Interface:
        """Retire an interface from ``on`` (default today): it leaves the active inventory and
        the KPI, its route is free again, and traffic still arriving on it is unmanaged."""
        with self._uow() as uow:
            current = self._active(uow, name)
            retired = dataclasses.replace(
                current, retired_on=on or self.today(), updated_at=self._clock()
            )
            uow.interfaces.save(retired)
            uow.commit()
        return retired

    def get(self, name: str) -> Interface:
        with self._uow() as uow:
            found = uow.interfaces.get(name)
        if found is None:
            raise UnknownInterfaceError("name", f"no interface {name!r}")
        return found

    def list(self, *, include_retired: bool = False) -> list[Interface]:
        with self._uow() as uow:
            return _every(uow, include_retired=include_retired)

    def import_interfaces(self, interfaces: Sequence[Interface]) -> ImportSummary:
        """Register or update every interface in one transaction: all of them, or none.

        A name already registered is updated when anything differs (its registration time is
        kept) and left alone otherwise; a retired name is refused.
        """
        names = [interface.name for interface in interfaces]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise InterfaceExistsError("name", f"interface {name!r} is listed twice")
        now = self._clock()
        added = updated = unchanged = 0
        with self._uow() as uow:
            for interface in interfaces:
                current = uow.interfaces.get(interface.name)
                if current is None:
                    stored = dataclasses.replace(interface, registered_at=now, updated_at=now)
                    _check_route(uow, stored)
                    uow.interfaces.add(stored)
                    added += 1
                    continue
                if current.is_retired:
                    raise InterfaceRetiredError(
                        "name", f"interface {current.name!r} is retired; names are not reused"
                    )
                same = dataclasses.replace(
                    interface, registered_at=current.registered_at, updated_at=current.updated_at
                )
                if same == current:
                    unchanged += 1
                    continue
                changed = dataclasses.replace(same, updated_at=now)
                _check_route(uow, changed)
                uow.interfaces.save(changed)
                updated += 1
            uow.commit()
        return ImportSummary(added, updated, unchanged)

    def governance(
        self, *, include_retired: bool = False
    ) -> builtins.list[tuple[Interface, Governance]]:
        """Every interface with its governance verdict as of today."""
        today = self.today()
        return [(i, assess(i, today)) for i in self.list(include_retired=include_retired)]

    def unmanaged(self, *, include_registered: bool = False) -> builtins.list[UnmanagedSource]:
        """Routes traffic arrived on while unregistered; by default only those still without an
        active inbound interface (a route registered since is managed now)."""
        with self._uow() as uow:
            sources = uow.interfaces.unmanaged()
            routes = uow.interfaces.routes()
        if include_registered:
            return sources
        return [source for source in sources if source.route not in routes]

    def governed_share(self, *, days: int = 7) -> GovernanceKpi:
        """The KPI (module docstring) as of now, traffic over the last ``days`` days."""
        if days < 1:
            raise InventoryError("days", f"must be at least 1, got {days}")
        now = self._clock()
        today = now.date()
        with self._uow() as uow:
            active = _every(uow, include_retired=False)
            traffic = uow.interfaces.inbound_traffic(now - timedelta(days=days))
        statuses = {i.name: assess(i, today).status for i in active}
        governed_routes: set[Route] = set()
        managed_routes: set[Route] = set()
        for interface in active:
            route = interface.route
            if route is None:
                continue
            managed_routes.add(route)
            if statuses[interface.name] is GovernanceStatus.GOVERNED:
                governed_routes.add(route)
        count = dict.fromkeys(GovernanceStatus, 0)
        for status in statuses.values():
            count[status] += 1
        messages = sum(traffic.values())
        governed_messages = sum(n for route, n in traffic.items() if route in governed_routes)
        unmanaged = sum(n for route, n in traffic.items() if route not in managed_routes)
        return GovernanceKpi(
            registered=len(active),
            governed=count[GovernanceStatus.GOVERNED],
            needs_attention=count[GovernanceStatus.NEEDS_ATTENTION],
            ungoverned=count[GovernanceStatus.UNGOVERNED],
            governed_share=_share(count[GovernanceStatus.GOVERNED], len(active)),
            window_days=days,
            messages=messages,
            governed_messages=governed_messages,
            unmanaged_messages=unmanaged,
            governed_traffic_share=_share(governed_messages, messages),
        )

    def _active(self, uow: UnitOfWork, name: str) -> Interface:
        current = uow.interfaces.get(name)
        if current is None:
            raise UnknownInterfaceError("name", f"no interface {name!r}")
        if current.is_retired:
            raise InterfaceRetiredError(
                "name", f"interface {name!r} was retired on {current.retired_on}"
            )
        return current


def _every(uow: UnitOfWork, *, include_retired: bool) -> list[Interface]:
    found: list[Interface] = []
    after: str | None = None
    while True:
        page = uow.interfaces.list(include_retired=include_retired, after=after)
        found.extend(page)
        if len(page) < 1000:  # the repository's default page
            return found
        after = page[-1].name


def _check_route(uow: UnitOfWork, interface: Interface) -> None:
    """Refuse a route another active inbound interface has (the storage refuses it too, with a
    less helpful message, when two registrations race)."""
    route = interface.route
    if route is None or route not in uow.interfaces.routes():
        return
    for other in _every(uow, include_retired=False):
        if other.name != interface.name and other.route == route:
            raise RouteTakenError(
                "channel",
                f"inbound channel {route.channel!r} from {route.source_system!r} is the route "
                f"of interface {other.name!r} already",
            )


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)
