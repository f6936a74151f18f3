"""Batch charge-to-cost reconciliation (DuckDB) against the continuous form, on the same data.

Issue 5: "batch and continuous give the same answer on the same data (tested)". Hypothesis
generates charges, credits and expected charges across keys, times and the window's edges; the
continuous form runs them through the bus; the batch extracts the same facility's period from
the database, reconciles it in DuckDB and writes every line as Parquet; both verdicts are
compared line by line.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from reconciliation_world import T0, WINDOW, MovableClock, UowFactory, Ward, build_bus, drain

from suture.adapters.analytics.duckdb_reconciler import DuckDbReconciler
from suture.adapters.db.period_extract import DatabaseExtract
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.reconciliation import Outcome, Side
from suture.services.reconciliation_batch import ReconciliationBatch

Verdict = tuple[str, str, str, Decimal, Decimal | None]


def batch_for(engine: sa.Engine) -> ReconciliationBatch:
    return ReconciliationBatch(
        DatabaseExtract(engine, chunk_rows=7), DuckDbReconciler(), WINDOW,
        lambda: SqlAlchemyUnitOfWork(engine),
    )  # fmt: skip


def continuous_verdicts(ward: Ward) -> set[Verdict]:
    with ward.uow() as unit:
        states = unit.reconciliation.all(ward.facility_id)
    return {
        (s.side.value, s.line_id, s.outcome.value, s.unbilled, s.revenue_at_risk) for s in states
    }


def parquet_verdicts(path: Path) -> set[Verdict]:
    rows = duckdb.sql(
        f"SELECT side, line_id, outcome, unbilled, revenue_at_risk FROM read_parquet('{path}')"
    ).fetchall()
    return {
        (side, line, outcome, Decimal(unbilled), None if risk is None else Decimal(risk))
        for side, line, outcome, unbilled, risk in rows
    }


# Few distinct values, so lines collide on keys and times, amounts equal costs, and charges
# fall exactly on, just inside and just outside the window's edges.
hours = st.sampled_from([-145, -80, -72, -71, 0, 1, 71, 72, 73, 150]).map(
    lambda h: T0 + timedelta(hours=h)
)
money = st.sampled_from([0, 100, 250, 251])
usage_specs = st.lists(
    st.tuples(st.integers(0, 3), money, hours, st.sampled_from(["E1", "E1", "E2", None]),
              st.sampled_from(["CDM-A", "CDM-A", "CDM-B", "NOPRICE"])),
    max_size=8,
)  # fmt: skip
charge_specs = st.lists(
    st.tuples(st.integers(0, 3), money, hours, st.sampled_from(["E1", "E1", "E2"]),
              st.sampled_from(["CDM-A", "CDM-A", "CDM-B"]), st.booleans()),
    max_size=8,
)  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(usage_specs, charge_specs)
# Planted cases: a tie on usage time broken by id, a charge exactly at cost, a credit netting a
# charge away, a charge exactly on the window's edge.
@example(
    [(1, 100, T0, "E1", "CDM-A"), (2, 100, T0, "E1", "CDM-A")], [(1, 100, T0, "E1", "CDM-A", False)]
)
@example([(1, 250, T0, "E1", "CDM-A")], [(1, 250, T0, "E1", "CDM-A", False)])
@example(
    [(1, 250, T0, "E1", "CDM-A")],
    [(1, 250, T0, "E1", "CDM-A", False), (1, 250, T0, "E1", "CDM-A", True)],
)
@example([(1, 250, T0, "E1", "CDM-A")], [(1, 250, T0 + WINDOW, "E1", "CDM-A", False)])
def test_batch_and_continuous_give_the_same_verdict_on_every_line(
    uow: UowFactory,
    engine: sa.Engine,
    tmp_path: Path,
    usages: list,
    charges: list,  # type: ignore[type-arg]
) -> None:
    ward = Ward(uow, build_bus(uow, MovableClock(T0 + timedelta(days=5))))
    ward.put_on_record()
    ward.price("CDM-A", "125.5")
    ward.price("CDM-B", "19.99")
    for n, (qty, cost, at, encounter, cdm) in enumerate(usages):
        ward.use(f"U{n}", str(qty), cost=str(cost), at=at, encounter=encounter, cdm=cdm)
    for n, (qty, amount, at, encounter, cdm, credit) in enumerate(charges):
        ward.charge(f"C{n}", str(qty), str(amount), at=at, encounter=encounter, cdm=cdm,
                    credit=credit)  # fmt: skip
    drain(ward.bus)
    out = tmp_path / ward.run

    summary = batch_for(engine).run(
        date(2026, 2, 1), date(2026, 3, 31), facility_id=ward.facility_id, out_dir=out,
        include_matched=True,
    )  # fmt: skip

    assert parquet_verdicts(out / "lines.parquet") == continuous_verdicts(ward)
    assert summary.lines == len(usages) + len(charges)


@pytest.fixture
def ward(uow: UowFactory) -> Ward:
    created = Ward(uow, build_bus(uow, MovableClock(T0)))
    created.put_on_record()
    created.price("CDM-KNEE", "4000.00")
    return created


def test_the_batch_writes_every_unmatched_line_as_parquet_and_csv(
    ward: Ward, engine: sa.Engine, tmp_path: Path
) -> None:
    missed = ward.use("U1", "2")
    ward.use("U2", encounter="ENC2")
    ward.charge("C2", encounter="ENC2")
    orphan = ward.charge("C3", encounter="ENC3")
    drain(ward.bus)

    summary = batch_for(engine).run(
        date(2026, 3, 1), date(2026, 3, 2), facility_id=ward.facility_id, out_dir=tmp_path
    )

    expected = {
        ("usage", missed, "usage_without_charge", Decimal(2), Decimal("8000.00")),
        ("charge", orphan, "charge_without_usage", Decimal(0), Decimal(0)),
    }
    csv_rows = duckdb.sql(
        "SELECT side, line_id, outcome, unbilled, revenue_at_risk "
        f"FROM read_csv('{tmp_path / 'unmatched.csv'}')"
    ).fetchall()
    assert parquet_verdicts(tmp_path / "unmatched.parquet") == expected
    assert {(s, i, o, Decimal(str(u)), Decimal(str(r))) for s, i, o, u, r in csv_rows} == expected
    assert (summary.lines, summary.unmatched, summary.revenue_at_risk) == (
        4, 2, Decimal("8000.00"),
    )  # fmt: skip
    assert summary.counts[(Side.USAGE, Outcome.MATCHED)].lines == 1


def test_lines_outside_the_period_are_not_reported(
    ward: Ward, engine: sa.Engine, tmp_path: Path
) -> None:
    ward.use("U1")
    ward.use("U2", at=T0 + timedelta(days=10))
    drain(ward.bus)

    summary = batch_for(engine).run(
        date(2026, 3, 2), date(2026, 3, 2), facility_id=ward.facility_id, out_dir=None
    )

    assert summary.lines == 1
