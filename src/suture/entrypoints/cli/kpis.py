"""``suture kpis [--from DATE] [--to DATE] [--facility F] [--json]``: the KPIs of DESIGN.md §7.

For the CFO's questions and the integration manager's: invoice cycle time, PO touchless rate,
supply stockout frequency, charge-to-cost reconciliation lag and revenue at risk, interface
failure recovery time, the governed share and contract price variance, over a period (default:
the last 30 days, UTC) for one facility or all. A figure with nothing to measure prints ``-``
(``null`` in JSON), never zero. Definitions: docs/observability.md, "KPIs".
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

import typer
from rich.table import Table

from suture.domain.errors import DomainError, SutureError
from suture.entrypoints.api.experience.dashboard import Duration, Kpis, kpi_days, kpis_model
from suture.entrypoints.cli.app import console, errors, open_hub


def kpis_command(
    since: Annotated[
        datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First day (UTC); default 30 days ago."),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Last day, included; default today (UTC)."),
    ] = None,
    facility: Annotated[
        str | None,
        typer.Option("--facility", help="One facility (its id); default: every facility."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Print the KPIs of a period (DESIGN.md §7)."""
    hub = open_hub()
    try:
        first, last = _days(since, until, hub.clock().date())
        start = datetime.combine(first, time(), tzinfo=UTC)
        end = datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC)
        report = hub.kpis.report(start, end, facility_id=facility)
    except SutureError as error:
        errors.print(f"{error.field}: {error.reason}", markup=False)
        raise typer.Exit(2) from None
    finally:
        hub.close()
    model = kpis_model(report)
    if as_json:
        console.print_json(model.model_dump_json())
        return
    scope = facility or "every facility"
    console.print(kpis_table(model, f"KPIs {first} to {last}, {scope}"))


def _days(since: datetime | None, until: datetime | None, today: date) -> tuple[date, date]:
    """The period's first and last days, or exit 2 naming the option that is wrong."""
    try:
        first, last = kpi_days(since and since.date(), until and until.date(), today)
    except DomainError as error:
        errors.print(f"--{error.field} {error.reason}", markup=False)
        raise typer.Exit(2) from None
    if first > last:
        errors.print(f"--from {first} is after --to {last}", markup=False)
        raise typer.Exit(2)
    return first, last


def kpis_table(model: Kpis, title: str) -> Table:
    """The KPIs as a rich table (``suture kpis`` and ``suture demo``)."""
    table = Table(title=title)
    table.add_column("KPI")
    table.add_column("value", justify="right")
    table.add_column("over")
    rows = [
        # The mean too: most invoices match on arrival (0 h), so the median hides the ones
        # that waited for their goods.
        ("invoice cycle time (median / p90 / mean)",
         f"{_hours(model.invoice_cycle_time)} / {_hours(model.invoice_cycle_time, mean=True)}",
         f"{model.invoice_cycle_time.count} invoices"),
        ("PO touchless rate", _share(model.po_touchless_rate),
         f"{model.po_touchless} of {model.po_matched} POs"),
        ("stockouts per 1,000 usages", _number(model.stockouts_per_1000_usages),
         f"{model.stockouts} of {model.usages} usages"),
        ("reconciliation lag (median / p90)", _hours(model.reconciliation_lag),
         f"{model.reconciliation_lag.count} matched"),
        ("unmatched lines by age", json.dumps(model.unmatched_aging), ""),
        ("revenue at risk", f"{model.revenue_at_risk:,.2f}",
         "usage without charge" + _unpriced(model.revenue_at_risk_unpriced)),
        ("interface failure recovery (mean)", _hours(model.interface_recovery, mean=True),
         f"{model.interface_incidents} incidents, {model.interface_open_incidents} open"),
        ("governed integrations", _share(model.governed_share), "of the inventory"),
        ("contract price variance", f"{model.contract_price_variance:,.2f}",
         "over PO price and off contract"),
    ]  # fmt: skip
    for name, value, over in rows:
        table.add_row(name, value, over)
    return table


def _hours(found: Duration, *, mean: bool = False) -> str:
    if mean:
        return "-" if found.mean_hours is None else f"{found.mean_hours:.2f} h"
    if found.median_hours is None or found.p90_hours is None:
        return "-"
    return f"{found.median_hours:.2f} h / {found.p90_hours:.2f} h"


def _unpriced(lines: int) -> str:
    return f"; {lines:,} lines without a CDM price not in it" if lines else ""


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
