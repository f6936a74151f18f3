"""``suture ingest x12 FILE...`` and ``suture receive --asn ID``: the supplier's documents in,
and the dock's confirmation of a ship notice (docs/x12.md, docs/workflows.md).

Both are thin: :class:`~suture.services.x12_ingest.X12Ingest` stores each file in the inbox
before reading it and applies it; :class:`~suture.services.receiving.Receiving` records the
receipt, moves stock and advances the PO.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

from suture.domain.errors import SutureError
from suture.entrypoints.cli.app import console, errors, open_hub
from suture.formats.x12 import split_interchanges

#: The reason given for an empty file, which is not stored (the inbox refuses empty messages).
EMPTY_FILE = "the file is empty; nothing was stored"


def _outcome(
    name: str,
    message_id: str | None,
    status: str,
    reason: str | None,
    *,
    duplicate: bool = False,
    acknowledgments: int = 0,
    interchange: tuple[int, int] = (1, 1),
) -> dict[str, object]:
    return {
        "file": name,
        "interchange": interchange[0],
        "interchanges": interchange[1],
        "message_id": message_id,
        "status": status,
        "duplicate": duplicate,
        "acknowledgments": acknowledgments,
        "reason": reason,
    }


def _print_outcome(outcome: dict[str, object], *, as_json: bool) -> None:
    """One file's outcome: a line of text, or one JSON object on one line (JSON Lines)."""
    if as_json:
        console.print(json.dumps(outcome), markup=False, highlight=False, soft_wrap=True)
        return
    tail = f": {outcome['reason']}" if outcome["reason"] else ""
    again = " (duplicate)" if outcome["duplicate"] else ""
    name = outcome["file"]
    if outcome["interchanges"] != 1:
        name = f"{name}, interchange {outcome['interchange']} of {outcome['interchanges']}"
    console.print(
        f"{name}: {outcome['status']}{again}, {outcome['acknowledgments']} 997 queued{tail}",
        markup=False,
    )


def ingest_x12_command(
    files: Annotated[
        list[Path],
        typer.Argument(exists=True, dir_okay=False, readable=True, help="X12 interchange files."),
    ],
    interface: Annotated[
        str, typer.Option(help="Interface name the interchanges are stored under.")
    ] = "x12-file",
    source_system: Annotated[
        str, typer.Option(help="The system (VAN, AS2 gateway) the files came from.")
    ] = "x12-file",
    facility_id: Annotated[
        str | None,
        typer.Option(
            help="The facility (id or code) of invoices that name no known PO or N1*ST facility."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line per file.")] = False,
) -> None:
    """Store each X12 FILE in the inbox, apply its 855, 856 and 810 sets, queue a 997 per group.

    A file holding several interchanges one after another (as a VAN mailbox writes them) is
    split: each interchange is stored and applied on its own. Prints each one's outcome:
    processed, failed (with the segment, element and reason; kept in the inbox with a
    malformed-message exception; an empty file fails without being stored) or parked (unknown
    sender). Exits 1 when any failed or was parked.
    """
    hub = open_hub()
    counts: Counter[str] = Counter()
    try:
        for path in files:
            data = path.read_bytes()
            if not data:  # the inbox keeps bytes; an empty file has none to keep
                counts["failed"] += 1
                _print_outcome(_outcome(path.name, None, "failed", EMPTY_FILE), as_json=as_json)
                continue
            parts = split_interchanges(data)
            for number, part in enumerate(parts, start=1):
                reply = hub.x12_ingest.receive(
                    part,
                    interface=interface,
                    source_system=source_system,
                    facility_id=facility_id,
                )
                counts[str(reply.status)] += 1
                outcome = _outcome(
                    path.name,
                    reply.message_id,
                    str(reply.status),
                    reply.reason,
                    duplicate=reply.is_duplicate,
                    acknowledgments=reply.acknowledgments,
                    interchange=(number, len(parts)),
                )
                _print_outcome(outcome, as_json=as_json)
    finally:
        hub.close()
    if counts["failed"] or counts["parked"]:
        raise typer.Exit(1)


def _line_quantities(lines: list[str]) -> dict[int, Decimal]:
    """``--line`` options as line → quantity; a line given twice is refused rather than the
    first count silently replaced, and a quantity must be a finite number."""
    quantities: dict[int, Decimal] = {}
    for text in lines:
        number, _, quantity = text.partition("=")
        try:
            line, value = int(number), Decimal(quantity)
        except (ValueError, InvalidOperation):
            value = Decimal("NaN")
        if not value.is_finite():
            raise typer.BadParameter(
                f"{text!r} is not LINE=QUANTITY (e.g. 2=3)", param_hint="--line"
            )
        if line in quantities:
            raise typer.BadParameter(
                f"line {line} is given twice; give its whole count once", param_hint="--line"
            )
        quantities[line] = value
    return quantities


def receive_command(
    asn: Annotated[str, typer.Option("--asn", help="The expected receipt (ship notice) id.")],
    line: Annotated[
        list[str] | None,
        typer.Option(
            "--line",
            help="LINE=QUANTITY counted on a ship-notice line (0: not received); repeatable. "
            "Lines not named are received in full.",
        ),
    ] = None,
    location_id: Annotated[
        str | None,
        typer.Option(help="Receiving location (default: the facility's central supply)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the receipt as JSON.")] = False,
) -> None:
    """Confirm a ship notice at the dock: record the receipt, add the stock, advance the PO.

    A PO line received beyond what was open on it is printed as an over-receipt (and opens a
    quantity_variance item); the receipt is kept as counted."""
    quantities = _line_quantities(line or [])
    hub = open_hub()
    try:
        received = hub.receiving.confirm(asn, quantities=quantities, location_id=location_id)
    except SutureError as error:
        errors.print(f"cannot receive {asn}: {error}", markup=False)
        raise typer.Exit(1) from None
    finally:
        hub.close()
    receipt = received.receipt
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "receipt_id": receipt.id,
                    "number": receipt.number,
                    "location_id": receipt.location_id,
                    "lines": [
                        {"item_id": r.item_id, "quantity": str(r.quantity), "uom": r.uom}
                        for r in receipt.lines
                    ],
                    "over_receipts": [over.describe() for over in received.over_receipts],
                }
            )
        )
        return
    console.print(
        f"receipt {receipt.number} ({receipt.id}): {len(receipt.lines)} lines into "
        f"{receipt.location_id}",
        markup=False,
    )
    for over in received.over_receipts:
        console.print(
            f"over-receipt: PO {over.describe()} (a quantity_variance item is open)",
            markup=False,
        )
