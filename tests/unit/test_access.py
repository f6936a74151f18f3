"""Access rules: scopes, API clients, and what a principal may see and write (domain/access.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from suture.domain.access import (
    ALL_FACILITIES,
    AccessDeniedError,
    ApiClient,
    InvalidScopeError,
    Principal,
    RecordFilter,
    Scope,
    ScopeNotGrantedError,
    format_scopes,
    parse_scopes,
)
from suture.domain.errors import DomainError

AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def client(**overrides: object) -> ApiClient:
    fields: dict[str, object] = {
        "id": "c1",
        "name": "ERP bridge",
        "scopes": frozenset({Scope.SYSTEM_READ, Scope.SYSTEM_WRITE}),
        "facility_ids": frozenset({"F1"}),
        "created_at": AT,
    }
    return ApiClient(**(fields | overrides))  # type: ignore[arg-type]


def principal(
    *scopes: Scope, facilities: tuple[str, ...] = ("F1",), supplier: str | None = None
) -> Principal:
    return Principal(
        client_id="c1",
        scopes=frozenset(scopes),
        facility_ids=frozenset(facilities),
        supplier_id=supplier,
    )


def test_scopes_parse_from_spaces_or_commas_and_format_sorted() -> None:
    parsed = parse_scopes("system:write, system:read admin")

    assert (parsed, format_scopes(parsed)) == (
        {Scope.SYSTEM_WRITE, Scope.SYSTEM_READ, Scope.ADMIN},
        "admin system:read system:write",
    )


def test_an_unknown_scope_is_refused_naming_it() -> None:
    with pytest.raises(InvalidScopeError) as refused:
        parse_scopes("system:read system:delete")

    assert (refused.value.field, refused.value.reason) == ("scope", "unknown scope system:delete")


def test_admin_implies_every_scope_but_phi_read() -> None:
    admin = principal(Scope.ADMIN)

    assert {scope for scope in Scope if admin.has_scope(scope)} == set(Scope) - {Scope.PHI_READ}


def test_a_missing_scope_is_denied_naming_the_scope() -> None:
    with pytest.raises(AccessDeniedError) as denied:
        principal(Scope.SYSTEM_READ).require_scope(Scope.PROCESS_EXECUTE)

    assert (denied.value.field, denied.value.reason) == (
        "scope",
        "requires the process:execute scope",
    )


def test_a_principal_sees_its_facilities_and_system_wide_records_only() -> None:
    reader = principal(Scope.SYSTEM_READ, facilities=("F1", "F2"))

    assert [reader.may_see_facility(f) for f in ("F1", "F2", "F3", None)] == [
        True,
        True,
        False,
        True,
    ]


def test_only_a_principal_of_every_facility_writes_system_wide_records() -> None:
    one, every = principal(facilities=("F1",)), principal(facilities=(ALL_FACILITIES,))

    assert [one.may_write_facility(f) for f in ("F1", "F9", None)] == [True, False, False]
    assert [every.may_write_facility(f) for f in ("F1", "F9", None)] == [True, True, True]


def test_a_supplier_principal_sees_only_its_supplier_records() -> None:
    supplier = principal(Scope.EXPERIENCE_SUPPLIER, supplier="S1")

    assert [supplier.may_see_supplier(s) for s in ("S1", "S2", None)] == [True, False, False]
    assert principal().may_see_supplier("S2")


def test_a_record_of_another_facility_is_denied_naming_the_facility() -> None:
    with pytest.raises(AccessDeniedError) as denied:
        principal().require_record(facility_id="F2")

    assert (denied.value.field, denied.value.reason) == (
        "facility_id",
        "this client may not see F2 records",
    )


def test_a_record_of_another_supplier_is_denied_naming_the_supplier() -> None:
    with pytest.raises(AccessDeniedError) as denied:
        principal(supplier="S1").require_record(facility_id="F1", supplier_id="S2")

    assert denied.value.field == "supplier_id"


def test_the_record_filter_of_a_scoped_principal_lists_its_facilities_and_supplier() -> None:
    scoped = principal(facilities=("F1", "F2"), supplier="S1")

    assert scoped.record_filter() == RecordFilter(frozenset({"F1", "F2"}), "S1")
    assert scoped.record_filter(facility_id="F2") == RecordFilter(frozenset({"F2"}), "S1")


def test_the_record_filter_of_every_facility_does_not_restrict_facilities() -> None:
    assert principal(facilities=(ALL_FACILITIES,)).record_filter() == RecordFilter(None, None)


def test_asking_for_a_facility_outside_the_token_is_refused_not_answered_empty() -> None:
    with pytest.raises(AccessDeniedError) as denied:
        principal().record_filter(facility_id="F2")

    assert denied.value.field == "facility_id"


def test_a_supplier_principal_may_not_filter_on_another_supplier() -> None:
    with pytest.raises(AccessDeniedError) as denied:
        principal(supplier="S1").record_filter(supplier_id="S2")

    assert denied.value.field == "supplier_id"


def test_a_record_filter_allows_system_wide_records_and_its_own() -> None:
    scope = RecordFilter(frozenset({"F1"}), "S1")

    assert [
        scope.allows("F1", "S1"),
        scope.allows(None, "S1"),
        scope.allows("F2", "S1"),
        scope.allows("F1", "S2"),
    ] == [True, True, False, False]


def test_a_client_is_granted_a_subset_of_its_scopes_or_all_of_them() -> None:
    erp = client()

    assert erp.grant(frozenset({Scope.SYSTEM_READ})) == {Scope.SYSTEM_READ}
    assert erp.grant(None) == erp.scopes


def test_a_client_asking_beyond_its_scopes_is_refused_naming_them() -> None:
    with pytest.raises(ScopeNotGrantedError) as refused:
        client().grant(frozenset({Scope.SYSTEM_READ, Scope.ADMIN}))

    assert (refused.value.field, refused.value.reason) == (
        "scope",
        "not granted to this client: admin",
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": " "}, "name"),
        ({"scopes": frozenset()}, "scopes"),
        ({"facility_ids": frozenset()}, "facility_ids"),
        ({"scopes": frozenset({Scope.EXPERIENCE_SUPPLIER})}, "supplier_id"),
        ({"scopes": frozenset({Scope.ADMIN}), "supplier_id": "S1"}, "scopes"),
        ({"scopes": frozenset({Scope.PHI_READ}), "supplier_id": "S1"}, "scopes"),
        ({"created_at": datetime(2025, 3, 1)}, "created_at"),  # noqa: DTZ001 - naive on purpose
    ],
)
def test_a_client_breaking_a_rule_is_refused_naming_the_field(
    overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(DomainError) as refused:
        client(**overrides)

    assert refused.value.field == field


def test_revoking_keeps_the_first_revocation_time() -> None:
    revoked = client().revoke(AT)

    assert revoked.revoke(datetime(2026, 1, 1, tzinfo=UTC)).revoked_at == AT
    assert revoked.is_revoked
