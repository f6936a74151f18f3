"""Builders of fully populated domain objects for the storage contract suite.

Every field is set to a non-default value, so a column that is not stored or not read back fails
a whole-value comparison. Ids and facility ids carry a random uuid4 hex: tests share one
PostgreSQL schema per session and stay apart by their identifiers, never by truncating tables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import uuid4

from suture.domain.contracts import Contract, ContractMembership, ContractPrice
from suture.domain.crosswalk import CrosswalkEntry, CrosswalkKey, CrosswalkKind
from suture.domain.inventory import StockPosition, UsageRecord
from suture.domain.invoicing import Invoice, InvoiceLine, InvoiceStatus
from suture.domain.ledger import JournalEntry, JournalLine
from suture.domain.masterdata import (
    AccountKind,
    Address,
    CostCenter,
    Department,
    Facility,
    GLAccount,
    Item,
    Location,
    LocationKind,
    ParLevel,
    Supplier,
)
from suture.domain.purchasing import (
    PurchaseOrder,
    PurchaseOrderKind,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Receipt,
    ReceiptLine,
    Requisition,
    RequisitionLine,
    RequisitionStatus,
)
from suture.domain.revenue import Charge, ChargeType
from suture.domain.units import Packaging, PackagingLevel
from suture.services.unit_of_work import UnitOfWork

#: An instant given in a non-UTC zone: storage must return the same instant, in UTC.
CHICAGO_NOON = datetime(2024, 3, 9, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=-6)))


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex}"


def gtin() -> str:
    """A random 14-digit string; storage does not check GS1 check digits."""
    return str(uuid4().int)[:14]


@dataclass(frozen=True, slots=True)
class Site:
    """The master data a facility's records refer to, stored by :func:`seed_site`."""

    facility: Facility
    cost_center: CostCenter
    department: Department
    location: Location
    gl_account: GLAccount
    supplier: Supplier
    item: Item


def facility() -> Facility:
    return Facility(
        id=new_id("fac"), code="NMC", name="North Medical Center", gln="0614141000012",
        timezone="America/New_York", source_system="erp",
    )  # fmt: skip


def supplier() -> Supplier:
    return Supplier(
        id=new_id("sup"), name="Acme Ortho", erp_vendor_id=new_id("V"), gln=gtin()[:13],
        hin="HIN123456", payment_terms="NET45", active=False, source_system="erp",
        remit_to=Address(
            line1="1 Main St", city="Memphis", state="TN", postal_code="38103", country="CA"
        ),
    )  # fmt: skip


def item(supplier_id: str | None) -> Item:
    levels = (
        PackagingLevel("EA", 1, gtin()),
        PackagingLevel("BX", 10, gtin()),
        PackagingLevel("CS", 40, None),
    )
    return Item(
        id=new_id("item"), description="Hip stem, cementless", manufacturer="Acme",
        catalog_number=new_id("CAT"), packaging=Packaging(levels), purchase_uom="BX",
        supplier_id=supplier_id, hibc="+H123ABC1/$$0", unspsc="42295400", is_implant=True,
        is_consignment=True, is_chargeable=True, cdm_code="2780001", hcpcs="C1776",
        revenue_code="0278", list_price=Decimal("1234.5678"), active=False, source_system="erp",
    )  # fmt: skip


def site() -> Site:
    fac = facility()
    cost_center = CostCenter(
        id=new_id("cc"), facility_id=fac.id, code="7010", name="Surgery", source_system="erp"
    )
    department = Department(
        id=new_id("dept"), facility_id=fac.id, code="OR", name="Operating Rooms",
        cost_center_id=cost_center.id, source_system="erp",
    )  # fmt: skip
    location = Location(
        id=new_id("loc"), facility_id=fac.id, code="OR-CORE", name="OR core",
        kind=LocationKind.CATH_LAB, department_id=department.id, source_system="materials",
    )  # fmt: skip
    gl_account = GLAccount(
        id=new_id("gl"), number="6100", name="Supplies expense", kind=AccountKind.EXPENSE,
        source_system="erp",
    )  # fmt: skip
    vendor = supplier()
    return Site(fac, cost_center, department, location, gl_account, vendor, item(vendor.id))


def seed_site(uow: UnitOfWork, where: Site | None = None) -> Site:
    """Store a site's master data in foreign-key order and return it."""
    where = where or site()
    uow.facilities.add(where.facility)
    uow.cost_centers.add(where.cost_center)
    uow.departments.add(where.department)
    uow.locations.add(where.location)
    uow.gl_accounts.add(where.gl_account)
    uow.suppliers.add(where.supplier)
    uow.items.add(where.item)
    return where


def par_level(s: Site) -> ParLevel:
    return ParLevel(
        id=new_id("par"), facility_id=s.facility.id, location_id=s.location.id,
        item_id=s.item.id, reorder_point=Decimal("2.5"), par=Decimal("12"), uom="BX",
        lead_time_days=5, source_system="materials",
    )  # fmt: skip


def contract(s: Site, item_ids: tuple[str, ...] = ()) -> Contract:
    priced = item_ids or (s.item.id,)
    return Contract(
        id=new_id("con"), number=new_id("GPO"), supplier_id=s.supplier.id, name="Ortho 2024",
        effective_from=date(2024, 1, 1), effective_to=date(2026, 12, 31), gpo="Vizient",
        memberships=[
            ContractMembership(facility_id=s.facility.id, tier="TIER1",
                               effective_from=date(2024, 2, 1), effective_to=date(2025, 1, 31)),
            ContractMembership(facility_id=s.facility.id, tier="TIER2",
                               effective_from=date(2025, 2, 1)),
        ],
        prices=[
            ContractPrice(item_id=item_id, tier="TIER1", uom="BX",
                          unit_price=Decimal("99.9999"), effective_from=date(2024, 3, 1),
                          effective_to=date(2024, 12, 31))
            for item_id in priced
        ] + [ContractPrice(item_id=priced[0], tier="TIER2", uom="EA", unit_price=Decimal("10"))],
        source_system="materials",
    )  # fmt: skip


def requisition(s: Site) -> Requisition:
    return Requisition(
        id=new_id("req"), number=new_id("R"), facility_id=s.facility.id,
        department_id=s.department.id, location_id=s.location.id, requested_at=CHICAGO_NOON,
        lines=[
            RequisitionLine(line_number=1, item_id=s.item.id, quantity=Decimal("3"), uom="BX"),
            RequisitionLine(line_number=2, item_id="item-x", quantity=Decimal("0.5"), uom="CS"),
        ],
        status=RequisitionStatus.APPROVED, source_system="procurement",
    )  # fmt: skip


def purchase_order(s: Site, lines: int = 2) -> PurchaseOrder:
    return PurchaseOrder(
        id=new_id("po"), number=new_id("PO"), facility_id=s.facility.id,
        supplier_id=s.supplier.id, order_date=date(2024, 3, 9),
        kind=PurchaseOrderKind.BILL_ONLY, status=PurchaseOrderStatus.ACKNOWLEDGED,
        requisition_id=new_id("req"), department_id=s.department.id,
        lines=[
            PurchaseOrderLine(line_number=n, item_id=s.item.id, quantity=Decimal(n),
                              uom="BX", unit_price=Decimal("1234.5678"), contract_id="con-1")
            for n in range(1, lines + 1)
        ],
        source_system="erp",
    )  # fmt: skip


def receipt(s: Site) -> Receipt:
    return Receipt(
        id=new_id("rcv"), number=new_id("RC"), facility_id=s.facility.id,
        location_id=s.location.id, received_at=CHICAGO_NOON, purchase_order_id=new_id("po"),
        lines=[
            ReceiptLine(line_number=1, item_id=s.item.id, quantity=Decimal("2"), uom="BX",
                        po_line_number=1, lot="LOT7", serial="SN9", expiry=date(2027, 5, 31)),
        ],
        source_system="materials",
    )  # fmt: skip


def invoice(s: Site) -> Invoice:
    return Invoice(
        id=new_id("inv"), number=new_id("INV"), supplier_id=s.supplier.id,
        facility_id=s.facility.id, invoice_date=date(2024, 3, 20),
        purchase_order_number="PO-1",
        lines=[
            InvoiceLine(line_number=1, item_id=s.item.id, quantity=Decimal("2"), uom="BX",
                        unit_price=Decimal("1234.5678"), po_line_number=1,
                        supplier_part_number="AC-100"),
            InvoiceLine(line_number=2, item_id=None, quantity=Decimal("-1"), uom="EA",
                        unit_price=Decimal("0.0001")),
        ],
        freight=Decimal("15.25"), tax=Decimal("0.0001"), stated_total=Decimal("2484.3882"),
        status=InvoiceStatus.EXCEPTION, source_system="erp",
    )  # fmt: skip


def charge(s: Site, *, facility_id: str | None = None, amount: str = "1234.5678") -> Charge:
    return Charge(
        id=new_id("chg"), facility_id=facility_id or s.facility.id, encounter_token="tok-enc",
        cdm_code="2780001", quantity=Decimal("1"), amount=Decimal(amount),
        service_at=CHICAGO_NOON, transaction_type=ChargeType.CREDIT, account_token="tok-acct",
        department_id=s.department.id, hcpcs="C1776", revenue_code="0278", source_system="rcm",
    )  # fmt: skip


def usage(s: Site) -> UsageRecord:
    return UsageRecord(
        id=new_id("use"), facility_id=s.facility.id, location_id=s.location.id,
        item_id=s.item.id, quantity=Decimal("1.5"), uom="EA", used_at=CHICAGO_NOON,
        encounter_token="tok-enc", department_id=s.department.id, lot="LOT7", serial="SN9",
        expiry=date(2027, 5, 31), udi="(01)00614141999996(17)270531(10)LOT7(21)SN9",
        source_system="clinical",
    )  # fmt: skip


def journal(s: Site) -> JournalEntry:
    return JournalEntry(
        id=new_id("je"), facility_id=s.facility.id, posting_date=date(2024, 3, 31),
        reference="PO-1",
        lines=[
            JournalLine(gl_account_id=s.gl_account.id, debit=Decimal("1234.5678"),
                        cost_center_id=s.cost_center.id, memo="implant cost"),
            JournalLine(gl_account_id="gl-ap", credit=Decimal("1234.5678")),
        ],
        source_system="erp",
    )  # fmt: skip


def stock_position(s: Site, item_id: str | None = None) -> StockPosition:
    return StockPosition(
        facility_id=s.facility.id,
        location_id=s.location.id,
        item_id=item_id or s.item.id,
        on_hand=Decimal("12.5"),
        consigned_on_hand=Decimal("3"),
        updated_at=CHICAGO_NOON,
    )


def crosswalk_entry(
    facility_id: str | None,
    *,
    local_code: str | None = None,
    canonical_id: str | None = None,
    at: datetime = CHICAGO_NOON,
) -> CrosswalkEntry:
    key = CrosswalkKey("legacy-mm", facility_id, CrosswalkKind.ITEM, local_code or new_id("L"))
    return CrosswalkEntry(
        key=key, canonical_id=canonical_id or new_id("item"), valid_from=at, recorded_by="jdoe"
    )  # fmt: skip


#: Repository attribute of the unit of work -> builder of an aggregate stored there.
AGGREGATES: dict[str, Callable[[Site], Any]] = {
    "facilities": lambda s: facility(),
    "cost_centers": lambda s: dataclasses.replace(s.cost_center, id=new_id("cc")),
    "departments": lambda s: dataclasses.replace(s.department, id=new_id("dept")),
    "locations": lambda s: dataclasses.replace(s.location, id=new_id("loc")),
    "gl_accounts": lambda s: dataclasses.replace(s.gl_account, id=new_id("gl")),
    "suppliers": lambda s: supplier(),
    "items": lambda s: item(s.supplier.id),
    "contracts": contract,
    "par_levels": par_level,
    "requisitions": requisition,
    "purchase_orders": purchase_order,
    "receipts": receipt,
    "invoices": invoice,
    "charges": charge,
    "usage": usage,
    "journals": journal,
}


def assert_same_value_types(loaded: object, original: object) -> None:
    """Field by field, ``loaded`` has the types of ``original``; instants are aware UTC."""
    if dataclasses.is_dataclass(original):
        for field in dataclasses.fields(original):
            assert_same_value_types(getattr(loaded, field.name), getattr(original, field.name))
    elif isinstance(original, list | tuple):
        assert isinstance(loaded, type(original))
        for pair in zip(loaded, original, strict=True):
            assert_same_value_types(*pair)
    else:
        assert type(loaded) is type(original), f"{loaded!r} is not a {type(original).__name__}"
        if isinstance(loaded, datetime):
            assert loaded.tzinfo is UTC
