"""Seeding a synthetic health system into a real SQLite database, and seeding it again.

A reduced demo profile (the demo's shape, 800 items) keeps the module fast; the crosswalks are
written entry by entry, so they dominate the time. SQLite only: seeded ids are fixed by design
("FAC-01"), which would collide with other tests on a shared PostgreSQL schema.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.crosswalk import CrosswalkEntry, CrosswalkKey, CrosswalkKind
from suture.domain.errors import CrosswalkConflictError
from suture.services.status import count_objects
from suture.services.synthetic import PROFILES, HealthSystemGenerator
from suture.services.synthetic.interfaces import demo_inventory
from suture.services.synthetic.loader import KINDS, SeedSummary, seed
from suture.services.unit_of_work import UnitOfWork

AT = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SMALL = replace(
    PROFILES["demo"], name="small", items=800, suppliers=12, contracts=15, par_items_per_location=30
)
CHARGES, USAGE = 400, 300


@dataclass
class Seeded:
    uow_factory: Callable[[], UnitOfWork]
    generator: HealthSystemGenerator
    summary: SeedSummary
    progress: list[tuple[str, int, int | None]]


def _engine(template: Path, directory: Path) -> sa.Engine:
    path = directory / "seed.db"
    shutil.copyfile(template, path)
    return create_engine(f"sqlite:///{path}")


@pytest.fixture(scope="module")
def seeded(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    engine = _engine(sqlite_template, tmp_path_factory.mktemp("seed"))
    generator = HealthSystemGenerator(SMALL, 42)
    calls: list[tuple[str, int, int | None]] = []

    def factory() -> UnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    summary = seed(
        factory, generator, AT, batch_size=250,
        progress=lambda kind, done, total: calls.append((kind, done, total)),
        history_charges=CHARGES, history_usage=USAGE,
    )  # fmt: skip
    try:
        yield Seeded(factory, generator, summary, calls)
    finally:
        engine.dispose()


def test_seed_writes_every_kind_and_counts_what_it_wrote(seeded: Seeded) -> None:
    g = seeded.generator
    expected = {
        "facilities": 3, "cost_centers": 30, "departments": 30,
        "locations": len(list(g.locations())), "gl_accounts": len(list(g.gl_accounts())),
        "suppliers": 12, "trading_partners": 12, "items": 800, "contracts": 15,
        "par_levels": len(list(g.par_levels())), "crosswalks": len(list(g.crosswalks(AT))),
        "charges": CHARGES, "usage": USAGE, "interfaces": len(demo_inventory(g, AT)),
    }  # fmt: skip

    assert dict(seeded.summary.counts) == expected
    assert dict(seeded.summary.crosswalk_outcomes) == {
        "added": expected["crosswalks"],
        "unchanged": 0,
        "superseded": 0,
    }


def test_the_database_holds_what_the_generator_made_per_facility(seeded: Seeded) -> None:
    g = seeded.generator
    per_hospital = {"FAC-01": 10, "FAC-02": 10, "FAC-03": 10}
    mapped: dict[str | None, int] = {}
    for entry in g.crosswalks(AT):
        mapped[entry.key.facility_id] = mapped.get(entry.key.facility_id, 0) + 1

    with seeded.uow_factory() as uow:
        assert uow.departments.count_by_facility() == per_hospital
        assert uow.cost_centers.count_by_facility() == per_hospital
        assert uow.items.count_by_facility() == {None: 800}
        assert uow.suppliers.count_by_facility() == {None: 12}
        assert uow.crosswalks.count_by_facility() == mapped
        assert sum(uow.charges.count_by_facility().values()) == CHARGES
        assert sum(uow.usage.count_by_facility().values()) == USAGE


def test_seeded_objects_read_back_equal_to_the_generated_ones(seeded: Seeded) -> None:
    g = seeded.generator
    item = next(i for i in g.items() if i.is_implant and i.is_chargeable)
    contract = next(c for c in g.contracts() if c.prices)
    charge = next(g.charges(1, datetime(2024, 6, 1, 12, 0, tzinfo=UTC)))

    with seeded.uow_factory() as uow:
        assert uow.items.get(item.id) == item
        assert uow.contracts.get(contract.id) == contract
        assert uow.charges.get(charge.id) == charge


def test_progress_reports_every_kind_in_dependency_order(seeded: Seeded) -> None:
    order = list(dict.fromkeys(kind for kind, _, _ in seeded.progress))
    last = {kind: (done, total) for kind, done, total in seeded.progress}

    assert order == list(KINDS)
    assert last["items"] == (800, 800)
    assert last["charges"] == (CHARGES, CHARGES)
    assert last["crosswalks"] == (seeded.summary.counts["crosswalks"], None)


def test_seeding_the_same_seed_again_changes_nothing(seeded: Seeded) -> None:
    before = count_objects(seeded.uow_factory)

    again = seed(
        seeded.uow_factory, HealthSystemGenerator(SMALL, 42), AT,
        history_charges=CHARGES, history_usage=USAGE,
    )  # fmt: skip

    assert count_objects(seeded.uow_factory) == before
    assert again.counts == seeded.summary.counts
    assert dict(again.crosswalk_outcomes) == {
        "added": 0,
        "unchanged": seeded.summary.counts["crosswalks"],
        "superseded": 0,
    }


def test_a_code_someone_mapped_elsewhere_is_a_conflict_not_skipped(
    sqlite_template: Path, tmp_path: Path
) -> None:
    engine = _engine(sqlite_template, tmp_path)
    tiny = replace(SMALL, items=50, suppliers=3, contracts=3)
    key = CrosswalkKey("erp", None, CrosswalkKind.SUPPLIER, "V100001")
    try:
        with SqlAlchemyUnitOfWork(engine) as uow:
            uow.crosswalks.add(CrosswalkEntry(key=key, canonical_id="SUP-LEGACY", valid_from=AT))
            uow.commit()

        with pytest.raises(CrosswalkConflictError, match="V100001 already maps to SUP-LEGACY"):
            seed(lambda: SqlAlchemyUnitOfWork(engine), HealthSystemGenerator(tiny, 1), AT)
    finally:
        engine.dispose()
