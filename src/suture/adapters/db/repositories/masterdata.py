"""Repositories of master data: facilities, cost centers, departments, locations, GL accounts,
suppliers, items (with packaging levels), par levels and contracts (with memberships and prices).

Each class only translates rows to dataclasses and back (ADR 0001); queries are in ``base.py``
except the lookups the ports name (GTIN, catalog number, GLN, ERP vendor id, contract number and
item). A lookup the port answers with one object returns the one with the lowest id when several
match: the schema does not make GTINs or catalog numbers unique, because item masters of merged
hospitals do repeat them until a person deduplicates them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from suture.adapters.db import tables as t
from suture.adapters.db.repositories.base import (
    BATCH_SIZE,
    AggregateRepository,
    Lines,
    Row,
    Values,
)
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
from suture.domain.units import Packaging, PackagingLevel


def _fields(row: Row) -> dict[str, Any]:
    return dict(row._mapping)


class FacilityRepository(AggregateRepository[Facility]):
    table = t.facilities
    facility_column = "id"

    def to_row(self, obj: Facility) -> Values:
        return {
            "id": obj.id,
            "code": obj.code,
            "name": obj.name,
            "gln": obj.gln,
            "timezone": obj.timezone,
            "source_system": obj.source_system,
        }

    def from_row(self, row: Row, lines: tuple[list[Row], ...]) -> Facility:
        return Facility(**_fields(row))


class CostCenterRepository(AggregateRepository[CostCenter]):
    table = t.cost_centers

    def to_row(self, obj: CostCenter) -> Values:
        return {
            "id": obj.id,
            "facility_id": obj.facility_id,
            "code": obj.code,
            "name": obj.name,
            "source_system": obj.source_system,
        }

    def from_row(self, row: Row, lines: tuple[list[Row], ...]) -> CostCenter:
        return CostCenter(**_fields(row))


class DepartmentRepository(AggregateRepository[Department]):
    table = t.departments

    def to_row(self, obj: Department) -> Values:
        return {
            "id": obj.id,
            "facility_id": obj.facility_id,
            "code": obj.code,
            "name": obj.name,
            "cost_center_id": obj.cost_center_id,
            "source_system": obj.source_system,
        }

    def from_row(self, row: Row, lines: tuple[list[Row], ...]) -> Department:
        return Department(**_fields(row))


class LocationRepository(AggregateRepository[Location]):
    table = t.locations

    def to_row(self, obj: Location) -> Values:
        return {
            "id": obj.id,
            "facility_id": obj.facility_id,
            "code": obj.code,
            "name": obj.name,
            "kind": obj.kind.value,
            "department_id": obj.department_id,
            "source_system": obj.source_system,
        }

    def from_row(self, row: Row, lines: tuple[list[Row], ...]) -> Location:
        return Location(**{**_fields(row), "kind": LocationKind(row.kind)})


class GLAccountRepository(AggregateRepository[GLAccount]):
    table = t.gl_accounts
    facility_column = None

    def to_row(self, obj: GLAccount) -> Values:
        return {
            "id": obj.id,
            "number": obj.number,
            "name": obj.name,
            "kind": obj.kind.value,
            "source_system": obj.source_system,
        }

    def from_row(self, row: Row, lines: tuple[list[Row], ...]) -> GLAccount:
        return GLAccount(**{**_fields(row), "kind": AccountKind(row.kind)})


class SupplierRepository(AggregateRepository[Supplier]):
    table = t.suppliers
    supplier_column = "id"
    facility_column = None

    def by_gln(self, gln: str) -> Supplier | None:
        return self._first(self.table.c.gln == gln)

    def by_erp_vendor_id(self, erp_vendor_id: str) -> Supplier | None:
        return self._first(self.table.c.erp_vendor_id == erp_vendor_id)

    def to_row(self, obj: Supplier) -> Values:
        remit = obj.remit_to
        return {
            "id": obj.id,
            "name": obj.name,
            "erp_vendor_id": obj.erp_vendor_id,
            "gln": obj.gln,
            "hin": obj.hin,
            "remit_to_line1": remit.line1 if remit else None,
            "remit_to_city": remit.city if remit else None,
            "remit_to_state": remit.state if remit else None,
            "remit_to_postal_code": remit.postal_code if remit else None,
            "remit_to_country": remit.country if remit else None,
            "payment_terms": obj.payment_terms,
            "active": obj.active,
            "source_system": obj.source_system,
        }

    def from_row(self, row: Row, lines: tuple[list[Row], ...]) -> Supplier:
        remit_to = None
        if row.remit_to_line1 is not None:
            remit_to = Address(
                line1=row.remit_to_line1,
                city=row.remit_to_city,
                state=row.remit_to_state,
                postal_code=row.remit_to_postal_code,
                country=row.remit_to_country,
            )
        return Supplier(
            id=row.id,
            name=row.name,
            erp_vendor_id=row.erp_vendor_id,
            gln=row.gln,
            hin=row.hin,
            remit_to=remit_to,
            payment_terms=row.payment_terms,
            active=row.active,
            source_system=row.source_system,
        )


class ItemRepository(AggregateRepository[Item]):
    table = t.items
    supplier_column = "supplier_id"
    lines = (Lines(t.item_packaging, "item_id"),)
    facility_column = None

    def by_gtin(self, gtin: str) -> Item | None:
        owners = sa.select(t.item_packaging.c.item_id).where(t.item_packaging.c.gtin == gtin)
        return self._first(self.table.c.id.in_(owners.scalar_subquery()))

    def get_many(self, item_ids: Iterable[str]) -> dict[str, Item]:
        wanted = sorted(set(item_ids))
        found: dict[str, Item] = {}
        for start in range(0, len(wanted), BATCH_SIZE):
            chunk = wanted[start : start + BATCH_SIZE]
            for item in self._load(sa.select(self.table).where(self.table.c.id.in_(chunk))):
                found[item.id] = item
        return found

    def by_catalog_number(self, manufacturer: str, catalog_number: str) -> Item | None:
        return self._first(
            (self.table.c.manufacturer == manufacturer)
            & (self.table.c.catalog_number == catalog_number)
        )

    def to_row(self, obj: Item) -> Values:
        return {
            "id": obj.id,
            "description": obj.description,
            "manufacturer": obj.manufacturer,
            "catalog_number": obj.catalog_number,
            "purchase_uom": obj.purchase_uom,
            "supplier_id": obj.supplier_id,
            "hibc": obj.hibc,
            "unspsc": obj.unspsc,
            "is_implant": obj.is_implant,
            "is_consignment": obj.is_consignment,
            "is_chargeable": obj.is_chargeable,
            "cdm_code": obj.cdm_code,
            "hcpcs": obj.hcpcs,
            "revenue_code": obj.revenue_code,
            "list_price": obj.list_price,
            "active": obj.active,
            "source_system": obj.source_system,
        }

    def to_lines(self, obj: Item) -> tuple[list[Values], ...]:
        levels = obj.packaging.levels
        return (
            [{"uom": lv.uom, "each_per_unit": lv.each_per_unit, "gtin": lv.gtin} for lv in levels],
        )

    def from_row(self, row: Row, lines: tuple[list[Row], ...]) -> Item:
        (levels,) = lines
        packaging = Packaging(
            tuple(PackagingLevel(lv.uom, lv.each_per_unit, lv.gtin) for lv in levels)
        )
        return Item(**{**_fields(row), "packaging": packaging})


class ParLevelRepository(AggregateRepository[ParLevel]):
    table = t.par_levels

    def to_row(self, obj: ParLevel) -> Values:
        return {
            "id": obj.id,
            "facility_id": obj.facility_id,
            "location_id": obj.location_id,
            "item_id": obj.item_id,
            "reorder_point": obj.reorder_point,
            "par": obj.par,
            "uom": obj.uom,
            "lead_time_days": obj.lead_time_days,
            "source_system": obj.source_system,
        }

    def from_row(self, row: Row, lines: tuple[list[Row], ...]) -> ParLevel:
        return ParLevel(**_fields(row))
