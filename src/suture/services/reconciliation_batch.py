"""Batch charge-to-cost reconciliation over a period (``suture reconcile``, the Process API).

For month-end and historical migration (DESIGN.md §4): the period's charges and expected
charges are streamed out of the hub's database in chunks (:class:`PeriodExtract`, a port; the
adapter writes CSV files chunk by chunk, so memory stays flat on any database), then a columnar
engine (:class:`Reconciler`; the adapter is DuckDB) runs the same rule as the continuous form
(``domain/reconciliation.py``) in SQL, returns the summary and writes every unmatched line as
Parquet and CSV.

**Edges of the period.** Lines are read from ``window`` before the period to ``window`` after
it, so a usage near the edge meets the charge that billed it; only lines whose own time falls in
the period are reported. The continuous form judges a key on all of its lines, so the two agree
whenever a key's lines lie within the extended range.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Protocol

from suture.domain.errors import DomainError
from suture.domain.reconciliation import CENT, Outcome, Side
from suture.services.unit_of_work import UnitOfWork

#: ``progress(stage, done, total)``: stage is "extract" (rows) or "reconcile" (steps).
Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True, slots=True)
class ReconcileInput:
    """The three inputs, as CSV or Parquet files (by suffix), in the columns of
    ``docs/workflows.md`` ("Batch"): usage (expected charges), charges, chargemaster prices."""

    usage: Path
    charges: Path
    prices: Path | None = None


@dataclass(frozen=True, slots=True)
class OutcomeCount:
    lines: int
    unbilled: Decimal
    revenue_at_risk: Decimal
    unpriced: int


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """What a batch found: line counts by side and outcome, and the money at stake."""

    start: datetime | None
    end: datetime | None
    facility_id: str | None
    counts: Mapping[tuple[Side, Outcome], OutcomeCount]
    files: list[Path] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return sum(count.lines for count in self.counts.values())

    @property
    def unmatched(self) -> int:
        return sum(
            count.lines
            for (_, outcome), count in self.counts.items()
            if outcome not in {Outcome.MATCHED, Outcome.CREDITED}
        )

    @property
    def revenue_at_risk(self) -> Decimal:
        """To the cent, also when nothing is at risk (``0.00``, not ``0``)."""
        return sum((count.revenue_at_risk for count in self.counts.values()), Decimal(0)).quantize(
            CENT
        )

    @property
    def unpriced(self) -> int:
        return sum(count.unpriced for count in self.counts.values())

    def as_dict(self) -> dict[str, object]:
        """The summary as JSON-ready values (``suture reconcile --json``, the Process API);
        money and quantities as decimal strings."""
        return {
            "from": None if self.start is None else self.start.isoformat(),
            "to": None if self.end is None else self.end.isoformat(),
            "facility_id": self.facility_id,
            "lines": self.lines,
            "unmatched": self.unmatched,
            "revenue_at_risk": format(self.revenue_at_risk, "f"),
            "unpriced": self.unpriced,
            "outcomes": [
                {
                    "side": side.value,
                    "outcome": outcome.value,
                    "lines": count.lines,
                    "unbilled": format(count.unbilled, "f"),
                    "revenue_at_risk": format(count.revenue_at_risk.quantize(CENT), "f"),
                }
                for (side, outcome), count in sorted(self.counts.items())
            ],
            "files": [str(path) for path in self.files],
        }


class PeriodExtract(Protocol):
    """Streams a period's lines out of the hub's database into files."""

    def extract(
        self,
        start: datetime,
        end: datetime,
        facility_id: str | None,
        directory: Path,
        progress: Progress | None = None,
    ) -> ReconcileInput: ...


class Reconciler(Protocol):
    """Runs the reconciliation rule over files."""

    def reconcile_files(
        self,
        files: ReconcileInput,
        *,
        window: timedelta,
        out_dir: Path | None,
        report_from: datetime | None = None,
        report_to: datetime | None = None,
        include_matched: bool = False,
        progress: Progress | None = None,
    ) -> BatchSummary: ...


class ReconciliationBatch:
    """``run(start, end)``: extract the period, reconcile it, write what is unmatched."""

    def __init__(
        self,
        extract: PeriodExtract,
        reconciler: Reconciler,
        window: timedelta,
        uow_factory: Callable[[], UnitOfWork],
    ) -> None:
        """``uow_factory``: to check that a named facility is on record."""
        self._extract = extract
        self._reconciler = reconciler
        self.window = window
        self._uow = uow_factory

    def run(
        self,
        start: date,
        end: date,
        *,
        facility_id: str | None = None,
        out_dir: Path | None = None,
        include_matched: bool = False,
        progress: Progress | None = None,
    ) -> BatchSummary:
        """Reconcile the days ``start`` to ``end`` inclusive (UTC)."""
        if end < start:
            raise DomainError("to", f"{end.isoformat()} is before --from {start.isoformat()}")
        try:
            first = datetime.combine(start, time.min, tzinfo=UTC)
            after = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
            _ = (first - self.window, after + self.window)
        except OverflowError:
            raise DomainError("from", "the period and its window leave the calendar") from None
        if facility_id is not None:
            with self._uow() as uow:
                if uow.facilities.get(facility_id) is None:
                    # A typo would reconcile nothing: an empty summary, read as a clean period.
                    raise DomainError("facility_id", "no such facility")

        with TemporaryDirectory(prefix="suture-reconcile-") as work:
            files = self._extract.extract(
                first - self.window, after + self.window, facility_id, Path(work), progress
            )
            summary = self._reconciler.reconcile_files(
                files, window=self.window, out_dir=out_dir, report_from=first,
                report_to=after, include_matched=include_matched, progress=progress,
            )  # fmt: skip
        return BatchSummary(first, after, facility_id, summary.counts, summary.files)
