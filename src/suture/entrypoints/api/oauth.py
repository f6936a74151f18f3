"""``POST /oauth/token``: the OAuth2 client-credentials grant (RFC 6749 §4.4).

The client authenticates with HTTP Basic (preferred) or ``client_id`` and ``client_secret``
form fields (§2.3.1; both at once is ``invalid_request``), asks for ``grant_type=
client_credentials`` and optionally a ``scope`` that is a subset of its scopes (all of them when
absent), and gets ``{"access_token", "token_type": "Bearer", "expires_in", "scope"}`` with
``Cache-Control: no-store`` (§5.1).

Errors carry the RFC 6749 §5.2 members ``error`` and ``error_description`` inside an
``application/problem+json`` body (RFC 9457 extension members), so OAuth2 client libraries and
problem-aware clients both read them: ``invalid_request``, ``unsupported_grant_type`` and
``invalid_scope`` are ``400``; ``invalid_client`` is ``401`` with ``WWW-Authenticate: Basic``
(§5.2, and RFC 9110 §15.5.2 asks a challenge of every 401, however the client authenticated).
An unknown client, a wrong secret and a revoked client get the same answer.

The endpoint is limited per remote address (``throttling.charge_address``), and is a plain
``def`` so the argon2 verification runs on the thread pool, not the event loop.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, unquote_plus

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from suture.domain.access import AccessError, parse_scopes
from suture.entrypoints.api.security import PROBLEM_JSON, REALM, TOKEN_URL, ApiProblem
from suture.entrypoints.api.throttling import charge_address
from suture.services.clients import InvalidClientError

FORM = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
#: The ``type`` of every token-endpoint problem: the section defining its ``error`` codes.
ERROR_TYPE = "https://www.rfc-editor.org/rfc/rfc6749#section-5.2"
_TITLES = {400: "Bad Request", 401: "Unauthorized"}
_MAX_BODY = 8192

router = APIRouter(tags=["oauth"])


class TokenPublic(BaseModel):
    """An access token (RFC 6749 §5.1)."""

    access_token: str = Field(description="A JWT to send as Authorization: Bearer <token>.")
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - RFC 6749 §7.1 token type
    expires_in: int = Field(description="Seconds the token is valid for.", examples=[900])
    scope: str = Field(description="The granted scopes, space-separated.", examples=["system:read"])


class OAuthError(ApiProblem):
    def __init__(self, status: int, error: str, description: str, *, field: str) -> None:
        headers = dict(NO_STORE)
        if status == 401:  # RFC 9110 §15.5.2: a 401 always carries a challenge
            headers["WWW-Authenticate"] = f'Basic realm="{REALM}"'
        super().__init__(
            status,
            _TITLES[status],
            description,
            type=ERROR_TYPE,
            errors=[{"field": field, "reason": description}],
            headers=headers,
            extra={"error": error, "error_description": description},
        )


async def token_form(request: Request) -> dict[str, str]:
    """The form parameters; each at most once (§3.2), in UTF-8 (Appendix B)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM:
        raise OAuthError(400, "invalid_request", f"the body must be {FORM}", field="content-type")
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > _MAX_BODY:
        raise OAuthError(400, "invalid_request", "the body is too large", field="body")
    body = await request.body()
    if len(body) > _MAX_BODY:
        raise OAuthError(400, "invalid_request", "the body is too large", field="body")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise OAuthError(400, "invalid_request", "the body is not UTF-8", field="body") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthError(400, "invalid_request", f"{name} given more than once", field=name)
        form[name] = value
    return form


def _credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """``(client_id, secret)`` from the Authorization header or the form (§2.3.1)."""
    header = request.headers.get("authorization")
    if header is None:
        if not form.get("client_id") or "client_secret" not in form:
            raise OAuthError(
                401, "invalid_client", "client authentication is required", field="client_id"
            )
        return form["client_id"], form["client_secret"]
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError(401, "invalid_client", "use HTTP Basic", field="authorization")
    if "client_secret" in form:
        raise OAuthError(
            400, "invalid_request", "use one client authentication method", field="client_secret"
        )
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError(
            401, "invalid_client", "malformed Basic credentials", field="authorization"
        ) from None
    client_id, _, secret = decoded.partition(":")
    return unquote_plus(client_id), unquote_plus(secret)


_FORM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "scope": {"type": "string", "description": "Space-separated subset of the client's."},
        "client_id": {"type": "string", "description": "Only without HTTP Basic."},
        "client_secret": {"type": "string", "description": "Only without HTTP Basic."},
    },
}
_PROBLEM = {PROBLEM_JSON: {"schema": {"type": "object"}}}


@router.post(
    TOKEN_URL,
    response_model=TokenPublic,
    summary="Issue an access token (OAuth2 client credentials)",
    dependencies=[Depends(charge_address)],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                FORM: {
                    "schema": _FORM_SCHEMA,
                    "example": {"grant_type": "client_credentials", "scope": "system:read"},
                }
            },
        }
    },
    responses={
        400: {
            "description": "invalid_request, unsupported_grant_type or invalid_scope",
            "content": _PROBLEM,
        },
        401: {"description": "invalid_client", "content": _PROBLEM},
        429: {"description": "Too many token requests from this address", "content": _PROBLEM},
    },
)
def issue_token(request: Request, form: Annotated[dict[str, str], Depends(token_form)]) -> Any:
    """Authenticate the client and issue a short-lived JWT with the scopes it asked for."""
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError(400, "invalid_request", "grant_type is required", field="grant_type")
    if grant_type != "client_credentials":
        raise OAuthError(
            400, "unsupported_grant_type", "only client_credentials", field="grant_type"
        )
    client_id, secret = _credentials(request, form)
    hub = request.app.state.hub
    try:
        client = hub.clients.authenticate(client_id, secret)
    except InvalidClientError as error:
        raise OAuthError(401, "invalid_client", error.reason, field="client_id") from None
    try:
        requested = parse_scopes(form["scope"]) if form.get("scope") else None
        issued = hub.tokens.issue(client, requested)
    except AccessError as error:
        raise OAuthError(400, "invalid_scope", error.reason, field="scope") from None
    body = TokenPublic(
        access_token=issued.access_token, expires_in=issued.expires_in, scope=issued.scope
    )
    return JSONResponse(body.model_dump(), headers=NO_STORE)
