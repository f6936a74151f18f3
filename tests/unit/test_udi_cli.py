"""``suture udi STRING [--json]``: the decoded parts, or the reason and exit code 1."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from suture.entrypoints.cli.udi import udi_command

GS1 = "(01)09506000134352(17)281231(10)ABC123(21)SN-1"
HIBC = "+A99912345/$$52001510X3/16D20111212/S77DEFG457"


def cli() -> typer.Typer:
    """A one-command app: registration on the root app is the lead's (``app.command("udi")``)."""
    app = typer.Typer()
    app.command("udi")(udi_command)

    @app.command("version")
    def version() -> None:  # a second command keeps 'udi' a subcommand, as on the root app
        """Unused."""

    return app


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli(), ["udi", *args])
    return result.exit_code, result.output


def test_json_output_has_every_part() -> None:
    code, output = run(GS1, "--json")
    assert (code, json.loads(output)) == (
        0,
        {
            "issuer": "GS1",
            "device_identifier": "09506000134352",
            "hibc_primary": None,
            "lot": "ABC123",
            "serial": "SN-1",
            "expiry": "2028-12-31",
            "manufacture_date": None,
            "quantity": None,
            "other": [],
            "raw": GS1,
        },
    )


def test_table_output_shows_the_hibc_primary_code_and_dates() -> None:
    code, output = run(HIBC)
    assert code == 0
    for expected in ("HIBCC UDI", "A99912345", "+A999123457", "10X3", "77DEFG45", "2020-01-15"):
        assert expected in output


def test_a_bad_check_character_exits_1_with_the_reason() -> None:
    code, output = run(HIBC[:-1] + "Z")
    assert (code, output) == (
        1,
        "not a valid UDI: HIBC check character: is 'Z', expected '7'\n",
    )


def test_a_bad_check_digit_as_json_names_part_and_reason() -> None:
    code, output = run("(01)09506000134353", "--json")
    assert (code, json.loads(output)) == (
        1,
        {
            "error": {"part": "(01) GTIN", "reason": "check digit is 3, expected 2"},
            "raw": "(01)09506000134353",
        },
    )
