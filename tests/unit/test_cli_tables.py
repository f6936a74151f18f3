"""``print_table``: a table when the terminal holds it whole, else a row a block, nothing cut."""

from __future__ import annotations

import pytest
from rich.table import Table

from suture.entrypoints.cli.app import print_table

ID = "01a2196a-4a1b-773f-a875-4a8634c497fd"


def clients() -> Table:
    table = Table(title="2 API clients")
    for heading in ("id", "name", "scopes", "facilities", "revoked"):
        table.add_column(heading)
    table.add_row(ID, "demo clinical FHIR client", "system:write", "*", "-")
    other = "01a2196a-4ab0-79c2-ab59-800827141334"
    table.add_row(other, "[bold]legacy[/bold] OR", "", "FAC-03", "")
    return table


def test_a_table_that_fits_is_printed_as_a_table(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    print_table(clients())
    out = capsys.readouterr().out
    assert "┃ id " in out
    assert f"│ {ID} │ demo clinical FHIR client │" in out


def test_a_narrow_terminal_gets_a_row_a_block_with_nothing_cut(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    print_table(clients())
    lines = capsys.readouterr().out.splitlines()
    assert "┃" not in "".join(lines)
    assert max(len(line.rstrip()) for line in lines) <= 60
    assert lines[0].strip() == "2 API clients"
    first = [line.strip() for line in lines].index(ID)  # whole, on a line of its own
    block = " ".join(" ".join(lines[first + 1 :]).split())
    assert block.startswith(
        "name: demo clinical FHIR client · scopes: system:write · facilities: * · revoked: -"
    )
    # markup rendered, not printed; an empty cell shown as "-"
    assert "name: legacy OR · scopes: - · facilities: FAC-03 · revoked: -" in block
