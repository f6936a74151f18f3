"""A JSON-RPC client for Tryton's network API (Tryton 8.2), over HTTP with httpx2.

Suture talks to Tryton only as a separate program over HTTP; it never imports ``trytond``
(GPL-3.0-or-later). What the client takes care of, from Tryton's protocol:

- ``POST /<database>/rpc/`` with ``{"id", "method", "params"}``; the last parameter of every
  call is the **context** (HTTP 422 without it), taken from ``res.user.get_preferences`` after
  login and sent on every call.
- **Session login**: ``common.db.login`` returns ``[user_id, token, …]``; later calls send
  ``Authorization: Session base64(login:user_id:token)``. Sessions expire after 300 s idle
  (HTTP 401): the client logs in again once and repeats the call.
- **Values**: ``Decimal``, ``date`` and ``datetime`` travel as ``{"__class__": …}`` objects.
- **Errors** ``{"error": [kind, payload]}``: a ``UserError`` (``[message, description,
  domain]``) is a refusal, :class:`~suture.services.erp.ErpRefusedError` with Tryton's message;
  a ``UserWarning`` (``[name, message, description]``) asks for a confirmation, which the
  client gives (``res.user.warning.skip``) before repeating the call; anything else, and HTTP
  5xx or a connection failure, is :class:`~suture.services.erp.ErpUnavailableError`.
- **One call at a time**: on SQLite, concurrent writers race on sequence numbers, so the client
  serializes its calls (per client, that is per Tryton database and process).

The password is held only to log in again; it is never logged or put in an error message.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx2

from suture.services.erp import ErpRefusedError, ErpUnavailableError

#: Confirmations given per call before the client gives up (a warning that keeps coming back).
MAX_WARNINGS = 5


def encode(value: Any) -> Any:
    """``value`` with Decimals, dates and datetimes as Tryton's ``__class__`` objects."""
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": f"{value:f}"}
    if isinstance(value, datetime):
        return {
            "__class__": "datetime", "year": value.year, "month": value.month, "day": value.day,
            "hour": value.hour, "minute": value.minute, "second": value.second,
            "microsecond": value.microsecond,
        }  # fmt: skip
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    return value


def decode(obj: dict[str, Any]) -> Any:
    """``json.loads`` object hook: Tryton's ``__class__`` objects back to Python values."""
    kind = obj.get("__class__")
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "date":
        return date(obj["year"], obj["month"], obj["day"])
    if kind == "datetime":
        return datetime(  # noqa: DTZ001 - Tryton's datetimes are naive UTC by its convention
            obj["year"], obj["month"], obj["day"], obj.get("hour", 0), obj.get("minute", 0),
            obj.get("second", 0), obj.get("microsecond", 0),
        )  # fmt: skip
    if kind == "bytes":
        return base64.b64decode(obj["base64"])
    return obj


class TrytonRpc:
    """One Tryton database over JSON-RPC: login, context, value encoding, errors, retries.

    ``transport`` is httpx2's seam for tests (``httpx2.MockTransport``); production uses the
    network.
    """

    def __init__(
        self,
        url: str,
        database: str,
        user: str,
        password: str,
        *,
        timeout: float = 30.0,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        self._database = database
        self._user = user
        self._password = password
        self._http = httpx2.Client(base_url=url.rstrip("/"), timeout=timeout, transport=transport)
        self._session: str | None = None
        self._context: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    def close(self) -> None:
        self._http.close()

    @property
    def context(self) -> dict[str, Any]:
        return dict(self._context)

    def login(self) -> None:
        """Open a session and load the user's context (language, company, date)."""
        with self._lock:
            result = self._post(
                "common.db.login", [self._user, {"password": self._password}], session=False
            )
            if not isinstance(result, list) or len(result) < 2:
                raise ErpRefusedError("credentials", "Tryton refused the login")
            raw = f"{self._user}:{result[0]}:{result[1]}".encode()
            self._session = base64.b64encode(raw).decode("ascii")
            self.refresh_context()

    def refresh_context(self) -> None:
        """Fetch the context again (after the company or the user's preferences change)."""
        preferences = self._post("model.res.user.get_preferences", [True, {}], session=True)
        self._context = dict(preferences) if isinstance(preferences, dict) else {}

    def call(self, method: str, *args: Any) -> Any:
        """``method(*args, context)``; confirms Tryton's warnings, logs in again on expiry."""
        with self._lock:
            if self._session is None:
                self.login()
            for _ in range(MAX_WARNINGS):
                try:
                    return self._post(method, [*args, self._context], session=True)
                except _WarningError as warning:
                    self._post(
                        "model.res.user.warning.skip",
                        [warning.name, False, self._context],
                        session=True,
                    )
            raise ErpRefusedError("warning", f"{method}: Tryton kept asking for confirmations")

    def server_version(self) -> str:
        """``common.server.version`` on ``/rpc/`` (no database, no session)."""
        body = {"id": next(self._ids), "method": "common.server.version", "params": []}
        return str(self._exchange("/rpc/", body, {}, "common.server.version"))

    def _post(self, method: str, params: list[Any], *, session: bool) -> Any:
        body = {"id": next(self._ids), "method": method, "params": encode(params)}
        headers = {"Authorization": f"Session {self._session}"} if session else {}
        try:
            return self._exchange(f"/{self._database}/rpc/", body, headers, method)
        except _SessionExpiredError:
            if not session:
                raise ErpRefusedError("credentials", "Tryton refused the login") from None
            self.login()
            headers = {"Authorization": f"Session {self._session}"}
            try:
                return self._exchange(f"/{self._database}/rpc/", body, headers, method)
            except _SessionExpiredError:
                raise ErpRefusedError(
                    "credentials", "Tryton refused the session right after login"
                ) from None

    def _exchange(
        self, path: str, body: dict[str, Any], headers: dict[str, str], method: str
    ) -> Any:
        try:
            response = self._http.post(
                path,
                content=json.dumps(body, separators=(",", ":")),
                headers={"Content-Type": "application/json", **headers},
            )
        except httpx2.TimeoutException as exc:
            raise ErpUnavailableError(
                "erp_url", f"{method}: Tryton did not answer in time"
            ) from exc
        except httpx2.HTTPError as exc:
            raise ErpUnavailableError(
                "erp_url", f"{method}: cannot reach Tryton ({type(exc).__name__})"
            ) from exc
        if response.status_code in (401, 403):
            raise _SessionExpiredError
        if response.status_code >= 500 or response.status_code in (409, 423, 429):
            raise ErpUnavailableError(
                "erp_url", f"{method}: Tryton answered HTTP {response.status_code}"
            )
        if response.status_code >= 400:
            raise ErpRefusedError(
                "request", f"{method}: Tryton answered HTTP {response.status_code}"
            )
        try:
            answer = json.loads(response.content, object_hook=decode)
        except ValueError as exc:
            raise ErpUnavailableError("erp_url", f"{method}: Tryton's answer is not JSON") from exc
        if "error" in answer and answer["error"] is not None:
            raise _error(method, answer["error"])
        return answer.get("result")


class _SessionExpiredError(Exception):
    """HTTP 401/403: log in again."""


class _WarningError(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _error(method: str, error: Any) -> Exception:
    """Tryton's ``[kind, payload]`` error as the exception the caller sees."""
    kind = error[0] if isinstance(error, list) and error else str(error)
    payload = error[1] if isinstance(error, list) and len(error) > 1 else None
    if kind == "UserWarning" and isinstance(payload, list) and payload:
        return _WarningError(str(payload[0]))
    if kind == "UserError" and isinstance(payload, list) and payload:
        message = str(payload[0])
        description = str(payload[1]) if len(payload) > 1 and payload[1] else ""
        text = f"{message} {description}".strip()
        return ErpRefusedError("erp", f"{method}: Tryton refused: {text}")
    if kind in ("LoginException", "ConcurrencyException", "RateLimitException"):
        return ErpUnavailableError("erp", f"{method}: Tryton answered {kind}")
    first_line = str(kind).strip().splitlines()[0] if str(kind).strip() else "error"
    return ErpUnavailableError("erp", f"{method}: Tryton failed: {first_line[:200]}")
