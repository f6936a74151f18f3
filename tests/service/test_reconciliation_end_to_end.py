"""Reconciliation on the real edges: a usage through the usage workflow and its charge through
HL7 ingest, on a hub wired by ``bootstrap.build``, matched by the hub's own routing and bus.

The implant's CDM code comes from the item master (the charge crosswalk); the charge's encounter
token from the keyed hash of PV1-19, the same hash the usage's edge applies to the encounter.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from usage_world import World, new_world, seed

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.reconciliation import Outcome, Side
from suture.services.phi import PhiTokenizer

VISIT = "V5512"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", erp_outbox_dir=tmp_path)


@pytest.fixture
def hub(settings: Settings) -> Iterator[Hub]:
    built = build(settings)
    yield built
    built.close()


@pytest.fixture
def world(hub: Hub) -> World:
    created = new_world()
    with hub.uow_factory() as unit:
        seed(unit, created)
    return created


def dft(world: World, cdm: str, quantity: int, amount: str) -> bytes:
    return (
        f"MSH|^~\\&|EPIC|{world.run}|SUTURE|GH|20250303150000||DFT^P03|{cdm}{quantity}|P|2.5.1\r"
        f"PID|1||MRN1^^^GH^MR||DOE^JANE\r"
        f"PV1|1|I|4W^401^1^GH||||||||||||||||{VISIT}\r"
        f"FT1|1|T-{cdm}-{quantity}||20250303140000||CG|{cdm}|||{quantity}|{amount}||OR\r"
    ).encode()


def drain(hub: Hub) -> None:
    while hub.bus.run_once():
        pass


def test_an_implant_used_and_charged_over_the_real_edges_is_matched(
    hub: Hub, world: World, settings: Settings
) -> None:
    encounter = PhiTokenizer(settings.secret_key)(VISIT)
    usage = world.usage(1, world.implant, encounter_token=encounter, consigned=True)
    hub.bus.execute(usage)
    reply = hub.hl7_ingest.handle(dft(world, "CDM-KNEE", 1, "5000.00"), "mllp", "epic")
    drain(hub)

    with hub.uow_factory() as unit:
        lines = unit.reconciliation.all(world.facility_id)
    assert b"MSA|AA" in reply.ack
    assert {(line.side, line.line_id == usage.usage_id, line.outcome) for line in lines} == {
        (Side.USAGE, True, Outcome.MATCHED), (Side.CHARGE, False, Outcome.MATCHED),
    }  # fmt: skip


def test_a_charge_for_another_cdm_code_leaves_the_implant_unbilled(
    hub: Hub, world: World, settings: Settings
) -> None:
    encounter = PhiTokenizer(settings.secret_key)(VISIT)
    usage = world.usage(1, world.implant, encounter_token=encounter, consigned=True)
    hub.bus.execute(usage)
    hub.hl7_ingest.handle(dft(world, "CDM-OTHER", 1, "90.00"), "mllp", "epic")
    drain(hub)

    with hub.uow_factory() as unit:
        found = unit.reconciliation.get(Side.USAGE, usage.usage_id)
    assert found is not None
    assert found.outcome is Outcome.USAGE_WITHOUT_CHARGE
