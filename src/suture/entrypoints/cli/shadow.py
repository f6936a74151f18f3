"""``suture shadow report INTERFACE``: what a shadow interface withheld, against the legacy system.

For the integration engineer deciding a cut-over (docs/shadow-mode.md): the interface's withheld
outputs (deliveries ``shadowed`` while it was in shadow or legacy mode) are compared with the
legacy system's outputs for the same period, read from its CSV export, under a comparison
profile (YAML: key, compare, amounts, tolerance, aggregate, columns). Prints the counts, the
agreement and every key that differs; ``--json`` for scripts. Exit codes: 0 the two agree on
every key; 1 they differ somewhere; 2 bad options, profile or files.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from suture.domain.errors import SutureError
from suture.domain.shadow import ShadowOutcome
from suture.entrypoints.cli.app import console, errors, open_hub, print_table
from suture.services.shadow import ShadowReport, legacy_lines, load_profile

EXIT_DIFFERENT = 1

shadow_app = typer.Typer(
    help="Shadow mode: compare what a shadow interface withheld with the legacy outputs.",
    no_args_is_help=True,
)


@shadow_app.command("report")
def report_command(  # noqa: PLR0917  (a Typer command's options are its parameters)
    interface: Annotated[str, typer.Argument(help="An outbound interface of the inventory.")],
    legacy: Annotated[
        list[Path],
        typer.Option(
            "--legacy", exists=True, dir_okay=False, help="The legacy system's CSV output."
        ),
    ],
    profile: Annotated[
        Path, typer.Option("--profile", exists=True, dir_okay=False, help="Comparison YAML.")
    ],
    since: Annotated[
        datetime | None,
        typer.Option("--since", formats=["%Y-%m-%d"], help="Withheld on or after (UTC)."),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option("--until", formats=["%Y-%m-%d"], help="Withheld before (UTC)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Differences listed.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Compare INTERFACE's withheld outputs with the legacy system's, key by key."""
    try:
        comparison = load_profile(profile.read_text(encoding="utf-8"), profile.name)
        files = [(path.name, path.read_text(encoding="utf-8-sig")) for path in legacy]
        theirs = legacy_lines(files, comparison)
    except (SutureError, UnicodeDecodeError) as error:
        errors.print(f"{_where(error)}", markup=False)
        raise typer.Exit(2) from None
    hub = open_hub()
    try:
        report = hub.shadow_reports.report(
            interface, theirs, comparison, since=_utc(since), until=_utc(until)
        )
    except SutureError as error:
        errors.print(f"{error.field}: {error.reason}", markup=False)
        raise typer.Exit(2) from None
    finally:
        hub.close()
    if as_json:
        console.print_json(json.dumps(report_json(report, limit)))
    else:
        _print(report, limit)
    if report.diff.problems():
        raise typer.Exit(EXIT_DIFFERENT)


def report_json(report: ShadowReport, limit: int) -> dict[str, Any]:
    diff = report.diff
    return {
        "interface": report.interface,
        "mode": report.mode.value,
        "deliveries": report.deliveries,
        "suture_lines": report.suture_lines,
        "legacy_lines": report.legacy_lines,
        "unreadable_deliveries": list(report.unreadable),
        "counts": {outcome.value: diff.count(outcome) for outcome in ShadowOutcome},
        "agreement": round(diff.agreement, 4),
        "problems": [
            {
                "key": list(item.key),
                "outcome": item.outcome.value,
                "differences": [
                    {"field": d.field, "suture": d.suture, "legacy": d.legacy}
                    for d in item.differences
                ],
                "suture_source": item.suture_source,
                "legacy_source": item.legacy_source,
            }
            for item in diff.problems()[:limit]
        ],
    }


def _print(report: ShadowReport, limit: int) -> None:
    diff = report.diff
    summary = Table(title=f"Shadow report: {report.interface} ({report.mode})")
    summary.add_column("measure")
    summary.add_column("value", justify="right")
    rows = [
        ("withheld deliveries", report.deliveries),
        ("Suture lines", report.suture_lines),
        ("legacy lines", report.legacy_lines),
        *((outcome.value.replace("_", " "), diff.count(outcome)) for outcome in ShadowOutcome),
        ("agreement", f"{diff.agreement:.1%}"),
    ]
    for name, value in rows:
        summary.add_row(name, str(value))
    console.print(summary)
    if report.unreadable:
        errors.print(
            f"{len(report.unreadable)} withheld deliveries could not be read: "
            + ", ".join(report.unreadable[:5]),
            markup=False,
        )
    problems = diff.problems()
    if not problems:
        return
    table = Table(title=f"Differences ({min(limit, len(problems))} of {len(problems)})")
    for column in ("key", "outcome", "field", "Suture", "legacy", "where"):
        table.add_column(column)
    for item in problems[:limit]:
        key = " / ".join(item.key)
        where = item.suture_source or item.legacy_source
        if not item.differences:
            table.add_row(key, item.outcome.value, "", "", "", where)
        for d in item.differences:
            table.add_row(key, item.outcome.value, d.field, d.suture, d.legacy, where)
    print_table(table)


def _utc(day: datetime | None) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(date(day.year, day.month, day.day), time(), tzinfo=UTC)


def _where(error: Exception) -> str:
    if isinstance(error, SutureError):
        return f"{error.field}: {error.reason}"
    return f"not UTF-8 text: {error}"
