"""Setting a fresh Tryton database up as a hospital's ERP, over the JSON-RPC API only.

What the sandbox (``sandbox.py``) and the integration tests need, and what an implementer does
once by hand in a real Tryton: a company in US dollars, the universal chart of accounts, fiscal
years with move and invoice sequences, a payment term, the GL accounts Suture's journals post to
(``GL-5100`` … of :class:`~suture.domain.costing.CostingAccounts`, copied from the chart's
expense, inventory and payable accounts), a product category carrying the expense account, and
the cost centers as analytic accounts under one root. Every step looks first, so running it
again changes nothing. Raw RPC runs no on-change logic: every value the client would fill in is
set here explicitly (Tryton's notes in docs/erp.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from suture.adapters.erp.tryton_rpc import TrytonRpc
from suture.services.erp import ErpRefusedError

COMPANY_NAME = "Suture General Hospital"
CATEGORY_NAME = "Medical supplies and implants"
PAYMENT_TERM = "Net 30"
ANALYTIC_ROOT = "Cost centers"

#: Suture's GL accounts (domain/costing.py) and the chart account kind each is copied from.
GL_ACCOUNTS = (
    ("GL-5100", "Supplies expense", "expense"),
    ("GL-5110", "Implant expense", "expense"),
    ("GL-1400", "Supplies inventory", "stock"),
    ("GL-1410", "Implant inventory", "stock"),
    ("GL-2100", "Accrued receipts", "payable_other"),
)
#: The sandbox's cost centers (analytic accounts); Suture's cost-center ids map to their codes.
COST_CENTERS = (
    ("CC-7010", "Surgery"),
    ("CC-7020", "Cardiac catheterization"),
    ("CC-7030", "Orthopedics"),
    ("CC-6010", "Central supply"),
)


def one(rpc: TrytonRpc, model: str, domain: list[Any]) -> int | None:
    found = rpc.call(f"model.{model}.search", domain, 0, 1, None)
    return int(found[0]) if found else None


def create(rpc: TrytonRpc, model: str, values: dict[str, Any]) -> int:
    return int(rpc.call(f"model.{model}.create", [values])[0])


def xml_id(rpc: TrytonRpc, module: str, name: str) -> int:
    return int(rpc.call("model.ir.model.data.get_id", module, name))


def set_up_hospital(rpc: TrytonRpc, *, years: Iterable[int] | None = None) -> int:
    """Company, chart, fiscal years, payment term, GL accounts, category, cost centers; the
    company's id. ``years`` default to last, this and next year (today's date from Tryton)."""
    rpc.login()
    company = _company(rpc)
    _chart(rpc, company)
    today = rpc.call("model.ir.date.today")
    for year in years or (today.year - 1, today.year, today.year + 1):
        _fiscal_year(rpc, company, year)
    _payment_term(rpc)
    _gl_accounts(rpc, company)
    _category(rpc)
    for code, name in COST_CENTERS:
        ensure_cost_center(rpc, code, name)
    return company


def _company(rpc: TrytonRpc) -> int:
    company = one(rpc, "company.company", [])
    if company is None:
        usd = one(rpc, "currency.currency", [("code", "=", "USD")]) or create(
            rpc, "currency.currency",
            {"name": "U.S. Dollar", "code": "USD", "symbol": "$", "rounding": Decimal("0.01"),
             "digits": 2},
        )  # fmt: skip
        party = create(rpc, "party.party", {"name": COMPANY_NAME})
        company = create(rpc, "company.company", {"party": party, "currency": usd})
    user = rpc.call("model.res.user.search", [("login", "=", "admin")], 0, 1, None)
    rpc.call("model.res.user.write", user, {"companies": [["add", [company]]], "company": company})
    rpc.refresh_context()
    return company


def _chart(rpc: TrytonRpc, company: int) -> None:
    if one(rpc, "account.account", [("company", "=", company)]) is not None:
        return
    template = xml_id(rpc, "account", "account_template_root_en")
    session, _, _ = rpc.call("wizard.account.create_chart.create")
    try:
        rpc.call("wizard.account.create_chart.execute", session, {}, "account")
        rpc.call(
            "wizard.account.create_chart.execute", session,
            {"account": {"company": company, "account_template": template}}, "create_account",
        )  # fmt: skip
        receivable = one(
            rpc, "account.account",
            [("type.receivable", "=", True), ("party_required", "=", True),
             ("company", "=", company)],
        )  # fmt: skip
        payable = one(
            rpc, "account.account",
            [("type.payable", "=", True), ("party_required", "=", True),
             ("company", "=", company)],
        )  # fmt: skip
        rpc.call(
            "wizard.account.create_chart.execute", session,
            {"properties": {"company": company, "account_receivable": receivable,
                            "account_payable": payable}},
            "create_properties",
        )  # fmt: skip
    finally:
        rpc.call("wizard.account.create_chart.delete", session)


def _fiscal_year(rpc: TrytonRpc, company: int, year: int) -> None:
    if one(rpc, "account.fiscalyear", [("name", "=", str(year))]) is not None:
        return
    move_type = xml_id(rpc, "account", "sequence_type_account_move")
    invoice_type = xml_id(rpc, "account_invoice", "sequence_type_account_invoice")

    def sequence(name: str, kind: int) -> int:
        values = {"name": f"{name} {year}", "sequence_type": kind, "company": company}
        return create(rpc, "ir.sequence.strict", values)

    moves = sequence("Moves", move_type)
    supplier = sequence("Supplier invoices", invoice_type)
    customer = sequence("Customer invoices", invoice_type)
    fiscal_year = create(
        rpc, "account.fiscalyear",
        {"name": str(year), "start_date": date(year, 1, 1), "end_date": date(year, 12, 31),
         "company": company, "move_sequence": moves,
         "invoice_sequences": [["create", [{
             "company": company, "in_invoice_sequence": supplier,
             "in_credit_note_sequence": supplier, "out_invoice_sequence": customer,
             "out_credit_note_sequence": customer,
         }]]]},
    )  # fmt: skip
    rpc.call("model.account.fiscalyear.create_period", [fiscal_year])


def _payment_term(rpc: TrytonRpc) -> int:
    term = one(rpc, "account.invoice.payment_term", [("name", "=", PAYMENT_TERM)])
    if term is not None:
        return term
    return create(
        rpc, "account.invoice.payment_term",
        {"name": PAYMENT_TERM, "lines": [["create", [{
            "type": "remainder", "relativedeltas": [["create", [{"days": 30}]]],
        }]]]},
    )  # fmt: skip


def _gl_accounts(rpc: TrytonRpc, company: int) -> None:
    kinds = {
        "expense": [("type.expense", "=", True)],
        "stock": [("type.stock", "=", True)],
        "payable_other": [("type.payable", "=", True), ("party_required", "=", False)],
    }
    for code, name, kind in GL_ACCOUNTS:
        if one(rpc, "account.account", [("code", "=", code)]) is not None:
            continue
        model = one(
            rpc, "account.account",
            [*kinds[kind], ("company", "=", company), ("closed", "!=", True),
             ("childs", "=", None)],
        )  # fmt: skip
        if model is None:  # the chart has no such leaf: any leaf of a liability or asset
            leaves = [("company", "=", company), ("type", "!=", None), ("childs", "=", None)]
            model = one(rpc, "account.account", leaves)
        rpc.call("model.account.account.copy", [model], {"code": code, "name": name})


def account_id(rpc: TrytonRpc, code: str) -> int | None:
    return one(rpc, "account.account", [("code", "=", code)])


def _category(rpc: TrytonRpc) -> int:
    category = one(rpc, "product.category", [("name", "=", CATEGORY_NAME)])
    if category is not None:
        return category
    revenue = one(rpc, "account.account", [("type.revenue", "=", True), ("childs", "=", None)])
    return create(
        rpc, "product.category",
        {"name": CATEGORY_NAME, "accounting": True,
         "account_expense": account_id(rpc, "GL-5110"), "account_revenue": revenue},
    )  # fmt: skip


def ensure_cost_center(rpc: TrytonRpc, code: str, name: str) -> int:
    """The analytic account with ``code`` under the cost-center root, created if missing."""
    found = one(rpc, "analytic_account.account", [("code", "=", code)])
    if found is not None:
        return found
    company = int(rpc.context["company"])
    root = one(rpc, "analytic_account.account", [("name", "=", ANALYTIC_ROOT),
                                                 ("type", "=", "root")])  # fmt: skip
    if root is None:
        root = create(
            rpc,
            "analytic_account.account",
            {"name": ANALYTIC_ROOT, "code": "CC", "type": "root", "company": company},
        )
    return create(
        rpc, "analytic_account.account",
        {"name": name, "code": code, "type": "normal", "root": root, "parent": root,
         "company": company},
    )  # fmt: skip


def ensure_supplier(rpc: TrytonRpc, code: str, name: str) -> int:
    """The party with ``code`` (Suture's supplier id), created if missing (for tests and demos;
    in production the supplier master is the ERP's own)."""
    found = one(rpc, "party.party", [("code", "=", code)])
    if found is not None:
        return found
    return create(
        rpc,
        "party.party",
        {"name": name, "code": code, "addresses": [["create", [{"street": "1 Supply Way"}]]]},
    )


def ensure_product(rpc: TrytonRpc, code: str, name: str, unit_cost: Decimal) -> int:
    """The purchasable goods product with ``code`` (Suture's item id), created if missing."""
    found = one(rpc, "product.product", [("code", "=", code)])
    if found is not None:
        return found
    unit = xml_id(rpc, "product", "uom_unit")
    category = _category(rpc)
    template = create(
        rpc, "product.template",
        {"name": name, "type": "goods", "default_uom": unit, "purchasable": True,
         "purchase_uom": unit, "account_category": category, "code": code,
         "products": [["create", [{"cost_price": unit_cost}]]]},
    )  # fmt: skip
    found = one(rpc, "product.product", [("template", "=", template)])
    if found is None:
        raise ErpRefusedError("item_id", f"Tryton created no variant for product {code!r}")
    return found
