"""Contracts, par levels and crosswalks of the synthetic health system.

These streams read the item master through :class:`~.catalog.Catalog` (its cached drafts) and
draw from their own RNGs, so asking for contracts before or after items changes nothing.

Local codes are functions of canonical positions, not of the seed: a hospital's materials
number for item ``i`` is an affine bijection of ``i`` modulo 10^7, the ERP vendor number of
supplier ``n`` is ``V1000nn``, the CDM code embeds the item index. Re-seeding a database with
another seed therefore adds mappings but never asks a code to change its canonical id.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from random import Random

from suture.domain.contracts import Contract, ContractMembership, ContractPrice
from suture.domain.crosswalk import CrosswalkEntry, CrosswalkKey, CrosswalkKind
from suture.domain.errors import DomainError
from suture.domain.masterdata import ParLevel
from suture.services.synthetic import vocabulary as words
from suture.services.synthetic.catalog import Catalog, ItemDraft, item_id
from suture.services.synthetic.organization import erp_vendor_id, facility_id, supplier_id

TIERS = ("TIER1", "TIER2", "TIER3")
#: Extra discount of each tier over the contract's base discount.
_TIER_DISCOUNT = {"TIER1": Decimal("0.04"), "TIER2": Decimal("0.02"), "TIER3": Decimal(0)}
_CENT = Decimal("0.01")
_LOCAL_MODULUS = 10**7
_MULTIPLIERS = (1_000_003, 3_000_017, 7_000_003, 9_000_011, 1_100_009, 3_300_001, 7_700_003)

#: Source systems of the crosswalks, named as in the authority registry's reference model.
ERP, MATERIALS, RCM = "erp", "materials", "rcm"
#: Who recorded the synthetic crosswalk entries, so they can be told from real ones.
SEEDER = "suture-seed"


def contracts(catalog: Catalog) -> Iterator[Contract]:
    """``profile.contracts`` contracts, dealt round-robin to suppliers, each pricing a share of
    its supplier's items at every tier a member facility buys at.

    Each item is priced by at most one contract, so ``price_for`` has one answer per tier."""
    organization, profile = catalog.organization, catalog.profile
    rng = organization.rng("contracts")
    by_supplier: dict[int, list[ItemDraft]] = {}
    for draft in catalog.catalog:
        by_supplier.setdefault(draft.supplier_number, []).append(draft)
    names = organization.supplier_names
    for number in range(1, profile.contracts + 1):
        supplier = (number - 1) % profile.suppliers + 1
        # The supplier's items are dealt to its contracts by index: slot k of n takes i % n == k.
        slot = (number - 1) // profile.suppliers
        slots = len(range(supplier, profile.contracts + 1, profile.suppliers))
        base = Decimal(rng.randint(8, 25)) / 100
        gpo = rng.choice(words.GPOS) if rng.random() < 0.8 else None
        start = profile.contract_start + timedelta(days=rng.randrange(180))
        # Most agreements run until terminated, so the demo prices on contract whenever it is
        # run; one in ten ended after two years, leaving its items off contract.
        lapsed = rng.random() < 0.1
        memberships = _memberships(rng, profile.hospitals, start)
        tiers = sorted({membership.tier for membership in memberships})
        prices = [
            price
            for draft in by_supplier.get(supplier, ())
            if draft.index % slots == slot and rng.random() < profile.on_contract_share
            for price in _prices(rng, draft, tiers, base, start)
        ]
        yield Contract(
            id=f"CON-{number:05d}",
            number=f"SYN-{'GPO' if gpo else 'LOC'}-{number:05d}",
            supplier_id=supplier_id(supplier),
            name=f"{names[supplier - 1]} {'GPO' if gpo else 'local'} agreement",
            effective_from=start,
            effective_to=start + timedelta(days=2 * 365 - 1) if lapsed else None,
            gpo=gpo,
            memberships=memberships,
            prices=prices,
        )


def _memberships(rng: Random, hospitals: int, start: date) -> list[ContractMembership]:
    """Most hospitals join at a random tier, a few a quarter late; at least one always does."""
    memberships = []
    for facility in range(1, hospitals + 1):
        if rng.random() < 0.9:
            joined = start + timedelta(days=90) if rng.random() < 0.1 else start
            tier = rng.choice(TIERS)
            memberships.append(ContractMembership(
                facility_id=facility_id(facility), tier=tier, effective_from=joined
            ))  # fmt: skip
    if not memberships:
        memberships.append(ContractMembership(
            facility_id=facility_id(1), tier="TIER2", effective_from=start
        ))  # fmt: skip
    return memberships


def _prices(
    rng: Random, draft: ItemDraft, tiers: list[str], base: Decimal, start: date
) -> list[ContractPrice]:
    """The item's price per tier in its purchase unit; one in ten rises 3 % after a year."""
    escalates = rng.random() < 0.1
    year_two = start + timedelta(days=365)
    prices = []
    for tier in tiers:
        price = (draft.list_price() * (1 - base - _TIER_DISCOUNT[tier])).quantize(_CENT)
        uom = draft.purchase_uom
        if not escalates:
            prices.append(ContractPrice(item_id=draft.id, tier=tier, uom=uom, unit_price=price))
            continue
        raised = (price * Decimal("1.03")).quantize(_CENT)
        prices += [
            ContractPrice(item_id=draft.id, tier=tier, uom=uom, unit_price=price,
                          effective_from=start, effective_to=year_two - timedelta(days=1)),
            ContractPrice(item_id=draft.id, tier=tier, uom=uom, unit_price=raised,
                          effective_from=year_two),
        ]  # fmt: skip
    return prices


def par_levels(catalog: Catalog) -> Iterator[ParLevel]:
    """Up to ``par_items_per_location`` carried items per location, picked per location kind."""
    rng = catalog.organization.rng("par-levels")
    for plan in catalog.organization.location_plan:
        candidates = [
            *catalog.stocked.get((plan.facility_number, plan.kind, True), ()),
            *catalog.stocked.get((plan.facility_number, plan.kind, False), ()),
        ]
        size = min(catalog.profile.par_items_per_location, len(candidates))
        chosen = sorted(rng.sample(candidates, size), key=lambda draft: draft.index)
        for draft in chosen:
            if draft.category.is_implant:
                par, reorder, lead = rng.randint(1, 4), 1, 1
            else:
                unit = draft.each_per("BX" if draft.each_per_box > 1 else draft.purchase_uom)
                par = unit * rng.randint(2, 8)
                reorder, lead = max(1, par * 3 // 10), rng.randint(1, 5)
            yield ParLevel(
                id=f"PAR-{plan.location_id.removeprefix('LOC-')}-{draft.index:06d}",
                facility_id=facility_id(plan.facility_number),
                location_id=plan.location_id,
                item_id=draft.id,
                reorder_point=Decimal(reorder),
                par=Decimal(par),
                uom="EA",
                lead_time_days=lead,
            )


def local_item_number(facility_number: int, index: int) -> str:
    """The hospital's materials-system number of item ``index``: unique per hospital."""
    multiplier = _MULTIPLIERS[(facility_number - 1) % len(_MULTIPLIERS)]
    offset = facility_number * 1_234_567
    return f"{(index * multiplier + offset) % _LOCAL_MODULUS:07d}"


def crosswalks(catalog: Catalog, at: datetime) -> Iterator[CrosswalkEntry]:
    """ERP vendor numbers (system-wide), then per hospital its item numbers and CDM codes."""
    if at.tzinfo is None:
        raise DomainError("at", "must be timezone-aware")
    if catalog.profile.items >= _LOCAL_MODULUS:
        raise DomainError("items", f"local item numbers hold fewer than {_LOCAL_MODULUS} items")
    for number in range(1, catalog.profile.suppliers + 1):
        key = CrosswalkKey(ERP, None, CrosswalkKind.SUPPLIER, erp_vendor_id(number))
        yield _entry(key, supplier_id(number), at)
    for facility in range(1, catalog.profile.hospitals + 1):
        where = facility_id(facility)
        for draft in catalog.catalog:
            if not catalog.carries(facility, draft.index):
                continue
            local = local_item_number(facility, draft.index)
            key = CrosswalkKey(MATERIALS, where, CrosswalkKind.ITEM, local)
            yield _entry(key, item_id(draft.index), at)
            cdm = draft.cdm_code
            if cdm is not None:
                key = CrosswalkKey(RCM, where, CrosswalkKind.CHARGE_CODE, cdm)
                yield _entry(key, item_id(draft.index), at)


def _entry(key: CrosswalkKey, canonical_id: str, at: datetime) -> CrosswalkEntry:
    return CrosswalkEntry(key=key, canonical_id=canonical_id, valid_from=at, recorded_by=SEEDER)
