"""``suture ingest FILE``: HL7 v2 files (one message, several, or FHS/BHS batches) through the
same store-decode-apply path as the MLLP listener (:class:`~suture.services.hl7_ingest.Hl7Ingest`).

Each message of the file is stored raw in the inbox before it is decoded, so one bad message
does not sink its neighbours; the summary counts what an MLLP sender would have been answered.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from suture.entrypoints.cli.app import console, errors, open_hub
from suture.formats.hl7v2 import CHARGE_SOURCE, Hl7DecodeError, split_batch
from suture.services.hl7_ingest import Hl7Submission

_GROUP = 200


def ingest_command(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="An HL7 v2 file.")
    ],
    interface: Annotated[
        str, typer.Option(help="Interface name the messages are stored under.")
    ] = "file",
    source_system: Annotated[
        str, typer.Option(help="The system that sent the file (authority of its charges).")
    ] = CHARGE_SOURCE,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Store, decode and apply every HL7 v2 message of FILE; print accepted, AE, AR, duplicates.

    Exits 1 when any message was answered AE or AR (it is kept in the inbox, failed, with a
    malformed-message exception to work), 2 when the file is not HL7 v2 at all.
    """
    data = file.read_bytes()
    try:
        batch = split_batch(data)
    except Hl7DecodeError as error:
        errors.print(f"{file.name}: not an HL7 v2 file: {error}", markup=False)
        raise typer.Exit(2) from None
    hub = open_hub()
    counts: Counter[str] = Counter()
    try:
        messages = batch.messages
        for start in range(0, len(messages), _GROUP):
            group = [
                Hl7Submission(raw, interface, source_system)
                for raw in messages[start : start + _GROUP]
            ]
            for reply in hub.hl7_ingest.receive_many(group):
                counts["duplicate" if reply.is_duplicate else reply.code] += 1
    finally:
        hub.close()
    summary = {
        "messages": len(batch.messages),
        "accepted": counts["AA"],
        "errors": counts["AE"],
        "rejected": counts["AR"],
        "duplicates": counts["duplicate"],
    }
    if as_json:
        console.print_json(json.dumps(summary))
    else:
        console.print(
            f"{file.name}: {summary['messages']} messages: {summary['accepted']} accepted (AA), "
            f"{summary['errors']} with errors (AE), {summary['rejected']} rejected (AR), "
            f"{summary['duplicates']} duplicates",
            markup=False,
        )
    if summary["errors"] or summary["rejected"]:
        raise typer.Exit(1)
