"""The demo's source systems' side of the wire: an MLLP sender and an OAuth2 HTTP client.

They talk to the hub only through its real edges, as the EHR, the clinical FHIR client, the
legacy OR system and the supply-chain manager's tools would: TCP with MLLP framing (HL7 v2
§C.4: ``<VT> message <FS><CR>``) and HTTP with a client-credentials token (RFC 6749 §4.4).
Standard library only, like the scripted supplier's ``HttpSink``: the demo needs no HTTP client
dependency.

Errors::

    SutureError
      └── DemoEdgeError   an edge refused a message or could not be reached (field: the edge)
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from http import HTTPStatus
from typing import Any

from suture.domain.errors import SutureError

_VT, _FS, _CR = b"\x0b", b"\x1c", b"\x0d"
#: Attempts per message, and the pause before the next one grows by this many seconds.
RETRIES = 5
PAUSE = 0.5


class DemoEdgeError(SutureError):
    """An edge refused a demo message, or could not be reached."""


class MllpSender:
    """One MLLP connection; :meth:`send` waits for each message's ACK and checks it is ``AA``.

    As an HL7 sender does, a message whose ACK never came (the hub closed the connection: it
    could not store the message in time) is sent again on a new connection, after a pause; the
    hub recognises bytes it stored already, so a re-send never posts a charge twice.
    """

    def __init__(
        self, host: str, port: int, *, timeout: float = 30.0, attempts: int = RETRIES
    ) -> None:
        self._address = (host, port)
        self._timeout = timeout
        self._attempts = attempts
        self._socket: socket.socket | None = None
        self._buffer = b""

    def send(self, message: bytes, *, expect: bytes = b"AA") -> None:
        """Send and check the ACK's MSA-1 is ``expect`` (``AE`` for a message meant to fail)."""
        for attempt in range(1, self._attempts + 1):
            try:
                ack = self._exchange(message)
                break
            except (DemoEdgeError, OSError) as error:
                self.close()
                if attempt == self._attempts:
                    reason = f"no ACK after {attempt} attempts: {error}"
                    raise DemoEdgeError("mllp", reason) from None
                time.sleep(PAUSE * attempt)
        segments = ack.split(b"\r")
        msa = next((s for s in segments if s.startswith(b"MSA|")), b"")
        code = msa.split(b"|")[1] if msa.count(b"|") >= 1 else b""
        if code != expect:
            err = next((s for s in segments if s.startswith(b"ERR|")), b"").decode(
                "ascii", "replace"
            )
            raise DemoEdgeError("mllp", f"the hub answered {code.decode() or '?'}: {err[:200]}")

    def _exchange(self, message: bytes) -> bytes:
        if self._socket is None:
            self._socket = socket.create_connection(self._address, timeout=self._timeout)
            self._buffer = b""
        self._socket.sendall(_VT + message + _FS + _CR)
        while _FS + _CR not in self._buffer:
            chunk = self._socket.recv(65536)
            if not chunk:
                raise DemoEdgeError("mllp", "the hub closed the connection before its ACK")
            self._buffer += chunk
        frame, _, self._buffer = self._buffer.partition(_FS + _CR)
        return frame.lstrip(_VT)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


class HubClient:
    """JSON over HTTP to the hub with a client-credentials bearer token."""

    def __init__(
        self, base_url: str, client_id: str, client_secret: str, *, timeout: float = 60.0
    ) -> None:
        self._base = base_url.rstrip("/")
        self._credentials = (client_id, client_secret)
        self._timeout = timeout
        self._token: str | None = None

    def get(self, path: str, **query: str | int | None) -> Any:
        return self._call("GET", path, None, "application/json", query)

    def post_json(self, path: str, body: object, **query: str | int | None) -> Any:
        data = json.dumps(body).encode("utf-8")
        return self._call("POST", path, data, "application/json", query)

    def post_raw(self, path: str, data: bytes, content_type: str, **query: str | None) -> Any:
        return self._call("POST", path, data, content_type, dict(query))

    def _call(
        self,
        method: str,
        path: str,
        data: bytes | None,
        content_type: str,
        query: dict[str, str | int | None],
    ) -> Any:
        params = {key: str(value) for key, value in query.items() if value is not None}
        url = f"{self._base}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        request = urllib.request.Request(  # noqa: S310 - the hub this process started
            url,
            data=data,
            method=method,
            headers={"Content-Type": content_type, "Authorization": f"Bearer {self._bearer()}"},
        )
        for attempt in range(1, RETRIES + 1):
            try:
                with urllib.request.urlopen(  # noqa: S310 - the hub this process started
                    request, timeout=self._timeout
                ) as response:
                    body = response.read()
                break
            except urllib.error.HTTPError as error:
                detail = error.read()[:300].decode("utf-8", "replace")
                if error.code != HTTPStatus.SERVICE_UNAVAILABLE or attempt == RETRIES:
                    raise DemoEdgeError(path, f"HTTP {error.code}: {detail}") from None
            except OSError as error:
                if attempt == RETRIES:
                    raise DemoEdgeError(path, f"cannot reach the hub: {error}") from None
            # 503: the hub could not store it in time (the database was busy); it kept
            # nothing, or recognises the same bytes again, so asking again is safe.
            time.sleep(PAUSE * attempt)
        return json.loads(body) if body else None

    def _bearer(self) -> str:
        if self._token is None:
            client_id, secret = self._credentials
            form = urllib.parse.urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": secret,
                }
            ).encode()
            request = urllib.request.Request(  # noqa: S310 - the hub this process started
                f"{self._base}/oauth/token",
                data=form,
                method="POST",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            try:
                with urllib.request.urlopen(  # noqa: S310 - the hub this process started
                    request, timeout=self._timeout
                ) as response:
                    self._token = str(json.loads(response.read())["access_token"])
            except (urllib.error.HTTPError, OSError) as error:
                raise DemoEdgeError("/oauth/token", f"no token: {error}") from None
        return self._token
