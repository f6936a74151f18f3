"""The registry of API clients: create one (its secret shown once), authenticate, list, revoke.

A client's secret is 32 random bytes from the operating system's CSPRNG (``secrets``), given
to the caller of :meth:`ClientRegistry.create` once and stored only as a hash. Hashing is a
port (:class:`SecretHasher`; argon2id in ``adapters/security/hashing.py``), so this module holds
no third-party cryptography and tests may use cheap parameters.

Authentication answers one error for an unknown client, a wrong secret and a revoked client,
and spends a hash verification on each, so neither the answer nor its timing tells a caller
which client ids exist (RFC 6749 §5.2 ``invalid_client``; OWASP ASVS V2.2). Errors::

    SutureError
    └── ClientRegistryError
        ├── InvalidClientError   authentication failed (field "client", reason not saying why)
        └── UnknownClientError   no client has this id (field "client_id"; operator commands)
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from suture.domain.access import ALL_FACILITIES, ApiClient, Scope
from suture.domain.errors import SutureError
from suture.eventlog.ids import uuid7
from suture.services.clock import Clock
from suture.services.unit_of_work import UnitOfWork

#: Bytes of randomness in a client secret (256 bits), URL-safe base64 in the secret's text.
SECRET_BYTES = 32


class ClientRegistryError(SutureError):
    """The client registry cannot do what was asked."""


class InvalidClientError(ClientRegistryError):
    """Client authentication failed; deliberately not saying whether the id or secret was wrong."""


class UnknownClientError(ClientRegistryError):
    """No client has this id."""


class SecretHasher(Protocol):
    """A slow, salted one-way hash of client secrets."""

    def hash(self, secret: str) -> str: ...

    def verify(self, secret_hash: str, secret: str) -> bool:
        """Whether ``secret`` matches; False (never an exception) for a malformed hash."""
        ...

    def needs_rehash(self, secret_hash: str) -> bool:
        """Whether the hash was made with other parameters than the hasher's current ones."""
        ...


@dataclass(frozen=True, slots=True)
class CreatedClient:
    """A new client and its secret: the only time the secret is known in clear."""

    client: ApiClient
    secret: str


class ClientRegistry:
    """API clients on the unit of work; each call is one transaction."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        hasher: SecretHasher,
        clock: Clock,
        *,
        new_secret: Callable[[], str] = lambda: secrets.token_urlsafe(SECRET_BYTES),
        read_uow_factory: Callable[[], UnitOfWork] | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        # Lookups on every authenticated request read through this one (on SQLite: never
        # waiting for the write lock); writes go through ``uow_factory``.
        self._read = read_uow_factory or uow_factory
        self._hasher = hasher
        self._clock = clock
        self._new_secret = new_secret
        # Verified against when the client is unknown, so that path costs what a real one does;
        # made on first need, so commands that never authenticate do not pay for a hash.
        self._decoy: str | None = None

    def create(
        self,
        name: str,
        scopes: Iterable[Scope],
        facility_ids: Iterable[str],
        *,
        supplier_id: str | None = None,
    ) -> CreatedClient:
        now = self._clock()
        client = ApiClient(
            id=str(uuid7(now)),
            name=name.strip(),
            scopes=frozenset(scopes),
            facility_ids=frozenset(f.strip() for f in facility_ids),
            supplier_id=supplier_id.strip() if supplier_id is not None else None,
            created_at=now,
        )
        secret = self._new_secret()
        secret_hash = self._hasher.hash(secret)
        with self._uow_factory() as uow:
            uow.clients.add(client, secret_hash)
            uow.commit()
        return CreatedClient(client, secret)

    def unknown_bindings(self, client: ApiClient) -> list[tuple[str, str]]:
        """The facilities and supplier ``client`` is bound to that are not on record, as
        (field, id): a typo, or master data not imported yet. Such a client sees none of
        their records until they are, so the operator who created it should hear of it."""
        unknown: list[tuple[str, str]] = []
        with self._read() as uow:
            for facility_id in sorted(client.facility_ids - {ALL_FACILITIES}):
                if uow.facilities.get(facility_id) is None:
                    unknown.append(("facility_ids", facility_id))
            if client.supplier_id is not None and uow.suppliers.get(client.supplier_id) is None:
                unknown.append(("supplier_id", client.supplier_id))
        return unknown

    def authenticate(self, client_id: str, secret: str) -> ApiClient:
        """The client whose id and secret these are, if it is not revoked."""
        with self._read() as uow:
            found = uow.clients.credentials(client_id) if client_id else None
        if found is None:
            if self._decoy is None:
                self._decoy = self._hasher.hash(secrets.token_urlsafe(SECRET_BYTES))
            self._hasher.verify(self._decoy, secret)
            raise InvalidClientError("client", "unknown client or wrong secret")
        client, secret_hash = found
        if not self._hasher.verify(secret_hash, secret) or client.is_revoked:
            raise InvalidClientError("client", "unknown client or wrong secret")
        if self._hasher.needs_rehash(secret_hash):
            with self._uow_factory() as uow:
                uow.clients.set_secret_hash(client.id, self._hasher.hash(secret))
                uow.commit()
        return client

    def get(self, client_id: str) -> ApiClient:
        with self._read() as uow:
            client = uow.clients.get(client_id)
        if client is None:
            raise UnknownClientError("client_id", f"no API client {client_id}")
        return client

    def is_active(self, client_id: str) -> bool:
        """Whether the client exists and is not revoked (token verification asks this)."""
        with self._read() as uow:
            client = uow.clients.get(client_id)
        return client is not None and not client.is_revoked

    def list(
        self, *, include_revoked: bool = True, after: str | None = None, limit: int = 100
    ) -> builtins.list[ApiClient]:
        with self._read() as uow:
            return uow.clients.list(include_revoked=include_revoked, after=after, limit=limit)

    def revoke(self, client_id: str) -> ApiClient:
        """Revoke the client: no new tokens, and its unexpired tokens are refused (see
        ``TokenService``). Revoking a revoked client changes nothing."""
        with self._uow_factory() as uow:
            client = uow.clients.get(client_id)
            if client is None:
                raise UnknownClientError("client_id", f"no API client {client_id}")
            revoked = client.revoke(self._clock())
            if revoked is not client:
                uow.clients.save_revoked(revoked)
                uow.commit()
        return revoked
