"""The synthetic item master: supplies and implants with GTINs, HIBC codes, UNSPSC and prices.

Items are drawn once per index from the ``items`` stream into light :class:`ItemDraft` records;
an :class:`~suture.domain.masterdata.Item` is built from a draft only when it is yielded, so a
100,000-item master streams in seconds. Contracts, par levels, crosswalks and history read the
drafts (cached once) rather than the items, which keeps them independent of call order.

Which hospital carries which item is a hash of (seed, hospital, item), not a draw, so every
stream answers the question the same way without sharing an RNG.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from itertools import accumulate

from suture.domain.identifiers import make_gtin, make_hibc_primary
from suture.domain.masterdata import Item, LocationKind
from suture.domain.units import Packaging, PackagingLevel
from suture.services.synthetic import vocabulary as words
from suture.services.synthetic.organization import (
    Organization,
    SupplierRole,
    company_prefix,
    letters,
    supplier_id,
)
from suture.services.synthetic.profiles import Profile

_CENT = Decimal("0.01")
#: GS1 packaging indicator digits of the GTIN-14 of each level (0 is the unit of use).
_INDICATORS = {"EA": "0", "BX": "1", "CS": "2"}
#: A hospital's item carried/not-carried decision is a hash compared to this many buckets.
_BUCKETS = 10_000


@dataclass(slots=True)
class ItemDraft:
    """What the other streams need to know about item ``index`` (1-based)."""

    index: int
    category: words.Category
    description: str
    manufacturer: SupplierRole
    supplier_number: int
    catalog_number: str
    #: The first 12 digits of every GTIN of the item (company prefix and item reference).
    gtin_body: str
    each_per_box: int
    boxes_per_case: int
    purchase_uom: str
    each_price: Decimal
    charge_price: Decimal
    is_consignment: bool
    is_chargeable: bool

    @property
    def id(self) -> str:
        return item_id(self.index)

    @property
    def each_gtin(self) -> str:
        return make_gtin(_INDICATORS["EA"] + self.gtin_body)

    def gtins(self) -> dict[str, str]:
        """The GTIN-14 of every packaging level.

        Only the unit of use goes through :func:`make_gtin`; the indicator digit sits in a
        weight-3 position (GS1 General Specifications §7.9), so each larger level's check digit
        is the unit's minus 3 x its indicator, modulo 10. This halves the cost of an item.
        """
        each = self.each_gtin
        check = int(each[-1])
        return {
            uom: each if indicator == "0" else
            f"{indicator}{self.gtin_body}{(check - 3 * int(indicator)) % 10}"
            for uom, indicator in _INDICATORS.items()
        }  # fmt: skip

    @property
    def cdm_code(self) -> str | None:
        # Derived from the index, so a code never maps to two items whatever the seed.
        return f"{self.category.revenue_code[1:]}{self.index:06d}" if self.is_chargeable else None

    def packaging(self) -> Packaging:
        gtins = self.gtins()
        levels = [PackagingLevel("EA", 1, gtins["EA"])]
        if self.each_per_box > 1:
            levels.append(PackagingLevel("BX", self.each_per_box, gtins["BX"]))
        if self.boxes_per_case > 1:
            per_case = self.each_per_box * self.boxes_per_case
            levels.append(PackagingLevel("CS", per_case, gtins["CS"]))
        return Packaging(tuple(levels))

    def each_per(self, uom: str) -> int:
        if uom == "EA":
            return 1
        if uom == "BX":
            return self.each_per_box
        return self.each_per_box * self.boxes_per_case

    def list_price(self) -> Decimal:
        """The supplier's list price per purchase unit of measure."""
        return (self.each_price * self.each_per(self.purchase_uom)).quantize(_CENT)


def item_id(index: int) -> str:
    return f"ITM-{index:06d}"


class Catalog:
    """The item master of one profile and seed, and who carries what."""

    def __init__(self, organization: Organization) -> None:
        self.organization = organization
        self.profile: Profile = organization.profile
        salt = hashlib.blake2b(f"{organization.seed}:carried".encode(), digest_size=4).digest()
        self._salt = int.from_bytes(salt, "big")

    def drafts(self) -> Iterator[ItemDraft]:
        """Every item's draft, in id order, from a fresh ``items`` RNG."""
        rng = self.organization.rng("items")
        roles = self.organization.supplier_roles
        distributors = [role for role in roles if role.is_distributor]
        makers = [role for role in roles if not role.is_distributor] or list(roles)
        by_specialty = {
            specialty: [role for role in makers if role.specialty == specialty] or makers
            for specialty in words.SPECIALTIES
        }
        implant_weights = list(accumulate(c.weight for c in words.IMPLANTS))
        supply_weights = list(accumulate(c.weight for c in words.SUPPLIES))
        next_reference: dict[int, int] = {}
        codes = {role.number: (letters(role.number), company_prefix(role.number)) for role in roles}
        profile = self.profile
        for index in range(1, profile.items + 1):
            implant = rng.random() < profile.implant_share
            pool, weights = (
                (words.IMPLANTS, implant_weights) if implant else (words.SUPPLIES, supply_weights)
            )
            category = rng.choices(pool, cum_weights=weights)[0]
            maker = rng.choice(by_specialty[category.specialty])
            via_distributor = not implant and rng.random() < 0.7
            supplier = rng.choice(distributors) if via_distributor and distributors else maker
            reference = next_reference.get(maker.number, 0) + 1
            code, prefix = codes[maker.number]
            next_reference[maker.number] = reference
            each_per_box, boxes_per_case = rng.choice(category.boxes)
            by_box = each_per_box > 1 and boxes_per_case > 1 and rng.random() < 0.3
            cents = rng.randint(int(category.price_low * 100), int(category.price_high * 100))
            each_price = Decimal(cents).scaleb(-2)
            markup = Decimal(rng.randint(250, 500)).scaleb(-2)
            chargeable = category.hcpcs is not None or (rng.random() < profile.chargeable_share)
            yield ItemDraft(
                index=index,
                category=category,
                description=f"{rng.choice(category.nouns)}, {rng.choice(category.variants)}",
                manufacturer=maker,
                supplier_number=supplier.number,
                catalog_number=f"{code}-{reference:05d}",
                gtin_body=f"{prefix}{reference:05d}",
                each_per_box=each_per_box,
                boxes_per_case=boxes_per_case,
                purchase_uom=_purchase_uom(implant, each_per_box, boxes_per_case, by_box),
                each_price=each_price,
                charge_price=(each_price * markup).quantize(_CENT),
                is_consignment=implant and rng.random() < profile.consignment_share,
                is_chargeable=chargeable,
            )

    @cached_property
    def catalog(self) -> tuple[ItemDraft, ...]:
        """Every draft, kept for the streams that need the whole item master at hand."""
        return tuple(self.drafts())

    def items(self) -> Iterator[Item]:
        names = self.organization.supplier_names
        for draft in self.drafts():
            category = draft.category
            labeler = draft.manufacturer.hibc_labeler
            product = draft.catalog_number.replace("-", "")
            yield Item(
                id=draft.id,
                description=draft.description,
                manufacturer=names[draft.manufacturer.number - 1],
                catalog_number=draft.catalog_number,
                packaging=draft.packaging(),
                purchase_uom=draft.purchase_uom,
                supplier_id=supplier_id(draft.supplier_number),
                hibc=make_hibc_primary(labeler, product, 0) if labeler else None,
                unspsc=category.unspsc,
                is_implant=category.is_implant,
                is_consignment=draft.is_consignment,
                is_chargeable=draft.is_chargeable,
                cdm_code=draft.cdm_code,
                hcpcs=category.hcpcs if draft.is_chargeable else None,
                revenue_code=category.revenue_code if draft.is_chargeable else None,
                list_price=draft.list_price(),
            )

    def carries(self, facility_number: int, index: int) -> bool:
        """Whether the hospital stocks and uses item ``index`` (a seeded hash, not a draw)."""
        value = (index * 0x9E3779B1 + facility_number * 0x85EBCA77 + self._salt) & 0xFFFFFFFF
        value = ((value ^ (value >> 16)) * 0x45D9F3B) & 0xFFFFFFFF
        value ^= value >> 16
        return value % _BUCKETS < self.profile.item_coverage * _BUCKETS

    @cached_property
    def stocked(self) -> dict[tuple[int, LocationKind, bool], tuple[ItemDraft, ...]]:
        """Carried items per (hospital, location kind, is implant), in id order."""
        lists: dict[tuple[int, LocationKind, bool], list[ItemDraft]] = {}
        for number in range(1, self.profile.hospitals + 1):
            for draft in self.catalog:
                if not self.carries(number, draft.index):
                    continue
                for kind in draft.category.locations:
                    key = (number, kind, draft.category.is_implant)
                    lists.setdefault(key, []).append(draft)
        return {key: tuple(value) for key, value in lists.items()}


def _purchase_uom(implant: bool, each_per_box: int, boxes_per_case: int, by_box: bool) -> str:
    if implant or (each_per_box == 1 and boxes_per_case == 1):
        return "EA"
    if by_box:
        return "BX"
    return "CS" if boxes_per_case > 1 else "BX"
