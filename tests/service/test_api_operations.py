"""The HTTP service's operations endpoints and its error shape, on a real hub over SQLite."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path

import pytest
from fastapi import Query
from fastapi.testclient import TestClient

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.errors import DomainError
from suture.entrypoints.api.app import create_app
from suture.services.inbox import UnknownMessageError


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = build(
        Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", erp_outbox_dir=tmp_path / "out")
    )
    yield built
    built.close()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    app = create_app(hub)

    @app.get("/test/domain-error")
    def domain_error() -> None:
        raise DomainError("lines[0].quantity", "must be positive")

    @app.get("/test/unknown")
    def unknown() -> None:
        raise UnknownMessageError("message_id", "no message 42")

    @app.get("/test/limit")
    def limited(limit: int = Query(ge=1, le=500)) -> int:
        return limit

    with TestClient(app) as test_client:
        yield test_client


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_healthz_answers_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_is_ready_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": [{"name": "database", "ok": True, "detail": None}],
    }


def test_readyz_is_not_ready_when_the_database_does_not_answer(tmp_path: Path) -> None:
    port = closed_port()
    hub = build(
        Settings(
            database_url=f"postgresql+psycopg://nobody:s3cret-pw@127.0.0.1:{port}/none",
            erp_outbox_dir=tmp_path / "out",
        ),
        migrate=False,
    )
    try:
        with TestClient(create_app(hub)) as client:
            response = client.get("/readyz")
    finally:
        hub.close()
    assert response.status_code == 503
    assert response.json() == {
        "status": "not ready",
        "checks": [
            {
                "name": "database",
                "ok": False,
                "detail": f'cannot connect: connection to server at "127.0.0.1", port {port} '
                "failed: Connection refused",
            }
        ],
    }
    assert "s3cret-pw" not in response.text


def test_readyz_names_why_the_sqlite_database_cannot_be_opened(tmp_path: Path) -> None:
    path = tmp_path / "api.db"
    hub = build(Settings(database_url=f"sqlite:///{path}", erp_outbox_dir=tmp_path / "out"))
    try:
        hub.engine.dispose()
        for file in tmp_path.glob("api.db*"):
            file.unlink()
        path.mkdir()  # a directory where the file was: no connection opens
        with TestClient(create_app(hub)) as client:
            response = client.get("/readyz")
    finally:
        hub.close()
    assert response.status_code == 503
    assert response.json()["checks"] == [
        {"name": "database", "ok": False, "detail": "cannot connect: unable to open database file"}
    ]


def test_readyz_checks_nats_when_it_is_configured_and_names_why_it_fails(
    tmp_path: Path,
) -> None:
    port = closed_port()
    hub = build(
        Settings(
            database_url=f"sqlite:///{tmp_path / 'api.db'}",
            erp_outbox_dir=tmp_path / "out",
            nats_url=f"nats://bus-user:s3cret@127.0.0.1:{port}",
        )
    )
    try:
        with TestClient(create_app(hub)) as client:
            response = client.get("/readyz")
    finally:
        hub.close()
    assert response.status_code == 503
    assert response.json()["checks"][1] == {
        "name": "nats",
        "ok": False,
        "detail": f"cannot connect to 127.0.0.1:{port}: Connection refused",
    }
    assert "s3cret" not in response.text


def test_readyz_is_ready_with_a_real_nats_server(nats_url: str, tmp_path: Path) -> None:
    hub = build(
        Settings(
            database_url=f"sqlite:///{tmp_path / 'api.db'}",
            erp_outbox_dir=tmp_path / "out",
            nats_url=nats_url,
        )
    )
    try:
        with TestClient(create_app(hub)) as client:
            response = client.get("/readyz")
    finally:
        hub.close()
    assert response.json() == {
        "status": "ready",
        "checks": [
            {"name": "database", "ok": True, "detail": None},
            {"name": "nats", "ok": True, "detail": None},
        ],
    }


def test_metrics_count_requests_by_route_template_and_report_the_backbone(
    client: TestClient, hub: Hub
) -> None:
    hub.inbox.receive(
        b"MSH|^~\\&|RCM|FAC-01\r",
        format="hl7v2",
        interface="mllp",
        source_system="rcm",
        received_at=hub.clock(),
    )
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no/such/path")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert 'suture_http_requests_total{method="GET",route="/healthz",status="200"} 2.0' in lines
    assert 'suture_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in lines
    assert 'suture_inbox_messages{status="received"} 1.0' in lines
    assert "suture_bus_pending_work 0.0" in lines
    assert "suture_backbone_up 1.0" in lines


def test_metrics_answer_while_the_database_is_down_and_say_so(tmp_path: Path) -> None:
    """A scrape that failed with the database took the request counters with it: Prometheus
    saw the instance down (``up`` 0) rather than the 503s it was answering."""
    hub = build(
        Settings(
            database_url=f"postgresql+psycopg://nobody@127.0.0.1:{closed_port()}/none",
            erp_outbox_dir=tmp_path / "out",
        ),
        migrate=False,
    )
    try:
        with TestClient(create_app(hub)) as client:
            client.get("/healthz")
            response = client.get("/metrics")
    finally:
        hub.close()
    assert response.status_code == 200
    lines = response.text.splitlines()
    assert 'suture_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in lines
    assert "suture_backbone_up 0.0" in lines
    assert not [line for line in lines if line.startswith("suture_inbox_messages")]


def test_a_domain_error_is_a_problem_naming_the_field_and_reason(client: TestClient) -> None:
    response = client.get("/test/domain-error")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": HTTPStatus(422).phrase,
        "status": 422,
        "detail": "lines[0].quantity: must be positive",
        "instance": "/test/domain-error",
        "errors": [{"field": "lines[0].quantity", "reason": "must be positive"}],
    }


def test_an_unknown_record_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/test/unknown")
    assert response.status_code == 404
    assert response.json()["errors"] == [{"field": "message_id", "reason": "no message 42"}]


def test_an_invalid_query_parameter_is_a_422_problem_per_field(client: TestClient) -> None:
    response = client.get("/test/limit", params={"limit": "0"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"field": "query.limit", "reason": "Input should be greater than or equal to 1"}
    ]


def test_an_unknown_path_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/no/such/path")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Not Found"


def test_a_405_names_every_method_the_path_offers(hub: Hub) -> None:
    with TestClient(create_app(hub)) as client:
        answer = client.delete("/api/v1/system/interfaces")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST"
