"""``suture masterdata import``: exit codes a scheduler can act on, errors a person can fix.

The command runs against a real SQLite file named by ``SUTURE_DATABASE_URL``, through a Typer
application built here the way the root application registers it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from suture.entrypoints.cli.masterdata import masterdata_app

GOLDEN = Path(__file__).parent.parent / "golden" / "masterdata"
VENDORS = (
    "Vendor Number,Vendor Name,GLN,HIN,Remit Address,Remit City,Remit State,Remit Zip,"
    "Remit Country,Terms,Active Y/N\n"
)


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "suture.db"
    monkeypatch.setenv("SUTURE_DATABASE_URL", f"sqlite:///{path}")
    return path


def suture(*args: str | Path) -> Result:
    app = typer.Typer()
    app.add_typer(masterdata_app, name="masterdata")
    return CliRunner().invoke(app, ["masterdata", "import", *map(str, args)])


def summary_row(result: Result) -> list[int]:
    """(read, inserted, updated, unchanged, rejected) from the summary table."""
    body = [line for line in result.stdout.splitlines() if line.startswith("│")]
    return [int(cell) for cell in body[-1].strip("│").split("│")]


def vendors(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "vendors.csv"
    path.write_text(VENDORS + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def test_a_clean_file_exits_0_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    path = vendors(tmp_path, "V1,Acme Surgical,,,,,,,,,Y", "V2,Medline,,,,,,,,,Y")

    first, second = suture("suppliers", path), suture("suppliers", path)

    assert (first.exit_code, summary_row(first)) == (0, [2, 2, 0, 0, 0])
    assert (second.exit_code, summary_row(second)) == (0, [2, 0, 0, 2, 0])


def test_rejected_rows_exit_1_and_are_listed_with_line_column_and_reason() -> None:
    result = suture("suppliers", GOLDEN / "suppliers.csv")

    assert (result.exit_code, summary_row(result)) == (1, [8, 4, 0, 0, 4])
    assert result.stdout.splitlines()[:2] == [
        "line 5, GLN: check digit is 3, expected 2",
        "line 6, Remit Zip: '1752' is not a US ZIP code (12345 or 12345-6789); "
        "a spreadsheet may have dropped its leading zeros",
    ]


def test_the_terminal_shows_twenty_errors_and_the_errors_file_all_of_them(tmp_path: Path) -> None:
    path = vendors(tmp_path, *(f"V{number},,,,,,,,,,Y" for number in range(25)))
    errors_out = tmp_path / "errors.csv"

    result = suture("suppliers", path, "--errors-out", errors_out)

    shown = [line for line in result.stdout.splitlines() if line.startswith("line ")]
    with errors_out.open(encoding="utf-8", newline="") as stream:
        written = list(csv.reader(stream))
    assert (result.exit_code, len(shown), written[:2], len(written)) == (
        1,
        20,
        [["line", "column", "reason"], ["2", "Vendor Name", "is required but empty"]],
        26,
    )
    assert f"… and 5 more (in {errors_out})" in result.stdout


def test_a_profile_maps_another_export_layout(tmp_path: Path) -> None:
    profile = tmp_path / "lawson-vendors.yaml"
    profile.write_text(
        "kind: suppliers\ndelimiter: ';'\ncolumns: {vendor_number: VENDOR, name: VENDOR_NAME}\n"
    )
    data = tmp_path / "APVENMAST.csv"
    data.write_text("VENDOR;VENDOR_NAME\nV1;Acme Surgical\n", encoding="cp1252")

    result = suture("suppliers", data, "--profile", profile, "--source-system", "erp")

    assert (result.exit_code, summary_row(result)) == (0, [1, 1, 0, 0, 0])


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = suture("items", tmp_path / "nope.csv")

    assert (result.exit_code, result.stderr.strip()) == (
        2,
        f"error {tmp_path / 'nope.csv'}: cannot open: No such file or directory",
    )


def test_a_header_without_a_mapped_column_exits_2_before_touching_the_database(
    database: Path,
) -> None:
    result = suture("items", GOLDEN / "suppliers.csv")

    assert result.exit_code == 2
    assert "line 1: Item Number: missing columns 'Item Number', 'Description'" in result.stderr
    assert not database.exists()


def test_a_source_that_does_not_own_the_kind_exits_2() -> None:
    result = suture("items", GOLDEN / "items.csv", "--source-system", "epic")

    assert (result.exit_code, result.stderr.strip()) == (
        2,
        f"error {GOLDEN / 'items.csv'}: source_system: 'epic' may not write item: "
        "'materials' is authoritative",
    )


@pytest.mark.parametrize(
    ("profile_text", "message"),
    [
        ("kind: suppliers\ncolumns: {name: N}\n", "line 2: columns.vendor_number: is required"),
        ("kind: items\n", "line 1: columns: is required"),
        (
            "kind: crosswalks\n"
            "columns: {source_system: S, kind: K, local_code: L, canonical_id: C}\n",
            "the profile is for crosswalks, not suppliers",
        ),
    ],
)
def test_a_bad_profile_exits_2_naming_the_problem(
    tmp_path: Path, profile_text: str, message: str
) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text(profile_text)

    result = suture("suppliers", GOLDEN / "suppliers.csv", "--profile", profile)

    assert result.exit_code == 2
    assert message in result.stderr


def test_a_record_that_never_ends_exits_2_naming_where_it_starts(tmp_path: Path) -> None:
    path = vendors(tmp_path, "V1,Acme Surgical,,,,,,,,,Y", 'V2,"Medline' + "x" * 140_000)

    result = suture("suppliers", path)

    assert (result.exit_code, result.stderr.strip()) == (
        2,
        f"error {path}: line 3: malformed CSV in the record starting here "
        "(field larger than field limit (131072)); is a quote unclosed?",
    )


def test_an_unclosed_quote_exits_2_instead_of_folding_the_rows_after_it_into_one_name(
    tmp_path: Path,
) -> None:
    path = vendors(
        tmp_path, "V1,Acme Surgical,,,,,,,,,Y", 'V2,"Medline,,,,,,,,,Y', "V3,Cardinal,,,,,,,,,Y"
    )

    result = suture("suppliers", path)

    assert (result.exit_code, result.stderr.strip()) == (
        2,
        f"error {path}: line 3: malformed CSV in the record starting here (a quoted value runs "
        "to the end of the file, line 4); is a quote unclosed?",
    )


def test_a_usage_feed_is_not_master_data_and_exits_2(tmp_path: Path) -> None:
    feed = tmp_path / "usage.csv"
    feed.write_text("Case Number,Item Number\n", encoding="utf-8")

    result = suture("usage", feed)

    assert result.exit_code == 2
    assert "'usage' is not one of" in result.output
