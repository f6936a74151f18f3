"""Tryton's JSON-RPC protocol as the client speaks it, against a scripted server
(httpx2.MockTransport: Tryton itself is a truly external system; the real server is exercised
in tests/integration/test_tryton_erp.py)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx2 as httpx
import pytest

from suture.adapters.erp.tryton_rpc import TrytonRpc, decode, encode
from suture.services.erp import ErpRefusedError, ErpUnavailableError

PASSWORD = "pw-never-shown"


class Server:
    """A scripted Tryton: answers login and preferences, then what ``handle`` says."""

    def __init__(self, handle: Callable[[str, list[Any], str | None], httpx.Response]) -> None:
        self.handle = handle
        self.calls: list[tuple[str, list[Any], str | None]] = []
        self.logins = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content, object_hook=decode)
        method, params = body["method"], body["params"]
        session = request.headers.get("Authorization")
        self.calls.append((method, params, session))
        if method == "common.db.login":
            self.logins += 1
            ok = params[1] == {"password": PASSWORD}
            return result([7, f"token{self.logins}"] if ok else None, status=200 if ok else 403)
        if method == "model.res.user.get_preferences":
            return result({"company": 1, "language": "en"})
        return self.handle(method, params, session)

    def rpc(self) -> TrytonRpc:
        return TrytonRpc(
            "http://tryton.test", "hospital", "suture", PASSWORD,
            transport=httpx.MockTransport(self),
        )  # fmt: skip


def result(value: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=json.dumps({"id": 1, "result": encode(value)}))


def error(kind: str, payload: Any) -> httpx.Response:
    return httpx.Response(200, content=json.dumps({"id": 1, "error": [kind, payload]}))


def session_header(token: str) -> str:
    return "Session " + base64.b64encode(f"suture:7:{token}".encode()).decode()


def test_every_call_carries_the_session_and_the_context_last() -> None:
    server = Server(lambda method, params, session: result([1, 2]))

    assert server.rpc().call("model.party.party.search", [("code", "=", "S1")], 0, 1, None) == [
        1, 2,
    ]  # fmt: skip
    assert server.calls[-1] == (
        "model.party.party.search",
        [[["code", "=", "S1"]], 0, 1, None, {"company": 1, "language": "en"}],
        session_header("token1"),
    )


def test_decimals_and_dates_travel_as_tryton_class_objects() -> None:
    value = {"price": Decimal("12.50"), "on": date(2026, 3, 1), "at": datetime(2026, 3, 1, 8, 30)}  # noqa: DTZ001

    assert encode(value) == {
        "price": {"__class__": "Decimal", "decimal": "12.50"},
        "on": {"__class__": "date", "year": 2026, "month": 3, "day": 1},
        "at": {"__class__": "datetime", "year": 2026, "month": 3, "day": 1, "hour": 8,
               "minute": 30, "second": 0, "microsecond": 0},
    }  # fmt: skip
    assert json.loads(json.dumps(encode(value)), object_hook=decode) == value


def test_an_expired_session_logs_in_again_and_repeats_the_call() -> None:
    def handle(method: str, params: list[Any], session: str | None) -> httpx.Response:
        if session == session_header("token1"):
            return httpx.Response(401)
        return result("done")

    server = Server(handle)

    assert server.rpc().call("model.purchase.purchase.confirm", [5]) == "done"
    assert server.logins == 2


def test_a_user_warning_is_confirmed_then_the_call_repeated() -> None:
    skipped: list[Any] = []

    def handle(method: str, params: list[Any], session: str | None) -> httpx.Response:
        if method == "model.res.user.warning.skip":
            skipped.append(params[0])
            return result(None)
        if not skipped:
            return error("UserWarning", ["purchase_5_late", "Delivery date in the past", ""])
        return result("confirmed")

    assert Server(handle).rpc().call("model.purchase.purchase.confirm", [5]) == "confirmed"
    assert skipped == ["purchase_5_late"]


def test_a_user_error_is_a_refusal_keeping_trytons_message() -> None:
    server = Server(
        lambda method, params, session: error(
            "UserError", ['The party "Acme" has no invoice address.', "Add one.", None]
        )
    )

    with pytest.raises(ErpRefusedError) as refused:
        server.rpc().call("model.purchase.purchase.quote", [5])
    assert refused.value.reason == (
        'model.purchase.purchase.quote: Tryton refused: The party "Acme" has no invoice '
        "address. Add one."
    )


def test_a_server_fault_is_unavailable_with_its_first_line_only() -> None:
    server = Server(
        lambda method, params, session: error("code must be unique\nTraceback ...", "tb")
    )

    with pytest.raises(ErpUnavailableError, match=r"Tryton failed: code must be unique$"):
        server.rpc().call("model.account.move.post", [1])


def test_http_5xx_is_unavailable() -> None:
    server = Server(lambda method, params, session: httpx.Response(503))

    with pytest.raises(ErpUnavailableError, match="HTTP 503"):
        server.rpc().call("model.account.move.post", [1])


def test_a_wrong_password_is_refused_without_showing_it() -> None:
    server = Server(lambda method, params, session: result(None))
    rpc = TrytonRpc(
        "http://tryton.test", "hospital", "suture", "wrong", transport=httpx.MockTransport(server)
    )

    with pytest.raises(ErpRefusedError) as refused:
        rpc.call("model.party.party.search", [], 0, 1, None)
    assert (refused.value.field, "wrong" in str(refused.value)) == ("credentials", False)


def test_a_connection_failure_is_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    rpc = TrytonRpc("http://tryton.test", "h", "u", "p", transport=httpx.MockTransport(refuse))

    with pytest.raises(ErpUnavailableError, match="cannot reach Tryton"):
        rpc.call("model.party.party.search", [], 0, 1, None)
