"""The authorization matrix over every API route (issue 7, "Done means").

Every operation under ``/api/v1`` and ``/fhir/R4`` (but the public FHIR metadata) is called
with no token, an expired token, a revoked client's token and a token lacking the operation's
scope: each gets ``401`` or ``403`` with a problem body and no data. Every list is asked for a
facility outside the token (``403``), and every record type that belongs to no supplier is
refused to a supplier's token. The right token gets ``200`` on every list. Routes are
enumerated from the application, so a new route is in the matrix the day it is added.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suture.bootstrap import Hub, build, token_codec
from suture.config import Settings
from suture.domain.access import ALL_FACILITIES, Scope
from suture.domain.invoicing import Invoice, InvoiceLine
from suture.domain.masterdata import Facility
from suture.entrypoints.api.app import create_app
from suture.services.tokens import TokenService

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "errors"}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("authz")
    return Settings(
        database_url=f"sqlite:///{folder / 'authz.db'}",
        erp_outbox_dir=folder / "out",
        auth_revocation_cache_seconds=0,
        rate_limit_client="100000/minute",
    )


@pytest.fixture(scope="module")
def hub(settings: Settings) -> Iterator[Hub]:
    built = build(settings)
    yield built
    built.close()


@pytest.fixture(scope="module")
def api(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as client:
        yield client


#: Operations under those prefixes that need no token: the FHIR CapabilityStatement (FHIR R4
#: http.html#capabilities: a client reads it before it has credentials).
PUBLIC = {"/fhir/R4/metadata"}


def _document() -> dict[str, Any]:
    settings = Settings(database_url="sqlite:///:memory:", erp_outbox_dir=Path("/nonexistent"))
    hub = build(settings, migrate=False)
    try:
        return create_app(hub).openapi()
    finally:
        hub.close()


DOCUMENT = _document()


def operations(*, lists: bool = False) -> list[tuple[str, str, str]]:
    """(method, path with placeholders filled, scope) of every /api/v1 and /fhir/R4 operation
    (but :data:`PUBLIC`), read from the OpenAPI document, whose security requirement names the
    scope each operation needs.
    ``lists``: only the paged lists that take a ``facility_id`` filter."""
    found = []
    for path, item in sorted(DOCUMENT["paths"].items()):
        if not path.startswith(("/api/v1/", "/fhir/R4")) or path in PUBLIC:
            continue
        for method, operation in sorted(item.items()):
            (requirement,) = operation["security"]
            (scope,) = requirement["oauth2"]
            ok = operation["responses"].get("200", {}).get("content", {}).get("application/json")
            paged = "Page" in str((ok or {}).get("schema", {}).get("$ref", ""))
            filtered = any(p["name"] == "facility_id" for p in operation.get("parameters", []))
            if lists and not (paged and filtered):
                continue
            found.append((method.upper(), re.sub(r"\{[^}]+\}", "anything", path), scope))
    return found


OPERATIONS = operations()
LISTS = operations(lists=True)
NO_SUPPLIER = [
    p
    for m, p, _ in LISTS
    if p.rsplit("/", 1)[-1]
    in {"facilities", "cost-centers", "departments", "locations", "requisitions", "receipts",
        "charges", "usage", "journals"}
]  # fmt: skip


#: Tokens by (scopes, facilities, supplier): creating a client hashes its secret with argon2,
#: a deliberately slow step, so each kind of client is made once per module.
_TOKENS: dict[tuple[frozenset[Scope], tuple[str, ...], str | None], str] = {}


def token(hub: Hub, scopes: set[Scope], facilities: list[str], supplier: str | None = None) -> str:
    if Scope.EXPERIENCE_SUPPLIER in scopes and supplier is None:
        supplier = "sup-1"  # the supplier scope is only granted to a supplier-bound client
    key = (frozenset(scopes), tuple(facilities), supplier)
    if key not in _TOKENS:
        created = hub.clients.create("matrix", scopes, facilities, supplier_id=supplier)
        _TOKENS[key] = hub.tokens.issue(created.client).access_token
    return _TOKENS[key]


def _bound(scope: str) -> str | None:
    return "sup-1" if scope == Scope.EXPERIENCE_SUPPLIER else None


def call(api: TestClient, method: str, path: str, token: str | None, **params: str) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    if method == "POST":
        headers["content-type"] = "application/hl7-v2"
        return api.request(method, path, headers=headers, params=params, content=b"MSH|^~\\&|")
    return api.request(method, path, headers=headers, params=params)


def assert_refused(answer: Any, status: int) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert set(answer.json()) == PROBLEM_KEYS
    assert "www-authenticate" in answer.headers


def test_the_matrix_covers_every_system_api_operation() -> None:
    assert len(OPERATIONS) >= 29
    assert {s for _, _, s in OPERATIONS} <= {str(scope) for scope in Scope}
    fhir = {(m, p, s) for m, p, s in OPERATIONS if p.startswith("/fhir/")}
    kinds = ("", "/ChargeItem", "/Device", "/Invoice", "/Procedure", "/SupplyDelivery")
    expected = {("POST", f"/fhir/R4{kind}", "system:write") for kind in (*kinds, "/SupplyRequest")}
    assert fhir == expected


def test_the_matrix_covers_the_requisition_routes() -> None:
    # Per-record refusals for another facility (submit, read, approve, reject) are in
    # test_api_requisitions.py, which has requisitions to refuse.
    requisitions = {(m, p, s) for m, p, s in OPERATIONS if p.endswith(("requisitions", "/approve",
                    "/reject")) or "/requisitions/" in p}  # fmt: skip
    assert requisitions == {
        ("GET", "/api/v1/process/requisitions", "process:execute"),
        ("GET", "/api/v1/process/requisitions/anything", "process:execute"),
        ("POST", "/api/v1/process/requisitions/anything/approve", "process:execute"),
        ("POST", "/api/v1/process/requisitions/anything/reject", "process:execute"),
        ("GET", "/api/v1/experience/department/requisitions", "experience:department"),
        ("POST", "/api/v1/experience/department/requisitions", "experience:department"),
        ("GET", "/api/v1/experience/department/requisitions/anything", "experience:department"),
        ("GET", "/api/v1/system/requisitions", "system:read"),
        ("GET", "/api/v1/system/requisitions/anything", "system:read"),
    }
    assert {p for _, p, _ in LISTS} >= {
        "/api/v1/process/requisitions",
        "/api/v1/experience/department/requisitions",
    }


@pytest.mark.parametrize(("method", "path", "scope"), OPERATIONS)
def test_no_token_is_401(api: TestClient, method: str, path: str, scope: str) -> None:
    assert_refused(call(api, method, path, None), 401)


WRITES = [(m, p, s) for m, p, s in OPERATIONS if m not in {"GET", "HEAD"}]


@pytest.mark.parametrize(("method", "path", "scope"), WRITES)
def test_a_write_with_a_trailing_slash_is_answered_not_redirected(
    api: TestClient, method: str, path: str, scope: str
) -> None:
    # A 307 to the slashless path is not followed by every client (httpx, Java's HttpClient,
    # curl without -L), and one that follows re-sends the body to a Location that reads http://
    # behind a TLS-terminating proxy: the route answers the slashed path itself.
    headers = {"content-type": "application/hl7-v2"}
    answer = api.request(method, f"{path}/", headers=headers, content=b"MSH|^~\\&|",
                         follow_redirects=False)  # fmt: skip
    assert_refused(answer, 401)


def test_a_read_with_a_trailing_slash_is_still_redirected(api: TestClient) -> None:
    # A GET has no body to lose and every browser follows it: the framework's 307 stands.
    answer = api.get("/api/v1/system/facilities/", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (
        307,
        "http://testserver/api/v1/system/facilities",
    )


@pytest.mark.parametrize(("method", "path", "scope"), OPERATIONS)
def test_an_expired_token_is_401(  # noqa: PLR0917  (fixtures and parameters)
    api: TestClient, hub: Hub, settings: Settings, method: str, path: str, scope: str
) -> None:
    created = hub.clients.create(
        "matrix", {Scope(scope)}, [ALL_FACILITIES], supplier_id=_bound(scope)
    )
    an_hour_ago = hub.clock() - timedelta(hours=1)
    issuer = TokenService(
        token_codec(settings),
        hub.clients,
        lambda: an_hour_ago,
        issuer=settings.auth_jwt_issuer,
        audience=settings.auth_jwt_audience,
    )
    assert_refused(call(api, method, path, issuer.issue(created.client).access_token), 401)


@pytest.mark.parametrize(("method", "path", "scope"), OPERATIONS)
def test_a_revoked_clients_token_is_401(
    api: TestClient, hub: Hub, method: str, path: str, scope: str
) -> None:
    created = hub.clients.create(
        "matrix", {Scope(scope)}, [ALL_FACILITIES], supplier_id=_bound(scope)
    )
    issued = hub.tokens.issue(created.client).access_token
    hub.clients.revoke(created.client.id)
    assert_refused(call(api, method, path, issued), 401)


@pytest.mark.parametrize(("method", "path", "scope"), OPERATIONS)
def test_a_token_without_the_operations_scope_is_403(
    api: TestClient, hub: Hub, method: str, path: str, scope: str
) -> None:
    # Every other scope but admin (which implies it) and the supplier scope (which needs a
    # supplier-bound client).
    others = {s for s in Scope if s.value != scope} - {Scope.ADMIN, Scope.EXPERIENCE_SUPPLIER}
    assert_refused(call(api, method, path, token(hub, others, [ALL_FACILITIES])), 403)


@pytest.mark.parametrize(("method", "path", "scope"), LISTS)
def test_a_list_of_another_facility_is_403(
    api: TestClient, hub: Hub, method: str, path: str, scope: str
) -> None:
    answer = call(api, method, path, token(hub, {Scope(scope)}, ["fac-a"]), facility_id="fac-b")
    assert_refused(answer, 403)


@pytest.mark.parametrize("path", NO_SUPPLIER)
def test_a_supplier_token_gets_no_record_that_belongs_to_no_supplier(
    api: TestClient, hub: Hub, path: str
) -> None:
    supplier = token(hub, {Scope.SYSTEM_READ}, [ALL_FACILITIES], supplier="sup-1")
    assert_refused(call(api, "GET", path, supplier), 403)
    assert_refused(call(api, "GET", f"{path}/anything", supplier), 403)


@pytest.mark.parametrize(("method", "path", "scope"), LISTS)
def test_the_right_token_gets_the_list(
    api: TestClient, hub: Hub, method: str, path: str, scope: str
) -> None:
    answer = call(api, method, path, token(hub, {Scope(scope)}, ["fac-a"]))
    assert answer.status_code == 200
    assert set(answer.json()) == {"items", "next_cursor"}


# --- record-level scoping of the three-way match routes (facility and supplier) ------------------


@pytest.fixture(scope="module")
def matched_invoice(hub: Hub) -> str:
    """An invoice of ``sup-1`` at ``fac-a`` (no PO: it is held on ``not_on_po`` once run)."""
    with hub.uow_factory() as uow:
        uow.invoices.add(Invoice(
            id="inv-authz", number="84412", supplier_id="sup-1", facility_id="fac-a",
            invoice_date=date(2025, 3, 20),
            lines=[InvoiceLine(line_number=1, item_id="item-x", quantity=Decimal(1), uom="EA",
                               unit_price=Decimal(5))],
        ))  # fmt: skip
        uow.commit()
    return "inv-authz"


MATCH_RUN = "/api/v1/process/invoices/{}/match"
SUPPLIER_MATCH = "/api/v1/experience/supplier/invoices/{}/match"


def test_running_the_match_of_another_facilitys_invoice_is_403(
    api: TestClient, hub: Hub, matched_invoice: str
) -> None:
    answer = call(api, "POST", MATCH_RUN.format(matched_invoice),
                  token(hub, {Scope.PROCESS_EXECUTE}, ["fac-b"]))  # fmt: skip
    assert_refused(answer, 403)


def test_running_the_match_of_another_suppliers_invoice_is_403(
    api: TestClient, hub: Hub, matched_invoice: str
) -> None:
    other = token(hub, {Scope.PROCESS_EXECUTE}, [ALL_FACILITIES], supplier="sup-2")
    answer = call(api, "POST", MATCH_RUN.format(matched_invoice), other)
    assert_refused(answer, 403)


def test_another_suppliers_invoice_match_is_403(
    api: TestClient, hub: Hub, matched_invoice: str
) -> None:
    other = token(hub, {Scope.EXPERIENCE_SUPPLIER}, [ALL_FACILITIES], supplier="sup-2")
    answer = call(api, "GET", SUPPLIER_MATCH.format(matched_invoice), other)
    assert_refused(answer, 403)


def test_the_right_tokens_run_and_read_the_match(
    api: TestClient, hub: Hub, matched_invoice: str
) -> None:
    ran = call(api, "POST", MATCH_RUN.format(matched_invoice),
               token(hub, {Scope.PROCESS_EXECUTE}, ["fac-a"]))  # fmt: skip
    read = call(api, "GET", SUPPLIER_MATCH.format(matched_invoice),
                token(hub, {Scope.EXPERIENCE_SUPPLIER}, ["fac-a"], supplier="sup-1"))  # fmt: skip

    assert (ran.status_code, ran.json()["match"]["findings"]) == (200, ["not_on_po"])
    assert (read.status_code, read.json()["payment_status"]) == (200, "on_hold")


RECONCILE = "/api/v1/process/reconciliations"
PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}


def reconcile(api: TestClient, bearer: str, **body: str) -> Any:
    return api.post(RECONCILE, headers={"authorization": f"Bearer {bearer}"}, json=PERIOD | body)


def test_reconciling_another_facility_is_403(api: TestClient, hub: Hub) -> None:
    operator = token(hub, {Scope.PROCESS_EXECUTE}, ["fac-a"])
    assert_refused(reconcile(api, operator, facility_id="fac-b"), 403)


def test_reconciling_every_facility_needs_a_client_of_every_facility(
    api: TestClient, hub: Hub
) -> None:
    assert_refused(reconcile(api, token(hub, {Scope.PROCESS_EXECUTE}, ["fac-a"])), 403)


def test_a_supplier_token_may_not_reconcile(api: TestClient, hub: Hub) -> None:
    supplier = token(hub, {Scope.PROCESS_EXECUTE}, [ALL_FACILITIES], supplier="sup-1")
    assert_refused(reconcile(api, supplier, facility_id="fac-a"), 403)


def test_the_right_token_gets_the_reconciliation_summary(api: TestClient, hub: Hub) -> None:
    with hub.uow_factory() as uow:  # on record: reconciling an unknown facility is a 422
        uow.facilities.add(Facility(id="fac-a", code="A", name="A General"))
        uow.commit()
    answer = reconcile(api, token(hub, {Scope.PROCESS_EXECUTE}, ["fac-a"]), facility_id="fac-a")
    assert answer.status_code == 200, answer.text
    assert answer.json() | {"outcomes": []} == {
        "from": "2026-03-01T00:00:00+00:00", "to": "2026-04-01T00:00:00+00:00",
        "facility_id": "fac-a", "lines": 0, "unmatched": 0, "revenue_at_risk": "0.00",
        "unpriced": 0, "outcomes": [],
    }  # fmt: skip


def test_the_procure_to_pay_inbound_routes_are_in_the_matrix_with_their_scopes() -> None:
    assert {
        ("POST", "/api/v1/process/receipts", Scope.PROCESS_EXECUTE),
        ("GET", "/api/v1/system/expected-receipts", Scope.SYSTEM_READ),
        ("GET", "/api/v1/system/expected-receipts/anything", Scope.SYSTEM_READ),
        ("POST", "/api/v1/experience/supplier/invoices", Scope.EXPERIENCE_SUPPLIER),
        ("GET", "/api/v1/experience/supplier/acknowledgments", Scope.EXPERIENCE_SUPPLIER),
        ("GET", "/api/v1/experience/supplier/receipts", Scope.EXPERIENCE_SUPPLIER),
    } <= set(OPERATIONS)


# --- the KPIs: one facility for a facility-bound client, every facility for a global one -------

KPIS = "/api/v1/experience/kpis"


def test_kpis_of_another_facility_or_of_all_are_403_for_a_facility_client(
    api: TestClient, hub: Hub
) -> None:
    viewer = token(hub, {Scope.SYSTEM_READ}, ["fac-a"])
    assert_refused(call(api, "GET", KPIS, viewer, facility_id="fac-b"), 403)
    assert_refused(call(api, "GET", KPIS, viewer), 403)


def test_the_right_tokens_get_the_kpis(api: TestClient, hub: Hub) -> None:
    with hub.uow_factory() as uow:  # a facility on record: the KPIs of an unknown one are 422
        uow.facilities.add(Facility(id="fac-a", code="A", name="A General"))
        uow.commit()
    own = call(api, "GET", KPIS, token(hub, {Scope.SYSTEM_READ}, ["fac-a"]), facility_id="fac-a")
    every = call(api, "GET", KPIS, token(hub, {Scope.SYSTEM_READ}, [ALL_FACILITIES]),
                 **{"from": "2026-01-01", "to": "2026-01-31"})  # fmt: skip
    assert own.status_code == 200, own.text
    assert own.json()["facility_id"] == "fac-a"
    assert every.status_code == 200, every.text
    assert every.json()["since"].startswith("2026-01-01")
    assert every.json()["until"].startswith("2026-02-01")
    backwards = call(api, "GET", KPIS, token(hub, {Scope.SYSTEM_READ}, [ALL_FACILITIES]),
                     **{"from": "2026-02-01", "to": "2026-01-01"})  # fmt: skip
    assert backwards.status_code == 400


def test_the_kpis_of_a_facility_not_on_record_are_422_naming_it(api: TestClient, hub: Hub) -> None:
    answer = call(api, "GET", KPIS, token(hub, {Scope.SYSTEM_READ}, [ALL_FACILITIES]),
                  facility_id="FAC-A")  # fmt: skip
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"field": "facility_id", "reason": "no such facility"}]
