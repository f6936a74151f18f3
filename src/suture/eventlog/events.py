"""The event catalog: the payload of every event type, per version, and the upcasters between.

Names follow the canonical model (``suture.domain``): ids are canonical ids, patient references
are keyed-hash tokens (``encounter_token``, never the visit number: DESIGN.md §6), money and
quantities are :data:`~suture.eventlog.schemas.DecimalString`, times are aware UTC. The routing
policy reads ``facility_id``, ``supplier_id``, ``item_category`` and ``amount`` by those names.

A committed version is never edited in a breaking way (:mod:`suture.eventlog.compatibility`);
``supply.usage.recorded`` v2 is the worked example of raising a version instead.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from suture.domain.crosswalk import CrosswalkKey, CrosswalkKind
from suture.domain.revenue import ChargeType
from suture.eventlog.errors import DependencyKey
from suture.eventlog.schemas import DecimalString, EventPayload, SchemaRegistry

#: UNSPSC commodity code: segment, family, class, commodity (two digits each).
UNSPSC_PATTERN = r"^[0-9]{8}$"
Unspsc = Annotated[str, StringConstraints(pattern=UNSPSC_PATTERN)]


class MessageReceived(EventPayload):
    """An inbound message's raw bytes are committed to the inbox (DESIGN.md §3 guarantee 1)."""

    message_id: str
    interface_id: str
    format: Literal["hl7v2", "fhir", "x12", "csv"]
    source_system: str
    facility_id: str | None
    received_at: AwareDatetime
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size_bytes: int = Field(ge=0)


class SupplyUsageRecordedV1(EventPayload):
    """A supply or implant was used; v1 quantities are in eaches."""

    usage_id: str
    facility_id: str
    location_id: str
    item_id: str
    item_category: Unspsc | None = None
    supplier_id: str | None = None
    quantity: DecimalString
    used_at: AwareDatetime
    encounter_token: str | None = None
    department_id: str | None = None
    lot: str | None = None
    serial: str | None = None
    consigned: bool = False


class SupplyUsageRecorded(EventPayload):
    """A supply or implant was used; v2 states the unit of measure of ``quantity``."""

    usage_id: str
    facility_id: str
    location_id: str
    item_id: str
    item_category: Unspsc | None = None
    supplier_id: str | None = None
    quantity: DecimalString
    uom: str = Field(pattern=r"^[A-Z0-9]{2,3}$")
    used_at: AwareDatetime
    encounter_token: str | None = None
    department_id: str | None = None
    lot: str | None = None
    serial: str | None = None
    consigned: bool = False


class ChargePosted(EventPayload):
    """The revenue cycle posted a charge or a credit (HL7 DFT^P03 FT1, FHIR ChargeItem)."""

    charge_id: str
    facility_id: str
    encounter_token: str
    cdm_code: str
    revenue_code: str | None = Field(default=None, pattern=r"^[0-9]{4}$")
    hcpcs: str | None = None
    transaction_type: ChargeType
    quantity: DecimalString
    amount: DecimalString
    service_date: date
    department_id: str | None = None


class ItemChanged(EventPayload):
    """An item of the canonical item master was created, updated or retired."""

    item_id: str
    change: Literal["created", "updated", "retired"]
    description: str
    manufacturer: str
    catalog_number: str
    item_category: Unspsc | None = None
    gtin: str | None = Field(default=None, pattern=r"^[0-9]{14}$")
    supplier_id: str | None = None
    chargeable: bool = False
    cdm_code: str | None = None
    changed_at: AwareDatetime


class CrosswalkMapped(EventPayload):
    """A source system's local code now maps to a canonical id (new, or superseding another)."""

    source_system: str
    facility_id: str | None
    kind: CrosswalkKind
    local_code: str
    canonical_id: str
    previous_canonical_id: str | None = None
    mapped_at: AwareDatetime

    def dependency(self) -> DependencyKey:
        """The key that messages parked on this mapping were parked on."""
        key = CrosswalkKey(self.source_system, self.facility_id, self.kind, self.local_code)
        return DependencyKey(self.kind.value, str(key))


class UsageApplied(EventPayload):
    """A usage's first workflow step committed: validated, priced, stock moved (quantities in
    eaches); the cost attribution step follows (``services/workflows/usage.py``)."""

    usage_id: str
    facility_id: str
    location_id: str
    item_id: str
    item_category: Unspsc | None = None
    supplier_id: str | None = None
    eaches: DecimalString
    consigned: bool
    stockout: bool
    on_hand_after: DecimalString
    price_source: Literal["contract", "last_paid", "list", "none"]
    unit_price: DecimalString
    amount: DecimalString
    contract_id: str | None = None
    requisition_id: str | None = None
    bill_only_po_id: str | None = None
    replenishment_po_id: str | None = None
    department_id: str | None = None
    encounter_token: str | None = None
    used_at: AwareDatetime


class UsageCosted(EventPayload):
    """A usage's cost is attributed: a journal is queued for the ERP and, for a chargeable
    item, the charge it should bring is expected. The usage workflow's last step."""

    usage_id: str
    facility_id: str
    item_id: str
    department_id: str
    cost_center_id: str
    amount: DecimalString
    journal_id: str | None = None
    cdm_code: str | None = None
    expected_charge_id: str | None = None
    encounter_token: str | None = None


class PurchaseOrderAcknowledged(EventPayload):
    """The supplier acknowledged a purchase order (X12 855), line by line."""

    purchase_order_id: str
    purchase_order_number: str
    facility_id: str
    supplier_id: str
    accepted_lines: int
    changed_lines: int
    backordered_lines: int
    rejected_lines: int


class ShipmentNoticed(EventPayload):
    """A supplier announced a shipment for a purchase order (X12 856): an expected receipt."""

    expected_receipt_id: str
    shipment_id: str
    purchase_order_id: str
    purchase_order_number: str
    facility_id: str
    supplier_id: str
    line_count: int


class RequisitionRaised(EventPayload):
    """A requisition was raised (replenishment below the reorder point, a department)."""

    requisition_id: str
    facility_id: str
    location_id: str | None = None
    department_id: str | None = None
    item_id: str
    quantity: DecimalString
    uom: str = Field(pattern=r"^[A-Z0-9]{2,3}$")
    reason: Literal["replenishment", "department"]
    #: How many lines the requisition has; ``item_id``, ``quantity`` and ``uom`` are its first
    #: line's (a departmental requisition may have several: read it by ``requisition_id``).
    line_count: int = Field(default=1, ge=1)


class RequisitionApprovalRequested(EventPayload):
    """The approval policy sent a requisition to an approver role's work list."""

    requisition_id: str
    facility_id: str
    department_id: str | None = None
    amount: DecimalString
    off_contract: bool = False
    rule: str
    approver: str


class RequisitionApproved(EventPayload):
    """A requisition was approved: by the policy (``automatic``) or by a person; its purchase
    orders follow (``services/workflows/requisitions.py``)."""

    requisition_id: str
    facility_id: str
    department_id: str | None = None
    amount: DecimalString
    rule: str
    automatic: bool
    decided_by: str
    approver: str | None = None


class RequisitionRejected(EventPayload):
    """A requisition was rejected by ``decided_by``; nothing is ordered."""

    requisition_id: str
    facility_id: str
    department_id: str | None = None
    amount: DecimalString
    decided_by: str
    reason: str


class PurchaseOrderRaised(EventPayload):
    """The hub raised a purchase order: from an approved requisition, or a consigned implant's
    bill-only and restock POs; its 850 goes to the supplier's trading partner."""

    purchase_order_id: str
    number: str
    kind: Literal["standard", "replenishment", "bill_only"]
    facility_id: str
    supplier_id: str
    amount: DecimalString
    usage_id: str | None = None
    requisition_id: str | None = None
    #: Some line is priced without a contract price (a ``contract_price_mismatch`` is open).
    off_contract: bool = False


class ReceiptRecorded(EventPayload):
    """Goods were received against a purchase order (a dock receipt, an ASN confirmed)."""

    receipt_id: str
    purchase_order_id: str | None = None
    purchase_order_number: str | None = None
    facility_id: str
    location_id: str | None = None
    line_count: int


class InvoiceReceived(EventPayload):
    """A supplier invoice arrived (X12 810, supplier API) and was stored."""

    invoice_id: str
    invoice_number: str
    supplier_id: str
    facility_id: str
    purchase_order_number: str | None = None
    amount: DecimalString


class InvoiceMatched(EventPayload):
    """An invoice passed three-way match and is approved for payment; its AP voucher is queued
    for the ERP. ``received_at`` to ``matched_at`` is the invoice cycle time (DESIGN.md §7)."""

    invoice_id: str
    invoice_number: str
    supplier_id: str
    facility_id: str
    purchase_order_id: str | None = None
    purchase_order_number: str | None = None
    amount: DecimalString
    voucher_id: str
    attempts: int
    received_at: AwareDatetime
    matched_at: AwareDatetime


def _usage_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 had no unit: its quantities were eaches."""
    return {**payload, "uom": "EA"}


def build_registry() -> SchemaRegistry:
    """A registry of the whole catalog; built on demand, never at import (STYLE.md)."""
    registry = SchemaRegistry()
    registry.register("message.received", 1, MessageReceived)
    registry.register("supply.usage.recorded", 1, SupplyUsageRecordedV1)
    registry.register("supply.usage.recorded", 2, SupplyUsageRecorded)
    registry.upcaster.register("supply.usage.recorded", 1, _usage_v1_to_v2)
    registry.register("charge.posted", 1, ChargePosted)
    registry.register("masterdata.item.changed", 1, ItemChanged)
    registry.register("crosswalk.mapped", 1, CrosswalkMapped)
    registry.register("inventory.usage.applied", 1, UsageApplied)
    registry.register("finance.usage.costed", 1, UsageCosted)
    registry.register("purchasing.order.acknowledged", 1, PurchaseOrderAcknowledged)
    registry.register("purchasing.shipment.noticed", 1, ShipmentNoticed)
    registry.register("purchasing.requisition.raised", 1, RequisitionRaised)
    registry.register("purchasing.requisition.approval_requested", 1, RequisitionApprovalRequested)
    registry.register("purchasing.requisition.approved", 1, RequisitionApproved)
    registry.register("purchasing.requisition.rejected", 1, RequisitionRejected)
    registry.register("purchasing.order.raised", 1, PurchaseOrderRaised)
    registry.register("purchasing.receipt.recorded", 1, ReceiptRecorded)
    registry.register("purchasing.invoice.received", 1, InvoiceReceived)
    registry.register("purchasing.invoice.matched", 1, InvoiceMatched)
    return registry
