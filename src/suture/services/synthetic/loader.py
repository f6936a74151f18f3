"""Write a synthetic health system through the unit of work, in batches, idempotently.

Kinds are written in dependency order (facilities before the cost centers, departments and
locations that belong to them, suppliers before items, items before contracts and par levels),
so the database's foreign keys hold after every batch. Each batch is one transaction, so a
failure loses at most one batch and a re-run completes the rest.

Seeding the same profile and seed again changes nothing: repositories upsert by id, and
crosswalk entries go through :func:`~suture.domain.crosswalk.decide_mapping`, which leaves a
code that already maps to the same id unchanged. A code mapped elsewhere by someone else is a
:class:`~suture.domain.errors.CrosswalkConflictError`, which is raised, never skipped. The
integration inventory comes last (``synthetic/interfaces.py``); an interface whose name is
registered already is left as it is. Each supplier gets a test (``T``) X12 trading-partner
profile (:func:`demo_partner`) unless it has one: an operator's profile is never overwritten.

The service does not read the clock or time itself: ``at`` is passed in and the caller measures
durations (the CLI, the benchmark).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

from suture.domain.crosswalk import CrosswalkEntry, MappingOutcome, decide_mapping
from suture.domain.errors import DomainError
from suture.domain.interfaces import Interface
from suture.domain.masterdata import Supplier
from suture.domain.trading_partners import TradingPartner
from suture.services.synthetic.health_system import HealthSystemGenerator
from suture.services.synthetic.interfaces import demo_inventory
from suture.services.unit_of_work import Repository, UnitOfWork

T = TypeVar("T")
U = TypeVar("U")

#: ``progress(kind, done, total)``: objects of ``kind`` written so far; total None if unknown.
Progress = Callable[[str, int, int | None], None]

#: Every kind the loader writes, in the order it writes them.
KINDS = (
    "facilities", "cost_centers", "departments", "locations", "gl_accounts", "suppliers",
    "trading_partners", "items", "contracts", "par_levels", "crosswalks", "charges", "usage",
    "interfaces",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SeedSummary:
    """What one seeding wrote: objects per kind, and what became of each crosswalk entry."""

    profile: str
    seed: int
    counts: Mapping[str, int]
    crosswalk_outcomes: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def seed(
    uow_factory: Callable[[], UnitOfWork],
    generator: HealthSystemGenerator,
    at: datetime,
    *,
    batch_size: int = 1000,
    progress: Progress | None = None,
    history_charges: int | None = None,
    history_usage: int | None = None,
) -> SeedSummary:
    """Write every kind of ``generator`` through units of work from ``uow_factory``.

    ``at`` is when the crosswalk entries become valid; history ends there and spans the
    profile's ``history_days`` before it. ``history_charges``/``history_usage`` default to the
    profile's counts (0 for the shipped profiles).
    """
    if batch_size < 1:
        raise DomainError("batch_size", f"must be at least 1, got {batch_size}")
    if at.tzinfo is None:
        raise DomainError("at", "must be timezone-aware")
    profile = generator.profile
    charges = profile.history_charges if history_charges is None else history_charges
    usage = profile.history_usage if history_usage is None else history_usage
    for name, count in (("history_charges", charges), ("history_usage", usage)):
        if count < 0:
            raise DomainError(name, f"must not be negative, got {count}")
    writer = _Writer(uow_factory, batch_size, progress or _silent)
    g = generator
    writer.totals.update({kind: g.expected_count(kind) for kind in KINDS})
    writer.totals.update({"charges": charges, "usage": usage})
    start = at - timedelta(days=profile.history_days)
    counts = {
        "facilities": writer.write("facilities", g.facilities(), lambda u: u.facilities),
        "cost_centers": writer.write("cost_centers", g.cost_centers(), lambda u: u.cost_centers),
        "departments": writer.write("departments", g.departments(), lambda u: u.departments),
        "locations": writer.write("locations", g.locations(), lambda u: u.locations),
        "gl_accounts": writer.write("gl_accounts", g.gl_accounts(), lambda u: u.gl_accounts),
        "suppliers": writer.write("suppliers", g.suppliers(), lambda u: u.suppliers),
        "trading_partners": writer.partners(g.suppliers(), at),
        "items": writer.write("items", g.items(), lambda u: u.items),
        "contracts": writer.write("contracts", g.contracts(), lambda u: u.contracts),
        "par_levels": writer.write("par_levels", g.par_levels(), lambda u: u.par_levels),
    }
    outcomes = writer.map_codes(g.crosswalks(at), at)
    counts["crosswalks"] = sum(outcomes.values())
    counts["charges"] = writer.write("charges", g.charges(charges, start), lambda u: u.charges)
    counts["usage"] = writer.write("usage", g.usage(usage, start), lambda u: u.usage)
    counts["interfaces"] = writer.register(demo_inventory(g, at), at)
    return SeedSummary(
        profile=profile.name,
        seed=generator.seed,
        counts=counts,
        crosswalk_outcomes={str(outcome): number for outcome, number in outcomes.items()},
    )


class _Writer:
    """Batches a stream into one transaction per batch and reports progress after each."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], size: int, progress: Progress):
        self.uow_factory = uow_factory
        self.size = size
        self.progress = progress
        self.totals: dict[str, int | None] = {}

    def write(
        self, kind: str, objects: Iterable[T], repository: Callable[[UnitOfWork], Repository[T]]
    ) -> int:
        done = 0
        total = self.totals.get(kind)
        self.progress(kind, 0, total)
        for batch in _batches(objects, self.size):
            with self.uow_factory() as uow:
                repository(uow).add_many(batch)
                uow.commit()
            done += len(batch)
            self.progress(kind, done, total)
        return done

    def partners(self, suppliers: Iterable[Supplier], at: datetime) -> int:
        """A demo profile per supplier without one, one transaction per batch."""
        done = 0
        total = self.totals.get("trading_partners")
        self.progress("trading_partners", 0, total)
        for batch in _batches(suppliers, self.size):
            with self.uow_factory() as uow:
                for supplier in batch:
                    if uow.trading_partners.get(supplier.id) is None:
                        uow.trading_partners.save(demo_partner(supplier, at))
                uow.commit()
            done += len(batch)
            self.progress("trading_partners", done, total)
        return done

    def register(self, interfaces: list[Interface], at: datetime) -> int:
        """Register the integration inventory in one transaction; an interface whose name is
        registered already is left as it is (an operator may have changed it since)."""
        self.progress("interfaces", 0, len(interfaces))
        with self.uow_factory() as uow:
            for interface in interfaces:
                if uow.interfaces.get(interface.name) is None:
                    uow.interfaces.add(replace(interface, registered_at=at, updated_at=at))
            uow.commit()
        self.progress("interfaces", len(interfaces), len(interfaces))
        return len(interfaces)

    def map_codes(self, entries: Iterable[CrosswalkEntry], at: datetime) -> Counter[str]:
        """Apply the crosswalk rules entry by entry: add, or leave an identical mapping."""
        outcomes: Counter[str] = Counter({str(outcome): 0 for outcome in MappingOutcome})
        done = 0
        self.progress("crosswalks", 0, None)
        for batch in _batches(entries, self.size):
            with self.uow_factory() as uow:
                repository = uow.crosswalks
                current = repository.current_many(entry.key for entry in batch)
                added: list[CrosswalkEntry] = []
                for entry in batch:
                    decision = decide_mapping(
                        current.get(entry.key), entry.key, entry.canonical_id, at,
                        recorded_by=entry.recorded_by,
                    )  # fmt: skip
                    if decision.close is not None:
                        repository.close(decision.close)
                    if decision.add is not None:
                        added.append(decision.add)
                        current[entry.key] = decision.add
                    outcomes[str(decision.outcome)] += 1
                repository.add_many(added)
                uow.commit()
            done += len(batch)
            self.progress("crosswalks", done, None)
        return outcomes


def demo_partner(supplier: Supplier, at: datetime) -> TradingPartner:
    """A supplier's demo profile: mutually defined (ZZ) ids from its id, test interchanges,
    850s to the ``x12:<supplier>`` file drop."""
    code = supplier.id.upper().replace("_", "-")[:15]
    return TradingPartner(
        supplier_id=supplier.id,
        isa_qualifier="ZZ",
        isa_id=code,
        gs_id=code.ljust(2, "0"),
        usage_indicator="T",
        updated_at=at,
    )


def _silent(kind: str, done: int, total: int | None) -> None:
    """The progress callback when the caller wants none."""


def _batches(items: Iterable[U], size: int) -> Iterator[list[U]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
