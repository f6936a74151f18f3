"""Authentication, scopes and facility/supplier scoping as FastAPI dependencies.

Routes stay thin (STYLE.md habit 8): they declare what they need and get it or never run.

- :data:`CurrentPrincipal` reads ``Authorization: Bearer <token>`` (RFC 6750 §2.1), verifies it
  with ``hub.tokens`` and charges the request to the client's rate budget (``throttling.py``).
  A missing, malformed, expired or revoked token is ``401`` with ``WWW-Authenticate: Bearer
  error="invalid_token"`` (RFC 6750 §3.1); no token at all omits the error code, as §3.1 asks.
- :func:`require` gives a dependency needing one scope: ``403`` with ``error="insufficient_scope"``
  otherwise. Its OpenAPI entry names the scope under the ``oauth2`` client-credentials scheme.
- :data:`RecordScope` is the facility and supplier filter a list query must apply (from the
  ``facility_id`` and ``supplier_id`` query parameters, narrowed to what the token may see);
  :func:`check_record` refuses one record outside it (``403``).

The principal is kept on ``request.state.principal`` for the audit trail; it is computed once
per request even when several dependencies ask for it.

Errors are ``application/problem+json`` (RFC 9457): :class:`ApiProblem` and the rate limiter's
``429`` are rendered by the handlers :func:`install` registers, which the application factory
calls (or replaces with its own, keeping the headers and the ``errors`` member).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials
from fastapi.openapi.models import OAuthFlows as OAuthFlowsModel
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2
from starlette.exceptions import HTTPException as StarletteHTTPException

from suture.domain.access import (
    SCOPE_DESCRIPTIONS,
    AccessDeniedError,
    Principal,
    RecordFilter,
    Scope,
)
from suture.entrypoints.api.throttling import (
    RateLimitExceededError,
    RateLimitHeadersMiddleware,
    charge_client,
)
from suture.services.tokens import InvalidTokenError

PROBLEM_JSON = "application/problem+json"
REALM = "suture"
TOKEN_URL = "/oauth/token"  # noqa: S105 - a path, not a password

oauth2_scheme = OAuth2(
    flows=OAuthFlowsModel(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl=TOKEN_URL, scopes=dict(SCOPE_DESCRIPTIONS)
        )
    ),
    scheme_name="oauth2",
    description="OAuth2 client credentials (RFC 6749 §4.4): POST /oauth/token, then "
    "Authorization: Bearer <access_token>.",
    auto_error=False,
)


class ApiProblem(HTTPException):
    """An error answered as ``application/problem+json``: ``type``, ``title``, ``status``,
    ``detail``, ``errors`` (``[{field, reason}]``) and any ``extra`` members."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        type: str = "about:blank",
        errors: Sequence[Mapping[str, str]] = (),
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(status_code=status, detail=detail, headers=dict(headers or {}))
        self.title = title
        self.type = type
        self.errors = [dict(error) for error in errors]
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status_code,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = self.errors
        return body | self.extra


def problem_response(problem: ApiProblem, instance: str | None = None) -> JSONResponse:
    body = problem.body() if instance is None else {**problem.body(), "instance": instance}
    return JSONResponse(
        body,
        status_code=problem.status_code,
        headers=problem.headers,
        media_type=PROBLEM_JSON,
    )


async def _problem_handler(request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, ApiProblem):
        return problem_response(error, request.url.path)
    if isinstance(error, StarletteHTTPException):  # the rate limiter's 429
        return problem_response(
            ApiProblem(
                error.status_code,
                HTTPStatus(error.status_code).phrase,
                str(error.detail),
                headers=error.headers,
            ),
            request.url.path,
        )
    raise error


def install(app: FastAPI) -> None:
    """Register the problem+json handlers of these errors and the rate-limit headers."""
    app.add_exception_handler(ApiProblem, _problem_handler)
    app.add_exception_handler(RateLimitExceededError, _problem_handler)
    app.add_middleware(RateLimitHeadersMiddleware)


def _unauthorized(detail: str, *, error: str | None, field: str = "authorization") -> ApiProblem:
    challenge = f'Bearer realm="{REALM}"'
    if error is not None:
        challenge += f', error="{error}", error_description="{detail}"'
    return ApiProblem(
        401,
        "Unauthorized",
        detail,
        errors=[{"field": field, "reason": detail}],
        headers={"WWW-Authenticate": challenge},
    )


def _forbidden(error: AccessDeniedError, *, scope: Scope | None = None) -> ApiProblem:
    challenge = f'Bearer realm="{REALM}", error="insufficient_scope"'
    if scope is not None:
        challenge += f', scope="{scope}"'
    return ApiProblem(
        403,
        "Forbidden",
        error.reason,
        errors=[{"field": error.field, "reason": error.reason}],
        headers={"WWW-Authenticate": challenge},
    )


def authenticated(
    request: Request, authorization: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    """The request's principal from its bearer token, charged to the client's budget."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    if not authorization:
        raise _unauthorized("a bearer token is required", error=None)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized(
            "the Authorization header is not a bearer token", error="invalid_request"
        )
    try:
        principal: Principal = request.app.state.hub.tokens.verify(token.strip())
    except InvalidTokenError as error:
        raise _unauthorized(
            f"invalid token: {error.reason}", error="invalid_token", field="token"
        ) from None
    request.state.principal = principal
    charge_client(request, principal.client_id)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticated)]


def require(scope: Scope) -> Any:
    """A dependency needing ``scope`` (``admin`` implies all but ``phi:read``); use as a
    parameter ``principal: Annotated[Principal, require(Scope.SYSTEM_READ)]`` or in a route's
    ``dependencies=[require(...)]``."""

    def has_scope(principal: CurrentPrincipal) -> Principal:
        try:
            principal.require_scope(scope)
        except AccessDeniedError as error:
            raise _forbidden(error, scope=scope) from None
        return principal

    has_scope.__name__ = f"require_{scope.value.replace(':', '_')}"
    return Security(has_scope, scopes=[scope.value])


def record_scope(
    request: Request,
    principal: CurrentPrincipal,
    facility_id: Annotated[
        str | None,
        Query(
            description="Only records of this facility (one of the token's); "
            "an unknown facility is a 422."
        ),
    ] = None,
    supplier_id: Annotated[
        str | None,
        Query(description="Only records of this supplier; an unknown supplier is a 422."),
    ] = None,
) -> RecordFilter:
    """The filter a list query applies: the asked-for facility and supplier, within the token's;
    asking for a facility or supplier outside them is ``403``, and for one that does not exist
    (a typo, a code for an id) ``422``: neither is an empty page, read as "no such records"."""
    try:
        scope = principal.record_filter(facility_id=facility_id, supplier_id=supplier_id)
    except AccessDeniedError as error:
        raise _forbidden(error) from None
    if facility_id is not None or supplier_id is not None:
        _check_known(request, facility_id, supplier_id)
    return scope


def _check_known(request: Request, facility_id: str | None, supplier_id: str | None) -> None:
    """``422`` naming the parameter when a facility or supplier asked for is not on record.
    The reason does not repeat the value (docs/api.md: a value sent may hold patient data)."""
    with request.app.state.hub.read_uow_factory() as uow:
        unknown = [
            {"field": f"query.{name}", "reason": f"no such {noun}"}
            for name, noun, value, repository in (
                ("facility_id", "facility", facility_id, uow.facilities),
                ("supplier_id", "supplier", supplier_id, uow.suppliers),
            )
            if value is not None and repository.get(value) is None
        ]
    if unknown:
        raise ApiProblem(422, "Unprocessable Entity", "the request is not valid", errors=unknown)


RecordScope = Annotated[RecordFilter, Depends(record_scope)]


def check_record(
    principal: Principal,
    *,
    facility_id: str | None,
    supplier_id: str | None = None,
    write: bool = False,
) -> None:
    """``403`` unless the principal may see (``write``: change) a record of this facility and
    supplier; call it on the record a route loaded, before answering with it."""
    try:
        principal.require_record(facility_id=facility_id, supplier_id=supplier_id, write=write)
    except AccessDeniedError as error:
        raise _forbidden(error) from None
