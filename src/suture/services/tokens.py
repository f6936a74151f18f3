"""Short-lived access tokens for API clients: issue them, and verify them on every request.

Tokens are JWTs (RFC 7519) in the access-token profile of RFC 9068: ``sub`` (the client id),
``scope`` (space-separated, RFC 8693 §4.2), ``facilities`` (a list), ``supplier`` (when the
client is bound to one), ``iat``, ``exp``, ``jti``, ``iss`` and ``aud``. Signing and the
signature check are a port (:class:`TokenCodec`; PyJWT in ``adapters/security/tokens.py``);
the rules about time, issuer, audience and revocation live here, on the injected clock, so a
test controls expiry without sleeping.

Revocation: a token is refused once its client is revoked, even before it expires. Each
verification asks the registry whether the client is active, through a small cache: an
active answer is trusted for ``revocation_ttl`` (default 5 s), a revoked one for ever (revoking
is final). So a revocation made by another process (``suture clients revoke``) takes effect in
every API process within ``revocation_ttl``; zero makes every request ask the database.

Errors::

    SutureError
    └── InvalidTokenError   missing, malformed, badly signed, expired, for another issuer or
                            audience, or of a revoked client (field "token", reason says which)
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import uuid4

from suture.domain.access import (
    AccessError,
    ApiClient,
    Principal,
    Scope,
    format_scopes,
    parse_scopes,
)
from suture.domain.errors import SutureError
from suture.services.clock import Clock

#: Clock skew allowed between the issuing and the verifying process for ``iat``.
LEEWAY = timedelta(seconds=30)


class InvalidTokenError(SutureError):
    """A bearer token that does not authenticate its request (RFC 6750 §3.1 invalid_token)."""


class TokenCodec(Protocol):
    """Signs claims into a compact token and checks a token's signature."""

    algorithm: str

    def encode(self, claims: Mapping[str, Any]) -> str: ...

    def decode(self, token: str) -> dict[str, Any]:
        """The claims of a token whose signature and algorithm are right; nothing about time,
        issuer or audience is checked here. Raises :class:`InvalidTokenError`."""
        ...


class ClientStatus(Protocol):
    """Whether a client may still use its tokens (``ClientRegistry`` answers this)."""

    def is_active(self, client_id: str) -> bool: ...


#: Verified tokens remembered (by their exact text) until they expire; cleared when full.
VERIFIED_CACHE = 4096


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """The token endpoint's answer (RFC 6749 §5.1)."""

    access_token: str
    expires_in: int
    scope: str
    token_type: str = "Bearer"  # noqa: S105 - RFC 6749 §7.1 token type, not a password


class TokenService:
    def __init__(
        self,
        codec: TokenCodec,
        clients: ClientStatus,
        clock: Clock,
        *,
        issuer: str,
        audience: str,
        lifetime: timedelta = timedelta(minutes=15),
        revocation_ttl: timedelta = timedelta(seconds=5),
    ) -> None:
        if lifetime <= timedelta(0):
            raise InvalidTokenError("lifetime", "must be positive")
        self._codec = codec
        self._clients = clients
        self._clock = clock
        self._issuer = issuer
        self._audience = audience
        self._lifetime = lifetime
        self._revocation_ttl = revocation_ttl
        self._checked: dict[str, tuple[bool, datetime]] = {}
        self._verified: dict[str, tuple[Principal, datetime]] = {}
        self._lock = threading.Lock()

    def issue(self, client: ApiClient, requested: frozenset[Scope] | None = None) -> IssuedToken:
        """A token for an authenticated client, with the scopes it asked for (all of its
        scopes when it asked for none); raises ``ScopeNotGrantedError`` beyond its scopes."""
        scopes = client.grant(requested)
        now = self._clock()
        issued_at = int(now.timestamp())
        expires_at = issued_at + int(self._lifetime.total_seconds())
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": client.id,
            "scope": format_scopes(scopes),
            "facilities": sorted(client.facility_ids),
            "iat": issued_at,
            "exp": expires_at,
            "jti": uuid4().hex,
        }
        if client.supplier_id is not None:
            claims["supplier"] = client.supplier_id
        return IssuedToken(
            self._codec.encode(claims), expires_at - issued_at, format_scopes(scopes)
        )

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; :class:`InvalidTokenError` saying why otherwise.

        A token verified once is remembered until it expires (at most :data:`VERIFIED_CACHE`
        tokens), so a client's later requests skip the signature and claim checks; expiry and
        the revocation check still run on every call.
        """
        if not token:
            raise InvalidTokenError("token", "missing")
        now = self._clock()
        remembered = self._verified.get(token)
        if remembered is not None:
            principal, expires_at = remembered
            if now >= expires_at:
                raise InvalidTokenError("token", "expired")
            if not self._is_active(principal.client_id, now):
                raise InvalidTokenError("token", "the client is revoked or unknown")
            return principal
        principal, expires_at = self._check(token, now)
        with self._lock:
            if len(self._verified) >= VERIFIED_CACHE:
                self._verified.clear()
            self._verified[token] = (principal, expires_at)
        return principal

    def _check(self, token: str, now: datetime) -> tuple[Principal, datetime]:
        claims = self._codec.decode(token)
        now = self._clock()
        if claims.get("iss") != self._issuer:
            raise InvalidTokenError("token", "issued by another issuer")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self._audience not in audiences:
            raise InvalidTokenError("token", "meant for another audience")
        expires_at = _instant(claims, "exp")
        if now >= expires_at:
            raise InvalidTokenError("token", "expired")
        if _instant(claims, "iat") > now + LEEWAY:
            raise InvalidTokenError("token", "issued in the future")
        principal = _principal(claims)
        if not self._is_active(principal.client_id, now):
            raise InvalidTokenError("token", "the client is revoked or unknown")
        return principal, expires_at

    def _is_active(self, client_id: str, now: datetime) -> bool:
        with self._lock:
            cached = self._checked.get(client_id)
        if cached is not None:
            active, checked_at = cached
            if not active or now - checked_at < self._revocation_ttl:
                return active
        active = self._clients.is_active(client_id)
        with self._lock:
            self._checked[client_id] = (active, now)
        return active


def _instant(claims: Mapping[str, Any], name: str) -> datetime:
    value = claims.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidTokenError("token", f"the {name} claim is missing or not a number")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidTokenError("token", f"the {name} claim is out of range") from None


def _principal(claims: Mapping[str, Any]) -> Principal:
    subject, scope = claims.get("sub"), claims.get("scope")
    facilities, supplier = claims.get("facilities"), claims.get("supplier")
    if not isinstance(subject, str) or not subject or not isinstance(scope, str):
        raise InvalidTokenError("token", "the sub or scope claim is missing")
    if not isinstance(facilities, list) or not all(isinstance(f, str) for f in facilities):
        raise InvalidTokenError("token", "the facilities claim is not a list of ids")
    if supplier is not None and not isinstance(supplier, str):
        raise InvalidTokenError("token", "the supplier claim is not an id")
    try:
        scopes = parse_scopes(scope)
    except AccessError as error:
        raise InvalidTokenError("token", error.reason) from None
    return Principal(
        client_id=subject, scopes=scopes, facility_ids=frozenset(facilities), supplier_id=supplier
    )
