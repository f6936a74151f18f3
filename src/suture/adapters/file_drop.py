"""A transport that drops each delivery as a file: for partners and ERPs that load files.

Each delivery becomes one file named after its idempotency key, written whole or not at all:
the bytes go to a hidden temporary file in the same directory, are flushed to disk, and the file
is renamed into place (``os.replace``, atomic on POSIX and Windows within one file system), then
the directory entry is flushed too. A reader that skips names starting with ``.`` therefore never
sees a partial file. A repeated delivery (at least once, ``services/deliveries.py``) replaces its
file with the same bytes instead of adding a second file, so the consumer never loads it twice.

Files go to ``directory/<target>/`` unless ``per_target`` is off. A key or target that is not a
plain file name (letters, digits, ``.``, ``_``, ``-``; at most 128 characters) is replaced by
its SHA-256, so no key can escape the directory or collide with the temporary files.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from pathlib import Path
from uuid import uuid4

from suture.domain.deliveries import Delivery
from suture.services.deliveries import DeliveryRefusedError, DeliveryUnavailableError

_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def file_name(text: str) -> str:
    """``text`` when it is a plain file name, else its SHA-256 in hex."""
    if _PLAIN.fullmatch(text):
        return text
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class FileDropTransport:
    """Writes each delivery's payload to ``directory`` atomically, one file per key."""

    def __init__(self, directory: Path, *, suffix: str = "", per_target: bool = True) -> None:
        self._directory = Path(directory)
        self._suffix = suffix
        self._per_target = per_target

    def path_for(self, delivery: Delivery) -> Path:
        """Where the delivery's file goes."""
        folder = self._directory
        if self._per_target:
            folder = folder / file_name(delivery.target.replace(":", "_"))
        return folder / f"{file_name(delivery.idempotency_key)}{self._suffix}"

    def send(self, delivery: Delivery) -> None:
        if delivery.payload is None:
            raise DeliveryRefusedError(f"delivery {delivery.id} has no payload", field="payload")
        path = self.path_for(delivery)
        try:
            write_atomically(path, delivery.payload)
        except OSError as exc:
            raise DeliveryUnavailableError(
                f"cannot write {path.name} to {path.parent}: {exc.strerror or type(exc).__name__}"
            ) from exc


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all: a hidden temporary file in the same
    directory, flushed, renamed into place, the rename flushed. Raises :class:`OSError`."""
    temporary = path.with_name(f".{path.name}.{uuid4().hex}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
        _sync_directory(path.parent)
    except OSError:
        with contextlib.suppress(OSError):  # the directory itself may be what failed
            temporary.unlink(missing_ok=True)
        raise


def _sync_directory(directory: Path) -> None:
    """Flush the rename to disk (POSIX); Windows cannot open a directory and needs no flush."""
    if os.name != "posix":
        return
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
