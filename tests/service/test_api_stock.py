"""Stock positions and crosswalk lookups over the System API (SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.access import ALL_FACILITIES, Scope
from suture.domain.crosswalk import CrosswalkEntry, CrosswalkKey, CrosswalkKind
from suture.domain.inventory import StockPosition
from suture.domain.masterdata import Facility, Location, LocationKind
from suture.entrypoints.api.app import create_app

AT = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = build(
        Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", erp_outbox_dir=tmp_path / "out")
    )
    with built.uow_factory() as uow:
        uow.facilities.add_many(
            [Facility(id=f, code=f.upper(), name=f) for f in ("fac-a", "fac-b")]
        )
        uow.locations.add_many(
            [
                Location(id="or-a", facility_id="fac-a", code="OR", name="OR",
                         kind=LocationKind.OPERATING_ROOM),
                Location(id="or-b", facility_id="fac-b", code="OR", name="OR",
                         kind=LocationKind.OPERATING_ROOM),
            ]
        )  # fmt: skip
        for item in ("item-1", "item-2", "item-3"):
            uow.stock.save(
                StockPosition(facility_id="fac-a", location_id="or-a", item_id=item,
                              on_hand=Decimal(5), consigned_on_hand=Decimal(2), updated_at=AT)
            )  # fmt: skip
        key = CrosswalkKey("mms", "fac-a", CrosswalkKind.ITEM, "42")
        uow.crosswalks.add(
            CrosswalkEntry(key=key, canonical_id="item-old", valid_from=AT,
                           valid_to=AT + timedelta(days=1))
        )  # fmt: skip
        uow.crosswalks.add(
            CrosswalkEntry(key=key, canonical_id="item-1", valid_from=AT + timedelta(days=1))
        )
        uow.commit()
    yield built
    built.close()


@pytest.fixture
def api(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as client:
        yield client


def bearer(hub: Hub, facilities: list[str]) -> dict[str, str]:
    created = hub.clients.create("x", {Scope.SYSTEM_READ}, facilities)
    return {"authorization": f"Bearer {hub.tokens.issue(created.client).access_token}"}


def test_stock_positions_at_a_location_page_by_item(api: TestClient, hub: Hub) -> None:
    headers = bearer(hub, ["fac-a"])
    first = api.get(
        "/api/v1/system/stock-positions",
        params={"location_id": "or-a", "limit": 2},
        headers=headers,
    ).json()
    rest = api.get(
        "/api/v1/system/stock-positions",
        params={"location_id": "or-a", "cursor": first["next_cursor"]},
        headers=headers,
    ).json()
    assert [p["item_id"] for p in first["items"] + rest["items"]] == ["item-1", "item-2", "item-3"]
    assert (first["items"][0]["on_hand"], first["items"][0]["consigned_on_hand"]) == (
        "5.0000",
        "2.0000",
    )


def test_stock_at_another_facilitys_location_is_403_and_an_unknown_one_404(
    api: TestClient, hub: Hub
) -> None:
    headers = bearer(hub, ["fac-a"])
    other = api.get(
        "/api/v1/system/stock-positions", params={"location_id": "or-b"}, headers=headers
    )
    missing = api.get(
        "/api/v1/system/stock-positions", params={"location_id": "x"}, headers=headers
    )
    assert (other.status_code, missing.status_code) == (403, 404)


def test_a_crosswalk_lookup_answers_the_current_mapping_and_its_history(
    api: TestClient, hub: Hub
) -> None:
    answer = api.get(
        "/api/v1/system/crosswalks/item/mms/42",
        params={"facility_id": "fac-a"},
        headers=bearer(hub, [ALL_FACILITIES]),
    ).json()
    assert answer["current"]["canonical_id"] == "item-1"
    assert [e["canonical_id"] for e in answer["history"]] == ["item-old", "item-1"]


def test_a_code_without_a_mapping_answers_none(api: TestClient, hub: Hub) -> None:
    answer = api.get(
        "/api/v1/system/crosswalks/item/mms/99", headers=bearer(hub, [ALL_FACILITIES])
    ).json()
    assert answer == {"current": None, "history": []}
