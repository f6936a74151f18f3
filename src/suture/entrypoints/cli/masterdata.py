"""``suture masterdata import KIND FILE``: load a legacy item, vendor, contract or crosswalk file.

The command is a thin edge: it opens the file, shows progress by bytes read, and hands the
decoded rows to :func:`~suture.services.masterdata_import.import_masterdata`. Exit codes let a
scheduler tell the outcomes apart:

- 0: every row was imported (or already there);
- 1: some rows were rejected; the others were imported, and each rejected row is listed
  (line, column, reason; all of them in ``--errors-out`` as CSV);
- 2: nothing could be imported: the file or profile is missing or invalid, the header lacks a
  mapped column, or the source system is not authoritative for the kind.

The file is decoded with the profile's encoding (``utf-8-sig`` unless it says otherwise) and
``errors="surrogateescape"``, so a stray byte rejects its row, naming the column, rather than
stopping the import at an unknown point. Once the hub is open, the import is recorded in the
audit trail as ``masterdata.import`` with its counts (or as failed, with the reason).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from contextlib import ExitStack
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import IO, Annotated, NoReturn, TypeVar

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from suture.domain.audit import Outcome
from suture.domain.errors import SutureError
from suture.entrypoints.cli.app import console, errors, open_hub
from suture.entrypoints.cli.audit import record_cli_action
from suture.formats.csv import (
    ColumnProfile,
    CsvFileError,
    ImportKind,
    ProfileError,
    RowError,
    decode_rows,
    default_profile,
    load_profile,
    read_rows,
)
from suture.services.masterdata_import import ImportSummary, import_masterdata

_T = TypeVar("_T")

#: Row errors printed to the terminal; the rest are counted, and all go to --errors-out.
SHOWN_ERRORS = 20

masterdata_app = typer.Typer(
    help="Master data from legacy flat files: item master, vendor master, contract prices, "
    "crosswalks and the chargemaster (CDM prices), with a column-mapping profile.",
    no_args_is_help=True,
)


class MasterDataKind(StrEnum):
    """The kinds this command imports; usage and charge feeds are ingested, not imported."""

    ITEMS = ImportKind.ITEMS.value
    SUPPLIERS = ImportKind.SUPPLIERS.value
    CONTRACT_PRICES = ImportKind.CONTRACT_PRICES.value
    CROSSWALKS = ImportKind.CROSSWALKS.value
    CHARGEMASTER = ImportKind.CHARGEMASTER.value


@masterdata_app.command("import")
def import_file(
    what: Annotated[MasterDataKind, typer.Argument(metavar="KIND", help="What the file holds.")],
    file: Annotated[Path, typer.Argument(help="The CSV file to import.")],
    *,
    profile: Annotated[
        Path | None,
        typer.Option(help="Column-mapping profile (YAML); default: the built-in one for KIND."),
    ] = None,
    source_system: Annotated[
        str | None,
        typer.Option(help="The system the file comes from; default: the profile's."),
    ] = None,
    errors_out: Annotated[
        Path | None, typer.Option(help="Write every rejected row (line, column, reason) here.")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(min=1, help="Rows per transaction; default: the settings'.")
    ] = None,
) -> None:
    """Import KIND from FILE; re-importing the same file changes nothing."""
    kind = ImportKind(what.value)
    column_profile = _profile(kind, profile)
    source = source_system or column_profile.source_system or "suture"
    with ExitStack() as stack:
        raw = _open(file)
        text = stack.enter_context(
            io.TextIOWrapper(
                raw, encoding=column_profile.encoding, errors="surrogateescape", newline=""
            )
        )
        rows = _fail_on(CsvFileError, lambda: read_rows(text, column_profile), file)
        hub = _fail_on(SutureError, open_hub, file)
        stack.callback(hub.close)
        on_error = _error_writer(stack, errors_out) if errors_out else None
        progress = stack.enter_context(_progress())
        task = progress.add_task(f"{kind} {file.name}", total=file.stat().st_size)

        def run() -> ImportSummary:
            return import_masterdata(
                hub.uow_factory,
                kind,
                decode_rows(rows, column_profile),
                source_system=source,
                authority=hub.authority,
                at=hub.clock(),
                batch_size=batch_size or hub.batch_size,
                progress=lambda _: progress.update(task, completed=raw.tell()),
                on_error=on_error,
            )

        audit = partial(
            record_cli_action, hub.audit, "masterdata.import",
            target_type=str(kind), target_id=file.name, before=f"source={source}",
        )  # fmt: skip
        try:
            summary = run()
        except SutureError as error:
            audit(outcome=Outcome.FAILED, reason=str(error))
            _fail(f"{file}: {error}")
        counts = (
            f"read {summary.rows_read}, inserted {summary.inserted}, updated {summary.updated}, "
            f"unchanged {summary.unchanged}, rejected {summary.rejected}"
        )
        audit(after=counts)
        progress.update(task, completed=raw.tell())
    _report(summary, errors_out)
    raise typer.Exit(1 if summary.rejected else 0)


def _profile(kind: ImportKind, path: Path | None) -> ColumnProfile:
    if path is None:
        return default_profile(kind)
    try:
        loaded = load_profile(path.read_text(encoding="utf-8"), str(path))
    except OSError as error:
        _fail(f"{path}: cannot read the profile: {error.strerror or error}")
    except ProfileError as error:
        _fail(str(error))
    if loaded.kind is not kind:
        _fail(f"{path}: the profile is for {loaded.kind}, not {kind}")
    return loaded


def _open(file: Path) -> IO[bytes]:
    """The file in binary, so progress can count the bytes the text layer has consumed."""
    try:
        return file.open("rb")
    except OSError as error:
        _fail(f"{file}: cannot open: {error.strerror or error}")


def _fail_on(kind: type[SutureError], call: Callable[[], _T], file: Path) -> _T:
    """``call()``, or exit 2 naming the file when it raises a file-level ``kind``."""
    try:
        return call()
    except kind as error:
        _fail(f"{file}: {error}")


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]error[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(2)


def _error_writer(stack: ExitStack, path: Path) -> Callable[[RowError], None]:
    """A CSV of every row error, written as the import runs (so the list costs no memory)."""
    try:
        handle = stack.enter_context(path.open("w", encoding="utf-8", newline=""))
    except OSError as error:
        _fail(f"{path}: cannot write the errors file: {error.strerror or error}")
    writer = csv.writer(handle)
    writer.writerow(["line", "column", "reason"])
    return lambda error: writer.writerow([error.line, error.column, error.reason])


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
    )


def _report(summary: ImportSummary, errors_out: Path | None) -> None:
    for error in summary.errors[:SHOWN_ERRORS]:
        where = f"line {error.line}" + (f", {error.column}" if error.column else "")
        console.print(f"[yellow]{escape(where)}[/yellow]: {escape(error.reason)}", soft_wrap=True)
    hidden = summary.errors_total - min(len(summary.errors), SHOWN_ERRORS)
    if hidden > 0:
        where = f"in {errors_out}" if errors_out else "with --errors-out FILE.csv to list them"
        console.print(f"… and {hidden} more ({escape(where)})", soft_wrap=True)
    table = Table(title=f"{summary.kind} import", show_header=True)
    for heading in ("read", "inserted", "updated", "unchanged", "rejected"):
        table.add_column(heading, justify="right")
    counts = (summary.rows_read, summary.inserted, summary.updated, summary.unchanged)
    table.add_row(*(str(number) for number in (*counts, summary.rejected)))
    console.print(table)
