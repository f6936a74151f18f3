"""Who may call the API and what they may see: scopes, API clients and the principal of a request.

The rules of DESIGN.md §6 ("OAuth2 client-credentials tokens with scopes per layer, facility
scoping and supplier scoping"), kept pure so the HTTP layer only asks and translates:

- **Scopes** name what a caller may do, one per API layer plus ``phi:read`` and ``admin``.
  ``admin`` implies every scope *except* ``phi:read``: reading patient identifiers is granted by
  name only, so "who could read PHI" is answered by the clients that hold ``phi:read`` (HIPAA's
  minimum necessary standard), not by every operator account.
- **Facilities**: every record belongs to a facility or is system-wide (``facility_id`` None:
  the item master, suppliers). A principal sees the records of its facilities and every
  system-wide record; it writes only its facilities' records. ``*`` (:data:`ALL_FACILITIES`)
  stands for every facility, and only a principal holding it writes system-wide records.
- **Suppliers**: a principal bound to a supplier (the supplier self-service of the Experience
  layer) sees only records of that supplier; records with no supplier are not its to see.
  A supplier client may not hold ``admin`` or ``phi:read``.

Errors::

    SutureError
    └── DomainError
        └── AccessError
            ├── InvalidScopeError     a scope name Suture does not know (field "scope")
            ├── ScopeNotGrantedError  a client asked for a scope it does not hold (field "scope")
            ├── InvalidClientDataError  an API client that breaks a rule above (field named)
            └── AccessDeniedError     a principal lacks the scope, facility or supplier
                                      (field "scope", "facility_id" or "supplier_id")
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from suture.domain.errors import DomainError
from suture.domain.messages import require_aware

#: The facility id that stands for every facility.
ALL_FACILITIES = "*"


class Scope(StrEnum):
    SYSTEM_READ = "system:read"
    SYSTEM_WRITE = "system:write"
    PROCESS_EXECUTE = "process:execute"
    EXPERIENCE_SUPPLIER = "experience:supplier"
    EXPERIENCE_DEPARTMENT = "experience:department"
    PHI_READ = "phi:read"
    ADMIN = "admin"


#: What each scope lets a client do; the token endpoint's OpenAPI security scheme shows these.
SCOPE_DESCRIPTIONS: dict[str, str] = {
    Scope.SYSTEM_READ: "Read canonical records (System APIs).",
    Scope.SYSTEM_WRITE: "Write canonical records and ingest raw messages (System APIs).",
    Scope.PROCESS_EXECUTE: "Run business processes: approvals, matching, replay (Process APIs).",
    Scope.EXPERIENCE_SUPPLIER: "Supplier self-service (Experience APIs).",
    Scope.EXPERIENCE_DEPARTMENT: "Departmental requests (Experience APIs).",
    Scope.PHI_READ: "Read raw messages holding patient identifiers; never implied by admin.",
    Scope.ADMIN: "Operate Suture: implies every scope except phi:read.",
}

#: The scopes ``admin`` implies.
ADMIN_IMPLIES = frozenset(Scope) - {Scope.PHI_READ}
#: Scopes a client bound to a supplier may not hold.
NOT_FOR_SUPPLIERS = frozenset({Scope.ADMIN, Scope.PHI_READ})


class AccessError(DomainError):
    """An access rule is broken."""


class InvalidScopeError(AccessError):
    """A scope name Suture does not know."""


class ScopeNotGrantedError(AccessError):
    """A client asked for a scope it does not hold."""


class InvalidClientDataError(AccessError):
    """An API client whose fields break an access rule."""


class AccessDeniedError(AccessError):
    """A principal may not do or see this; the field says which of scope, facility, supplier."""


def parse_scopes(text: str | Iterable[str]) -> frozenset[Scope]:
    """Scopes from ``"a b"`` (RFC 6749 §3.3), ``"a,b"`` (the CLI) or an iterable of names."""
    names = text.replace(",", " ").split() if isinstance(text, str) else list(text)
    known = {scope.value for scope in Scope}
    unknown = sorted({name for name in names if name not in known})
    if unknown:
        raise InvalidScopeError("scope", f"unknown scope {', '.join(unknown)}")
    return frozenset(Scope(name) for name in names)


def format_scopes(scopes: Iterable[Scope]) -> str:
    """The space-separated form of a token's ``scope`` claim, sorted so it is stable."""
    return " ".join(sorted(scope.value for scope in scopes))


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiClient:
    """A registered caller of the API; its secret lives hashed in storage, never here."""

    id: str
    name: str
    scopes: frozenset[Scope]
    facility_ids: frozenset[str]
    supplier_id: str | None = None
    created_at: datetime
    revoked_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise InvalidClientDataError("id", "must not be empty")
        if not self.name.strip():
            raise InvalidClientDataError("name", "must not be empty")
        if not self.scopes:
            raise InvalidClientDataError("scopes", "at least one scope")
        if not self.facility_ids or any(not f.strip() for f in self.facility_ids):
            raise InvalidClientDataError(
                "facility_ids", f"at least one facility id, or {ALL_FACILITIES} for every facility"
            )
        if self.supplier_id is not None and not self.supplier_id.strip():
            raise InvalidClientDataError("supplier_id", "must not be empty when given")
        if Scope.EXPERIENCE_SUPPLIER in self.scopes and self.supplier_id is None:
            raise InvalidClientDataError("supplier_id", "experience:supplier needs a supplier")
        forbidden = self.scopes & NOT_FOR_SUPPLIERS
        if self.supplier_id is not None and forbidden:
            raise InvalidClientDataError(
                "scopes", f"a supplier client may not hold {format_scopes(forbidden)}"
            )
        require_aware("created_at", self.created_at)
        if self.revoked_at is not None:
            require_aware("revoked_at", self.revoked_at)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def revoke(self, at: datetime) -> ApiClient:
        """The client revoked at ``at``; a client revoked already keeps its first time."""
        require_aware("revoked_at", at)
        return self if self.revoked_at is not None else replace(self, revoked_at=at)

    def grant(self, requested: frozenset[Scope] | None) -> frozenset[Scope]:
        """The scopes a token may carry: what was asked (all the client's scopes when nothing
        was), refused when it is not a subset of what the client holds (RFC 6749 §3.3)."""
        if requested is None or not requested:
            return self.scopes
        extra = requested - self.scopes
        if extra:
            raise ScopeNotGrantedError(
                "scope", f"not granted to this client: {format_scopes(extra)}"
            )
        return requested

    def principal(self, scopes: frozenset[Scope] | None = None) -> Principal:
        return Principal(
            client_id=self.id,
            scopes=self.grant(scopes),
            facility_ids=self.facility_ids,
            supplier_id=self.supplier_id,
        )


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """What a list query may return: ``facility_ids`` None means any facility (and system-wide
    records); ``supplier_id`` None means any supplier."""

    facility_ids: frozenset[str] | None
    supplier_id: str | None

    def allows(self, facility_id: str | None, supplier_id: str | None = None) -> bool:
        facility_ok = (
            self.facility_ids is None or facility_id is None or facility_id in self.facility_ids
        )
        return facility_ok and (self.supplier_id is None or supplier_id == self.supplier_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """The caller of one request, as its token says."""

    client_id: str
    scopes: frozenset[Scope]
    facility_ids: frozenset[str]
    supplier_id: str | None = None

    @property
    def all_facilities(self) -> bool:
        return ALL_FACILITIES in self.facility_ids

    def has_scope(self, scope: Scope) -> bool:
        return scope in self.scopes or (Scope.ADMIN in self.scopes and scope in ADMIN_IMPLIES)

    def require_scope(self, scope: Scope) -> None:
        if not self.has_scope(scope):
            raise AccessDeniedError("scope", f"requires the {scope} scope")

    def may_see_facility(self, facility_id: str | None) -> bool:
        """Records of its facilities, and system-wide records (``facility_id`` None)."""
        return facility_id is None or self.all_facilities or facility_id in self.facility_ids

    def may_write_facility(self, facility_id: str | None) -> bool:
        """Records of its facilities; system-wide records only with every facility."""
        if facility_id is None:
            return self.all_facilities
        return self.may_see_facility(facility_id)

    def may_see_supplier(self, supplier_id: str | None) -> bool:
        """Any record without a supplier binding; a supplier's own records with one."""
        return self.supplier_id is None or supplier_id == self.supplier_id

    def require_record(
        self, *, facility_id: str | None, supplier_id: str | None = None, write: bool = False
    ) -> None:
        """Refuse a record outside the principal's facilities or of another supplier."""
        allowed = (
            self.may_write_facility(facility_id) if write else self.may_see_facility(facility_id)
        )
        if not allowed:
            where = facility_id if facility_id is not None else "system-wide"
            verb = "write" if write else "see"
            raise AccessDeniedError("facility_id", f"this client may not {verb} {where} records")
        if not self.may_see_supplier(supplier_id):
            raise AccessDeniedError("supplier_id", "the record belongs to another supplier")

    def record_filter(
        self, *, facility_id: str | None = None, supplier_id: str | None = None
    ) -> RecordFilter:
        """The filter a list query applies, narrowed by what the caller asked for; asking for a
        facility or supplier the principal may not see is refused rather than answered empty."""
        if facility_id is not None and not self.may_see_facility(facility_id):
            raise AccessDeniedError("facility_id", f"this client may not see {facility_id}")
        if supplier_id is not None and not self.may_see_supplier(supplier_id):
            raise AccessDeniedError("supplier_id", "another supplier's records")
        if facility_id is not None:
            facilities: frozenset[str] | None = frozenset({facility_id})
        else:
            facilities = None if self.all_facilities else self.facility_ids
        return RecordFilter(facilities, supplier_id or self.supplier_id)
