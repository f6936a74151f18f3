"""Which system is authoritative for each object type (DESIGN.md §1).

A write for an object from a system that does not own its type is refused, so that a legacy and
a new system can coexist during a migration without both executing the same workflow. The owner
can differ per facility (inventory belongs to Suture at one hospital and to the materials system
at another).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from suture.domain.errors import NotAuthoritativeError


class ObjectType(StrEnum):
    FACILITY = "facility"
    LOCATION = "location"
    DEPARTMENT = "department"
    COST_CENTER = "cost_center"
    GL_ACCOUNT = "gl_account"
    SUPPLIER = "supplier"
    ITEM = "item"
    CONTRACT = "contract"
    PAR_LEVEL = "par_level"
    CROSSWALK = "crosswalk"
    CHARGEMASTER = "chargemaster"
    REQUISITION = "requisition"
    PURCHASE_ORDER = "purchase_order"
    RECEIPT = "receipt"
    INVOICE = "invoice"
    CHARGE = "charge"
    USAGE = "usage"
    STOCK_POSITION = "stock_position"
    JOURNAL_ENTRY = "journal_entry"


#: The reference model of DESIGN.md §1, by system role.
DEFAULT_OWNERS: Mapping[ObjectType, str] = {
    ObjectType.FACILITY: "suture",
    ObjectType.LOCATION: "suture",
    ObjectType.DEPARTMENT: "erp",
    ObjectType.COST_CENTER: "erp",
    ObjectType.GL_ACCOUNT: "erp",
    ObjectType.SUPPLIER: "erp",
    ObjectType.ITEM: "materials",
    ObjectType.CONTRACT: "materials",
    ObjectType.PAR_LEVEL: "suture",
    ObjectType.CROSSWALK: "suture",
    ObjectType.CHARGEMASTER: "rcm",
    ObjectType.REQUISITION: "procurement",
    ObjectType.PURCHASE_ORDER: "erp",
    ObjectType.RECEIPT: "suture",
    ObjectType.INVOICE: "erp",
    ObjectType.CHARGE: "rcm",
    ObjectType.USAGE: "clinical",
    ObjectType.STOCK_POSITION: "suture",
    ObjectType.JOURNAL_ENTRY: "erp",
}


@dataclass(frozen=True, slots=True)
class AuthorityRegistry:
    """Owners by object type, with per-facility overrides.

    ``delegates`` lists, per owner, systems allowed to write on its behalf: Suture itself loads
    the ERP's supplier master, so ``{"erp": {"suture"}}`` lets the hub write suppliers it read
    from the ERP.
    """

    owners: Mapping[ObjectType, str] = field(default_factory=lambda: dict(DEFAULT_OWNERS))
    facility_owners: Mapping[tuple[ObjectType, str], str] = field(default_factory=dict)
    delegates: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def owner(self, object_type: ObjectType, facility_id: str | None = None) -> str:
        if facility_id is not None and (object_type, facility_id) in self.facility_owners:
            return self.facility_owners[(object_type, facility_id)]
        return self.owners[object_type]

    def check_write(
        self, object_type: ObjectType, source_system: str, facility_id: str | None = None
    ) -> None:
        """Raise :class:`NotAuthoritativeError` unless ``source_system`` may write the type."""
        owner = self.owner(object_type, facility_id)
        if source_system == owner or source_system in self.delegates.get(owner, frozenset()):
            return
        where = f" at facility {facility_id}" if facility_id else ""
        raise NotAuthoritativeError(
            "source_system",
            f"{source_system!r} may not write {object_type}{where}: {owner!r} is authoritative",
        )
