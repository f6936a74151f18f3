"""Running the scripted test supplier against a hub: 850 files in, replies out by file or HTTP.

The simulator (``services/supplier_simulator.py``) decides what a supplier answers; this module
is the supplier's EDI gateway around it. :class:`SupplierGateway` polls a folder where the hub
drops its 850s (the file-drop transport of the ``x12`` delivery targets writes one file per PO
under ``<dir>/<target>/``), answers each file once, and sends each reply when it is due through
a :class:`ReplySink`:

- :class:`DirectorySink` writes it into a folder (the hub's ``suture serve --watch`` drop
  folder), whole or not at all (hidden temporary file, then rename);
- :class:`HttpSink` posts it to the hub's ``POST /api/v1/system/messages`` as
  ``application/edi-x12``, with a bearer token from ``POST /oauth/token`` (client credentials).

Both are the hub's real inbound edges, so the replies go through the inbox, the X12 decoders and
the workflows exactly as a real supplier's would. An answered 850 file is moved to
``answered/`` beside it (as a VAN picks a file up), so a restarted gateway does not answer it
again; replies not yet sent when the gateway stops are lost, as with a supplier that goes down
(a rehearsal tool, not a durable system).

Time: a reply is due ``due_after`` after its 850 was picked up, divided by ``speed`` (simulated
seconds per real second); ``speed`` 0 sends every reply at once, in due order.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from uuid import uuid4

from suture.domain.errors import SutureError
from suture.formats.x12 import X12Error
from suture.services.supplier_simulator import Reply, SupplierSimulator

_ANSWERED = "answered"
_REJECTED = "rejected"


class SupplierGatewayError(SutureError):
    """A reply could not be sent (the hub refused it or could not be reached)."""


class ReplySink(Protocol):
    def send(self, reply: Reply) -> None: ...


class DirectorySink:
    """Writes each reply as ``<po>-<n>-<set>.x12`` into ``directory``, atomically."""

    def __init__(self, directory: Path) -> None:
        self._directory = Path(directory)
        self._count = 0

    def send(self, reply: Reply) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        self._count += 1
        name = f"{_plain(reply.po_number)}-{self._count:04d}-{reply.transaction_set}.x12"
        path = self._directory / name
        temporary = self._directory / f".{name}.{uuid4().hex}.tmp"
        temporary.write_bytes(reply.payload)
        os.replace(temporary, path)


class HttpSink:
    """Posts each reply to the hub's raw ingest API with a client-credentials token."""

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        client_secret: str,
        interface: str,
        facility_id: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._client = (client_id, client_secret)
        self._interface = interface
        self._facility = facility_id
        self._timeout = timeout
        self._token: str | None = None

    def send(self, reply: Reply) -> None:
        query = {"interface": self._interface}
        if self._facility is not None:
            query["facility_id"] = self._facility
        url = f"{self._base}/api/v1/system/messages?{urllib.parse.urlencode(query)}"
        for attempt in (1, 2):
            request = urllib.request.Request(  # noqa: S310 - the operator's own hub URL
                url,
                data=reply.payload,
                method="POST",
                headers={
                    "Content-Type": "application/edi-x12",
                    "Authorization": f"Bearer {self._bearer()}",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=self._timeout):  # noqa: S310
                    return
            except urllib.error.HTTPError as error:
                if error.code == 401 and attempt == 1:  # the token expired: one fresh try
                    self._token = None
                    continue
                raise SupplierGatewayError(
                    "reply",
                    f"the hub refused the {reply.transaction_set} for PO {reply.po_number}: "
                    f"HTTP {error.code} {_detail(error)}",
                ) from None
            except OSError as error:
                raise SupplierGatewayError(
                    "url", f"cannot reach the hub at {self._base}: {error}"
                ) from None

    def _bearer(self) -> str:
        if self._token is not None:
            return self._token
        form = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": self._client[0],
                "client_secret": self._client[1],
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - the operator's own hub URL
            f"{self._base}/oauth/token",
            data=form,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                token = str(json.loads(response.read())["access_token"])
        except urllib.error.HTTPError as error:
            raise SupplierGatewayError(
                "client_id",
                f"the hub refused the client credentials: HTTP {error.code} {_detail(error)}",
            ) from None
        except OSError as error:
            raise SupplierGatewayError(
                "url", f"cannot reach the hub at {self._base}: {error}"
            ) from None
        self._token = token
        return token


@dataclass(frozen=True, slots=True)
class _Pending:
    due: datetime
    order: int
    reply: Reply


@dataclass(frozen=True, slots=True)
class GatewayReport:
    """What one :meth:`SupplierGateway.poll` did."""

    answered: tuple[str, ...]
    rejected: tuple[str, ...]
    sent: tuple[Reply, ...]
    pending: int


class SupplierGateway:
    """Answers the 850 files under ``watch`` and sends the replies when due (module doc)."""

    def __init__(
        self,
        simulator: SupplierSimulator,
        watch: Path,
        sink: ReplySink,
        clock: Callable[[], datetime],
        *,
        speed: float = 0.0,
    ) -> None:
        if speed < 0:
            raise SupplierGatewayError("speed", f"must not be negative, got {speed}")
        self._simulator = simulator
        self._watch = Path(watch)
        self._sink = sink
        self._clock = clock
        self._speed = speed
        self._pending: list[_Pending] = []
        self._order = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def next_due(self) -> datetime | None:
        """When the earliest reply not yet sent is due (None: nothing pending), so a driver with
        a simulated clock can jump to it."""
        return min((p.due for p in self._pending), default=None)

    def poll(self) -> GatewayReport:
        """Answer new 850 files, then send every reply that is due."""
        answered: list[str] = []
        rejected: list[str] = []
        now = self._clock()
        for path in self._new_files():
            try:
                replies = self._simulator.answer(path.read_bytes(), now)
            except (X12Error, SutureError):
                _move(path, _REJECTED)
                rejected.append(path.name)
                continue
            for reply in replies:
                self._order += 1
                self._pending.append(_Pending(self._due(now, reply), self._order, reply))
            _move(path, _ANSWERED)
            answered.append(path.name)
        self._pending.sort(key=lambda p: (p.due, p.order))
        sent: list[Reply] = []
        while self._pending and self._pending[0].due <= now:
            self._sink.send(self._pending[0].reply)
            sent.append(self._pending.pop(0).reply)
        return GatewayReport(tuple(answered), tuple(rejected), tuple(sent), len(self._pending))

    def _due(self, now: datetime, reply: Reply) -> datetime:
        if self._speed == 0:
            return now
        return now + timedelta(seconds=reply.due_after.total_seconds() / self._speed)

    def _new_files(self) -> list[Path]:
        if not self._watch.is_dir():
            return []
        found = [
            path
            for path in self._watch.rglob("*")
            if path.is_file()
            and not path.name.startswith(".")
            and not path.name.endswith(".tmp")
            and not {_ANSWERED, _REJECTED} & set(path.relative_to(self._watch).parts[:-1])
        ]
        return sorted(found, key=lambda path: (path.stat().st_mtime_ns, str(path)))


def _move(path: Path, folder: str) -> None:
    target = path.parent / folder
    target.mkdir(exist_ok=True)
    os.replace(path, target / path.name)


def _plain(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:64] or "po"


def _detail(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read() or b"{}")
    except ValueError:
        return ""
    detail = body.get("detail") or body.get("error_description") or ""
    return str(detail)[:200]
