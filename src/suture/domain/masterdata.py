"""Master data of a health system: facilities, locations, departments, cost centers, GL accounts,
suppliers, items and par levels (DESIGN.md §2).

Objects are plain dataclasses with canonical string ids. Each records ``source_system``: the
system the record came from, which the authority registry checks (DESIGN.md §1).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from suture.domain.units import Packaging

#: The system name Suture uses for records it owns or creates itself.
SUTURE = "suture"


class LocationKind(StrEnum):
    OPERATING_ROOM = "operating_room"
    CATH_LAB = "cath_lab"
    CENTRAL_SUPPLY = "central_supply"
    PHARMACY = "pharmacy"
    NURSING_UNIT = "nursing_unit"
    WAREHOUSE = "warehouse"


class AccountKind(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EXPENSE = "expense"
    REVENUE = "revenue"
    EQUITY = "equity"


@dataclass(slots=True, kw_only=True)
class Facility:
    """A hospital of the health system."""

    id: str
    code: str
    name: str
    gln: str | None = None
    timezone: str = "America/Chicago"
    source_system: str = SUTURE


@dataclass(slots=True, kw_only=True)
class CostCenter:
    """Where cost lands in the ledger; an analytic account in the ERP."""

    id: str
    facility_id: str
    code: str
    name: str
    source_system: str = SUTURE


@dataclass(slots=True, kw_only=True)
class Department:
    """A clinical or support department; maps to exactly one cost center."""

    id: str
    facility_id: str
    code: str
    name: str
    cost_center_id: str
    source_system: str = SUTURE


@dataclass(slots=True, kw_only=True)
class Location:
    """An inventory location: an OR core, a cath lab, central supply."""

    id: str
    facility_id: str
    code: str
    name: str
    kind: LocationKind
    department_id: str | None = None
    source_system: str = SUTURE


@dataclass(slots=True, kw_only=True)
class GLAccount:
    """An account of the chart of accounts (shared by every facility of the system)."""

    id: str
    number: str
    name: str
    kind: AccountKind
    source_system: str = SUTURE


@dataclass(slots=True, kw_only=True)
class Address:
    line1: str
    city: str
    state: str
    postal_code: str
    country: str = "US"


@dataclass(slots=True, kw_only=True)
class Supplier:
    """A vendor; the ERP owns the supplier master (DESIGN.md §1)."""

    id: str
    name: str
    erp_vendor_id: str | None = None
    gln: str | None = None
    hin: str | None = None
    remit_to: Address | None = None
    payment_terms: str = "NET30"
    active: bool = True
    source_system: str = SUTURE


@dataclass(slots=True, kw_only=True)
class Item:
    """A supply or implant in the item master.

    ``packaging`` gives the units of measure and their GTINs; ``purchase_uom`` is the unit the
    item is ordered in. A chargeable item bills under ``cdm_code`` (the charge crosswalk), with
    its HCPCS and UB-04 revenue code.
    """

    id: str
    description: str
    manufacturer: str
    catalog_number: str
    packaging: Packaging
    purchase_uom: str
    supplier_id: str | None = None
    hibc: str | None = None
    unspsc: str | None = None
    is_implant: bool = False
    is_consignment: bool = False
    is_chargeable: bool = False
    cdm_code: str | None = None
    hcpcs: str | None = None
    revenue_code: str | None = None
    list_price: Decimal | None = None
    active: bool = True
    source_system: str = SUTURE

    @property
    def base_uom(self) -> str:
        return self.packaging.base_uom

    @property
    def gtins(self) -> tuple[str, ...]:
        return tuple(level.gtin for level in self.packaging.levels if level.gtin)


@dataclass(slots=True, kw_only=True)
class ParLevel:
    """Replenishment settings of one item at one location; quantities are in ``uom``."""

    id: str
    facility_id: str
    location_id: str
    item_id: str
    reorder_point: Decimal
    par: Decimal
    uom: str
    lead_time_days: int = 2
    source_system: str = SUTURE
