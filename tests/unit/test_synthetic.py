"""The synthetic health system's master data: reproducible, the size promised, and valid.

Every test reads the demo profile for seed 42, generated once per module; a second generator
shows what depends on the seed and what must not.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from suture.domain.authority import ObjectType
from suture.domain.contracts import Contract, price_for
from suture.domain.crosswalk import CrosswalkEntry, CrosswalkKind
from suture.domain.errors import DomainError
from suture.domain.identifiers import (
    parse_hibc_primary,
    validate_gln,
    validate_gtin,
    validate_unspsc,
)
from suture.domain.masterdata import (
    CostCenter,
    Department,
    Facility,
    Item,
    Location,
    LocationKind,
    ParLevel,
    Supplier,
)
from suture.domain.quality import DEFAULT_RULES, evaluate_all
from suture.services.synthetic import PROFILES, HealthSystemGenerator

AT = datetime(2025, 6, 1, tzinfo=UTC)
DEMO = PROFILES["demo"]


@dataclass(frozen=True)
class Demo:
    """Every master-data stream of one generator, materialised."""

    facilities: list[Facility]
    cost_centers: list[CostCenter]
    departments: list[Department]
    locations: list[Location]
    suppliers: list[Supplier]
    items: list[Item]
    contracts: list[Contract]
    par_levels: list[ParLevel]
    crosswalks: list[CrosswalkEntry]


def materialise(generator: HealthSystemGenerator) -> Demo:
    return Demo(
        facilities=list(generator.facilities()),
        cost_centers=list(generator.cost_centers()),
        departments=list(generator.departments()),
        locations=list(generator.locations()),
        suppliers=list(generator.suppliers()),
        items=list(generator.items()),
        contracts=list(generator.contracts()),
        par_levels=list(generator.par_levels()),
        crosswalks=list(generator.crosswalks(AT)),
    )


@pytest.fixture(scope="module")
def demo() -> Demo:
    return materialise(HealthSystemGenerator(DEMO, 42))


def test_same_seed_yields_identical_objects(demo: Demo) -> None:
    assert materialise(HealthSystemGenerator(DEMO, 42)) == demo


def test_streams_do_not_depend_on_the_order_they_are_read_in(demo: Demo) -> None:
    generator = HealthSystemGenerator(DEMO, 42)
    crosswalks = list(generator.crosswalks(AT))
    par_levels = list(generator.par_levels())
    contracts = list(generator.contracts())

    assert (contracts, par_levels, crosswalks) == (
        demo.contracts,
        demo.par_levels,
        demo.crosswalks,
    )


def test_another_seed_yields_another_system_under_the_same_ids(demo: Demo) -> None:
    other = HealthSystemGenerator(DEMO, 7)
    items = list(other.items())

    assert [item.id for item in items] == [item.id for item in demo.items]
    assert [item.description for item in items] != [item.description for item in demo.items]
    assert [s.name for s in other.suppliers()] != [s.name for s in demo.suppliers]


def test_demo_profile_has_the_stated_size(demo: Demo) -> None:
    implants = [item for item in demo.items if item.is_implant]
    consigned = [item for item in implants if item.is_consignment]

    assert len(demo.facilities) == 3
    assert 25 <= len(demo.departments) <= 35
    assert 25 <= len(demo.cost_centers) <= 35
    assert 35 <= len(demo.suppliers) <= 45
    assert 4_500 <= len(demo.items) <= 5_500
    assert 400 <= len(implants) <= 600
    assert len(consigned) > len(implants) / 2
    assert len(demo.contracts) > 0
    assert len(demo.par_levels) > 0


def test_large_profile_is_a_health_system_of_ten_hospitals_and_100000_items() -> None:
    large = PROFILES["large"]

    assert (large.hospitals, large.suppliers, large.items >= 100_000) == (10, 400, True)


def test_every_hospital_has_an_or_a_cath_lab_and_central_supply(demo: Demo) -> None:
    kinds = {(loc.facility_id, loc.kind) for loc in demo.locations}
    wanted = {LocationKind.OPERATING_ROOM, LocationKind.CATH_LAB, LocationKind.CENTRAL_SUPPLY}

    for facility in demo.facilities:
        assert wanted <= {kind for where, kind in kinds if where == facility.id}


def test_every_gtin_gln_hibc_and_unspsc_is_valid(demo: Demo) -> None:
    for item in demo.items:
        for gtin in item.gtins:
            assert validate_gtin(gtin) == gtin
        assert item.hibc is None or parse_hibc_primary(item.hibc).unit_of_measure == 0
        assert validate_unspsc(item.unspsc or "").startswith("42")
    glns = [f.gln for f in demo.facilities] + [s.gln for s in demo.suppliers]
    for gln in glns:
        assert validate_gln(gln or "") == gln
    assert len(set(glns)) == len(glns)


def test_items_are_packaged_each_box_case_with_a_gtin_per_level(demo: Demo) -> None:
    shapes = Counter(tuple(level.uom for level in item.packaging.levels) for item in demo.items)

    assert set(shapes) <= {("EA",), ("EA", "CS"), ("EA", "BX", "CS")}
    assert shapes[("EA", "BX", "CS")] > 0
    for item in demo.items:
        cases = [level for level in item.packaging.levels if level.uom == "CS"]
        assert all(level.each_per_unit > 1 and level.gtin for level in cases)
        assert item.purchase_uom in {level.uom for level in item.packaging.levels}


def test_some_items_carry_hibc_codes(demo: Demo) -> None:
    assert 0 < sum(item.hibc is not None for item in demo.items) < len(demo.items)


def test_no_two_objects_share_an_id_a_gtin_or_a_catalog_number(demo: Demo) -> None:
    gtins = [gtin for item in demo.items for gtin in item.gtins]
    catalog = [(item.manufacturer, item.catalog_number) for item in demo.items]
    cdm = [item.cdm_code for item in demo.items if item.cdm_code]
    for objects in (demo.facilities, demo.departments, demo.cost_centers, demo.locations,
                    demo.suppliers, demo.items, demo.contracts, demo.par_levels):  # fmt: skip
        ids = [obj.id for obj in objects]
        assert len(ids) == len(set(ids))
    assert (len(set(gtins)), len(set(catalog)), len(set(cdm))) == (
        len(gtins),
        len(catalog),
        len(cdm),
    )


def test_every_department_maps_to_a_cost_center_of_its_own_hospital(demo: Demo) -> None:
    cost_centers = {cc.id: cc.facility_id for cc in demo.cost_centers}

    for department in demo.departments:
        assert cost_centers[department.cost_center_id] == department.facility_id


def test_every_location_belongs_to_a_department_of_its_hospital(demo: Demo) -> None:
    departments = {d.id: d.facility_id for d in demo.departments}

    for location in demo.locations:
        assert departments[location.department_id or ""] == location.facility_id


def test_contract_prices_price_existing_items_at_tiers_members_buy_at(demo: Demo) -> None:
    items = {item.id: item for item in demo.items}
    suppliers = {supplier.id for supplier in demo.suppliers}

    for contract in demo.contracts:
        tiers = {membership.tier for membership in contract.memberships}
        assert contract.supplier_id in suppliers
        for price in contract.prices:
            item = items[price.item_id]
            assert (price.tier in tiers, item.supplier_id, price.uom) == (
                True,
                contract.supplier_id,
                item.purchase_uom,
            )
            assert Decimal(0) < price.unit_price < (item.list_price or Decimal(0))


def test_hospitals_belong_to_contracts_at_different_tiers(demo: Demo) -> None:
    tiers = {m.tier for contract in demo.contracts for m in contract.memberships}

    assert tiers == {"TIER1", "TIER2", "TIER3"}


def test_chargeable_implants_bill_under_0278_with_a_device_hcpcs(demo: Demo) -> None:
    implants = [item for item in demo.items if item.is_implant and item.is_chargeable]

    assert implants
    for item in implants:
        assert (item.revenue_code, (item.hcpcs or "")[:1], bool(item.cdm_code)) == (
            "0278",
            "C",
            True,
        )


def test_consignment_is_only_for_implants(demo: Demo) -> None:
    assert all(item.is_implant for item in demo.items if item.is_consignment)


def test_money_is_decimal_to_the_cent(demo: Demo) -> None:
    prices = [item.list_price for item in demo.items]
    prices += [price.unit_price for contract in demo.contracts for price in contract.prices]

    assert all(isinstance(p, Decimal) and p == p.quantize(Decimal("0.01")) for p in prices)


def test_par_levels_stock_carried_items_with_par_above_reorder_point(demo: Demo) -> None:
    locations = {location.id: location for location in demo.locations}
    carried = {
        (entry.key.facility_id, entry.canonical_id)
        for entry in demo.crosswalks
        if entry.key.kind is CrosswalkKind.ITEM
    }

    for par in demo.par_levels:
        assert locations[par.location_id].facility_id == par.facility_id
        assert (par.facility_id, par.item_id) in carried
        assert par.par >= par.reorder_point > 0


def test_crosswalks_map_item_numbers_vendor_numbers_and_cdm_codes(demo: Demo) -> None:
    items = {item.id: item for item in demo.items}
    suppliers = {supplier.id: supplier for supplier in demo.suppliers}
    keys = [entry.key for entry in demo.crosswalks]
    by_kind = Counter((key.source_system, key.kind, key.facility_id is None) for key in keys)

    assert len(keys) == len(set(keys))
    assert set(by_kind) == {
        ("erp", CrosswalkKind.SUPPLIER, True),
        ("materials", CrosswalkKind.ITEM, False),
        ("rcm", CrosswalkKind.CHARGE_CODE, False),
    }
    for entry in demo.crosswalks:
        assert entry.valid_from == AT
        if entry.key.kind is CrosswalkKind.SUPPLIER:
            assert suppliers[entry.canonical_id].erp_vendor_id == entry.key.local_code
        elif entry.key.kind is CrosswalkKind.CHARGE_CODE:
            assert items[entry.canonical_id].cdm_code == entry.key.local_code
        else:
            assert entry.canonical_id in items


@dataclass(frozen=True)
class KnownIds:
    ids: frozenset[tuple[ObjectType, str]]

    def exists(self, object_type: ObjectType, object_id: str) -> bool:
        return (object_type, object_id) in self.ids


def test_default_data_quality_rules_find_nothing_wrong(demo: Demo) -> None:
    groups: dict[ObjectType, list[Any]] = {
        ObjectType.FACILITY: demo.facilities,
        ObjectType.COST_CENTER: demo.cost_centers,
        ObjectType.DEPARTMENT: demo.departments,
        ObjectType.LOCATION: demo.locations,
        ObjectType.SUPPLIER: demo.suppliers,
        ObjectType.ITEM: demo.items,
        ObjectType.CONTRACT: demo.contracts,
        ObjectType.PAR_LEVEL: demo.par_levels,
    }
    typed = [(kind, obj) for kind, objects in groups.items() for obj in objects]
    refs = KnownIds(frozenset((kind, obj.id) for kind, obj in typed))

    assert list(evaluate_all(DEFAULT_RULES, typed, refs)) == []


def test_names_are_plainly_synthetic(demo: Demo) -> None:
    assert all(f.name.startswith("Synthetic ") for f in demo.facilities)
    made_up = ("Example", "Sample", "Synthetic", "Placeholder", "Demo", "Fictional", "Testbed",
               "Mock", "Imaginary", "Notional")  # fmt: skip
    assert all(s.name.startswith(made_up) for s in demo.suppliers)


def test_crosswalks_refuse_a_naive_time() -> None:
    generator = HealthSystemGenerator(DEMO, 42)

    with pytest.raises(DomainError, match="at: must be timezone-aware"):
        next(generator.crosswalks(datetime(2025, 6, 1)))  # noqa: DTZ001 - the naive time refused


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"implant_share": 1.5}, "implant_share"),
        ({"items": 0}, "items"),
        ({"departments_per_hospital": 4}, "departments_per_hospital"),
    ],
)
def test_profile_refuses_impossible_shapes(change: dict[str, object], field: str) -> None:
    with pytest.raises(DomainError) as raised:
        replace(DEMO, **change)  # type: ignore[arg-type]

    assert raised.value.field == field


def test_member_hospitals_buy_contracted_items_at_their_tier_for_years(demo: Demo) -> None:
    contract = next(c for c in demo.contracts if c.prices and c.effective_to is None)
    item = next(item for item in demo.items if item.id == contract.prices[0].item_id)
    membership = contract.memberships[0]
    on_date = date(2030, 1, 1)

    quote = price_for([contract], item, membership.facility_id, on_date, item.purchase_uom)

    assert quote is not None
    assert (quote.contract_id, quote.tier) == (contract.id, membership.tier)


def test_a_few_contracts_have_lapsed(demo: Demo) -> None:
    lapsed = [c for c in demo.contracts if c.effective_to is not None]

    assert 0 < len(lapsed) < len(demo.contracts) / 2
