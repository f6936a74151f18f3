"""The file-drop transport on the real file system: whole files, one per key, never partial."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from suture.adapters.file_drop import FileDropTransport, file_name
from suture.domain.deliveries import Delivery
from suture.services.deliveries import DeliveryUnavailableError

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def delivery(key: str = "AP-2025-03-01-0001", payload: bytes = b"H|AP\r\nT|1\r\n") -> Delivery:
    return Delivery.new(
        id="dlv-1",
        target="erp:file",
        operation="ap_batch.export",
        payload=payload,
        idempotency_key=key,
        at=AT,
    )


def files(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in directory.rglob("*")
        if path.is_file()
    }


def test_a_delivery_becomes_one_file_named_after_its_key(tmp_path: Path) -> None:
    FileDropTransport(tmp_path, suffix=".csv").send(delivery())

    assert files(tmp_path) == {"erp_file/AP-2025-03-01-0001.csv": b"H|AP\r\nT|1\r\n"}


def test_a_repeated_delivery_replaces_its_file_instead_of_adding_one(tmp_path: Path) -> None:
    transport = FileDropTransport(tmp_path, per_target=False)

    transport.send(delivery())
    transport.send(delivery())

    assert files(tmp_path) == {"AP-2025-03-01-0001": b"H|AP\r\nT|1\r\n"}


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    FileDropTransport(tmp_path).send(delivery(payload=bytes(range(256)) * 4096))

    assert [path.name for path in tmp_path.rglob(".*")] == []


def test_a_key_that_is_not_a_plain_file_name_is_hashed(tmp_path: Path) -> None:
    key = "../../etc/passwd"

    FileDropTransport(tmp_path, per_target=False).send(delivery(key=key))

    assert list(files(tmp_path)) == [file_name(key)]
    assert len(file_name(key)) == 64


def test_a_file_in_place_is_replaced_whole_or_not_at_all_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = FileDropTransport(tmp_path, per_target=False)
    transport.send(delivery(payload=b"first"))

    def failing_replace(source: object, destination: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(DeliveryUnavailableError) as refused:
        transport.send(delivery(payload=b"second, longer"))

    assert files(tmp_path) == {"AP-2025-03-01-0001": b"first"}
    assert "No space left on device" in refused.value.reason


def test_an_unwritable_directory_is_a_transient_failure(tmp_path: Path) -> None:
    blocked = tmp_path / "outbox"
    blocked.write_bytes(b"")  # a file where the directory should be

    with pytest.raises(DeliveryUnavailableError) as refused:
        FileDropTransport(blocked).send(delivery())

    assert refused.value.field == "target"
