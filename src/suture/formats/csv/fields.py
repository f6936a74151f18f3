"""The canonical fields a column profile may map, per kind of file: master data, and the usage
and charge feeds of clinical and billing systems.

A profile maps these names to the headers of one legacy export. Knowing them here lets a
profile with a typo ("manufaturer") or a missing required field fail when it is loaded, naming
the key, instead of silently importing empty values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class ImportKind(StrEnum):
    """The flat files Suture reads; the values are the profiles' ``kind:`` (and, for master
    data, the CLI's KIND argument)."""

    ITEMS = "items"
    SUPPLIERS = "suppliers"
    CONTRACT_PRICES = "contract-prices"
    CROSSWALKS = "crosswalks"
    CHARGEMASTER = "chargemaster"
    USAGE = "usage"
    CHARGES = "charges"


#: Kinds whose rows come from clinical systems and name patients: their profiles need a time
#: zone, and their identifier fields are tokenized by the codec (DESIGN.md §6).
FEED_KINDS = frozenset({ImportKind.USAGE, ImportKind.CHARGES})

#: Fields that hold patient identifiers (PHI): read only to be tokenized, never quoted.
IDENTIFIER_FIELDS = frozenset({"encounter", "case_number", "patient", "account"})


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A canonical field; ``required`` fields need a column or a default in every profile."""

    name: str
    required: bool = False


def _specs(required: tuple[str, ...], optional: tuple[str, ...]) -> Mapping[str, FieldSpec]:
    specs = [FieldSpec(name, required=True) for name in required]
    specs += [FieldSpec(name) for name in optional]
    return {spec.name: spec for spec in specs}


FIELDS: Mapping[ImportKind, Mapping[str, FieldSpec]] = {
    ImportKind.ITEMS: _specs(
        ("description", "manufacturer", "catalog_number", "purchase_uom"),
        (
            "id", "vendor_number", "hibc", "unspsc", "is_implant", "is_consignment",
            "is_chargeable", "cdm_code", "hcpcs", "revenue_code", "list_price", "active",
        ),
    ),
    ImportKind.SUPPLIERS: _specs(
        ("vendor_number", "name"),
        (
            "id", "gln", "hin", "remit_line1", "remit_city", "remit_state",
            "remit_postal_code", "remit_country", "payment_terms", "active",
        ),
    ),
    ImportKind.CONTRACT_PRICES: _specs(
        ("contract_number", "contract_name", "vendor_number", "contract_start", "tier"),
        (
            "contract_id", "gpo", "contract_end", "facility_id", "member_from", "member_to",
            "item_id", "manufacturer", "catalog_number", "gtin", "uom", "unit_price",
            "price_from", "price_to",
        ),
    ),
    ImportKind.CROSSWALKS: _specs(
        ("source_system", "kind", "local_code", "canonical_id"),
        ("facility_id", "supersede"),
    ),
    ImportKind.CHARGEMASTER: _specs(
        ("facility_id", "cdm_code", "unit_price", "effective_from"),
        ("effective_to", "description"),
    ),
    ImportKind.USAGE: _specs(
        ("facility", "location", "quantity", "uom", "used_at"),
        (
            "line_id", "item_id", "item_number", "gtin", "udi", "encounter", "case_number",
            "patient", "department", "lot", "serial", "expiry",
        ),
    ),
    ImportKind.CHARGES: _specs(
        ("facility", "encounter", "cdm_code", "service_at"),
        (
            "line_id", "account", "transaction_type", "quantity", "amount", "department",
            "hcpcs", "revenue_code",
        ),
    ),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ColumnRule:
    """When every field of ``when`` is mapped, at least one group of ``one_of`` must be."""

    when: tuple[str, ...]
    one_of: tuple[tuple[str, ...], ...]
    why: str


#: Rules a single "required" flag cannot say. A contract-price file holds membership lines,
#: price lines or both; a price line names its item by canonical id, GTIN, or manufacturer and
#: catalog number.
RULES: Mapping[ImportKind, tuple[ColumnRule, ...]] = {
    ImportKind.CONTRACT_PRICES: (
        ColumnRule((), (("facility_id",), ("unit_price", "uom")), "a membership or price line"),
        ColumnRule(
            ("unit_price",),
            (("item_id",), ("gtin",), ("manufacturer", "catalog_number")),
            "the item of a price line",
        ),
    ),
    ImportKind.USAGE: (
        ColumnRule(
            (),
            (("item_id",), ("item_number",), ("gtin",), ("udi",)),
            "the item of a usage line",
        ),
    ),
}
