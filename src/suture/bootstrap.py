"""The composition root: the only module that knows every concrete class (STYLE.md habit 6).

``build(settings)`` turns settings into a :class:`Hub` of wired collaborators. It only wires; the
work is done by services, adapters and entrypoints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import current_revision, downgrade, ensure_schema, upgrade
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.config import Settings
from suture.domain.authority import AuthorityRegistry
from suture.services.clock import Clock, system_clock
from suture.services.unit_of_work import UnitOfWork


@dataclass(slots=True)
class Hub:
    """Everything an entrypoint needs, wired once."""

    engine: Engine
    uow_factory: Callable[[], UnitOfWork]
    authority: AuthorityRegistry
    clock: Clock
    batch_size: int
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for closer in reversed(self.closers):
            closer()


def build(settings: Settings, *, migrate: bool = True) -> Hub:
    """Wire the hub. The embedded default migrates its database on first use."""
    engine = create_engine(settings.database_url)
    if migrate:
        ensure_schema(engine)
    return Hub(
        engine=engine,
        uow_factory=lambda: SqlAlchemyUnitOfWork(engine),
        # Suture loads the ERP's supplier master and the materials system's item master on their
        # behalf (DESIGN.md §1), so the hub is a delegate of both owners.
        authority=AuthorityRegistry(
            delegates={
                "erp": frozenset({"suture"}),
                "materials": frozenset({"suture"}),
                "procurement": frozenset({"suture"}),
            }
        ),
        clock=system_clock,
        batch_size=settings.import_batch_size,
        closers=[engine.dispose],
    )


def database_revision(settings: Settings) -> str | None:
    """The schema revision the configured database is at (None: not migrated)."""
    engine = create_engine(settings.database_url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def migrate_database(settings: Settings, revision: str = "head", *, down: bool = False) -> None:
    """Upgrade (or with ``down``, downgrade) the configured database to ``revision``."""
    engine = create_engine(settings.database_url)
    try:
        if down:
            downgrade(engine, revision)
        else:
            upgrade(engine, revision)
    finally:
        engine.dispose()
