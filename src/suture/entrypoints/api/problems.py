"""Errors as ``application/problem+json`` (RFC 9457), the one error shape of every route.

Routes raise; the handlers here translate (STYLE.md habit 8). What maps to what:

- a request that fails validation (path, query, body) -> 422, one ``errors`` entry per field;
- :class:`~suture.domain.errors.DomainError` and the codecs' decode errors -> 422, naming the
  field and the reason the error carries;
- "not found" errors of the services -> 404; "already exists" or "taken" -> 409, and so is a
  decision the record's state refuses (a requisition decided already, an invoice that is not a
  suspected duplicate cleared as not one);
- :class:`~suture.domain.access.AccessDeniedError` (scope, facility, supplier) -> 403;
- :class:`~suture.adapters.db.errors.StorageError` -> 503: the database is the problem, not the
  request, and the client may retry; so is :class:`~suture.services.erp.ErpUnavailableError`
  (the ERP could not be reached, for a route that reads it); the ERP gateway's
  :class:`~suture.services.erp.ErpUnsupportedError` (a file interface cannot be read back) is a
  422 like any refusal: the request cannot succeed on this hub, and it is no server fault;
- Starlette's ``HTTPException`` (401, 403, 404, 405, 429 ...) keeps its status and headers;
  the authentication layer's :class:`~suture.entrypoints.api.security.ApiProblem` keeps its
  members too (``error`` and ``error_description`` of OAuth2, RFC 6749 §5.2).

Details never echo request content: a field's value may hold PHI, so an entry names the field
and the reason only.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from suture.adapters.db.errors import StorageError
from suture.domain.access import AccessDeniedError
from suture.domain.approval import ApprovalConflictError
from suture.domain.duplicate_clearance import NotClearableError
from suture.domain.errors import SutureError
from suture.entrypoints.api.security import REALM, ApiProblem
from suture.services.erp import ErpUnavailableError
from suture.services.exceptions import UnknownExceptionError
from suture.services.inbox import UnknownMessageError
from suture.services.interfaces import (
    InterfaceExistsError,
    RouteTakenError,
    UnknownInterfaceError,
)
from suture.services.receiving import UnknownExpectedReceiptError
from suture.services.requisitions import UnknownRequisitionError
from suture.services.workflows.three_way_match import UnknownInvoiceError

MEDIA_TYPE = "application/problem+json"

#: Errors whose meaning is "no such thing": 404 rather than 422.
NOT_FOUND: tuple[type[SutureError], ...] = (
    UnknownExpectedReceiptError,
    UnknownMessageError,
    UnknownExceptionError,
    UnknownInterfaceError,
    UnknownInvoiceError,
    UnknownRequisitionError,
)
#: Errors whose meaning is "that already exists or is taken": 409 rather than 422.
CONFLICT: tuple[type[SutureError], ...] = (
    InterfaceExistsError,
    RouteTakenError,
    ApprovalConflictError,
    NotClearableError,
)


class ProblemField(BaseModel):
    """One thing wrong with the request."""

    field: str = Field(description="Where: `query.limit`, `body.lines[0].quantity`, `cursor`.")
    reason: str = Field(description="Why it was refused, in words a person can act on.")


class Problem(BaseModel):
    """An error, as RFC 9457 describes it, with field-level detail."""

    type: str = Field(default="about:blank", description="A URI naming the kind of problem.")
    title: str = Field(description="Short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(default=None, description="What happened this time.")
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[ProblemField] = Field(default_factory=list, description="Field-level detail.")


def problem(
    status: int,
    detail: str | None = None,
    *,
    instance: str | None = None,
    errors: list[ProblemField] | None = None,
    headers: dict[str, str] | None = None,
    type_: str = "about:blank",
) -> JSONResponse:
    """A ``problem+json`` response."""
    body = Problem(
        type=type_,
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=instance,
        errors=errors or [],
    )
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status, headers=headers, media_type=MEDIA_TYPE
    )


#: The ``responses`` entry of an operation for each error status it may answer.
def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {MEDIA_TYPE: {}},
        }
        for status in statuses
    }


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method the OpenAPI document offers on ``path``, for a 405's ``Allow`` header.

    Starlette names only the methods of the first route whose path matched, so a path served
    by two routes (``GET`` a list, ``POST`` a new record) would advertise half of them.
    """
    methods = set()
    for template, item in app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods |= {method.upper() for method in item if method.upper() in _METHODS}
    return sorted(methods)


_METHODS = {"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"}


def install(app: FastAPI) -> None:
    """Register the translations on ``app``."""

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        if isinstance(exc, ApiProblem):  # authentication, scopes, OAuth2: their own members
            body = {"errors": [], **exc.body(), "instance": request.url.path}
            return JSONResponse(
                body, status_code=exc.status_code, headers=exc.headers, media_type=MEDIA_TYPE
            )
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(app, request.url.path))
        return problem(exc.status_code, detail, instance=request.url.path, headers=headers)

    async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        fields = [
            ProblemField(field=".".join(str(part) for part in error["loc"]), reason=error["msg"])
            for error in exc.errors()
        ]
        return problem(422, "the request is not valid", instance=request.url.path, errors=fields)

    async def suture_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SutureError)
        if isinstance(exc, StorageError):
            return problem(
                503,
                "storage is unavailable; retry later",
                instance=request.url.path,
                headers={"Retry-After": "5"},
            )
        if isinstance(exc, ErpUnavailableError):
            return problem(
                503,
                f"the ERP is unavailable; retry later: {exc.reason}",
                instance=request.url.path,
                headers={"Retry-After": "30"},
            )
        status = 404 if isinstance(exc, NOT_FOUND) else 409 if isinstance(exc, CONFLICT) else 422
        headers = None
        if isinstance(exc, AccessDeniedError):
            status = 403
            headers = {"WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope"'}
        return problem(
            status,
            str(exc),
            instance=request.url.path,
            errors=[ProblemField(field=exc.field or "request", reason=exc.reason)],
            headers=headers,
        )

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(SutureError, suture_error)
