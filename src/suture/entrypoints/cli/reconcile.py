"""``suture reconcile``: charge-to-cost reconciliation over a period, in batch (DuckDB).

For month-end and historical migration (docs/workflows.md, "Charge-to-cost reconciliation"):
the period's charges and expected charges are streamed out of the hub's database (SQLite or
PostgreSQL) in chunks, reconciled in DuckDB by the same rule as the continuous form, and
summarised; with ``--out`` every unmatched line is written as ``unmatched.parquet`` and
``unmatched.csv``. The run is recorded in the audit trail as ``reconciliation.run``. The
continuous form's KPIs follow (lag from usage to match, median and p90; unmatched lines by age;
open revenue at risk), over every line it holds (of ``--facility``), not only the period.

Exit codes: 0 the period was reconciled (whatever it found); 2 the dates, the facility (not on
record) or the database are wrong.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from suture.bootstrap import Hub
from suture.domain.audit import Outcome
from suture.domain.errors import SutureError
from suture.entrypoints.cli.app import console, errors, open_hub
from suture.entrypoints.cli.audit import record_cli_action
from suture.services.reconciliation_batch import BatchSummary
from suture.services.workflows.reconciliation import ReconciliationKpis, reconciliation_kpis


def reconcile_command(
    start: Annotated[
        datetime,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First day of the period (UTC)."),
    ],
    end: Annotated[
        datetime,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Last day of the period, inclusive."),
    ],
    facility: Annotated[
        str | None,
        typer.Option(
            "--facility", help="Only this facility's lines (its id; one not on record is refused)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write unmatched.parquet and unmatched.csv (in no particular order) to this "
            "directory.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object.")
    ] = False,
) -> None:
    """Reconcile charges against expected charges (usage) for a period, in batch.

    Outcomes per line: matched, quantity_mismatch, usage_without_charge (a missed charge, with
    revenue at risk priced from the chargemaster), charge_without_usage, charge_below_cost,
    credited. The window is SUTURE_RECONCILIATION_WINDOW_HOURS.
    """
    first, last = start.date(), end.date()
    if last < first:
        errors.print(f"--to {last} is before --from {first}", markup=False)
        raise typer.Exit(2)
    hub = open_hub()
    try:
        summary = _run(hub, first=first, last=last, facility=facility, out=out, quiet=as_json)
        with hub.read_uow_factory() as uow:
            kpis = reconciliation_kpis(uow, hub.clock(), facility)
    finally:
        hub.close()
    if as_json:
        console.print_json(json.dumps(summary.as_dict() | {"continuous": _kpis(kpis)}))
    else:
        _print(summary)
        _print_kpis(kpis)


def _kpis(kpis: ReconciliationKpis) -> dict[str, object]:
    """The continuous form's KPIs (DESIGN.md §7), over every line it holds, not the period."""
    return {
        "matched": kpis.lag.matched,
        "lag_median_hours": kpis.lag.median_hours,
        "lag_p90_hours": kpis.lag.p90_hours,
        "unmatched_aging": kpis.unmatched_aging,
        "revenue_at_risk": format(kpis.revenue_at_risk, "f"),
        "unpriced": kpis.unpriced,
        "exceptions_opened": kpis.open_exceptions,
    }


def _print_kpis(kpis: ReconciliationKpis) -> None:
    lag = kpis.lag
    figures = (
        f"lag usage → match median {lag.median_hours} h, p90 {lag.p90_hours} h"
        if lag.matched
        else "nothing matched yet"
    )
    aging = ", ".join(f"{bucket} {count:,}" for bucket, count in kpis.unmatched_aging.items())
    console.print(
        f"continuous: {lag.matched:,} usage lines matched, {figures}; unmatched by age: "
        f"{aging}; open revenue at risk {kpis.revenue_at_risk:,.2f}"
        + (f" ({kpis.unpriced:,} lines without a CDM price not in it)" if kpis.unpriced else ""),
        markup=False,
    )


def _run(
    hub: Hub, *, first: date, last: date, facility: str | None, out: Path | None, quiet: bool
) -> BatchSummary:
    target = f"{first.isoformat()}..{last.isoformat()}" + (f"@{facility}" if facility else "")
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        console=console, disable=quiet or not console.is_terminal, transient=True,
    ) as progress:  # fmt: skip
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                label = "reading lines" if stage == "extract" else "reconciling"
                tasks[stage] = progress.add_task(label, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        try:
            summary = hub.reconciliation_batch.run(
                first, last, facility_id=facility, out_dir=out, progress=report
            )
        except SutureError as error:
            record_cli_action(
                hub.audit, "reconciliation.run", target_type="period", target_id=target,
                outcome=Outcome.FAILED, reason=str(error),
            )  # fmt: skip
            errors.print(f"reconcile: {error}", markup=False)
            raise typer.Exit(2) from None
    record_cli_action(
        hub.audit, "reconciliation.run", target_type="period", target_id=target,
        after=f"lines={summary.lines} unmatched={summary.unmatched}",
    )  # fmt: skip
    return summary


def _print(summary: BatchSummary) -> None:
    table = Table(title="charge-to-cost reconciliation", show_header=True)
    for heading, justify in (("side", "left"), ("outcome", "left"), ("lines", "right"),
                             ("unbilled qty", "right"), ("revenue at risk", "right")):  # fmt: skip
        table.add_column(heading, justify=justify)  # type: ignore[arg-type]
    for (side, outcome), count in sorted(summary.counts.items()):
        table.add_row(
            side.value, outcome.value, f"{count.lines:,}", format(count.unbilled, "f"),
            format(count.revenue_at_risk, ",.2f"),
        )  # fmt: skip
    console.print(table)
    unpriced = (
        f" ({summary.unpriced:,} missed lines have no chargemaster price)"
        if summary.unpriced
        else ""
    )
    console.print(
        f"{summary.lines:,} lines, {summary.unmatched:,} unmatched; revenue at risk "
        f"{summary.revenue_at_risk:,.2f}{unpriced}",
        markup=False,
    )
    for path in summary.files:
        console.print(f"wrote {path}", markup=False)
