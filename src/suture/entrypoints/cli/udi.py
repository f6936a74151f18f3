"""``suture udi STRING [--json]``: what a UDI barcode says, or exactly why it cannot be read.

For the integration engineer at a scanner or a work-queue item: the decoded device identifier,
lot, serial and dates as a table (or JSON for scripts), or the part of the barcode that is
wrong and the reason. Exit codes: 0 decoded; 1 not a valid UDI. Needs no database or settings.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from suture.entrypoints.cli.app import console, errors
from suture.formats.udi import Udi, UdiDecodeError, parse_udi

EXIT_NOT_A_UDI = 1


def udi_command(
    text: Annotated[str, typer.Argument(metavar="STRING", help="The scanned barcode text.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Decode a GS1 or HIBC UDI barcode string into device identifier, lot, serial and dates."""
    try:
        udi = parse_udi(text, today=datetime.now(UTC).date())
    except UdiDecodeError as error:
        if as_json:
            payload = {"error": {"part": error.field, "reason": error.reason}, "raw": text}
            console.print_json(json.dumps(payload))
        else:
            errors.print(
                f"not a valid UDI: {error.field}: {error.reason}", markup=False, soft_wrap=True
            )
        raise typer.Exit(EXIT_NOT_A_UDI) from None
    if as_json:
        console.print_json(json.dumps(udi_json(udi)))
    else:
        console.print(udi_table(udi))


def udi_json(udi: Udi) -> dict[str, Any]:
    """The decoded UDI as JSON-ready values: dates in ISO 8601, absent parts as ``null``."""
    return {
        "issuer": udi.issuer.value,
        "device_identifier": udi.device_identifier,
        "hibc_primary": udi.hibc.code if udi.hibc else None,
        "lot": udi.lot,
        "serial": udi.serial,
        "expiry": udi.expiry.isoformat() if udi.expiry else None,
        "manufacture_date": udi.manufacture_date.isoformat() if udi.manufacture_date else None,
        "quantity": udi.quantity,
        "other": [{"ai": ai, "value": value} for ai, value in udi.other],
        "raw": udi.raw,
    }


def udi_table(udi: Udi) -> Table:
    """The decoded UDI as a two-column table; parts the barcode does not carry are omitted."""
    table = Table(title=f"{udi.issuer.value} UDI", show_header=False)
    table.add_column("part", style="bold")
    table.add_column("value")
    rows: list[tuple[str, object]] = [
        ("device identifier", udi.device_identifier),
        ("HIBC primary code", udi.hibc.code if udi.hibc else None),
        ("lot", udi.lot),
        ("serial", udi.serial),
        ("expiry", udi.expiry),
        ("manufacture date", udi.manufacture_date),
        ("quantity", udi.quantity),
        *((f"({ai})", value) for ai, value in udi.other),
    ]
    for label, value in rows:
        if value is not None:
            table.add_row(label, escape(str(value)))
    return table
