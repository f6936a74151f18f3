"""``suture quality report``: data-quality findings over the stored master data."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from suture.domain.authority import ObjectType
from suture.domain.quality import DEFAULT_RULES, Severity
from suture.entrypoints.cli.app import console, errors, open_hub
from suture.services.quality_report import QualityReport, run_quality_report

quality_app = typer.Typer(help="Data-quality rules over master data.", no_args_is_help=True)

_CHECKED = ", ".join(str(kind) for kind in DEFAULT_RULES)


@quality_app.command("report")
def report_command(
    kind: Annotated[
        list[str] | None,
        typer.Option(help=f"Object type to check (repeatable); default all of: {_CHECKED}."),
    ] = None,
    show: Annotated[int, typer.Option(help="How many findings to print.")] = 20,
    out: Annotated[
        Path | None, typer.Option(help="Write every finding kept to this CSV file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Evaluate the declarative quality rules (required, format, referential, plausibility).

    Exits 1 when any finding of severity error exists, so a scheduler can alert on it.
    """
    kinds = _parse_kinds(kind)
    hub = open_hub()
    try:
        report = run_quality_report(hub.uow_factory, kinds=kinds)
    finally:
        hub.close()
    if out is not None:
        _write_csv(report, out)
    if as_json:
        console.print_json(json.dumps(_as_dict(report, show)))
    else:
        _print(report, show)
    if report.by_severity[Severity.ERROR]:
        raise typer.Exit(1)


def _parse_kinds(kinds: list[str] | None) -> tuple[ObjectType, ...] | None:
    if not kinds:
        return None
    parsed = []
    for value in kinds:
        try:
            kind = ObjectType(value)
        except ValueError:
            errors.print(f"--kind: unknown object type {value!r}; choose from {_CHECKED}")
            raise typer.Exit(2) from None
        if kind not in DEFAULT_RULES:
            errors.print(f"--kind: no quality rules for {value!r}; choose from {_CHECKED}")
            raise typer.Exit(2)
        parsed.append(kind)
    return tuple(parsed)


def _print(report: QualityReport, show: int) -> None:
    checked = ", ".join(f"{n:,} {kind}" for kind, n in sorted(report.checked.items()))
    console.print(f"checked {checked or 'nothing'}: {report.total_findings:,} findings")
    summary = Table(title="Findings by rule")
    for column in ("object", "field", "severity", "count"):
        summary.add_column(column, justify="right" if column == "count" else "left")
    for (object_type, field, severity), n in sorted(report.by_rule().items()):
        summary.add_row(object_type, field, str(severity), f"{n:,}")
    console.print(summary)
    for finding in report.findings[:show]:
        console.print(
            f"{finding.severity}: {finding.object_type} {finding.object_id} "
            f"{finding.field}: {finding.reason}"
        )


def _as_dict(report: QualityReport, show: int) -> dict[str, object]:
    return {
        "checked": dict(report.checked),
        "total_findings": report.total_findings,
        "by_rule": [
            {"object": o, "field": f, "severity": str(s), "count": n}
            for (o, f, s), n in sorted(report.by_rule().items())
        ],
        "findings": [
            {
                "object": f.object_type,
                "id": f.object_id,
                "field": f.field,
                "reason": f.reason,
                "severity": str(f.severity),
            }
            for f in report.findings[:show]
        ],
    }


def _write_csv(report: QualityReport, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["object", "id", "field", "reason", "severity"])
        for f in report.findings:
            writer.writerow([f.object_type, f.object_id, f.field, f.reason, str(f.severity)])
