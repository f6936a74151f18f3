"""Streaming a period's charges, expected charges and chargemaster out of the database.

The batch reconciliation's first step (``services/reconciliation_batch.py``): each table is read
with a server-side cursor where the driver has one (``yield_per``), a chunk of rows at a time,
and appended to a CSV file, so memory is one chunk whatever the period's size, on SQLite and
PostgreSQL alike (DuckDB's own scanners for them are extensions downloaded at run time, which a
locked-down host may not reach). Instants are written as naive UTC ``YYYY-MM-DD HH:MM:SS.ffffff``
and decimals exactly, as the reconciler reads them.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from suture.adapters.db import tables as t
from suture.adapters.db.errors import storage_errors
from suture.adapters.db.reconciliation_tables import chargemaster_prices
from suture.adapters.db.usage_tables import expected_charges
from suture.services.reconciliation_batch import Progress, ReconcileInput

USAGE_COLUMNS = ("id", "facility_id", "encounter_token", "cdm_code", "quantity", "cost", "used_at")
CHARGE_COLUMNS = (
    "id", "facility_id", "encounter_token", "cdm_code", "quantity", "amount", "service_at",
    "transaction_type",
)  # fmt: skip
PRICE_COLUMNS = ("facility_id", "cdm_code", "effective_from", "effective_to", "unit_price")


def cell(value: object) -> object:
    """A value as the reconciler's CSV reader expects it."""
    if isinstance(value, datetime):
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return naive.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


class DatabaseExtract:
    """:class:`~suture.services.reconciliation_batch.PeriodExtract` over the hub's database."""

    def __init__(self, engine: sa.Engine, *, chunk_rows: int = 50_000) -> None:
        self._engine = engine
        self._chunk = chunk_rows

    def extract(
        self,
        start: datetime,
        end: datetime,
        facility_id: str | None,
        directory: Path,
        progress: Progress | None = None,
    ) -> ReconcileInput:
        e, c, p = expected_charges.c, t.charges.c, chargemaster_prices.c
        usage = sa.select(*(e[name] for name in USAGE_COLUMNS)).where(
            (e.used_at >= start) & (e.used_at < end)
        )
        charges = sa.select(*(c[name] for name in CHARGE_COLUMNS)).where(
            (c.service_at >= start) & (c.service_at < end)
        )
        prices = sa.select(*(p[name] for name in PRICE_COLUMNS))
        if facility_id is not None:
            usage = usage.where(e.facility_id == facility_id)
            charges = charges.where(c.facility_id == facility_id)
            prices = prices.where(p.facility_id == facility_id)
        done = [0]
        paths = [directory / f"{name}.csv" for name in ("usage", "charges", "prices")]
        for query, columns, path in zip(
            (usage, charges, prices), (USAGE_COLUMNS, CHARGE_COLUMNS, PRICE_COLUMNS), paths,
            strict=True,
        ):  # fmt: skip
            self._write(query, columns, path, done, progress)
        return ReconcileInput(usage=paths[0], charges=paths[1], prices=paths[2])

    def _write(
        self,
        query: sa.Select[Any],
        columns: Sequence[str],
        path: Path,
        done: list[int],
        progress: Progress | None,
    ) -> None:
        with (
            path.open("w", encoding="utf-8", newline="") as handle,
            storage_errors("reconciliation extract"),
            self._engine.connect() as connection,
        ):
            writer = csv.writer(handle)
            writer.writerow(columns)
            result = connection.execution_options(yield_per=self._chunk).execute(query)
            for chunk in result.partitions():
                writer.writerows([cell(value) for value in row] for row in chunk)
                done[0] += len(chunk)
                if progress is not None:
                    progress("extract", done[0], None)
