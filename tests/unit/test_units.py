"""Units of measure: an item's packaging hierarchy, exact conversions, and what can be ordered.

The gloves used throughout come by the each, in boxes of 12 and in cases of 10 boxes (120 eaches);
the sutures come in packs of 3 and cases of 24, so that some conversions do not divide evenly.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.domain.errors import UnitConversionError
from suture.domain.units import KNOWN_UOMS, Packaging, PackagingLevel

EACH = PackagingLevel("EA", 1, gtin="00615375003978")
BOX = PackagingLevel("BX", 12, gtin="10615375003968")
CASE = PackagingLevel("CS", 120, gtin="20615375003965")
GLOVES = Packaging.of([EACH, BOX, CASE])
SUTURES = Packaging.of([PackagingLevel("EA", 1), PackagingLevel("PK", 3), PackagingLevel("CS", 24)])


def refusal(action: Callable[..., object], *args: object) -> tuple[str, str]:
    """The (field, reason) with which ``action`` refuses ``args``."""
    with pytest.raises(UnitConversionError) as caught:
        action(*args)
    return caught.value.field, caught.value.reason


# Building a packaging hierarchy


def test_packaging_refuses_a_unit_listed_twice() -> None:
    assert refusal(Packaging.of, [EACH, BOX, PackagingLevel("BX", 10)]) == (
        "uom",
        "BX is listed twice",
    )


def test_packaging_refuses_a_hierarchy_without_a_base_level_of_one_each() -> None:
    assert refusal(Packaging.of, [BOX, CASE]) == ("uom", "no base level holding exactly 1 each")


def test_a_packaging_level_refuses_to_hold_no_eaches() -> None:
    assert refusal(PackagingLevel, "BX", 0) == (
        "each_per_unit",
        "BX must hold at least 1 each, got 0",
    )


def test_the_base_unit_is_the_level_holding_one_each_wherever_it_is_listed() -> None:
    assert Packaging.of([CASE, BOX, EACH]).base_uom == "EA"


# Converting quantities


@pytest.mark.parametrize(
    ("quantity", "from_uom", "to_uom", "expected"),
    [
        ("2", "CS", "EA", "240"),
        ("6", "EA", "BX", "0.5"),
        ("3", "EA", "BX", "0.25"),
        ("1", "BX", "CS", "0.1"),
        ("30", "BX", "CS", "3"),
        ("7", "EA", "EA", "7"),
    ],
)
def test_convert_expresses_a_quantity_in_another_unit_exactly(
    quantity: str, from_uom: str, to_uom: str, expected: str
) -> None:
    assert GLOVES.convert(Decimal(quantity), from_uom, to_uom) == Decimal(expected)


def test_converting_from_an_unknown_unit_names_the_field_and_lists_the_items_units() -> None:
    assert refusal(GLOVES.convert, Decimal(1), "PK", "EA") == (
        "uom",
        "unknown unit 'PK'; the item has EA, BX, CS",
    )


def test_converting_to_an_unknown_unit_is_refused() -> None:
    assert refusal(GLOVES.convert, Decimal(1), "EA", "DZ") == (
        "uom",
        "unknown unit 'DZ'; the item has EA, BX, CS",
    )


def test_converting_an_unknown_unit_to_itself_is_refused() -> None:
    assert refusal(GLOVES.convert, Decimal(1), "DZ", "DZ") == (
        "uom",
        "unknown unit 'DZ'; the item has EA, BX, CS",
    )


def test_to_each_counts_the_eaches_in_a_quantity() -> None:
    assert GLOVES.to_each(Decimal(3), "BX") == Decimal(36)


# Rounding up to the unit an item is bought in


@pytest.mark.parametrize(
    ("eaches", "uom", "expected"),
    [
        ("13", "BX", "2"),
        ("12", "BX", "1"),
        ("0.5", "BX", "1"),
        ("0", "BX", "0"),
        ("121", "CS", "2"),
        ("5", "EA", "5"),
    ],
)
def test_round_up_to_orders_the_fewest_whole_units_that_hold_the_eaches(
    eaches: str, uom: str, expected: str
) -> None:
    assert GLOVES.round_up_to(Decimal(eaches), uom) == Decimal(expected)


# Converting prices


def test_a_price_per_case_is_expressed_per_each() -> None:
    assert GLOVES.convert_price(Decimal("90.00"), "CS", "EA") == Decimal("0.75")


def test_a_price_per_box_is_expressed_per_case() -> None:
    assert GLOVES.convert_price(Decimal("10.80"), "BX", "CS") == Decimal("108.00")


def test_a_price_per_pack_is_expressed_per_case_without_rounding_through_the_each() -> None:
    # 100.00 / 3 has no exact Decimal; 100.00 * 24 / 3 has.
    assert SUTURES.convert_price(Decimal("100.00"), "PK", "CS") == Decimal("800.00")


def test_a_price_in_an_unknown_unit_is_refused() -> None:
    assert refusal(GLOVES.convert_price, Decimal("1.00"), "DZ", "DZ") == (
        "uom",
        "unknown unit 'DZ'; the item has EA, BX, CS",
    )


# Finding a level by the GTIN printed on it


def test_by_gtin_finds_the_level_carrying_that_gtin() -> None:
    assert GLOVES.by_gtin("10615375003968") == BOX


def test_by_gtin_of_a_gtin_on_no_level_is_none() -> None:
    assert GLOVES.by_gtin("00614141000005") is None


# Properties

quantities = st.decimals(min_value=0, max_value=1_000_000, places=4)
prices = st.decimals(min_value=0, max_value=100_000, places=2)
packagings = st.dictionaries(
    st.sampled_from(sorted(KNOWN_UOMS - {"EA"})), st.integers(min_value=2, max_value=1000)
).map(
    lambda sizes: Packaging.of([EACH, *(PackagingLevel(uom, each) for uom, each in sizes.items())])
)
packagings_and_units = packagings.flatmap(
    lambda packaging: st.tuples(
        st.just(packaging), st.sampled_from([level.uom for level in packaging.levels])
    )
)


@given(packagings_and_units, quantities)
def test_converting_to_eaches_and_back_returns_the_quantity(
    packaging_and_unit: tuple[Packaging, str], quantity: Decimal
) -> None:
    packaging, uom = packaging_and_unit
    eaches = packaging.convert(quantity, uom, "EA")
    assert packaging.convert(eaches, "EA", uom) == quantity


@given(packagings_and_units, quantities)
def test_converting_to_the_base_unit_counts_eaches(
    packaging_and_unit: tuple[Packaging, str], quantity: Decimal
) -> None:
    packaging, uom = packaging_and_unit
    assert packaging.convert(quantity, uom, packaging.base_uom) == packaging.to_each(quantity, uom)


@given(packagings_and_units, quantities)
def test_round_up_to_orders_whole_units(
    packaging_and_unit: tuple[Packaging, str], eaches: Decimal
) -> None:
    packaging, uom = packaging_and_unit
    units = packaging.round_up_to(eaches, uom)
    assert units == units.to_integral_value()


@given(packagings_and_units, quantities)
def test_round_up_to_holds_the_eaches_with_less_than_one_unit_to_spare(
    packaging_and_unit: tuple[Packaging, str], eaches: Decimal
) -> None:
    packaging, uom = packaging_and_unit
    per_unit = packaging.level(uom).each_per_unit
    units = packaging.round_up_to(eaches, uom)
    assert (units - 1) * per_unit < eaches <= units * per_unit


@given(packagings_and_units, prices)
def test_a_price_per_each_converted_to_a_unit_and_back_is_unchanged(
    packaging_and_unit: tuple[Packaging, str], price: Decimal
) -> None:
    packaging, uom = packaging_and_unit
    per_unit = packaging.convert_price(price, "EA", uom)
    assert packaging.convert_price(per_unit, uom, "EA") == price


packs_and_cases = st.tuples(
    st.integers(min_value=2, max_value=50), st.integers(min_value=2, max_value=50)
)


@given(packs_and_cases, prices)
def test_a_price_per_pack_times_packs_per_case_is_the_price_per_case(
    sizes: tuple[int, int], price: Decimal
) -> None:
    each_per_pack, packs_per_case = sizes
    packaging = Packaging.of(
        [
            EACH,
            PackagingLevel("PK", each_per_pack),
            PackagingLevel("CS", each_per_pack * packs_per_case),
        ]
    )
    assert packaging.convert_price(price, "PK", "CS") == price * packs_per_case


def test_a_packaging_level_stores_a_short_gtin_in_its_gtin_14_form() -> None:
    assert PackagingLevel("EA", 1, gtin="4006381333931").gtin == "04006381333931"


def test_a_packaging_level_keeps_a_malformed_gtin_for_the_quality_report() -> None:
    assert PackagingLevel("EA", 1, gtin="40063-81333").gtin == "40063-81333"
