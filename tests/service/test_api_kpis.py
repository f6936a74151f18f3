"""``GET /api/v1/experience/kpis``: the period's bounds, over HTTP on a real SQLite hub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.access import ALL_FACILITIES, Scope
from suture.entrypoints.api.app import create_app

KPIS = "/api/v1/experience/kpis"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = build(
        Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", erp_outbox_dir=tmp_path / "out")
    )
    yield built
    built.close()


@pytest.fixture
def api(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub), raise_server_exceptions=False) as client:
        yield client


def viewer(hub: Hub) -> dict[str, str]:
    created = hub.clients.create("cfo", {Scope.SYSTEM_READ}, [ALL_FACILITIES])
    return {"authorization": f"Bearer {hub.tokens.issue(created.client).access_token}"}


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        ({"to": "9999-12-31"}, "to", "9999-12-31 is outside 1900-01-01 to 2999-12-31"),
        ({"to": "0001-01-01"}, "to", "0001-01-01 is outside 1900-01-01 to 2999-12-31"),
        (
            {"from": "0001-01-01", "to": "2026-01-31"},
            "from", "0001-01-01 is outside 1900-01-01 to 2999-12-31",
        ),
    ],
)  # fmt: skip
def test_a_day_at_the_edge_of_the_calendar_is_422_naming_it_not_a_500(
    api: TestClient, hub: Hub, query: dict[str, str], field: str, reason: str
) -> None:
    """``to=9999-12-31``: the day after it, the period's end, is past the calendar: a 500."""
    answer = api.get(KPIS, params=query, headers=viewer(hub))

    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"] == [{"field": field, "reason": reason}]
