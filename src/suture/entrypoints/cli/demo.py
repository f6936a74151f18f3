"""``suture demo``: the embedded hub with the demo health system, in one command.

Today it seeds the demo profile into the configured database (the SQLite file by default), then
prints what the hub holds per facility, what one implant costs each hospital under its GPO tier,
and the data-quality findings. Later issues extend it to replay a hospital day through the real
connectors (DESIGN.md §4).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Annotated

import typer
from rich.table import Table

from suture.domain.contracts import price_for
from suture.domain.masterdata import Item
from suture.entrypoints.cli.app import console, open_hub
from suture.entrypoints.cli.operations import counts_table
from suture.entrypoints.cli.seed import summary_table
from suture.services.quality_report import QualityReport, run_quality_report
from suture.services.status import count_objects
from suture.services.synthetic import PROFILES, HealthSystemGenerator
from suture.services.synthetic.loader import seed
from suture.services.unit_of_work import UnitOfWork

_CENTS = Decimal("0.01")


def demo_command(
    seed_number: Annotated[
        int, typer.Option("--seed", help="Random seed of the synthetic health system.")
    ] = 42,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Seed the demo health system into SUTURE_DATABASE_URL and show what the hub holds.

    Three synthetic hospitals with OR, cath lab and central supply, about 5,000 items (500
    implants, most on consignment), 40 suppliers, GPO contracts with tiers, par levels and
    crosswalks. Running it again changes nothing: seeding is idempotent.
    """
    hub = open_hub()
    try:
        today = hub.clock()
        summary = seed(hub.uow_factory, HealthSystemGenerator(PROFILES["demo"], seed_number), today,
                       batch_size=hub.batch_size)  # fmt: skip
        counts = count_objects(hub.uow_factory)
        with hub.uow_factory() as uow:
            prices = _implant_prices(uow, today.date())
        quality = run_quality_report(hub.uow_factory)
    finally:
        hub.close()
    if as_json:
        payload = {
            "seeded": dict(summary.counts),
            "objects": {
                name: {(facility or "system"): n for facility, n in per.items()}
                for name, per in counts.counts.items()
            },
            "implant_prices": prices,
            "quality": {"checked": dict(quality.checked), "findings": quality.total_findings},
        }
        console.print_json(json.dumps(payload))
        return
    console.print(summary_table(summary))
    console.print(counts_table(counts))
    console.print(_prices_table(prices))
    console.print(_quality_line(quality))


def _implant_prices(uow: UnitOfWork, on_date: date) -> list[dict[str, str]]:
    """What the first contracted implant costs each hospital per each, under its tier."""
    item = _first_contracted_implant(uow)
    if item is None:
        return []
    contracts = uow.contracts.for_item(item.id)
    rows = []
    for facility in uow.facilities.list(limit=100):
        quote = price_for(contracts, item, facility.id, on_date, item.base_uom)
        rows.append(
            {
                "facility": facility.name,
                "item": f"{item.description} ({item.catalog_number})",
                "contract": quote.contract_number if quote else "off contract",
                "tier": quote.tier if quote else "",
                "price_per_each": str(quote.unit_price.quantize(_CENTS)) if quote else "",
            }
        )
    return rows


def _first_contracted_implant(uow: UnitOfWork) -> Item | None:
    after: str | None = None
    while page := uow.items.list(after=after, limit=500):
        for item in page:
            if item.is_implant and uow.contracts.for_item(item.id):
                return item
        after = page[-1].id
    return None


def _prices_table(rows: list[dict[str, str]]) -> Table:
    title = f"Contract price of {rows[0]['item']}" if rows else "No contracted implant"
    table = Table(title=title)
    for column in ("facility", "contract", "tier", "price per each"):
        table.add_column(column, justify="right" if column.startswith("price") else "left")
    for row in rows:
        table.add_row(row["facility"], row["contract"], row["tier"], row["price_per_each"])
    return table


def _quality_line(report: QualityReport) -> str:
    checked = sum(report.checked.values())
    return f"data quality: {checked:,} records checked, {report.total_findings:,} findings"
