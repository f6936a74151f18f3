"""``suture reconcile``: the batch over a period from the terminal, on a real SQLite hub.

The hub's database gets charges and expected charges as their workflows write them; the command
extracts the period, reconciles it in DuckDB, prints the summary (here as JSON) and writes the
unmatched lines as Parquet and CSV, which are read back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from reconciliation_world import T0, MovableClock, Ward, build_bus, drain
from typer.testing import CliRunner

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.entrypoints.cli import app


@pytest.fixture
def ward(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ward]:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    monkeypatch.setenv("SUTURE_DATABASE_URL", url)
    engine = create_engine(url)
    ensure_schema(engine)

    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    created = Ward(uow, build_bus(uow, MovableClock(T0)))
    created.price("CDM-KNEE", "4000.00")
    yield created
    engine.dispose()


def test_reconcile_prints_the_summary_and_writes_the_unmatched_lines(
    ward: Ward, tmp_path: Path
) -> None:
    missed = ward.use("U1")
    ward.use("U2", encounter="ENC2")
    ward.charge("C2", encounter="ENC2")
    drain(ward.bus)
    out = tmp_path / "out"

    result = CliRunner().invoke(
        app, ["reconcile", "--from", "2026-03-01", "--to", "2026-03-31", "--out", str(out),
              "--json"],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["lines"], summary["unmatched"], summary["revenue_at_risk"]) == (
        3, 1, "4000.00",
    )  # fmt: skip
    assert summary["continuous"] == {
        "matched": 1, "lag_median_hours": 0.0, "lag_p90_hours": 0.0,
        "unmatched_aging": {"0-3d": 0, "3-7d": 0, "7-30d": 0, "30d+": 1},
        "revenue_at_risk": "4000.00", "unpriced": 0, "exceptions_opened": 0,
    }  # fmt: skip
    parquet = duckdb.sql(
        f"SELECT line_id, outcome FROM read_parquet('{out / 'unmatched.parquet'}')"
    ).fetchall()
    csv = duckdb.sql(
        f"SELECT line_id, revenue_at_risk FROM read_csv('{out / 'unmatched.csv'}')"
    ).fetchall()
    assert parquet == [(missed, "usage_without_charge")]
    assert [(line, Decimal(str(risk))) for line, risk in csv] == [(missed, Decimal("4000.00"))]


def test_reconcile_prints_a_table_by_side_and_outcome(ward: Ward) -> None:
    ward.use("U1")
    drain(ward.bus)

    result = CliRunner().invoke(app, ["reconcile", "--from", "2026-03-01", "--to", "2026-03-02"])

    assert result.exit_code == 0, result.output
    assert "usage_without_charge" in result.output
    assert "revenue at risk 4,000.00" in result.output


def test_reconcile_refuses_a_period_that_ends_before_it_starts(ward: Ward) -> None:
    result = CliRunner().invoke(app, ["reconcile", "--from", "2026-03-02", "--to", "2026-03-01"])

    assert (result.exit_code, "before --from" in result.output) == (2, True)


def test_reconcile_refuses_a_facility_not_on_record(ward: Ward) -> None:
    """``--facility`` with a typo printed an empty table and exited 0, as a clean month does."""
    result = CliRunner().invoke(
        app, ["reconcile", "--from", "2026-03-01", "--to", "2026-03-31", "--facility", "FAC-NOPE"]
    )

    assert (result.exit_code, result.stderr.strip()) == (
        2, "reconcile: facility_id: no such facility",
    )  # fmt: skip
