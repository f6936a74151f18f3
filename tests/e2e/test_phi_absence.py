"""Patient identifiers never reach logs, metrics or error messages (DESIGN.md §6).

``suture serve`` runs as an operator runs it, logging at DEBUG in JSON; HL7 v2 messages full of
patient identifiers arrive over a real MLLP socket and over the HTTP API, good ones and bad ones
(content errors, unsupported types, broken headers, a facility the client may not write, a
token that is not one). Then everything an operator or a monitoring system can read without the
``phi:read`` scope is searched for those identifiers: the process's whole output, ``/metrics``,
every HTTP answer, the exception queue as ``suture exceptions list --json`` prints it, and the
audit trail as ``suture audit list --json`` prints it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from test_serve import wait_for

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.masterdata import Facility

SUTURE = [sys.executable, "-m", "suture"]
#: Distinctive patient identifiers: none may appear anywhere outside the raw messages.
MRN = "MRN80086421"
NAME_FAMILY, NAME_GIVEN = "QUIMBYPHI", "ZENOBIAPHI"
ACCOUNT = "ACCT77551234"
VISIT = "VISIT3141592"
PHI = (MRN, NAME_FAMILY, NAME_GIVEN, ACCOUNT, VISIT)


def dft(control_id: str, *, quantity: str = "2", facility: str = "GH") -> bytes:
    return (
        f"MSH|^~\\&|EPIC|{facility}|SUTURE|GH|20250301083000||DFT^P03|{control_id}|P|2.5.1\r"
        f"PID|1||{MRN}^^^GH^MR||{NAME_FAMILY}^{NAME_GIVEN}||19700101|F|||||||||{ACCOUNT}\r"
        f"PV1|1|I|4W^401^1^GH||||||||||||||||{VISIT}\r"
        f"FT1|1|{control_id}-1||20250301080000||CG|CDM100|||{quantity}|50.00||LAB\r"
    ).encode()


MESSAGES = [
    dft("PHI-1"),  # accepted
    dft("PHI-2", quantity="two"),  # a content error: AE naming the field
    dft("PHI-3", facility="NOWHERE"),  # an unknown facility
    dft("PHI-1"),  # a duplicate
    dft("PHI-4").replace(b"DFT^P03", b"ORM^O01"),  # a type the codec does not read: AR
    b"PID|1||" + MRN.encode() + b"|||" + NAME_FAMILY.encode() + b"\r",  # no MSH at all
    dft("PHI-5").replace(b"MSH|^~\\&|", b"MSH|^~\\&\xff|"),  # a broken header
]


def run(environment: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [*SUTURE, *args], env=environment, capture_output=True, text=True, check=True
    ).stdout


def post_all(client: httpx.Client, environment: dict[str, str]) -> list[str]:
    """Every message over HTTP with a real token, plus refusals; the answers' bodies."""
    created = json.loads(
        run(environment, "clients", "create", "--name", "feed", "--scopes", "system:write",
            "--facility", "fac-gh", "--json")
    )  # fmt: skip
    token = client.post(
        "/oauth/token",
        content="grant_type=client_credentials",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=(created["client_id"], created["client_secret"]),
    ).json()["access_token"]
    answers = []
    for message in MESSAGES:
        answer = client.post(
            "/api/v1/system/messages",
            content=message,
            headers={"authorization": f"Bearer {token}", "content-type": "application/hl7-v2"},
        )
        answers.append(answer.text)
    forged = client.post(
        "/api/v1/system/messages",
        content=MESSAGES[0],
        headers={"authorization": f"Bearer {MRN}", "content-type": "application/hl7-v2"},
    )
    assert forged.status_code == 401
    answers.append(forged.text)
    return answers


def send_all(port: int) -> list[bytes]:
    acks = []
    with socket.create_connection(("127.0.0.1", port), timeout=20) as connection:
        for message in MESSAGES:
            connection.sendall(b"\x0b" + message + b"\x1c\x0d")
            data = b""
            while not data.endswith(b"\x1c\x0d"):
                chunk = connection.recv(65536)
                assert chunk, "the listener closed the connection without an ACK"
                data += chunk
            acks.append(data)
    return acks


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'phi.db'}"
    engine = create_engine(url)
    ensure_schema(engine)
    with SqlAlchemyUnitOfWork(engine) as uow:
        uow.facilities.add(Facility(id="fac-gh", code="GH", name="General", timezone="UTC"))
        uow.commit()
    engine.dispose()
    env = {
        **os.environ,
        "SUTURE_DATABASE_URL": url,
        "SUTURE_ERP_OUTBOX_DIR": str(tmp_path / "outbox"),
        "SUTURE_LOG_LEVEL": "DEBUG",
        "SUTURE_LOG_FORMAT": "json",
        "COLUMNS": "200",
    }
    env.pop("SUTURE_NATS_URL", None)
    return env


@pytest.fixture
def served(environment: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], int, int]]:
    process = subprocess.Popen(
        [*SUTURE, "serve", "--port", "0", "--mllp-port", "0", "--poll-interval", "0.05"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        http = int(wait_for(r"HTTP service on http://127\.0\.0\.1:(\d+)", process)[1])
        mllp = int(wait_for(r"MLLP listener on 127\.0\.0\.1:(\d+)", process)[1])
        yield process, http, mllp
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def test_no_patient_identifier_reaches_logs_metrics_or_the_exception_queue(
    served: tuple[subprocess.Popen[str], int, int], environment: dict[str, str]
) -> None:
    process, http, mllp = served
    acks = send_all(mllp)
    assert [ack.split(b"MSA|")[1][:2] for ack in acks if b"MSA|" in ack][:2] == [b"AA", b"AE"]
    with httpx.Client(base_url=f"http://127.0.0.1:{http}") as client:
        answers = post_all(client, environment)
        metrics = client.get("/metrics").text
        client.get("/no/such/path")
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    exceptions = run(environment, "exceptions", "list", "--json")
    audit = run(environment, "audit", "list", "--json")
    # The run did log and did open exceptions: the absence below is not the absence of output.
    assert '"event": "http.request"' in output
    assert "MLLP AE" in output
    assert "suture_inbox_messages" in metrics
    assert exceptions.count('"type"') >= 2
    assert audit.count('"message.ingest"') == len(MESSAGES)
    assert any('"ack_code":"AE"' in answer for answer in answers)
    for identifier in PHI:
        assert identifier not in output
        assert identifier not in metrics
        assert identifier not in exceptions
        assert identifier not in audit
        for answer in answers:
            assert identifier not in answer
