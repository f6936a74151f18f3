"""Per-client throttling of the HTTP API, and the rate-limit headers on every response.

Budgets (``adapters/rate_limits.py``, moving window, in memory or shared through Redis):

- every authenticated request is charged to its client (``SUTURE_RATE_LIMIT_CLIENT``) by the
  authentication dependency itself (``security.py``), so no route can forget it;
- ``POST /oauth/token``, before the client is known, is charged to the remote address
  (``SUTURE_RATE_LIMIT_TOKEN``) by :func:`charge_address`.

Over budget the answer is ``429`` with ``Retry-After`` (RFC 9110 §10.2.3). Every response of a
charged request carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset``
(seconds until the budget has room again; draft-ietf-httpapi-ratelimit-headers), error responses
included: :class:`RateLimitHeadersMiddleware` adds them from the decision the charge left in the
request's state, whatever produced the response.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from suture.adapters.rate_limits import RateDecision

#: Where a charge leaves its decision for the middleware (``request.state.rate_limit``).
STATE_KEY = "rate_limit"


class RateLimitExceededError(HTTPException):
    """``429``: the caller spent its budget; rendered as problem+json by ``security.install``."""

    def __init__(self, decision: RateDecision, who: str) -> None:
        super().__init__(
            status_code=429,
            detail=f"{who} made more than {decision.limit} requests in the window; "
            f"retry after {decision.reset_after} s",
            headers={"Retry-After": str(max(decision.reset_after, 1)), **headers_of(decision)},
        )


def headers_of(decision: RateDecision) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(decision.reset_after),
    }


def charge_client(request: Request, client_id: str) -> None:
    """Charge one request to an authenticated client; ``429`` over its budget."""
    decision = request.app.state.hub.rate_limiter.charge_client(client_id)
    _record(request, decision, "this client")


def charge_address(request: Request) -> None:
    """Dependency of the token endpoint: charge the remote address; ``429`` over its budget."""
    address = request.client.host if request.client is not None else "unknown"
    decision = request.app.state.hub.rate_limiter.charge_address(address)
    _record(request, decision, "this address")


def _record(request: Request, decision: RateDecision, who: str) -> None:
    setattr(request.state, STATE_KEY, decision)
    if not decision.allowed:
        raise RateLimitExceededError(decision, who)


class RateLimitHeadersMiddleware:
    """Pure ASGI (no ``BaseHTTPMiddleware`` overhead on the latency budget): adds the
    rate-limit headers of the request's charge to its response, when it was charged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            decision = state.get(STATE_KEY)
            if message["type"] == "http.response.start" and isinstance(decision, RateDecision):
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [
                    (name.lower().encode("latin-1"), value.encode("latin-1"))
                    for name, value in headers_of(decision).items()
                    if name.lower().encode("latin-1") not in present
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
