"""The ERP port: what the workflows send to the ERP and read from it (DESIGN.md §1, §8).

The ERP is the system of record for purchasing, accounts payable, the general ledger and the
supplier master. Suture sends it cost journals (with their cost center), AP vouchers of matched
invoices and purchase orders, and reads back the supplier master and payment status. Two
gateways implement :class:`ErpGateway`: ``adapters/erp/file_gateway.py`` (interface files, the
embedded default) and ``adapters/erp/tryton.py`` (Tryton's JSON-RPC API).

Nothing calls a gateway from inside a handler: the workflows queue an ``erp:*`` delivery in their
own unit of work (``services/deliveries.py``) and :class:`ErpTransport` turns each delivery into
one gateway call, by operation, when the delivery worker sends it. So a slow or absent ERP never
slows ingest, and retries, backoff, the rate budget and the circuit breaker are the worker's.
Every call carries the delivery's idempotency key; a gateway must make a repeat a no-op (the
file gateway replaces its file; Tryton is searched for the key first).

Errors::

    SutureError
    ├── ErpError
    │   ├── ErpRefusedError       the ERP answered "no" (its message kept; field names the part)
    │   │   └── ErpMissingError   it lacks a record the document needs (a supplier, a product,
    │   │                         an account, a cost center, the PO)
    │   ├── ErpUnavailableError   the ERP could not be reached or answered 5xx: try later
    │   └── ErpUnsupportedError   this gateway does not offer the operation
    └── DeliveryError (services/deliveries.py)
        ├── DeliveryRefusedError     what ErpTransport raises for ErpRefusedError, bad payloads
        │   └── DeliveryParkedError  ... for ErpMissingError: parked until the record appears
        └── DeliveryUnavailableError what ErpTransport raises for ErpUnavailableError

Refusal messages are stored and shown to people, so gateways put the ERP's message and the
record's business key (journal id, PO number) in them, never patient identifiers (none reach
the ERP: journals and POs carry cost centers and items, not encounters).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Protocol

from suture.domain.deliveries import Delivery
from suture.domain.errors import DomainError, SutureError
from suture.domain.exceptions import ExceptionType
from suture.domain.ledger import JournalEntry, JournalLine
from suture.eventlog.errors import DependencyKey
from suture.services.deliveries import (
    DeliveryParkedError,
    DeliveryRefusedError,
    DeliveryUnavailableError,
)
from suture.services.redrive import (
    erp_record_dependency,
    erp_supplier_dependency,
    redrive_parked,
)
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows import ap_voucher as voucher_file
from suture.services.workflows import journal_file

#: Delivery operations the ERP transport knows (``Delivery.operation``).
OPERATION_JOURNAL = "journal"
OPERATION_AP_VOUCHER = "ap_voucher"
OPERATION_PURCHASE_ORDER = "purchase_order"
OPERATION_RECEIPT = "receipt"


class ErpError(SutureError):
    """The ERP, or the gateway to it, cannot do what was asked."""


class ErpRefusedError(ErpError):
    """The ERP refused the document (validation, unknown party or account): retrying cannot help.

    ``reason`` keeps the ERP's own message so a person can fix the master data.
    """


class ErpMissingError(ErpRefusedError):
    """The ERP lacks a record the document needs, which may appear later: a supplier it does
    not know (``dependency`` ``erp_supplier:<id>``), a product, GL account or cost center
    (``erp_product:<id>``, :func:`unknown_record`), or the purchase order a receipt or voucher
    is for, not delivered yet (``erp_purchase_order:<number>``). The transport parks the
    delivery on ``dependency``; ``exception_type`` is the business type of its item."""

    def __init__(
        self, field: str, reason: str, *, dependency: DependencyKey, exception_type: ExceptionType
    ) -> None:
        super().__init__(field, reason)
        self.dependency = dependency
        self.exception_type = exception_type


def unknown_supplier(supplier_id: str, reason: str) -> ErpMissingError:
    """The ERP has no supplier ``supplier_id``: documents for it park with a
    ``supplier_not_in_erp`` item until a supplier pull finds it (``erp_suppliers.py``)."""
    return ErpMissingError(
        "supplier_id", reason, dependency=erp_supplier_dependency(supplier_id),
        exception_type=ExceptionType.SUPPLIER_NOT_IN_ERP,
    )  # fmt: skip


class ErpRecord(StrEnum):
    """Master data other than suppliers that the ERP must have before it takes a document."""

    PRODUCT = "product"  # an item on a PO or a receipt
    ACCOUNT = "account"  # a GL account of a journal or voucher
    COST_CENTER = "cost_center"  # a cost center of a journal line or PO line


#: Who adds each record to the ERP: supply chain its products, finance its accounts.
_RECORD_EXCEPTIONS = {
    ErpRecord.PRODUCT: ExceptionType.PRODUCT_NOT_IN_ERP,
    ErpRecord.ACCOUNT: ExceptionType.ACCOUNT_NOT_IN_ERP,
    ErpRecord.COST_CENTER: ExceptionType.ACCOUNT_NOT_IN_ERP,
}

#: The exception types of :data:`_RECORD_EXCEPTIONS`, which the supplier pull re-checks.
RECORD_EXCEPTION_TYPES = (ExceptionType.PRODUCT_NOT_IN_ERP, ExceptionType.ACCOUNT_NOT_IN_ERP)


def unknown_record(kind: ErpRecord, record_id: str, field: str, reason: str) -> ErpMissingError:
    """The ERP has no ``kind`` ``record_id`` (Suture's id): the document parks on
    ``erp_<kind>:<id>`` with a ``product_not_in_erp`` (supply chain) or ``account_not_in_erp``
    (finance) item, until a pull finds the record (``ErpGateway.known_records``) or a person
    retries it after a mapping fix."""
    return ErpMissingError(
        field, reason, dependency=erp_record_dependency(kind.value, record_id),
        exception_type=_RECORD_EXCEPTIONS[kind],
    )  # fmt: skip


def record_of(dependency: str) -> tuple[ErpRecord, str] | None:
    """The record an ``erp_<kind>:<id>`` dependency names, or None for any other key."""
    kind, _, record_id = dependency.partition(":")
    try:
        return ErpRecord(kind.removeprefix("erp_")), record_id
    except ValueError:
        return None


def erp_purchase_dependency(po_number: str) -> DependencyKey:
    """What a receipt or voucher parks on while the ERP has not got its purchase order yet;
    the PO's delivery re-drives it (:func:`redrive_after_order`)."""
    return DependencyKey("erp_purchase_order", po_number)


def unknown_purchase(po_number: str, field: str, reason: str) -> ErpMissingError:
    """The ERP has no purchase for ``po_number`` (its PO delivery is parked or still queued)."""
    return ErpMissingError(
        field, reason, dependency=erp_purchase_dependency(po_number),
        exception_type=ExceptionType.PARKED_DEPENDENCY,
    )  # fmt: skip


def redrive_after_order(uow: UnitOfWork, delivery: Delivery, at: datetime) -> None:
    """The delivery worker's ``on_delivered`` hook of ``purchase_order``: the ERP has the PO
    now, so receipts and vouchers parked waiting for it are due again. The PO number is the
    delivery's correlation id (``order_dispatch.py``), else its key without ``po-``."""
    number = delivery.correlation_id or delivery.idempotency_key.removeprefix("po-")
    redrive_parked(uow, erp_purchase_dependency(number), at)


class ErpUnavailableError(ErpError):
    """The ERP could not be reached, timed out or failed on its side: retry later."""


class ErpUnsupportedError(ErpError):
    """The gateway does not offer this operation (a file interface cannot be read back)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ApVoucherLine:
    """One line of an AP voucher: an invoice line, the freight or the tax."""

    line: int
    kind: str  # line | freight | tax
    amount: Decimal
    po_line_number: int | None = None
    item_id: str | None = None
    quantity: Decimal | None = None
    uom: str | None = None
    unit_price: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ApVoucher:
    """A matched supplier invoice approved for payment (``services/workflows/ap_voucher.py``)."""

    voucher_id: str
    invoice_id: str
    invoice_number: str
    supplier_id: str
    facility_id: str
    invoice_date: date
    purchase_order_number: str | None
    lines: tuple[ApVoucherLine, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


class InvoiceMethod(StrEnum):
    """When the ERP expects the supplier's invoice (Tryton's ``invoice_method``)."""

    ORDER = "order"  # bill-only: the goods were used already, invoice on the order
    FULFILLMENT = "fulfillment"  # replenishment: invoice what is received


@dataclass(frozen=True, slots=True, kw_only=True)
class ErpOrderLine:
    line: int
    item_id: str
    quantity: Decimal
    uom: str
    unit_price: Decimal
    cost_center_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ErpPurchaseOrder:
    """A purchase order as the ERP takes it: created and confirmed in one delivery."""

    number: str
    supplier_id: str
    facility_id: str
    order_date: date
    lines: tuple[ErpOrderLine, ...]
    invoice_method: InvoiceMethod = InvoiceMethod.FULFILLMENT

    @property
    def total(self) -> Decimal:
        return sum((line.quantity * line.unit_price for line in self.lines), Decimal(0))


@dataclass(frozen=True, slots=True, kw_only=True)
class ErpReceiptLine:
    """What the dock received of a PO line, in the PO line's unit (``uom``; "" when unknown,
    in payloads queued before the unit was sent: they were queued in the dock's unit)."""

    line: int
    item_id: str
    quantity: Decimal
    uom: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ErpReceipt:
    """Goods received against a purchase order (the dock's receipt, or a bill-only's use)."""

    receipt_id: str
    purchase_order_number: str
    received_on: date
    lines: tuple[ErpReceiptLine, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ErpSupplier:
    """A supplier as the ERP's master has it (the ERP is authoritative, DESIGN.md §1)."""

    supplier_id: str  # the ERP's code for the party, Suture's supplier id
    name: str
    active: bool = True
    erp_id: str = ""


class PaymentState(StrEnum):
    UNKNOWN = "unknown"  # the ERP has no invoice with that number
    OPEN = "open"  # recorded, not posted
    POSTED = "posted"  # posted to payables, awaiting payment
    PAID = "paid"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentStatus:
    invoice_number: str
    state: PaymentState
    amount_to_pay: Decimal | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


class ErpGateway(Protocol):
    """What Suture asks of the ERP. Every send is idempotent per ``key``; each returns the ERP's
    reference for the record (a file name, a Tryton record id)."""

    def send_journal(self, entry: JournalEntry, *, key: str) -> str: ...

    def send_ap_voucher(self, voucher: ApVoucher, *, key: str) -> str: ...

    def send_purchase_order(self, order: ErpPurchaseOrder, *, key: str) -> str: ...

    def send_receipt(self, receipt: ErpReceipt, *, key: str) -> str: ...

    def suppliers(self) -> list[ErpSupplier]: ...

    def payment_status(self, invoice_number: str, supplier_id: str) -> PaymentStatus: ...

    def known_records(self, kind: ErpRecord, record_ids: Collection[str]) -> set[str]:
        """Which of ``record_ids`` (Suture's ids) the ERP has now."""
        ...


# -- payloads: what the workflows queue, read back for the gateway ----------------------------


def journal_from_csv(text: str) -> JournalEntry:
    """The entry of a journal payload (``journal_file.journal_csv``); one entry per payload."""
    rows = _rows(text, journal_file.HEADER)
    if not rows:
        raise DomainError("payload", "the journal has no lines")
    first = rows[0]
    lines = [
        JournalLine(
            gl_account_id=row["gl_account_id"],
            debit=_decimal(row, "debit"),
            credit=_decimal(row, "credit"),
            cost_center_id=row["cost_center_id"] or None,
            memo=row["memo"],
        )
        for row in rows
    ]
    return JournalEntry(
        id=first["journal_id"],
        facility_id=first["facility_id"],
        posting_date=_date(first, "posting_date"),
        reference=first["reference"],
        lines=lines,
    )


def voucher_from_csv(text: str) -> ApVoucher:
    """The voucher of an AP voucher payload (``ap_voucher.voucher_csv``)."""
    rows = _rows(text, voucher_file.HEADER)
    if not rows:
        raise DomainError("payload", "the voucher has no lines")
    first = rows[0]
    lines = tuple(
        ApVoucherLine(
            line=_int(row, "line") or 0,
            kind=row["kind"],
            amount=_decimal(row, "amount"),
            po_line_number=_int(row, "po_line_number"),
            item_id=row["item_id"] or None,
            quantity=_decimal(row, "quantity") if row["quantity"] else None,
            uom=row["uom"] or None,
            unit_price=_decimal(row, "unit_price") if row["unit_price"] else None,
        )
        for row in rows
    )
    return ApVoucher(
        voucher_id=first["voucher_id"],
        invoice_id=first["invoice_id"],
        invoice_number=first["invoice_number"],
        supplier_id=first["supplier_id"],
        facility_id=first["facility_id"],
        invoice_date=_date(first, "invoice_date"),
        purchase_order_number=first["purchase_order_number"] or None,
        lines=lines,
    )


def purchase_order_json(order: ErpPurchaseOrder) -> str:
    """The payload of an ``erp:*`` ``purchase_order`` delivery: JSON, amounts as strings."""
    return json.dumps(
        {
            "number": order.number,
            "supplier_id": order.supplier_id,
            "facility_id": order.facility_id,
            "order_date": order.order_date.isoformat(),
            "invoice_method": order.invoice_method.value,
            "lines": [
                {
                    "line": line.line,
                    "item_id": line.item_id,
                    "quantity": f"{line.quantity:f}",
                    "uom": line.uom,
                    "unit_price": f"{line.unit_price:f}",
                    "cost_center_id": line.cost_center_id,
                }
                for line in order.lines
            ],
        },
        sort_keys=True,
    )


def purchase_order_from_json(text: str) -> ErpPurchaseOrder:
    """The order of a ``purchase_order`` payload; a missing or bad field names itself."""
    try:
        raw = json.loads(text)
        return ErpPurchaseOrder(
            number=str(raw["number"]),
            supplier_id=str(raw["supplier_id"]),
            facility_id=str(raw["facility_id"]),
            order_date=_date(raw, "order_date"),
            invoice_method=InvoiceMethod(raw.get("invoice_method", "fulfillment")),
            lines=tuple(
                ErpOrderLine(
                    line=int(line["line"]),
                    item_id=str(line["item_id"]),
                    quantity=_decimal(line, "quantity"),
                    uom=str(line["uom"]),
                    unit_price=_decimal(line, "unit_price"),
                    cost_center_id=line.get("cost_center_id"),
                )
                for line in raw["lines"]
            ),
        )
    except KeyError as exc:
        raise DomainError(str(exc.args[0]), "missing from the purchase order payload") from exc
    except (ValueError, TypeError) as exc:
        raise DomainError("payload", f"not a purchase order: {type(exc).__name__}") from exc


def receipt_json(receipt: ErpReceipt) -> str:
    """The payload of an ``erp:*`` ``receipt`` delivery: JSON, quantities as strings."""
    return json.dumps(
        {
            "receipt_id": receipt.receipt_id,
            "purchase_order_number": receipt.purchase_order_number,
            "received_on": receipt.received_on.isoformat(),
            "lines": [
                {
                    "line": line.line,
                    "item_id": line.item_id,
                    "quantity": f"{line.quantity:f}",
                    "uom": line.uom,
                }
                for line in receipt.lines
            ],
        },
        sort_keys=True,
    )


def receipt_from_json(text: str) -> ErpReceipt:
    """The receipt of a ``receipt`` payload; a missing or bad field names itself."""
    try:
        raw = json.loads(text)
        return ErpReceipt(
            receipt_id=str(raw["receipt_id"]),
            purchase_order_number=str(raw["purchase_order_number"]),
            received_on=_date(raw, "received_on"),
            lines=tuple(
                ErpReceiptLine(
                    line=int(line["line"]),
                    item_id=str(line["item_id"]),
                    quantity=_decimal(line, "quantity"),
                    uom=str(line.get("uom") or ""),
                )
                for line in raw.get("lines", ())
            ),
        )
    except KeyError as exc:
        raise DomainError(str(exc.args[0]), "missing from the receipt payload") from exc
    except (ValueError, TypeError) as exc:
        raise DomainError("payload", f"not a receipt: {type(exc).__name__}") from exc


def _rows(text: str, header: tuple[str, ...]) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != header:
        raise DomainError("payload", f"the header is not {','.join(header)}")
    return list(reader)


def _decimal(row: Mapping[str, str | None], name: str) -> Decimal:
    try:
        return Decimal(str(row[name]))
    except InvalidOperation as exc:
        raise DomainError(name, f"{row[name]!r} is not a decimal amount") from exc


def _int(row: Mapping[str, str], name: str) -> int | None:
    if not row[name]:
        return None
    try:
        return int(row[name])
    except ValueError as exc:
        raise DomainError(name, f"{row[name]!r} is not a whole number") from exc


def _date(row: Mapping[str, str], name: str) -> date:
    try:
        return date.fromisoformat(str(row[name]))
    except ValueError as exc:
        raise DomainError(name, f"{row[name]!r} is not an ISO date") from exc


# -- the transport: one gateway call per erp:* delivery ---------------------------------------


class ErpTransport:
    """The delivery transport of ``erp`` targets: decodes the payload, calls the gateway.

    A payload that cannot be read, or an operation the transport does not know, is refused (the
    same bytes can never succeed); the ERP's refusal is refused with its message, except that a
    record the ERP lacks and may get (:class:`ErpMissingError`: a supplier, a product, an
    account or cost center, the PO) parks the
    delivery on it (:class:`DeliveryParkedError`); an ERP that
    cannot be reached is unavailable, so the worker retries with backoff and counts it against
    the target's circuit.
    """

    def __init__(self, gateway: ErpGateway) -> None:
        self._gateway = gateway
        self._operations: dict[str, Callable[[str, str], str]] = {
            OPERATION_JOURNAL: lambda text, key: gateway.send_journal(
                journal_from_csv(text), key=key
            ),
            OPERATION_AP_VOUCHER: lambda text, key: gateway.send_ap_voucher(
                voucher_from_csv(text), key=key
            ),
            OPERATION_PURCHASE_ORDER: lambda text, key: gateway.send_purchase_order(
                purchase_order_from_json(text), key=key
            ),
            OPERATION_RECEIPT: lambda text, key: gateway.send_receipt(
                receipt_from_json(text), key=key
            ),
        }

    def send(self, delivery: Delivery) -> None:
        operation = self._operations.get(delivery.operation)
        if operation is None:
            raise DeliveryRefusedError(
                f"the ERP transport has no operation {delivery.operation!r}", field="operation"
            )
        if delivery.payload is None:
            raise DeliveryRefusedError(f"delivery {delivery.id} has no payload", field="payload")
        try:
            text = delivery.payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DeliveryRefusedError("the payload is not UTF-8", field="payload") from exc
        try:
            operation(text, delivery.idempotency_key)
        except DomainError as exc:
            raise DeliveryRefusedError(
                f"{delivery.operation} payload: {exc.field}: {exc.reason}", field="payload"
            ) from exc
        except ErpMissingError as exc:
            raise DeliveryParkedError(
                exc.reason, dependency=exc.dependency, exception_type=exc.exception_type,
                field=exc.field or "target",
            ) from exc  # fmt: skip
        except (ErpRefusedError, ErpUnsupportedError) as exc:
            raise DeliveryRefusedError(exc.reason, field=exc.field or "target") from exc
        except ErpUnavailableError as exc:
            raise DeliveryUnavailableError(exc.reason, field=exc.field or "target") from exc
