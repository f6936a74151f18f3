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
    id: str
    code: str
    name: str
    gln: str | None
    timezone: str
    source_system: str


class CostCenterPublic(PublicModel):
    id: str
    facility_id: str
    code: str
    name: str
    source_system: str


class DepartmentPublic(PublicModel):
    id: str
    facility_id: str
    code: str
    name: str
    cost_center_id: str
    source_system: str


class LocationPublic(PublicModel):
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
    id: str
    facility_id: str
    posting_date: date
    reference: str = Field(description="The business key the entry came from (a PO, a usage).")
    lines: list[JournalLinePublic]
    source_system: str


class CrosswalkPublic(PublicModel):
    kind: str
    source_system: str
    facility_id: str | None
    local_code: str
    canonical_id: str
    valid_from: datetime
    valid_to: datetime | None
    recorded_by: str
