"""``suture masterdata import chargemaster FILE``: the CDM price list, through the master-data
import path (profile, decoder, authority, idempotent writer), on a real SQLite hub."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.masterdata import Facility
from suture.domain.reconciliation import ChargemasterPrice
from suture.entrypoints.cli.masterdata import masterdata_app

GOLDEN = Path(__file__).parent.parent / "golden" / "masterdata" / "chargemaster.csv"


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "suture.db"
    monkeypatch.setenv("SUTURE_DATABASE_URL", f"sqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    try:
        ensure_schema(engine)
        with SqlAlchemyUnitOfWork(engine) as unit:
            unit.facilities.add(Facility(id="FAC-MAIN", code="MAIN", name="Main", timezone="UTC"))
            unit.commit()
    finally:
        engine.dispose()
    return path


def suture(*args: str | Path) -> Result:
    app = typer.Typer()
    app.add_typer(masterdata_app, name="masterdata")
    return CliRunner().invoke(app, ["masterdata", "import", *map(str, args)])


def summary_row(result: Result) -> list[int]:
    body = [line for line in result.stdout.splitlines() if line.startswith("│")]
    return [int(cell) for cell in body[-1].strip("│").split("│")]


def stored(database: Path, cdm: str, since: date) -> ChargemasterPrice | None:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with SqlAlchemyUnitOfWork(engine) as unit:
            return unit.chargemaster.get("FAC-MAIN", cdm, since)
    finally:
        engine.dispose()


def test_the_chargemaster_imports_its_prices_and_rejects_bad_rows(database: Path) -> None:
    first, second = suture("chargemaster", GOLDEN), suture("chargemaster", GOLDEN)

    assert (first.exit_code, summary_row(first)) == (1, [5, 3, 0, 0, 2])
    assert (second.exit_code, summary_row(second)) == (1, [5, 0, 0, 3, 2])
    assert first.stdout.splitlines()[:2] == [
        "line 5, CDM Code: is required but empty",
        "line 6, Price: must not be negative, got '-3.00'",
    ]
    assert stored(database, "CDM-KNEE", date(2026, 7, 1)) == ChargemasterPrice(
        facility_id="FAC-MAIN", cdm_code="CDM-KNEE", effective_from=date(2026, 7, 1),
        unit_price=Decimal("4200.00"), description="KNEE IMPLANT TOTAL",
    )  # fmt: skip


def test_a_price_of_a_facility_that_does_not_exist_is_a_row_error(
    tmp_path: Path, database: Path
) -> None:
    path = tmp_path / "cdm.csv"
    path.write_text(
        "Facility,CDM Code,Description,Price,Effective From,Effective To\n"
        "FAC-MAIN,CDM-KNEE,KNEE IMPLANT TOTAL,4000.00,01/01/2026,\n"
        "MAIN,CDM-KNEE,KNEE IMPLANT TOTAL,4000.00,01/01/2026,\n"
    )

    result = suture("chargemaster", path)

    assert (result.exit_code, summary_row(result)) == (1, [2, 1, 0, 0, 1])
    assert result.stdout.splitlines()[0] == "line 3, Facility: no facility MAIN"


def test_only_the_revenue_cycle_may_load_the_chargemaster() -> None:
    result = suture("chargemaster", GOLDEN, "--source-system", "materials")

    assert result.exit_code == 2
    assert "'rcm' is authoritative" in result.output
