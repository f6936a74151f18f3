"""What the decoders hand to the import service when a row is more than one canonical object.

Suppliers decode straight to :class:`~suture.domain.masterdata.Supplier`. The other rows
cannot: an item or contract row names its supplier by the vendor number of the system that
exported it, and a price line names its item the way the file knows it (a GTIN, a catalog
number); only the hub's stores can resolve such references (a supplier may have been synced from
the ERP under an id no file could derive). A crosswalk row is a request that the conflict rules
of :func:`~suture.domain.crosswalk.decide_mapping` may refuse. These records carry such rows,
fully validated, to the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Generic, TypeVar

from suture.domain.contracts import Contract, ContractMembership
from suture.domain.crosswalk import CrosswalkKey
from suture.domain.masterdata import Item

T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True, slots=True)
class Decoded(Generic[T_co]):
    """A decoded row: its line, its value, and the profile's field -> header map.

    ``columns`` lets the service name the file's column when it rejects a row for a reason only
    the database knows (an unknown item); it is the profile's mapping, shared, not a copy.
    """

    line: int
    value: T_co
    columns: Mapping[str, str]

    def column(self, name: str) -> str:
        return self.columns.get(name, name)


@dataclass(frozen=True, slots=True)
class ItemLine:
    """One item-master row: the item without its supplier, and the vendor number (if any) that
    names the supplier in the exporting system; the service resolves it to a supplier id."""

    item: Item
    vendor_number: str | None = None


@dataclass(frozen=True, slots=True)
class ItemRef:
    """How a price line names its item: canonical id, GTIN-14, or manufacturer and catalog
    number. Several may be given; the service checks that they name the same item."""

    item_id: str | None = None
    gtin: str | None = None
    manufacturer: str | None = None
    catalog_number: str | None = None


@dataclass(frozen=True, slots=True)
class PriceLine:
    """A contract price whose item is still a reference; ``tier`` is the row's tier."""

    item: ItemRef
    tier: str
    uom: str
    unit_price: Decimal
    effective_from: date | None = None
    effective_to: date | None = None


@dataclass(frozen=True, slots=True)
class ContractLine:
    """One contract-price row: the contract's header (no memberships or prices of its own)
    with a facility membership, a price line, or both.

    The header's supplier is still a reference: ``vendor_number`` as the file gives it, while
    ``contract.supplier_id`` is empty until the service resolves the vendor number.
    """

    contract: Contract
    vendor_number: str
    membership: ContractMembership | None = None
    price: PriceLine | None = None


@dataclass(frozen=True, slots=True)
class CrosswalkRequest:
    """A requested mapping; ``supersede`` allows replacing a different current mapping."""

    key: CrosswalkKey
    canonical_id: str
    supersede: bool = False
