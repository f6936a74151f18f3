"""The Tryton ERP gateway: Suture's ERP documents as Tryton records, over JSON-RPC.

The reference ERP of DESIGN.md §8. What maps to what (docs/erp.md, "Mapping"):

| Suture | Tryton | found by |
| --- | --- | --- |
| cost center id | ``analytic_account.account`` | its ``code`` |
| GL account id (``GL-5110``) | ``account.account`` | its ``code`` |
| item id | ``product.product`` | its ``code`` |
| supplier id | ``party.party`` | its ``code`` |

:class:`TrytonMapping` overrides a code where the ERP's differs from Suture's id (the
implementer's table, from the crosswalks: ``SUTURE_ERP_MAPPING_FILE``, :func:`load_mapping`);
the supplier master read back is in Suture's ids (a mapped party's code is mapped back). A
code Tryton does not know parks the document on it, by Suture's id: a supplier on
``erp_supplier:<id>`` with a ``supplier_not_in_erp`` item until a supplier pull finds it; a
product, GL account or cost center on ``erp_product:<id>``, ``erp_account:<id>``,
``erp_cost_center:<id>`` with a ``product_not_in_erp`` or ``account_not_in_erp`` item until a
pull finds it (:meth:`TrytonErpGateway.known_records`); and a receipt or voucher whose purchase
Tryton has not got yet parks on the PO's delivery.

**Idempotency.** Every document carries the delivery's idempotency key: a cost journal is an
``account.move`` whose description is the key, a purchase a ``purchase.purchase`` whose
description is the key, a receipt a ``stock.shipment.in`` whose reference is the key. Each send
searches for the key first and finishes the record it finds (posts a draft move, confirms a
draft purchase) instead of creating a second one; so a re-delivery after a crash between
Tryton's answer and the worker's record changes nothing.

**Documents.**
- *Cost journal* → a posted ``account.move`` in the miscellaneous journal, in the period of the
  posting date, each line with an analytic line on its cost center.
- *Purchase order* → ``purchase.purchase`` created (party, invoice address, payment term,
  warehouse, lines with product, unit, unit price and cost center), quoted and confirmed
  (``processing``). Bill-only orders use ``invoice_method = order``: Tryton drafts the supplier
  invoice at once.
- *Receipt* → a ``stock.shipment.in`` of what the dock received: per PO line, its pending
  moves up to the received quantity (a move received in part has its quantity written down;
  Tryton adds a move for the rest), received and done. A receipt without lines takes every
  pending move.
- *AP voucher* → the purchase's draft supplier invoice gets the supplier's invoice number and
  date and is posted (expense debited with the analytic line, payables credited).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from suture.adapters.erp.tryton_mapping import TrytonMapping
from suture.adapters.erp.tryton_rpc import TrytonRpc
from suture.domain.ledger import JournalEntry
from suture.services.erp import (
    ApVoucher,
    ErpPurchaseOrder,
    ErpReceipt,
    ErpRecord,
    ErpRefusedError,
    ErpSupplier,
    PaymentState,
    PaymentStatus,
    unknown_purchase,
    unknown_record,
    unknown_supplier,
)

#: The PO line number at the end of a purchase line's description: ``ITEM-1 (PO-7 line 2)``.
_LINE_NUMBER = re.compile(r"\(.+ line (\d+)\)$")

#: What this module offers; :class:`TrytonMapping` lives in ``tryton_mapping.py`` and is kept
#: importable from here, where it was first.
__all__ = ["TrytonErpGateway", "TrytonMapping"]

#: Where each kind of master data is in Tryton: model, the field a refusal names, what it is.
_RECORDS = {
    ErpRecord.PRODUCT: ("product.product", "item_id", "product"),
    ErpRecord.ACCOUNT: ("account.account", "gl_account_id", "account"),
    ErpRecord.COST_CENTER: ("analytic_account.account", "cost_center_id", "cost center"),
}

_PAYMENT_STATES = {
    "draft": PaymentState.OPEN,
    "validated": PaymentState.OPEN,
    "posted": PaymentState.POSTED,
    "paid": PaymentState.PAID,
    "cancelled": PaymentState.CANCELLED,
}


class TrytonErpGateway:
    """:class:`~suture.services.erp.ErpGateway` over a :class:`TrytonRpc` session."""

    def __init__(self, rpc: TrytonRpc, mapping: TrytonMapping | None = None) -> None:
        self._rpc = rpc
        self._map = mapping or TrytonMapping()
        self._ids: dict[tuple[str, str], int] = {}

    def close(self) -> None:
        """Close the HTTP client (the hub does, when it closes)."""
        self._rpc.close()

    # -- lookups ----------------------------------------------------------------------------

    def _search(self, model: str, domain: list[Any], limit: int | None = 1) -> list[int]:
        return [int(i) for i in self._rpc.call(f"model.{model}.search", domain, 0, limit, None)]

    def _read(self, model: str, ids: list[int], fields: list[str]) -> list[dict[str, Any]]:
        return list(self._rpc.call(f"model.{model}.read", ids, fields))

    def _by_code(self, model: str, code: str, field_name: str, what: str) -> int:
        cached = self._ids.get((model, code))
        if cached is not None:
            return cached
        found = self._search(model, [("code", "=", code)])
        if not found:
            raise ErpRefusedError(field_name, f"Tryton has no {what} with code {code!r}")
        self._ids[(model, code)] = found[0]
        return found[0]

    def _record(self, kind: ErpRecord, record_id: str) -> int:
        """The Tryton record of a product, account or cost center by Suture's id; none is
        :func:`unknown_record`: the document parks on it until the ERP has it."""
        model, field_name, what = _RECORDS[kind]
        code = self._codes(kind).get(record_id, record_id)
        try:
            return self._by_code(model, code, field_name, what)
        except ErpRefusedError as exc:
            mapped = f" ({what} {record_id!r} in Suture)" if code != record_id else ""
            raise unknown_record(kind, record_id, field_name, f"{exc.reason}{mapped}") from exc

    def _codes(self, kind: ErpRecord) -> Mapping[str, str]:
        return {
            ErpRecord.PRODUCT: self._map.items,
            ErpRecord.ACCOUNT: self._map.gl_accounts,
            ErpRecord.COST_CENTER: self._map.cost_centers,
        }[kind]

    def _analytic(self, cost_center_id: str) -> tuple[int, int]:
        """The analytic account of a cost center and its root."""
        account = self._record(ErpRecord.COST_CENTER, cost_center_id)
        (row,) = self._read("analytic_account.account", [account], ["root"])
        return account, int(row["root"])

    def _account(self, gl_account_id: str) -> int:
        return self._record(ErpRecord.ACCOUNT, gl_account_id)

    def _product(self, item_id: str) -> int:
        return self._record(ErpRecord.PRODUCT, item_id)

    def known_records(self, kind: ErpRecord, record_ids: Collection[str]) -> set[str]:
        """Which of ``record_ids`` Tryton has now (one search by code, through the mapping)."""
        codes = {self._codes(kind).get(each, each): each for each in record_ids}
        if not codes:
            return set()
        model = _RECORDS[kind][0]
        rows = self._rpc.call(
            f"model.{model}.search_read", [("code", "in", sorted(codes))], 0, None, None, ["code"]
        )
        return {codes[str(row["code"])] for row in rows if str(row["code"]) in codes}

    def _party(self, supplier_id: str) -> int:
        """The supplier's party; none is :func:`unknown_supplier`: the document parks on it."""
        code = self._map.suppliers.get(supplier_id, supplier_id)
        try:
            return self._by_code("party.party", code, "supplier_id", "supplier (party)")
        except ErpRefusedError as exc:
            mapped = f" (supplier {supplier_id!r})" if code != supplier_id else ""
            raise unknown_supplier(supplier_id, f"{exc.reason}{mapped}") from exc

    def _xml_id(self, module: str, name: str) -> int:
        key = ("ir.model.data", f"{module}.{name}")
        if key not in self._ids:
            self._ids[key] = int(self._rpc.call("model.ir.model.data.get_id", module, name))
        return self._ids[key]

    # -- cost journals ----------------------------------------------------------------------

    def send_journal(self, entry: JournalEntry, *, key: str) -> str:
        existing = self._search("account.move", [("description", "=", key)])
        move = existing[0] if existing else self._create_move(entry, key)
        (state,) = self._read("account.move", [move], ["state"])
        if state["state"] == "draft":
            self._rpc.call("model.account.move.post", [move])
        return str(move)

    def _create_move(self, entry: JournalEntry, key: str) -> int:
        period = self._period(entry.posting_date)
        lines = []
        for line in entry.lines:
            values: dict[str, Any] = {
                "account": self._account(line.gl_account_id),
                "debit": line.debit,
                "credit": line.credit,
                "description": line.memo or entry.reference,
            }
            if line.cost_center_id:
                analytic, _ = self._analytic(line.cost_center_id)
                values["analytic_lines"] = [["create", [{
                    "account": analytic, "debit": line.debit, "credit": line.credit,
                    "date": entry.posting_date,
                }]]]  # fmt: skip
            lines.append(values)
        created = self._rpc.call(
            "model.account.move.create",
            [{
                "journal": self._xml_id("account", "journal_miscellaneous"),
                "period": period, "date": entry.posting_date, "description": key,
                "lines": [["create", lines]],
            }],
        )  # fmt: skip
        return int(created[0])

    def _period(self, day: date) -> int:
        found = self._search(
            "account.period",
            [("start_date", "<=", day), ("end_date", ">=", day), ("type", "=", "standard"),
             ("state", "=", "open")],
        )  # fmt: skip
        if not found:
            raise ErpRefusedError("posting_date", f"Tryton has no open period for {day}")
        return found[0]

    # -- purchasing -------------------------------------------------------------------------

    def send_purchase_order(self, order: ErpPurchaseOrder, *, key: str) -> str:
        existing = self._search("purchase.purchase", [("description", "=", key)])
        purchase = existing[0] if existing else self._create_purchase(order, key)
        (row,) = self._read("purchase.purchase", [purchase], ["state"])
        if row["state"] == "draft":
            self._rpc.call("model.purchase.purchase.quote", [purchase])
            row["state"] = "quotation"
        if row["state"] == "quotation":
            self._rpc.call("model.purchase.purchase.confirm", [purchase])
        return str(purchase)

    def _create_purchase(self, order: ErpPurchaseOrder, key: str) -> int:
        party = self._party(order.supplier_id)
        (info,) = self._read("party.party", [party], ["addresses", "supplier_payment_term"])
        if not info["addresses"]:
            raise ErpRefusedError(
                "supplier_id", f"Tryton's party {order.supplier_id!r} has no invoice address"
            )
        term = info.get("supplier_payment_term") or self._payment_term()
        lines = []
        for line in order.lines:
            product = self._product(line.item_id)
            (template,) = self._read("product.product", [product], ["purchase_uom"])
            values: dict[str, Any] = {
                "type": "line", "product": product, "unit": template["purchase_uom"],
                "quantity": float(line.quantity), "unit_price": line.unit_price,
                "description": f"{line.item_id} ({order.number} line {line.line})",
            }  # fmt: skip
            if line.cost_center_id:
                analytic, root = self._analytic(line.cost_center_id)
                values["analytic_accounts"] = [["create", [{"root": root, "account": analytic}]]]
            lines.append(values)
        created = self._rpc.call(
            "model.purchase.purchase.create",
            [{
                "party": party, "invoice_address": info["addresses"][0], "payment_term": term,
                "invoice_method": order.invoice_method.value, "purchase_date": order.order_date,
                "warehouse": self._xml_id("stock", "location_warehouse"),
                "reference": order.number, "description": key, "lines": [["create", lines]],
            }],
        )  # fmt: skip
        return int(created[0])

    def _payment_term(self) -> int:
        found = self._search(
            "account.invoice.payment_term", [("name", "=", self._map.payment_term)]
        )
        if not found:
            raise ErpRefusedError(
                "payment_term", f"Tryton has no payment term {self._map.payment_term!r}"
            )
        return found[0]

    def _purchase(self, number: str | None, field_name: str) -> int:
        """The purchase of PO ``number``; none yet parks the document until the PO's delivery
        is done (:func:`unknown_purchase`)."""
        if not number:
            raise ErpRefusedError(field_name, "no purchase order number to find in Tryton")
        found = self._search("purchase.purchase", [("reference", "=", number)])
        if not found:
            raise unknown_purchase(
                number, field_name, f"Tryton has no purchase for order {number!r} (not sent yet)"
            )
        return found[0]

    def send_receipt(self, receipt: ErpReceipt, *, key: str) -> str:
        existing = self._search("stock.shipment.in", [("reference", "=", key)])
        if existing:
            shipment = existing[0]
        else:
            purchase = self._purchase(receipt.purchase_order_number, "purchase_order_number")
            (row,) = self._read("purchase.purchase", [purchase], ["moves", "party", "warehouse"])
            pending = self._rpc.call(
                "model.stock.move.search_read",
                [("id", "in", row["moves"]), ("state", "=", "draft"), ("shipment", "=", None)],
                0, None, [("id", "ASC")], ["origin", "quantity", "product"],
            )  # fmt: skip
            if not pending:
                raise ErpRefusedError(
                    "purchase_order_number",
                    f"purchase {receipt.purchase_order_number!r} has nothing left to receive",
                )
            moves = self._received_moves(receipt, purchase, pending)
            (warehouse,) = self._read(
                "stock.location", [row["warehouse"]], ["input_location", "storage_location"]
            )
            shipment = int(self._rpc.call(
                "model.stock.shipment.in.create",
                [{
                    "supplier": row["party"], "warehouse": row["warehouse"],
                    "warehouse_input": warehouse["input_location"],
                    "warehouse_storage": warehouse["storage_location"],
                    "reference": key, "effective_date": receipt.received_on,
                    "incoming_moves": moves,
                }],
            )[0])  # fmt: skip
        (state,) = self._read("stock.shipment.in", [shipment], ["state"])
        if state["state"] == "draft":
            self._rpc.call("model.stock.shipment.in.receive", [shipment])
            state["state"] = "received"
        if state["state"] == "received":
            self._rpc.call("model.stock.shipment.in.do", [shipment])
        return str(shipment)

    def _received_moves(
        self, receipt: ErpReceipt, purchase: int, pending: list[dict[str, Any]]
    ) -> list[list[Any]]:
        """The shipment's ``incoming_moves`` actions for what the dock received.

        A receipt without lines takes every pending move (a bill-only: all of it was used).
        Otherwise each PO line's received quantity (the receipt's lines summed, in the PO
        line's unit) is taken from the line's pending moves, oldest first; a move received in
        part has its quantity written down in the same call, and Tryton's purchase process
        adds a move for the rest when the shipment is done. More than is pending is received
        on the last move (an over-receipt, as the dock counted it). A PO line with nothing
        pending is a refusal naming it: nothing of the receipt is taken.
        """
        if not receipt.lines:
            return [["add", [int(move["id"]) for move in pending]]]
        wanted: dict[int, Decimal] = {}
        items: dict[int, str] = {}
        for line in receipt.lines:
            wanted[line.line] = wanted.get(line.line, Decimal(0)) + line.quantity
            items[line.line] = line.item_id
        by_line = self._purchase_lines(purchase, items)
        add: list[int] = []
        write: list[Any] = []
        for number, quantity in sorted(wanted.items()):
            origin = f"purchase.line,{by_line[number]}"
            moves = [move for move in pending if move["origin"] == origin]
            if not moves:
                raise ErpRefusedError(
                    "lines", f"purchase {receipt.purchase_order_number!r} line {number} has "
                    "nothing left to receive in Tryton",
                )  # fmt: skip
            left = quantity
            for index, move in enumerate(moves):
                last = index == len(moves) - 1
                planned = Decimal(str(move["quantity"]))
                add.append(int(move["id"]))
                if left < planned or (last and left > planned):
                    write += [[int(move["id"])], {"quantity": float(left)}]
                left -= planned
                if left <= 0:
                    break
        actions: list[list[Any]] = [["add", add]]
        if write:
            actions.append(["write", *write])
        return actions

    def _purchase_lines(self, purchase: int, items: Mapping[int, str]) -> dict[int, int]:
        """PO line number → Tryton purchase line: by the line's description (``… (<PO> line
        <n>)``, as :meth:`_create_purchase` writes it), else the first line of the item."""
        rows = self._rpc.call(
            "model.purchase.line.search_read", [("purchase", "=", purchase)], 0, None,
            [("id", "ASC")], ["description", "product"],
        )  # fmt: skip
        found: dict[int, int] = {}
        for row in rows:
            match = _LINE_NUMBER.search(str(row.get("description") or ""))
            if match is not None:
                found.setdefault(int(match.group(1)), int(row["id"]))
        for number, item_id in items.items():
            if number in found:
                continue
            product = self._product(item_id)
            same = [int(row["id"]) for row in rows if row["product"] == product]
            if not same:
                raise ErpRefusedError(
                    "lines", f"Tryton's purchase has no line {number} (item {item_id!r})"
                )
            found[number] = same[0]
        return found

    # -- accounts payable -------------------------------------------------------------------

    def send_ap_voucher(self, voucher: ApVoucher, *, key: str) -> str:
        party = self._party(voucher.supplier_id)
        posted = self._search(
            "account.invoice",
            [("type", "=", "in"), ("party", "=", party), ("reference", "=", voucher.invoice_number),
             ("state", "in", ["posted", "paid"])],
        )  # fmt: skip
        if posted:
            return str(posted[0])
        purchase = self._purchase(voucher.purchase_order_number, "purchase_order_number")
        (row,) = self._read("purchase.purchase", [purchase], ["invoices"])
        drafts = self._search(
            "account.invoice", [("id", "in", row["invoices"]), ("state", "=", "draft")]
        )
        if not drafts:
            raise ErpRefusedError(
                "purchase_order_number",
                f"Tryton has no draft supplier invoice on order {voucher.purchase_order_number!r}"
                " (not received yet?)",
            )
        invoice = drafts[0]
        self._rpc.call(
            "model.account.invoice.write", [invoice],
            {"invoice_date": voucher.invoice_date, "reference": voucher.invoice_number,
             "description": key},
        )  # fmt: skip
        self._rpc.call("model.account.invoice.post", [invoice])
        return str(invoice)

    # -- reads ------------------------------------------------------------------------------

    def suppliers(self) -> list[ErpSupplier]:
        companies = self._rpc.call(
            "model.company.company.search_read", [], 0, None, None, ["party"]
        )
        own = [int(row["party"]) for row in companies]  # the hospital is not its own supplier
        rows = self._rpc.call(
            "model.party.party.search_read",
            [("code", "!=", None), ("id", "not in", own)], 0, None, [("code", "ASC")],
            ["code", "name", "active"],
        )  # fmt: skip
        suture_ids = {code: supplier for supplier, code in self._map.suppliers.items()}
        return [
            ErpSupplier(
                supplier_id=suture_ids.get(str(row["code"]), str(row["code"])),
                name=str(row["name"]), active=bool(row.get("active", True)),
                erp_id=str(row["id"]),
            )
            for row in rows
        ]  # fmt: skip

    def payment_status(self, invoice_number: str, supplier_id: str) -> PaymentStatus:
        party = self._party(supplier_id)
        rows = self._rpc.call(
            "model.account.invoice.search_read",
            [("type", "=", "in"), ("party", "=", party), ("reference", "=", invoice_number)],
            0, 1, None, ["state", "amount_to_pay"],
        )  # fmt: skip
        if not rows:
            return PaymentStatus(invoice_number=invoice_number, state=PaymentState.UNKNOWN)
        amount = rows[0].get("amount_to_pay")
        return PaymentStatus(
            invoice_number=invoice_number,
            state=_PAYMENT_STATES.get(str(rows[0]["state"]), PaymentState.UNKNOWN),
            amount_to_pay=amount if isinstance(amount, Decimal) else None,
        )
