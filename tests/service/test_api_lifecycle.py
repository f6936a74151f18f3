"""Deprecated operations announce themselves: Deprecation, Sunset and Link headers, OpenAPI."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from suture.entrypoints.api.lifecycle import deprecated, deprecation_openapi

SINCE, SUNSET = date(2026, 7, 1), date(2027, 1, 31)


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()

    @app.get(
        "/v1/orders",
        dependencies=[Depends(deprecated(since=SINCE, sunset=SUNSET, successor="/v2/orders"))],
        **deprecation_openapi(since=SINCE, sunset=SUNSET, successor="/v2/orders"),
    )
    def old_orders() -> list[str]:
        return ["PO-1"]

    @app.get("/v2/orders")
    def orders() -> list[str]:
        return ["PO-1"]

    return TestClient(app)


def test_a_deprecated_operation_still_answers_with_deprecation_sunset_and_successor(
    client: TestClient,
) -> None:
    response = client.get("/v1/orders")
    assert response.status_code == 200
    assert response.json() == ["PO-1"]
    assert response.headers["Deprecation"] == "@1782864000"
    assert response.headers["Sunset"] == "Sun, 31 Jan 2027 00:00:00 GMT"
    assert response.headers["Link"] == '</v2/orders>; rel="successor-version"'


def test_a_current_operation_sends_no_deprecation_headers(client: TestClient) -> None:
    response = client.get("/v2/orders")
    assert "Deprecation" not in response.headers
    assert "Sunset" not in response.headers


def test_openapi_marks_the_operation_deprecated_and_names_the_dates(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/orders"]["get"]
    assert operation["deprecated"] is True
    assert operation["description"] == (
        "Deprecated since 2026-07-01; answers until 2027-01-31. Use `/v2/orders` instead."
    )


def test_a_sunset_before_the_deprecation_is_refused() -> None:
    with pytest.raises(ValueError, match="sunset date before"):
        deprecated(since=SUNSET, sunset=SINCE)
