"""The authority registry: who owns each object type, and which writes it refuses (DESIGN.md §1).

At St Mary's (``fac-1``) Suture keeps the stock positions; at Mercy (``fac-2``) the materials
system does.
"""

from __future__ import annotations

import pytest

from suture.domain.authority import DEFAULT_OWNERS, AuthorityRegistry, ObjectType
from suture.domain.errors import NotAuthoritativeError

MERCY_KEEPS_ITS_OWN_STOCK = AuthorityRegistry(
    facility_owners={(ObjectType.STOCK_POSITION, "fac-2"): "materials"}
)


def refusal(
    registry: AuthorityRegistry,
    object_type: ObjectType,
    source_system: str,
    facility_id: str | None = None,
) -> tuple[str, str]:
    """The (field, reason) with which ``registry`` refuses the write."""
    with pytest.raises(NotAuthoritativeError) as caught:
        registry.check_write(object_type, source_system, facility_id)
    return caught.value.field, caught.value.reason


def test_every_object_type_has_a_default_owner() -> None:
    assert set(DEFAULT_OWNERS) == set(ObjectType)


@pytest.mark.parametrize(
    ("object_type", "owner"),
    [
        (ObjectType.SUPPLIER, "erp"),
        (ObjectType.ITEM, "materials"),
        (ObjectType.CHARGE, "rcm"),
        (ObjectType.USAGE, "clinical"),
        (ObjectType.STOCK_POSITION, "suture"),
    ],
)
def test_the_default_owner_follows_the_reference_model(object_type: ObjectType, owner: str) -> None:
    assert AuthorityRegistry().owner(object_type) == owner


@pytest.mark.parametrize(
    ("facility_id", "owner"), [("fac-2", "materials"), ("fac-1", "suture"), (None, "suture")]
)
def test_a_facility_override_changes_the_owner_at_that_facility_only(
    facility_id: str | None, owner: str
) -> None:
    assert MERCY_KEEPS_ITS_OWN_STOCK.owner(ObjectType.STOCK_POSITION, facility_id) == owner


def test_the_owner_may_write() -> None:
    assert AuthorityRegistry().check_write(ObjectType.SUPPLIER, "erp") is None


def test_a_delegate_may_write_on_the_owners_behalf() -> None:
    registry = AuthorityRegistry(delegates={"erp": frozenset({"suture"})})
    assert registry.check_write(ObjectType.SUPPLIER, "suture") is None


def test_a_delegate_of_one_owner_may_not_write_what_another_owns() -> None:
    registry = AuthorityRegistry(delegates={"erp": frozenset({"suture"})})
    assert refusal(registry, ObjectType.ITEM, "suture") == (
        "source_system",
        "'suture' may not write item: 'materials' is authoritative",
    )


def test_a_non_authoritative_write_names_the_type_the_writer_and_the_owner() -> None:
    assert refusal(AuthorityRegistry(), ObjectType.SUPPLIER, "materials") == (
        "source_system",
        "'materials' may not write supplier: 'erp' is authoritative",
    )


def test_a_refusal_at_a_facility_names_the_facility_and_its_owner() -> None:
    assert refusal(MERCY_KEEPS_ITS_OWN_STOCK, ObjectType.STOCK_POSITION, "suture", "fac-2") == (
        "source_system",
        "'suture' may not write stock_position at facility fac-2: 'materials' is authoritative",
    )


def test_the_facility_owner_may_write_at_its_facility() -> None:
    registry = MERCY_KEEPS_ITS_OWN_STOCK
    assert registry.check_write(ObjectType.STOCK_POSITION, "materials", "fac-2") is None
