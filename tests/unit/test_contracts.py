"""Contract prices: what a facility should pay for an item on a day, in the unit it asks for.

The contract ``GPO-100`` runs through 2025 and prices gloves per each at two tiers; St Mary's
(``fac-1``) buys at tier 2 from March to June. Gloves come in boxes of 12 and cases of 120.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.domain.contracts import (
    Contract,
    ContractMembership,
    ContractPrice,
    PriceQuote,
    price_for,
)
from suture.domain.errors import DomainError
from suture.domain.masterdata import Item
from suture.domain.units import Packaging, PackagingLevel

GLOVES = Item(
    id="item-gloves",
    description="Exam glove, nitrile, medium",
    manufacturer="Medline",
    catalog_number="MDS195085",
    packaging=Packaging.of(
        [PackagingLevel("EA", 1), PackagingLevel("BX", 12), PackagingLevel("CS", 120)]
    ),
    purchase_uom="BX",
)
MAY_1 = date(2025, 5, 1)
TIER_2_PER_EACH = PriceQuote(
    contract_id="c-1", contract_number="GPO-100", tier="2", uom="EA", unit_price=Decimal("1.80")
)


def membership(
    facility_id: str = "fac-1",
    tier: str = "2",
    effective_from: date = date(2025, 3, 1),
    effective_to: date | None = date(2025, 6, 30),
) -> ContractMembership:
    return ContractMembership(
        facility_id=facility_id, tier=tier, effective_from=effective_from, effective_to=effective_to
    )


def price(
    unit_price: str,
    *,
    tier: str = "2",
    uom: str = "EA",
    item_id: str = GLOVES.id,
    effective_from: date | None = None,
    effective_to: date | None = None,
) -> ContractPrice:
    return ContractPrice(
        item_id=item_id,
        tier=tier,
        uom=uom,
        unit_price=Decimal(unit_price),
        effective_from=effective_from,
        effective_to=effective_to,
    )


def contract(
    *,
    contract_id: str = "c-1",
    number: str = "GPO-100",
    effective_from: date = date(2025, 1, 1),
    effective_to: date | None = date(2025, 12, 31),
    memberships: tuple[ContractMembership, ...] = (membership(),),
    prices: tuple[ContractPrice, ...] = (price("2.00", tier="1"), price("1.80", tier="2")),
) -> Contract:
    return Contract(
        id=contract_id,
        number=number,
        supplier_id="sup-medline",
        name="Exam gloves",
        effective_from=effective_from,
        effective_to=effective_to,
        memberships=list(memberships),
        prices=list(prices),
    )


def refusal(build: type[object], **fields: object) -> tuple[str, str]:
    """The (field, reason) with which ``build`` refuses ``fields``."""
    with pytest.raises(DomainError) as caught:
        build(**fields)
    return caught.value.field, caught.value.reason


# Who gets a price


def test_a_member_gets_the_price_of_its_tier() -> None:
    assert price_for([contract()], GLOVES, "fac-1", MAY_1, "EA") == TIER_2_PER_EACH


def test_a_facility_that_is_not_a_member_gets_no_price() -> None:
    assert price_for([contract()], GLOVES, "fac-2", MAY_1, "EA") is None


@pytest.mark.parametrize("on_date", [date(2025, 2, 28), date(2025, 7, 1)])
def test_a_member_gets_no_price_outside_its_membership(on_date: date) -> None:
    assert price_for([contract()], GLOVES, "fac-1", on_date, "EA") is None


@pytest.mark.parametrize("on_date", [date(2025, 3, 1), date(2025, 6, 30)])
def test_a_membership_covers_its_first_and_last_day(on_date: date) -> None:
    assert price_for([contract()], GLOVES, "fac-1", on_date, "EA") == TIER_2_PER_EACH


def test_an_expired_contract_gives_no_price_to_a_standing_member() -> None:
    expired = contract(effective_to=date(2025, 4, 30), memberships=(membership(effective_to=None),))
    assert price_for([expired], GLOVES, "fac-1", MAY_1, "EA") is None


def test_a_price_for_another_item_does_not_apply() -> None:
    other_item = contract(prices=(price("0.10", item_id="item-gauze"),))
    assert price_for([other_item], GLOVES, "fac-1", MAY_1, "EA") is None


# Which price


@pytest.mark.parametrize(
    ("on_date", "expected"),
    [(date(2025, 4, 30), Decimal("1.80")), (date(2025, 5, 1), Decimal("1.70"))],
)
def test_a_price_line_applies_only_within_its_own_dates(on_date: date, expected: Decimal) -> None:
    repriced = contract(
        prices=(
            price("1.80", effective_to=date(2025, 4, 30)),
            price("1.70", effective_from=date(2025, 5, 1)),
        )
    )
    assert price_for([repriced], GLOVES, "fac-1", on_date, "EA") == PriceQuote(
        contract_id="c-1", contract_number="GPO-100", tier="2", uom="EA", unit_price=expected
    )


@pytest.mark.parametrize(("uom", "expected"), [("EA", Decimal("2.00")), ("CS", Decimal("240.00"))])
def test_a_price_quoted_per_box_is_converted_exactly_to_the_unit_asked_for(
    uom: str, expected: Decimal
) -> None:
    per_box = contract(prices=(price("24.00", uom="BX"),))
    assert price_for([per_box], GLOVES, "fac-1", MAY_1, uom) == PriceQuote(
        contract_id="c-1", contract_number="GPO-100", tier="2", uom=uom, unit_price=expected
    )


def test_the_lowest_of_two_applicable_contracts_wins() -> None:
    gpo = contract()
    local = contract(contract_id="c-2", number="LOCAL-7", prices=(price("20.40", uom="BX"),))
    assert price_for([gpo, local], GLOVES, "fac-1", MAY_1, "EA") == PriceQuote(
        contract_id="c-2", contract_number="LOCAL-7", tier="2", uom="EA", unit_price=Decimal("1.70")
    )


# What a contract refuses


def test_a_contract_ending_before_it_starts_is_refused() -> None:
    assert refusal(
        Contract,
        id="c-1",
        number="GPO-100",
        supplier_id="sup-medline",
        name="Exam gloves",
        effective_from=date(2025, 1, 1),
        effective_to=date(2024, 12, 31),
    ) == ("effective_to", "2024-12-31 is before effective_from 2025-01-01")


def test_a_membership_ending_before_it_starts_is_refused() -> None:
    assert refusal(
        ContractMembership,
        facility_id="fac-1",
        tier="2",
        effective_from=date(2025, 3, 1),
        effective_to=date(2025, 2, 28),
    ) == ("effective_to", "2025-02-28 is before effective_from 2025-03-01")


def test_a_price_line_ending_before_it_starts_is_refused() -> None:
    assert refusal(
        ContractPrice,
        item_id=GLOVES.id,
        tier="2",
        uom="EA",
        unit_price=Decimal("1.80"),
        effective_from=date(2025, 3, 1),
        effective_to=date(2025, 2, 28),
    ) == ("effective_to", "2025-02-28 is before effective_from 2025-03-01")


def test_a_negative_price_is_refused() -> None:
    assert refusal(
        ContractPrice, item_id=GLOVES.id, tier="2", uom="EA", unit_price=Decimal("-0.01")
    ) == ("unit_price", "must not be negative, got -0.01")


# Properties

FACILITIES = ("fac-1", "fac-2", "fac-3")
TIERS = ("1", "2")
START = date(2025, 1, 1)
days = st.integers(min_value=0, max_value=20).map(lambda offset: START + timedelta(offset))
starts = st.integers(min_value=-30, max_value=20).map(lambda offset: START + timedelta(offset))
periods = st.tuples(starts, st.none() | st.integers(min_value=0, max_value=60)).map(
    lambda period: (period[0], None if period[1] is None else period[0] + timedelta(period[1]))
)
memberships = st.builds(
    lambda facility_id, tier, period: membership(facility_id, tier, *period),
    st.sampled_from(FACILITIES),
    st.sampled_from(TIERS),
    periods,
)
prices = st.builds(
    lambda unit_price, tier, uom, period: price(
        str(unit_price), tier=tier, uom=uom, effective_from=period[0], effective_to=period[1]
    ),
    st.decimals(min_value=0, max_value=500, places=2),
    st.sampled_from(TIERS),
    st.sampled_from(("EA", "BX", "CS")),
    st.just((None, None)) | periods,
)
contracts = st.lists(
    st.tuples(periods, st.lists(memberships, min_size=1, max_size=3), st.lists(prices, max_size=4)),
    min_size=1,
    max_size=4,
).map(
    lambda specs: [
        contract(
            contract_id=f"c-{index}",
            number=f"N-{index}",
            effective_from=period[0],
            effective_to=period[1],
            memberships=tuple(members),
            prices=tuple(lines),
        )
        for index, (period, members, lines) in enumerate(specs)
    ]
)


def is_member(agreement: Contract, facility_id: str, on_date: date) -> bool:
    def covers(start: date, end: date | None) -> bool:
        return start <= on_date and (end is None or on_date <= end)

    return covers(agreement.effective_from, agreement.effective_to) and any(
        member.facility_id == facility_id and covers(member.effective_from, member.effective_to)
        for member in agreement.memberships
    )


@given(contracts, st.sampled_from(FACILITIES), days, st.sampled_from(("EA", "BX", "CS")))
def test_a_quote_comes_only_from_a_contract_the_facility_belongs_to_that_day(
    agreements: list[Contract], facility_id: str, on_date: date, uom: str
) -> None:
    quote = price_for(agreements, GLOVES, facility_id, on_date, uom)
    belongs_to = {
        agreement.id for agreement in agreements if is_member(agreement, facility_id, on_date)
    }
    assert quote is None or quote.contract_id in belongs_to


@given(contracts, st.lists(memberships, min_size=1, max_size=3), days)
def test_a_contract_the_facility_does_not_belong_to_never_changes_its_quote(
    agreements: list[Contract], others: list[ContractMembership], on_date: date
) -> None:
    foreign = contract(
        contract_id="c-foreign",
        memberships=tuple(member for member in others if member.facility_id != "fac-1"),
        prices=(price("0.00", tier="1"), price("0.00", tier="2")),
    )
    assert price_for([*agreements, foreign], GLOVES, "fac-1", on_date, "EA") == price_for(
        agreements, GLOVES, "fac-1", on_date, "EA"
    )
