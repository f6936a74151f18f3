"""``suture seed``: fill the database with a deterministic synthetic health system.

A thin edge over :func:`suture.services.synthetic.loader.seed`: it picks the profile, opens the
hub, shows one progress bar per kind and prints what was written. The same profile and seed
always produce the same rows, and seeding again changes nothing, so a demo or a bug report can
name its data as ``--profile demo --seed 42``.

Exit codes: 0 seeded; 1 the database could not be opened or the seeding stopped on an error
(the batches before it are committed, and a re-run completes the rest); 2 a bad option or
configuration.
"""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from suture.domain.errors import SutureError
from suture.entrypoints.cli.app import console, errors, open_hub
from suture.services.synthetic import PROFILES, HealthSystemGenerator
from suture.services.synthetic.loader import KINDS, SeedSummary, seed


def seed_command(
    profile: Annotated[
        str,
        typer.Option(
            help="Size of the health system: 'demo' (3 hospitals, about 5,000 items, "
            "40 suppliers) or 'large' (10 hospitals, 100,000 items, 400 suppliers).",
        ),
    ] = "demo",
    seed_number: Annotated[
        int,
        typer.Option(
            "--seed",
            help="Random seed; the same profile and seed always give the same rows.",
        ),
    ] = 42,
    charges: Annotated[
        int,
        typer.Option(
            min=0,
            help="Historical charges to generate (revenue cycle, spread over the last year).",
        ),
    ] = 0,
    usage: Annotated[
        int,
        typer.Option(
            min=0,
            help="Historical supply and implant usage records, from the same procedures as "
            "the charges.",
        ),
    ] = 0,
    batch_size: Annotated[
        int | None,
        typer.Option(
            min=1, help="Rows written per transaction; default: SUTURE_IMPORT_BATCH_SIZE."
        ),
    ] = None,
) -> None:
    """Seed SUTURE_DATABASE_URL with a synthetic health system.

    Writes hospitals, departments, cost centers, locations, a chart of accounts,
    suppliers and an item master (GTIN, HIBC, UNSPSC, consigned implants), GPO
    contracts with tiered prices, par levels and crosswalks; then, if asked,
    charge and usage history; last, the integration inventory (interfaces with
    owners, SLAs and governance gaps). Every name is made up; no row is a real
    patient.

    Seeding the same profile and seed again changes nothing.
    """
    chosen = PROFILES.get(profile)
    if chosen is None:
        allowed = ", ".join(repr(name) for name in PROFILES)
        raise typer.BadParameter(
            f"unknown profile {profile!r}; choose one of {allowed}", param_hint="'--profile'"
        )
    generator = HealthSystemGenerator(chosen, seed_number)
    try:
        hub = open_hub()
    except SutureError as error:
        _fail(str(error))
    try:
        with _progress() as progress:
            tasks: dict[str, TaskID] = {}

            def report(kind: str, done: int, total: int | None) -> None:
                if kind not in tasks:
                    tasks[kind] = progress.add_task(kind.replace("_", " "), total=total)
                progress.update(tasks[kind], completed=done, total=total)

            summary = seed(
                hub.uow_factory,
                generator,
                hub.clock(),
                batch_size=batch_size or hub.batch_size,
                progress=report,
                history_charges=charges,
                history_usage=usage,
            )
    except SutureError as error:
        _fail(str(error))
    finally:
        hub.close()
    console.print(summary_table(summary))


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )


def summary_table(summary: SeedSummary) -> Table:
    """Rows written per kind, and what became of the crosswalk entries (``suture demo`` too)."""
    table = Table(title=f"Seeded profile {summary.profile!r}, seed {summary.seed}")
    table.add_column("kind")
    table.add_column("rows", justify="right")
    table.add_column("note")
    outcomes = ", ".join(f"{n:,} {outcome}" for outcome, n in summary.crosswalk_outcomes.items())
    for kind in KINDS:
        note = outcomes if kind == "crosswalks" else ""
        table.add_row(kind.replace("_", " "), f"{summary.counts.get(kind, 0):,}", note)
    return table


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]error[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(1)
