"""What ``suture demo`` prints: its run, as rich tables or as one JSON object (docs/demo.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rich.table import Table

from suture.entrypoints.api.experience.dashboard import Kpis
from suture.entrypoints.cli.app import console
from suture.entrypoints.cli.kpis import kpis_table
from suture.entrypoints.demo_day import DayActivity
from suture.entrypoints.demo_erp import ErpLogin
from suture.entrypoints.demo_erp_check import ErpCheck
from suture.services.demo_report import DemoReport
from suture.services.synthetic.day import HospitalDay


@dataclass(frozen=True, slots=True)
class DemoErp:
    """The ERP the day ran against; for Tryton, what it shows beside what Suture sent."""

    kind: str
    url: str | None = None
    database: str | None = None
    #: given, running or started (``entrypoints/demo_erp.py``).
    how: str | None = None
    check: ErpCheck | None = None

    @classmethod
    def of(cls, login: ErpLogin | None, check: ErpCheck | None) -> DemoErp:
        if login is None:
            return cls("file")
        return cls("tryton", login.url, login.database, login.how, check)


@dataclass(frozen=True, slots=True)
class DemoRun:
    """Everything the demo prints."""

    seed: int
    day: HospitalDay
    activity: DayActivity
    report: DemoReport
    kpis: dict[str, Any]
    kpis_model: Kpis
    scenarios: dict[str, list[str]]
    #: The POs answered with a price increase whose first line is priced (module doc of
    #: ``services/demo_report.py``): each should be held as a price variance.
    priced_increases: list[str]
    database: str
    seconds: float
    erp: DemoErp = DemoErp("file")


def payload(run: DemoRun) -> dict[str, Any]:
    report = run.report
    return {
        "seed": run.seed,
        "database": run.database,
        "seconds": run.seconds,
        "day": {
            "start": run.day.start.isoformat(),
            "legacy_facility_id": run.day.legacy_facility_id,
        },
        "planted": asdict(run.day.planted),
        "activity": {
            key: value for key, value in asdict(run.activity).items() if key != "scenarios"
        },
        "supplier_scenarios": run.scenarios,
        "price_increases_on_priced_lines": run.priced_increases,
        "messages": report.messages,
        "purchase_orders": report.purchase_orders,
        "invoices": {
            "by_status": report.invoices,
            "touchless_rate": run.kpis["po_touchless_rate"],
            "touchless_purchase_orders": run.kpis["po_touchless"],
            "purchase_orders_matched": run.kpis["po_matched"],
        },
        "exceptions": report.exceptions,
        "reconciliation": {
            "outcomes": report.reconciliation,
            "revenue_at_risk": str(report.revenue_at_risk),
        },
        "journals": [
            {
                "cost_center_id": j.cost_center_id,
                "journals": j.journals,
                "debit": str(j.debit),
                "credit": str(j.credit),
                "balanced": j.balanced,
            }
            for j in report.journals
        ],
        "kpis": run.kpis,
        "erp": _erp_payload(run.erp),
    }


def _erp_payload(erp: DemoErp) -> dict[str, Any]:
    found: dict[str, Any] = {"kind": erp.kind}
    if erp.kind == "file":
        return found
    found |= {"url": erp.url, "database": erp.database, "how": erp.how}
    if erp.check is not None:
        found |= {
            "documents": {
                d.operation: {"label": d.label, "queued": d.queued, "delivered": d.delivered,
                              "in_erp": d.in_erp}
                for d in erp.check.documents
            },
            "cost_centers": [
                {"cost_center_id": c.cost_center_id, "sent": str(c.sent),
                 "in_erp": str(c.in_erp), "agrees": c.agrees}
                for c in erp.check.cost_centers
            ],
            "differences": list(erp.check.differences),
        }  # fmt: skip
    return found


def print_tables(run: DemoRun) -> None:
    report, planted, activity = run.report, run.day.planted, run.activity
    console.print(_table(
        f"A hospital day: {planted.procedures} procedures, seed {run.seed}, {run.seconds} s",
        ("what", "count"),
        [("HL7 DFT^P03 over MLLP", activity.hl7_messages),
         ("FHIR Procedure Bundles over HTTP", activity.fhir_bundles),
         ("legacy usage CSV batches", activity.csv_files),
         ("usage lines / charge lines", f"{planted.usage_lines} / {planted.charge_lines}"),
         ("departmental requests (Experience API)", activity.department_requests),
         ("requisitions approved by the supply-chain manager", activity.approvals),
         ("850s answered by the scripted supplier", activity.pos_answered),
         ("855/856/810 documents sent back", activity.supplier_documents),
         ("shipments received at the dock", activity.receipts),
         ("unmatched lines aged into exceptions", activity.aged_lines),
         ("EHR test messages sent to production (answered AE)", activity.stray_test_messages)],
    ))  # fmt: skip
    console.print(_table(
        "Messages by interface and status", ("interface", "status", "messages"),
        [(interface, status, n) for interface, per in report.messages.items()
         for status, n in sorted(per.items())],
    ))  # fmt: skip
    console.print(_table(
        "Purchase orders created", ("origin", "POs"), list(report.purchase_orders.items())
    ))  # fmt: skip
    rate = run.kpis["po_touchless_rate"]
    console.print(_table(
        "Supplier invoices", ("status", "invoices"),
        [*report.invoices.items(),
         ("PO touchless rate", "-" if rate is None else f"{rate:.1%} of "
          f"{run.kpis['po_matched']} POs with a matched invoice")],
    ))  # fmt: skip
    console.print(_table(
        "Exceptions by type", ("type", "status", "items"),
        [(kind, status, n) for kind, per in report.exceptions.items()
         for status, n in sorted(per.items())],
    ))  # fmt: skip
    console.print(_table(
        f"Charge-to-cost reconciliation (revenue at risk {report.revenue_at_risk:,.2f})",
        ("side", "outcome", "lines"),
        [(side, outcome, n) for side, per in sorted(report.reconciliation.items())
         for outcome, n in sorted(per.items())],
    ))  # fmt: skip
    console.print(_table(
        "Cost journals per cost center", ("cost center", "journals", "debit", "credit", "balanced"),
        [(j.cost_center_id, j.journals, f"{j.debit:,.2f}", f"{j.credit:,.2f}",
          "yes" if j.balanced else "NO") for j in report.journals],
    ))  # fmt: skip
    console.print(_planted_table(run))
    console.print(kpis_table(run.kpis_model, "KPIs of the day"))
    if run.erp.check is not None:
        _print_erp(run.erp, run.erp.check)


#: Differences listed one by one; the rest are counted.
_SHOWN_DIFFERENCES = 20


def _print_erp(erp: DemoErp, check: ErpCheck) -> None:
    console.print(_table(
        f"What Tryton shows ({erp.url}, database {erp.database}) beside what Suture sent",
        ("document", "queued by Suture", "delivered", "in Tryton as expected"),
        [(d.label, d.queued, d.delivered, d.in_erp) for d in check.documents],
    ))  # fmt: skip
    console.print(_table(
        "Cost journal lines per cost center: Suture's net debit, Tryton's analytic lines",
        ("cost center", "sent by Suture", "in Tryton", "agree"),
        [(c.cost_center_id, f"{c.sent:,.2f}", f"{c.in_erp:,.2f}", "yes" if c.agrees else "NO")
         for c in check.cost_centers],
    ))  # fmt: skip
    rows = [(text,) for text in check.differences[:_SHOWN_DIFFERENCES]]
    if len(check.differences) > _SHOWN_DIFFERENCES:
        rows.append((f"... and {len(check.differences) - _SHOWN_DIFFERENCES} more",))
    title = f"Differences between Suture and Tryton: {len(check.differences)}"
    console.print(_table(title, ("difference",), rows or [("none",)]))


def _planted_table(run: DemoRun) -> Table:
    planted, found = run.day.planted, run.report
    usage = found.reconciliation.get("usage", {})
    charge = found.reconciliation.get("charge", {})
    rows = [
        ("missed charges (usage without charge)", planted.missed_charge_lines,
         usage.get("usage_without_charge", 0)),
        ("undocumented charges (charge without usage)", planted.undocumented_charges,
         charge.get("charge_without_usage", 0)),
        ("stockouts", planted.stockouts, run.kpis["stockouts"]),
        ("price increases on priced lines / price variances open",
         len(run.priced_increases), found.open_exceptions("price_variance")),
        ("duplicate invoices sent / caught", len(run.scenarios.get("duplicate_invoice", [])),
         found.open_exceptions("duplicate_invoice")),
        ("EHR test messages sent to production / interface incidents",
         run.activity.stray_test_messages, run.kpis["interface_incidents"]),
    ]  # fmt: skip
    return _table("Planted by the day, found by the hub", ("what", "planted", "found"), rows)


def _table(title: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> Table:
    table = Table(title=title)
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*(str(value) for value in row))
    return table
