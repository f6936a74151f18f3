"""``POST /api/v1/system/messages``: raw HL7 v2, X12 and CSV stored before the answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.access import ALL_FACILITIES, Scope
from suture.domain.masterdata import Facility
from suture.entrypoints.api.app import create_app

MESSAGES = "/api/v1/system/messages"
HL7 = {"content-type": "application/hl7-v2"}
X12 = {"content-type": "application/edi-x12"}


def dft(control_id: str, *, facility: str = "GH", quantity: str = "2") -> bytes:
    return (
        f"MSH|^~\\&|EPIC|{facility}|SUTURE|GH|20250301083000||DFT^P03|{control_id}|P|2.5.1\r"
        f"PID|1||MRN1^^^GH^MR||DOE^JANE||19700101|F\r"
        f"PV1|1|I|4W^401^1^GH||||||||||||||||V1\r"
        f"FT1|1|{control_id}-1||20250301080000||CG|CDM100|||{quantity}|50.00||LAB\r"
    ).encode()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = build(
        Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", erp_outbox_dir=tmp_path / "out")
    )
    with built.uow_factory() as uow:
        uow.facilities.add_many(
            [
                Facility(id="fac-gh", code="GH", name="General", timezone="UTC"),
                Facility(id="fac-st", code="ST", name="St Mary", timezone="UTC"),
            ]
        )
        uow.commit()
    yield built
    built.close()


@pytest.fixture
def api(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as client:
        yield client


def writer(hub: Hub, facilities: list[str], scopes: set[Scope] | None = None) -> dict[str, str]:
    created = hub.clients.create("feed", scopes or {Scope.SYSTEM_WRITE}, facilities)
    return {"authorization": f"Bearer {hub.tokens.issue(created.client).access_token}"}


def test_an_hl7_message_is_stored_applied_and_answered_202_with_its_ack_code(
    api: TestClient, hub: Hub
) -> None:
    answer = api.post(MESSAGES, content=dft("A1"), headers=HL7 | writer(hub, ["fac-gh"]))
    assert answer.status_code == 202
    body = answer.json()
    assert (body["format"], body["ack_code"], body["duplicate"]) == ("hl7v2", "AA", False)
    stored = hub.inbox.get(body["message_id"], with_raw=True)
    assert (stored.raw, stored.trace_id, stored.interface) == (dft("A1"), body["trace_id"], "api")
    assert body["status"] == str(stored.status)


def test_the_same_bytes_twice_are_recognised_as_a_duplicate(api: TestClient, hub: Hub) -> None:
    headers = HL7 | writer(hub, ["fac-gh"])
    first = api.post(MESSAGES, content=dft("A1"), headers=headers).json()
    second = api.post(MESSAGES, content=dft("A1"), headers=headers).json()
    assert (second["message_id"], second["duplicate"]) == (first["message_id"], True)


def test_bad_hl7_content_is_stored_and_answered_with_ae(api: TestClient, hub: Hub) -> None:
    answer = api.post(
        MESSAGES, content=dft("A2", quantity="two"), headers=HL7 | writer(hub, ["fac-gh"])
    )
    assert (answer.status_code, answer.json()["ack_code"]) == (202, "AE")
    assert hub.inbox.get(answer.json()["message_id"]).status_reason


def test_a_quantity_the_hub_cannot_store_exactly_is_ae_and_failed_not_a_503_to_retry(
    api: TestClient, hub: Hub
) -> None:
    answer = api.post(
        MESSAGES, content=dft("A6", quantity="2.00001"), headers=HL7 | writer(hub, ["fac-gh"])
    )
    assert (answer.status_code, answer.json()["ack_code"]) == (202, "AE")
    stored = hub.inbox.get(answer.json()["message_id"])
    assert (str(stored.status), stored.status_reason) == (
        "failed",
        "FT1 #1, FT1-10: quantity has more than 4 decimal places",
    )


def test_hl7_for_a_facility_outside_the_token_is_refused_before_it_is_stored(
    api: TestClient, hub: Hub
) -> None:
    answer = api.post(
        MESSAGES, content=dft("A3", facility="ST"), headers=HL7 | writer(hub, ["fac-gh"])
    )
    assert answer.status_code == 403
    assert hub.inbox.list() == []


@pytest.mark.parametrize("facility", ["NOPE", ""])
def test_hl7_naming_no_known_facility_is_refused_for_a_facility_token_naming_msh_4(
    api: TestClient, hub: Hub, facility: str
) -> None:
    answer = api.post(
        MESSAGES, content=dft("A5", facility=facility), headers=HL7 | writer(hub, ["fac-gh"])
    )
    assert answer.status_code == 403
    assert answer.json()["errors"] == [
        {"field": "MSH-4", "reason": "names no facility of this hub"}
    ]
    assert hub.inbox.list() == []


def test_an_x12_body_is_stored_for_the_named_facility(api: TestClient, hub: Hub) -> None:
    raw = (
        b"ISA*00*          *00*          *ZZ*SUPPLIER*ZZ*HOSPITAL"
        b"*250301*0830*U*00401*000000001*0*P*>~"
    )
    answer = api.post(
        MESSAGES,
        content=raw,
        params={"facility_id": "fac-gh", "interface": "x12-as2"},
        headers=X12 | writer(hub, ["fac-gh"]),
    )
    assert answer.status_code == 202
    stored = hub.inbox.get(answer.json()["message_id"], with_raw=True)
    assert (stored.raw, stored.format, stored.facility_id, stored.interface) == (
        raw,
        "x12",
        "fac-gh",
        "x12-as2",
    )


def test_a_facility_token_must_name_the_facility_of_an_x12_body(api: TestClient, hub: Hub) -> None:
    answer = api.post(MESSAGES, content=b"ISA*00~", headers=X12 | writer(hub, ["fac-gh"]))
    assert answer.status_code == 403
    assert answer.json()["errors"] == [
        {"field": "facility_id", "reason": "name the facility of the message"}
    ]


def test_an_unsupported_content_type_is_415(api: TestClient, hub: Hub) -> None:
    answer = api.post(
        MESSAGES,
        content=b"{}",
        headers={"content-type": "application/json"} | writer(hub, [ALL_FACILITIES]),
    )
    assert answer.status_code == 415
    assert answer.headers["content-type"] == "application/problem+json"


def test_an_empty_body_is_refused(api: TestClient, hub: Hub) -> None:
    answer = api.post(MESSAGES, content=b"", headers=HL7 | writer(hub, [ALL_FACILITIES]))
    assert answer.status_code == 422


def test_ingest_needs_system_write(api: TestClient, hub: Hub) -> None:
    answer = api.post(
        MESSAGES, content=dft("A4"), headers=HL7 | writer(hub, ["fac-gh"], {Scope.SYSTEM_READ})
    )
    assert answer.status_code == 403
    assert hub.inbox.list() == []


# --- the audit trail and raw reads -----------------------------------------------------------


def reader(hub: Hub, scopes: set[Scope], facilities: list[str]) -> tuple[str, dict[str, str]]:
    created = hub.clients.create("reader", scopes, facilities)
    token = hub.tokens.issue(created.client).access_token
    return created.client.id, {"authorization": f"Bearer {token}"}


def test_an_ingest_is_recorded_in_the_audit_trail_with_client_scope_and_outcome(
    api: TestClient, hub: Hub
) -> None:
    client_id, headers = reader(hub, {Scope.SYSTEM_WRITE}, ["fac-gh"])
    accepted = api.post(MESSAGES, content=dft("AU1"), headers=HL7 | headers).json()
    refused = api.post(MESSAGES, content=dft("AU2", facility="ST"), headers=HL7 | headers)
    assert refused.status_code == 403
    ingests = [r.entry for r in hub.audit.list(action="message.ingest")]
    assert [(e.actor.client_id, e.actor.scope, e.target_id, str(e.outcome)) for e in ingests] == [
        (client_id, "system:write", accepted["message_id"], "success"),
        (client_id, "system:write", None, "denied"),
    ]
    assert hub.audit.verify().intact


def test_a_message_s_metadata_needs_system_read_and_carries_no_content(
    api: TestClient, hub: Hub
) -> None:
    stored = api.post(
        MESSAGES, content=dft("M1"), headers=HL7 | writer(hub, [ALL_FACILITIES])
    ).json()
    _, headers = reader(hub, {Scope.SYSTEM_READ}, [ALL_FACILITIES])
    answer = api.get(f"{MESSAGES}/{stored['message_id']}", headers=headers)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["id"], body["format"], body["trace_id"]) == (
        stored["message_id"],
        "hl7v2",
        stored["trace_id"],
    )
    assert "MRN1" not in answer.text
    assert api.get(f"{MESSAGES}/{stored['message_id']}/raw", headers=headers).status_code == 403


def test_reading_raw_content_needs_phi_read_and_is_audited(api: TestClient, hub: Hub) -> None:
    stored = api.post(
        MESSAGES, content=dft("R1"), headers=HL7 | writer(hub, [ALL_FACILITIES])
    ).json()
    client_id, headers = reader(hub, {Scope.PHI_READ}, [ALL_FACILITIES])
    answer = api.get(f"{MESSAGES}/{stored['message_id']}/raw", headers=headers)
    assert answer.status_code == 200
    assert answer.content == dft("R1")
    assert answer.headers["content-type"] == "x-application/hl7-v2+er7"
    (read,) = hub.audit.list(action="message.raw_read")
    assert (read.entry.actor.client_id, read.entry.actor.scope, read.entry.target_id) == (
        client_id,
        "phi:read",
        stored["message_id"],
    )


def test_admin_alone_does_not_read_raw_content(api: TestClient, hub: Hub) -> None:
    stored = api.post(
        MESSAGES, content=dft("R2"), headers=HL7 | writer(hub, [ALL_FACILITIES])
    ).json()
    _, headers = reader(hub, {Scope.ADMIN}, [ALL_FACILITIES])
    assert api.get(f"{MESSAGES}/{stored['message_id']}/raw", headers=headers).status_code == 403
    assert hub.audit.list(action="message.raw_read") == []


def test_an_unknown_message_is_404(api: TestClient, hub: Hub) -> None:
    _, headers = reader(hub, {Scope.SYSTEM_READ}, [ALL_FACILITIES])
    assert api.get(f"{MESSAGES}/no-such-message", headers=headers).status_code == 404
