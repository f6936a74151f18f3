"""The integration inventory: each interface, its owner, and whether it is governed (DESIGN.md §6).

An :class:`Interface` is one registered flow between two systems: its direction and format, the
channel it travels on, the canonical objects it carries, its owner, SLA, contract, authentication,
its mode during a migration (``legacy``, ``shadow``, ``live``) and its modernization class
(``retain``, ``refactor``, ``replatform``, ``retire``). The name is its key.

**Matching inbound traffic.** Every stored inbound message records the channel it came in on
(the inbox's ``interface``: ``mllp``, ``file``, ``api``…) and its ``source_system``. A message
belongs to the active (not retired) *inbound* interface whose ``channel`` and ``source_system``
are those two values, compared exactly (:class:`Route`). At most one active inbound interface
has a given route, so the match is never ambiguous; traffic whose route no active inbound
interface has is **unmanaged** (:class:`UnmanagedSource`). A retired interface matches nothing:
traffic that keeps arriving after retirement is unmanaged, which is what it is.

**Governance** is a pure policy (:func:`assess`), evaluated against ``today`` (passed in; the
domain never reads the clock). Each failed check names the field and the reason. A failed
*required* check (no owner, no contract, no SLA, no authentication, past the sunset date) makes
the interface ``ungoverned``; failed *advisory* checks only (no schema version, legacy mode
without a modernization class, a retirement without a sunset date, OAuth2 without an API client,
a sunset date close ahead) make it ``needs_attention``; none makes it ``governed``. Only
``governed`` counts toward the governed share (DESIGN.md §7).

Errors: :class:`InterfaceError` (a :class:`~suture.domain.errors.DomainError`) names the field
and the reason. Nothing here may hold PHI: owners are teams or roles, never patients.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from suture.domain.authority import ObjectType
from suture.domain.errors import DomainError

#: Interface names: lowercase words joined by ``-``, ``_`` or ``.`` (``ehr-charges-hl7``).
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}")
#: Authentication methods that mean "none": an interface with one of them is unauthenticated.
NO_AUTHENTICATION = frozenset({"none", "no", "anonymous"})
#: Authentication methods that identify the caller by an OAuth2 client.
OAUTH2 = frozenset({"oauth2", "oauth2-client-credentials"})
#: How long before its sunset date an interface is flagged for attention.
SUNSET_WARNING = timedelta(days=30)


class InterfaceError(DomainError):
    """An interface is not as the inventory requires (field, reason)."""


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class InterfaceFormat(StrEnum):
    HL7V2 = "hl7v2"
    X12 = "x12"
    FHIR = "fhir"
    CSV = "csv"
    JSON = "json"
    ERP_JSONRPC = "erp-jsonrpc"
    FILE = "file"


class Mode(StrEnum):
    """Where the interface stands in a migration: the old path, a copy beside it, or the path."""

    LEGACY = "legacy"
    SHADOW = "shadow"
    LIVE = "live"


class ModernizationClass(StrEnum):
    RETAIN = "retain"
    REFACTOR = "refactor"
    REPLATFORM = "replatform"
    RETIRE = "retire"


class GovernanceStatus(StrEnum):
    GOVERNED = "governed"
    NEEDS_ATTENTION = "needs_attention"
    UNGOVERNED = "ungoverned"


class Route(NamedTuple):
    """How inbound traffic names where it came from: the inbox's channel and source system."""

    channel: str
    source_system: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Interface:
    """One registered interface. Optional fields left empty are what governance checks for.

    ``channel`` is, inbound, the inbox ``interface`` its messages are stored under; outbound, the
    delivery target or transport it leaves by. ``sla_latency_minutes`` is the promised delay
    from send to processed; ``sla_availability`` free text ("24x7, 99.9%"). ``authentication`` is
    a method ("mutual-tls", "vpn-ip-allowlist", "sftp-key", "oauth2"…) and ``api_client`` the
    OAuth2 client id when there is one.
    """

    name: str
    direction: Direction
    format: InterfaceFormat
    channel: str
    source_system: str
    target_system: str
    description: str = ""
    authoritative_objects: tuple[ObjectType, ...] = ()
    owner: str | None = None
    sla_latency_minutes: int | None = None
    sla_availability: str | None = None
    contract: str | None = None
    schema_version: str | None = None
    authentication: str | None = None
    api_client: str | None = None
    mode: Mode = Mode.LIVE
    modernization: ModernizationClass | None = None
    sunset_on: date | None = None
    facility_ids: tuple[str, ...] = ()
    retired_on: date | None = None
    #: Set by the inventory when the interface is stored; None on one not registered yet.
    registered_at: datetime | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        if not NAME.fullmatch(self.name):
            raise InterfaceError(
                "name", f"{self.name!r} is not lowercase letters, digits and . _ - (1-80)"
            )
        _enum(self, "direction", Direction)
        _enum(self, "format", InterfaceFormat)
        _enum(self, "mode", Mode)
        if self.modernization is not None:
            _enum(self, "modernization", ModernizationClass)
        for name in ("channel", "source_system", "target_system"):
            value = getattr(self, name)
            if not value.strip() or value != value.strip():
                raise InterfaceError(name, "must be a non-empty value without outer spaces")
        for name in ("owner", "sla_availability", "contract", "schema_version",
                     "authentication", "api_client"):  # fmt: skip
            value = getattr(self, name)
            if value is not None and not value.strip():
                object.__setattr__(self, name, None)  # blank is absent: governance says so
        objects = []
        for value in self.authoritative_objects:
            try:
                objects.append(ObjectType(value))
            except ValueError:
                known = ", ".join(sorted(ObjectType))
                raise InterfaceError(
                    "authoritative_objects", f"unknown object type {value!r}; known: {known}"
                ) from None
        object.__setattr__(self, "authoritative_objects", tuple(dict.fromkeys(objects)))
        object.__setattr__(self, "facility_ids", tuple(dict.fromkeys(self.facility_ids)))
        if self.sla_latency_minutes is not None and self.sla_latency_minutes < 1:
            raise InterfaceError(
                "sla_latency_minutes", f"must be at least 1, got {self.sla_latency_minutes}"
            )
        for name in ("registered_at", "updated_at"):
            if getattr(self, name) is not None:
                _aware(name, getattr(self, name))

    @property
    def route(self) -> Route | None:
        """The route inbound traffic matches, or None: outbound and retired interfaces match
        no traffic."""
        if self.direction is not Direction.INBOUND or self.retired_on is not None:
            return None
        return Route(self.channel, self.source_system)

    @property
    def is_retired(self) -> bool:
        return self.retired_on is not None


def _enum(interface: Interface, name: str, kind: type[StrEnum]) -> None:
    value = getattr(interface, name)
    try:
        object.__setattr__(interface, name, kind(value))
    except ValueError:
        known = ", ".join(member.value for member in kind)
        raise InterfaceError(name, f"{value!r} is not one of {known}") from None


def _aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InterfaceError(name, "must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Finding:
    """One failed governance check: the field at fault, why, and whether it is required."""

    field: str
    reason: str
    required: bool


@dataclass(frozen=True, slots=True)
class Governance:
    """The verdict of :func:`assess` on one interface."""

    name: str
    status: GovernanceStatus
    findings: tuple[Finding, ...] = field(default=())


def assess(interface: Interface, today: date) -> Governance:
    """Apply the governance policy (module docstring) to ``interface`` as of ``today``."""
    findings = [*_required(interface, today), *_advisory(interface, today)]
    if any(finding.required for finding in findings):
        status = GovernanceStatus.UNGOVERNED
    elif findings:
        status = GovernanceStatus.NEEDS_ATTENTION
    else:
        status = GovernanceStatus.GOVERNED
    return Governance(interface.name, status, tuple(findings))


def _required(interface: Interface, today: date) -> list[Finding]:
    found = []
    if interface.owner is None:
        found.append(Finding("owner", "no owner: nobody is accountable for the interface", True))
    if interface.contract is None:
        found.append(Finding("contract", "no contract: no schema or specification named", True))
    if interface.sla_latency_minutes is None and interface.sla_availability is None:
        found.append(Finding("sla", "no SLA: neither a latency nor an availability", True))
    method = (interface.authentication or "none").lower()
    if method in NO_AUTHENTICATION:
        found.append(Finding("authentication", "no authentication method", True))
    if interface.sunset_on is not None and today >= interface.sunset_on:
        days = (today - interface.sunset_on).days
        found.append(
            Finding(
                "sunset_on",
                f"past its sunset date {interface.sunset_on.isoformat()} ({days} days ago)",
                True,
            )
        )
    return found


def _advisory(interface: Interface, today: date) -> list[Finding]:
    found = []
    if interface.contract is not None and interface.schema_version is None:
        found.append(Finding("schema_version", "the contract names no schema version", False))
    method = (interface.authentication or "").lower()
    if method in OAUTH2 and interface.api_client is None:
        found.append(Finding("api_client", "OAuth2 authentication names no API client", False))
    if interface.mode is Mode.LEGACY and interface.modernization is None:
        found.append(Finding("modernization", "legacy mode without a modernization class", False))
    if interface.modernization is ModernizationClass.RETIRE and interface.sunset_on is None:
        found.append(Finding("sunset_on", "classed retire without a sunset date", False))
    sunset = interface.sunset_on
    if sunset is not None and today < sunset <= today + SUNSET_WARNING:
        found.append(Finding("sunset_on", f"sunset on {sunset.isoformat()}, within 30 days", False))
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class UnmanagedSource:
    """Inbound traffic on a route no active inbound interface has (module docstring).

    ``message_count`` counts stored messages (a re-delivered duplicate is not counted again), the
    same messages the inbox holds; ``format`` is that of the latest batch seen.
    """

    channel: str
    source_system: str
    format: str
    first_seen: datetime
    last_seen: datetime
    message_count: int

    def __post_init__(self) -> None:
        _aware("first_seen", self.first_seen)
        _aware("last_seen", self.last_seen)
        if self.message_count < 1:
            raise InterfaceError("message_count", f"must be at least 1, got {self.message_count}")

    @property
    def route(self) -> Route:
        return Route(self.channel, self.source_system)
