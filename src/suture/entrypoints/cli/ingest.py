"""``suture ingest [hl7] FILE``: HL7 v2 files (one message, several, or FHS/BHS batches) through
the same store-decode-apply path as the MLLP listener
(:class:`~suture.services.hl7_ingest.Hl7Ingest`); ``suture ingest x12 FILE...`` is X12
(:mod:`.supplier_documents`).

Each message of the file is stored raw in the inbox before it is decoded, so one bad message
does not sink its neighbours; the summary counts what an MLLP sender would have been answered.
``suture ingest FILE`` (no format) stays HL7 v2, as it was before the X12 form existed.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from suture.bootstrap import Hub
from suture.entrypoints.cli.app import console, errors, open_hub
from suture.formats.hl7v2 import CHARGE_SOURCE, Hl7DecodeError, split_batch
from suture.services.hl7_ingest import Hl7Reply, Hl7Submission

_GROUP = 200
_SHOWN_FAILURES = 20  # as masterdata import shows its first 20 problems


class _Hl7ByDefault(TyperGroup):
    """``suture ingest FILE`` means ``suture ingest hl7 FILE``: an argument that names no format
    (a file, or an option) goes to the ``hl7`` command."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # click's or typer's Context
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["hl7", *args]
        return super().parse_args(ctx, args)


ingest_app = typer.Typer(
    cls=_Hl7ByDefault,
    help="Store, decode and apply files: HL7 v2 (`ingest FILE`, `ingest hl7 FILE`) or X12 "
    "(`ingest x12 FILE...`).",
    no_args_is_help=True,
)


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

    Each message answered AE or AR is listed first (the first 20; --json lists all): its number
    in the file, the code and the reason (segment, field and why). A message stored before (a
    duplicate: the file ingested again) is not applied again and is answered with its stored
    outcome, so it counts as accepted, AE or AR as it did then, and also as a duplicate.
    Exits 1 when any message was answered AE or AR, this run or before (it is kept in the
    inbox, failed, with a malformed-message exception to work), 2 when nothing was stored: the
    file is empty, is not HL7 v2 at all, or its batch envelope is wrong (a BTS or FTS count
    that does not match).
    """
    data = file.read_bytes()
    if not data.strip():
        errors.print(f"{file.name}: the file is empty; nothing was stored", markup=False)
        raise typer.Exit(2)
    try:
        batch = split_batch(data)
    except Hl7DecodeError as error:
        errors.print(f"{file.name}: refused, nothing was stored: {error}", markup=False)
        raise typer.Exit(2) from None
    hub = open_hub()
    counts: Counter[str] = Counter()
    failures: list[dict[str, object]] = []
    try:
        messages = batch.messages
        for start in range(0, len(messages), _GROUP):
            group = [
                Hl7Submission(raw, interface, source_system)
                for raw in messages[start : start + _GROUP]
            ]
            replies = hub.hl7_ingest.receive_many(group)
            for number, reply in enumerate(replies, start=start + 1):
                # a duplicate is answered with its stored outcome: a message that failed
                # before fails again (as the drop folder and an MLLP sender see it)
                counts[reply.code] += 1
                counts["duplicate"] += reply.is_duplicate
                if reply.code != "AA":
                    failures.append(_failure(hub, number, reply))
    finally:
        hub.close()
    summary = {
        "messages": len(batch.messages),
        "accepted": counts["AA"],
        "errors": counts["AE"],
        "rejected": counts["AR"],
        "duplicates": counts["duplicate"],
        "failures": failures,
    }
    if as_json:
        console.print_json(json.dumps(summary))
    else:
        for failure in failures[:_SHOWN_FAILURES]:
            console.print(
                f"{file.name}: message {failure['message']}: {failure['code']}: "
                f"{failure['reason']} (inbox message {failure['message_id']}"
                f"{', a duplicate' if failure['duplicate'] else ''})",
                markup=False,
            )
        if len(failures) > _SHOWN_FAILURES:
            hidden = len(failures) - _SHOWN_FAILURES
            console.print(
                f"{file.name}: … and {hidden} more (--json lists them all; so does `suture "
                "exceptions list --type malformed_message`)",
                markup=False,
            )
        console.print(
            f"{file.name}: {summary['messages']} messages: {summary['accepted']} accepted (AA), "
            f"{summary['errors']} with errors (AE), {summary['rejected']} rejected (AR), "
            f"{summary['duplicates']} duplicates",
            markup=False,
        )
    if summary["errors"] or summary["rejected"]:
        raise typer.Exit(1)


def _failure(hub: Hub, number: int, reply: Hl7Reply) -> dict[str, object]:
    """A message answered AE or AR: its place in the file and the reason it was failed with
    (the codec's position and reason, which never quote patient data), and whether it was
    stored before (a duplicate, failed then)."""
    reason = hub.inbox.get(reply.message_id).status_reason
    return {"message": number, "code": reply.code, "message_id": reply.message_id,
            "reason": reason, "duplicate": reply.is_duplicate}  # fmt: skip


ingest_app.command("hl7")(ingest_command)
