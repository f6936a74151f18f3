"""Public shapes of the canonical records (``<Resource>Public``, STYLE.md naming).

Read from the domain objects by attribute (``from_attributes``), so a route returns what the
repository loaded without hand copying. Money and quantities are decimals serialized as JSON
strings ("1234.5678"): never floats for money (STYLE.md habit 15). Patient context appears only
as tokens (``encounter_token``, ``account_token``, DESIGN.md §6); the original identifiers stay
in raw messages.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class PublicModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


T = TypeVar("T", bound=PublicModel)


class Page(BaseModel, Generic[T]):
    """One page of a list, in id order; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[T]
    next_cursor: str | None = Field(description="Absent on the last page.")


# --- master data ------------------------------------------------------------------------------


class FacilityPublic(PublicModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "fac-1",
                    "code": "STM",
                    "name": "St Mary's Hospital",
                    "gln": "0614141000104",
                    "timezone": "America/Chicago",
                    "source_system": "erp",
                }
            ]
        },
    )

    id: str
    code: str
    name: str
    gln: str | None
    timezone: str
    source_system: str


class CostCenterPublic(PublicModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "cc-1-or",
                    "facility_id": "fac-1",
                    "code": "6100",
                    "name": "Surgical Services",
                    "source_system": "erp",
                }
            ]
        },
    )

    id: str
    facility_id: str
    code: str
    name: str
    source_system: str


class DepartmentPublic(PublicModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "dep-1-or",
                    "facility_id": "fac-1",
                    "code": "OR",
                    "name": "Operating Room",
                    "cost_center_id": "cc-1-or",
                    "source_system": "erp",
                }
            ]
        },
    )

    id: str
    facility_id: str
    code: str
    name: str
    cost_center_id: str
    source_system: str


class LocationPublic(PublicModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "loc-1-or-core",
                    "facility_id": "fac-1",
                    "code": "OR-CORE",
                    "name": "OR core",
                    "kind": "operating_room",
                    "department_id": "dep-1-or",
                    "source_system": "materials",
                }
            ]
        },
    )

    id: str
    facility_id: str
    code: str
    name: str
    kind: str = Field(description="operating_room, cath_lab, central_supply, pharmacy, ...")
    department_id: str | None
    source_system: str


class AddressPublic(PublicModel):
    city: str
    state: str
    postal_code: str
    country: str


class SupplierPublic(PublicModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "SUP-0001",
                    "name": "Acme Orthopedics",
                    "erp_vendor_id": "V1002",
                    "gln": "0614141000005",
                    "hin": None,
                    "remit_to": {
                        "city": "Warsaw",
                        "state": "IN",
                        "postal_code": "46580",
                        "country": "US",
                    },
                    "payment_terms": "NET30",
                    "active": True,
                    "source_system": "erp",
                }
            ]
        },
    )

    id: str
    name: str
    erp_vendor_id: str | None
    gln: str | None
    hin: str | None
    remit_to: AddressPublic | None
    payment_terms: str
    active: bool
    source_system: str


class PackagingLevelPublic(PublicModel):
    uom: str
    each_per_unit: int = Field(description="Base units (each) one unit of this level holds.")
    gtin: str | None = Field(description="The level's own GTIN, in GTIN-14 form.")


class PackagingPublic(PublicModel):
    levels: list[PackagingLevelPublic]


class ItemPublic(PublicModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "ITM-3F2A9C",
                    "description": "Knee femoral component, size 5",
                    "manufacturer": "Acme Orthopedics",
                    "catalog_number": "KF-5",
                    "packaging": {
                        "levels": [{"uom": "EA", "each_per_unit": 1, "gtin": "00614141000012"}]
                    },
                    "purchase_uom": "EA",
                    "supplier_id": "SUP-0001",
                    "hibc": None,
                    "unspsc": "42295100",
                    "is_implant": True,
                    "is_consignment": True,
                    "is_chargeable": True,
                    "cdm_code": "27800123",
                    "hcpcs": "C1776",
                    "revenue_code": "0278",
                    "list_price": "4200.0000",
                    "active": True,
                    "source_system": "materials",
                }
            ]
        },
    )

    id: str
    description: str
    manufacturer: str
    catalog_number: str
    packaging: PackagingPublic
    purchase_uom: str
    supplier_id: str | None
    hibc: str | None
    unspsc: str | None
    is_implant: bool
    is_consignment: bool
    is_chargeable: bool
    cdm_code: str | None = Field(description="The charge code the item bills under, if any.")
    hcpcs: str | None
    revenue_code: str | None
    list_price: Decimal | None
    active: bool
    source_system: str


class ContractMembershipPublic(PublicModel):
    facility_id: str
    tier: str
    effective_from: date
    effective_to: date | None


class ContractPricePublic(PublicModel):
    item_id: str
    tier: str
    uom: str
    unit_price: Decimal
    effective_from: date | None
    effective_to: date | None


class ContractPublic(PublicModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "CON-1",
                    "number": "GPO-2026-ORTHO",
                    "supplier_id": "SUP-0001",
                    "name": "Orthopedic implants 2026",
                    "effective_from": "2026-01-01",
                    "effective_to": "2026-12-31",
                    "gpo": "Vizient",
                    "memberships": [
                        {
                            "facility_id": "fac-1",
                            "tier": "T1",
                            "effective_from": "2026-01-01",
                            "effective_to": None,
                        }
                    ],
                    "prices": [
                        {
                            "item_id": "ITM-3F2A9C",
                            "tier": "T1",
                            "uom": "EA",
                            "unit_price": "3850.0000",
                            "effective_from": None,
                            "effective_to": None,
                        }
                    ],
                    "source_system": "materials",
                }
            ]
        },
    )

    id: str
    number: str
    supplier_id: str
    name: str
    effective_from: date
    effective_to: date | None
    gpo: str | None
    memberships: list[ContractMembershipPublic]
    prices: list[ContractPricePublic]
    source_system: str


# --- purchasing and payables ------------------------------------------------------------------


class RequisitionLinePublic(PublicModel):
    line_number: int
    item_id: str
    quantity: Decimal
    uom: str


class RequisitionPublic(PublicModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "REQ-1",
                    "number": "REQ-1",
                    "facility_id": "fac-1",
                    "department_id": "dep-1-or",
                    "location_id": "loc-1-or-core",
                    "requested_at": "2026-11-20T14:05:00Z",
                    "status": "approved",
                    "lines": [
                        {"line_number": 1, "item_id": "ITM-77B1", "quantity": "4", "uom": "BX"}
                    ],
                    "source_system": "suture",
                }
            ]
        },
    )

    id: str
    number: str
    facility_id: str
    department_id: str | None
    location_id: str | None
    requested_at: datetime
    status: str = Field(description="draft, pending_approval, approved, rejected, ordered.")
    lines: list[RequisitionLinePublic]
    source_system: str


class PurchaseOrderLinePublic(PublicModel):
    line_number: int
    item_id: str
    quantity: Decimal
    uom: str
    unit_price: Decimal
    contract_id: str | None
    off_contract: bool = Field(
        default=False, description="Priced without a contract price; flagged before it was sent."
    )
    acknowledgment: str | None = Field(
        default=None,
        description="The supplier's 855 answer: accepted, backordered, rejected, price_changed, "
        "quantity_changed, changed, on_hold; null until acknowledged.",
    )
    acknowledged_quantity: Decimal | None = None
    acknowledged_unit_price: Decimal | None = None
    expected_date: date | None = Field(default=None, description="A back-order's ship date.")
    received_quantity: Decimal = Field(default=Decimal(0), description="Received at the dock.")


class PurchaseOrderPublic(PublicModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "po-1",
                    "number": "PO-1001",
                    "facility_id": "fac-1",
                    "supplier_id": "SUP-0001",
                    "order_date": "2026-11-20",
                    "kind": "replenishment",
                    "status": "acknowledged",
                    "requisition_id": "REQ-1",
                    "department_id": "dep-1-or",
                    "lines": [
                        {
                            "line_number": 1,
                            "item_id": "ITM-77B1",
                            "quantity": "4",
                            "uom": "BX",
                            "unit_price": "42.5000",
                            "contract_id": "CON-1",
                            "off_contract": False,
                            "acknowledgment": "accepted",
                            "acknowledged_quantity": "4",
                            "acknowledged_unit_price": None,
                            "expected_date": None,
                            "received_quantity": "0",
                        }
                    ],
                    "source_system": "suture",
                }
            ]
        },
    )

    id: str
    number: str
    facility_id: str
    supplier_id: str
    order_date: date
    kind: str = Field(description="standard, replenishment or bill_only.")
    status: str = Field(
        description="draft, sent, acknowledged, partially_received, received, closed, cancelled."
    )
    requisition_id: str | None
    department_id: str | None
    lines: list[PurchaseOrderLinePublic]
    source_system: str


class ReceiptLinePublic(PublicModel):
    line_number: int
    item_id: str
    quantity: Decimal
    uom: str
    po_line_number: int | None
    lot: str | None
    serial: str | None
    expiry: date | None


class ReceiptPublic(PublicModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "rec-1",
                    "number": "REC-1",
                    "facility_id": "fac-1",
                    "location_id": "loc-1-central",
                    "received_at": "2026-11-22T09:30:00Z",
                    "purchase_order_id": "po-1",
                    "lines": [
                        {
                            "line_number": 1,
                            "item_id": "ITM-77B1",
                            "quantity": "4",
                            "uom": "BX",
                            "po_line_number": 1,
                            "lot": "L2611",
                            "serial": None,
                            "expiry": "2028-11-30",
                        }
                    ],
                    "source_system": "suture",
                }
            ]
        },
    )

    id: str
    number: str
    facility_id: str
    location_id: str | None
    received_at: datetime
    purchase_order_id: str | None
    lines: list[ReceiptLinePublic]
    source_system: str


class ExpectedReceiptLinePublic(PublicModel):
    line_number: int
    item_id: str
    quantity: Decimal
    uom: str
    po_line_number: int | None
    supplier_part_number: str | None
    gtin: str | None
    lot: str | None
    serial: str | None
    expiry: date | None


class ExpectedReceiptPublic(PublicModel):
    """What a supplier's ship notice (856) announced for one PO, and whether the dock received
    it (``receipt_id`` is then the receipt)."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "asn-1",
                    "number": "ASN-PO-1001-1",
                    "facility_id": "fac-1",
                    "supplier_id": "SUP-0001",
                    "purchase_order_id": "po-1",
                    "purchase_order_number": "PO-1001",
                    "noticed_at": "2026-11-21T18:00:00Z",
                    "shipped_on": "2026-11-21",
                    "status": "expected",
                    "receipt_id": None,
                    "lines": [
                        {
                            "line_number": 1,
                            "item_id": "ITM-77B1",
                            "quantity": "4",
                            "uom": "BX",
                            "po_line_number": 1,
                            "supplier_part_number": "AC-77",
                            "gtin": "10614141000019",
                            "lot": "L2611",
                            "serial": None,
                            "expiry": "2028-11-30",
                        }
                    ],
                    "source_system": "x12",
                }
            ]
        },
    )

    id: str
    number: str = Field(description="The shipment id (BSN02).")
    facility_id: str
    supplier_id: str
    purchase_order_id: str
    purchase_order_number: str
    noticed_at: datetime
    shipped_on: date | None
    status: str = Field(description="expected, received.")
    receipt_id: str | None
    lines: list[ExpectedReceiptLinePublic]
    source_system: str


class InvoiceLinePublic(PublicModel):
    line_number: int
    item_id: str | None
    quantity: Decimal
    uom: str
    unit_price: Decimal
    po_line_number: int | None
    supplier_part_number: str | None


class InvoicePublic(PublicModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "inv-1",
                    "number": "INV-88412",
                    "supplier_id": "SUP-0001",
                    "facility_id": "fac-1",
                    "invoice_date": "2026-11-23",
                    "purchase_order_number": "PO-1001",
                    "lines": [
                        {
                            "line_number": 1,
                            "item_id": "ITM-77B1",
                            "quantity": "4",
                            "uom": "BX",
                            "unit_price": "42.5000",
                            "po_line_number": 1,
                            "supplier_part_number": "AC-77",
                        }
                    ],
                    "freight": "12.40",
                    "tax": "0",
                    "stated_total": "182.40",
                    "status": "matched",
                    "source_system": "x12",
                }
            ]
        },
    )

    id: str
    number: str
    supplier_id: str
    facility_id: str
    invoice_date: date
    purchase_order_number: str | None
    lines: list[InvoiceLinePublic]
    freight: Decimal
    tax: Decimal
    stated_total: Decimal | None
    status: str = Field(description="received, matched, exception, approved, paid.")
    source_system: str


# --- revenue, inventory, ledger ---------------------------------------------------------------


class ChargePublic(PublicModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "CHG-5F1E0A9B3C2D4E6F7A8B",
                    "facility_id": "fac-1",
                    "encounter_token": "tok_3f9c0e1b2a4d5c6e7f8091a2b3c4d5e6",
                    "account_token": "tok_9a8b7c6d5e4f30211f2e3d4c5b6a7980",
                    "cdm_code": "27800123",
                    "quantity": "1",
                    "amount": "9800.00",
                    "service_at": "2026-11-20T15:42:00Z",
                    "transaction_type": "CG",
                    "department_id": "OR",
                    "hcpcs": "C1776",
                    "revenue_code": "0278",
                    "source_system": "rcm",
                }
            ]
        },
    )

    id: str
    facility_id: str
    encounter_token: str = Field(description="Keyed hash of the encounter number (not PHI).")
    account_token: str | None = Field(description="Keyed hash of the patient account.")
    cdm_code: str
    quantity: Decimal
    amount: Decimal
    service_at: datetime
    transaction_type: str = Field(description="CG (charge) or CD (credit), as HL7 FT1-6.")
    department_id: str | None
    hcpcs: str | None
    revenue_code: str | None
    source_system: str


class UsagePublic(PublicModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "USE-7C1D",
                    "facility_id": "fac-1",
                    "location_id": "loc-1-or-core",
                    "item_id": "ITM-3F2A9C",
                    "quantity": "1",
                    "uom": "EA",
                    "used_at": "2026-11-20T15:10:00Z",
                    "encounter_token": "tok_3f9c0e1b2a4d5c6e7f8091a2b3c4d5e6",
                    "department_id": "dep-1-or",
                    "lot": "L123456",
                    "serial": "SN00012345",
                    "expiry": "2029-06-30",
                    "udi": "(01)00614141000012(17)290630(10)L123456(21)SN00012345",
                    "source_system": "clinical",
                }
            ]
        },
    )

    id: str
    facility_id: str
    location_id: str
    item_id: str
    quantity: Decimal
    uom: str
    used_at: datetime
    encounter_token: str | None
    department_id: str | None
    lot: str | None
    serial: str | None
    expiry: date | None
    udi: str | None
    source_system: str


class StockPositionPublic(PublicModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "facility_id": "fac-1",
                    "location_id": "loc-1-or-core",
                    "item_id": "ITM-77B1",
                    "on_hand": "36",
                    "consigned_on_hand": "0",
                    "updated_at": "2026-11-22T09:30:00Z",
                }
            ]
        },
    )

    facility_id: str
    location_id: str
    item_id: str
    on_hand: Decimal = Field(description="Owned stock, in the item's base unit.")
    consigned_on_hand: Decimal = Field(description="Supplier-owned consignment stock.")
    updated_at: datetime


class JournalLinePublic(PublicModel):
    gl_account_id: str
    debit: Decimal
    credit: Decimal
    cost_center_id: str | None
    memo: str


class JournalPublic(PublicModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "JE-USE-7C1D",
                    "facility_id": "fac-1",
                    "posting_date": "2026-11-20",
                    "reference": "USE-7C1D",
                    "lines": [
                        {
                            "gl_account_id": "5100",
                            "debit": "3850.00",
                            "credit": "0",
                            "cost_center_id": "cc-1-or",
                            "memo": "implant used",
                        },
                        {
                            "gl_account_id": "1400",
                            "debit": "0",
                            "credit": "3850.00",
                            "cost_center_id": None,
                            "memo": "implant used",
                        },
                    ],
                    "source_system": "suture",
                }
            ]
        },
    )

    id: str
    facility_id: str
    posting_date: date
    reference: str = Field(description="The business key the entry came from (a PO, a usage).")
    lines: list[JournalLinePublic]
    source_system: str


class CrosswalkPublic(PublicModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "kind": "item",
                    "source_system": "clinical",
                    "facility_id": "fac-1",
                    "local_code": "LOC-77",
                    "canonical_id": "ITM-77B1",
                    "valid_from": "2026-01-05T00:00:00Z",
                    "valid_to": None,
                    "recorded_by": "crosswalk-import",
                }
            ]
        },
    )

    kind: str
    source_system: str
    facility_id: str | None
    local_code: str
    canonical_id: str
    valid_from: datetime
    valid_to: datetime | None
    recorded_by: str


class InvoicePaymentPublic(PublicModel):
    """An invoice's payment as the ERP reports it, read from the ERP at the request
    (docs/erp.md, "Payment status"), beside the invoice's status in Suture."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "invoice_id": "inv-1",
                    "invoice_number": "INV-88412",
                    "supplier_id": "SUP-0001",
                    "invoice_status": "approved",
                    "erp_state": "posted",
                    "amount_to_pay": "182.40",
                    "note": None,
                }
            ]
        },
    )

    invoice_id: str
    invoice_number: str
    supplier_id: str
    invoice_status: str = Field(
        description="In Suture, after this read: received, matched, exception, approved or "
        "paid (an invoice the ERP paid is marked paid, from matched or approved only)."
    )
    erp_state: str = Field(
        description="In the ERP: open (recorded, not posted), posted (awaiting payment), paid, "
        "cancelled, or unknown (the ERP has no such invoice, or not its supplier)."
    )
    amount_to_pay: Decimal | None = Field(
        description="What the ERP still has to pay; null when it does not say."
    )
    note: str | None = Field(
        default=None, description="Why the ERP could not say (a supplier it does not know)."
    )
