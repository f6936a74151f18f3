"""References between resources: their target type, the resource they point at, and tokens.

A FHIR Reference names its target in one of four ways (FHIR R4 references.html): a relative
literal ``Patient/123``, an absolute URL ending ``…/Patient/123``, ``#id`` for a contained
resource, or ``urn:uuid:…`` for another entry of the same Bundle; or only logically, by
``identifier``. :class:`Resolver` finds the resource behind the last three (contained, the
Bundle's ``fullUrl``s, and Devices the caller already knows) so that a Procedure pointing at a
Device in the same transaction gets the Device's UDI.

Patient, account and encounter references identify a person: :func:`token_of` hands their
business identifier (``identifier.value``, else the reference's id) to the caller's
``tokenize`` and returns only the token (DESIGN.md §6); the business identifier is what an HL7
feed tokenizes too (PV1-19, PID-18), so tokens of both feeds meet. A reference with only a
server id is tokenized as ``Type/id``, so a Patient and an Encounter that share an id do not
share a token. ``display`` is never read: it is a name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from suture.formats.fhir.errors import FhirDecodeError, Issue

#: Turns a patient identifier into a token; supplied by the caller (a keyed hash).
Tokenize = Callable[[str], str]

_LITERAL = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


class Target(NamedTuple):
    """What a reference says about its target: type and id when it says them.

    A NamedTuple, cheaper to build than a frozen dataclass: a dozen are read per resource on
    the path measured by ``benchmarks/fhir_decode.py``."""

    resource_type: str | None
    id: str | None
    identifier: str | None
    key: str | None  # how the Resolver knows it: "#id", "urn:uuid:…" or "Type/id"


def target(reference: Any) -> Target:
    """Read a fhir.resources Reference (or None) without resolving it."""
    if reference is None:
        return Target(None, None, None, None)
    literal = reference.reference or ""
    kind = None
    if isinstance(reference.type, str) and reference.type:  # "Patient", or its canonical URL
        kind = reference.type.rstrip("/").rsplit("/", 1)[-1]
    identifier = None
    if reference.identifier is not None and reference.identifier.value:
        identifier = str(reference.identifier.value)
    if literal.startswith("#"):
        return Target(kind, literal[1:] or None, identifier, literal)
    if literal.startswith(("urn:uuid:", "urn:oid:")):
        return Target(kind, None, identifier, literal)
    found = _LITERAL.search(literal)
    if found is not None:
        return Target(found.group(1), found.group(2), identifier, literal)
    return Target(kind, None, identifier, literal or None)


@dataclass(slots=True)
class Resolver:
    """Resources a reference may point at: contained ones, a Bundle's entries, known Devices."""

    contained: dict[str, Any] = field(default_factory=dict)
    entries: Mapping[str, Any] = field(default_factory=dict)  # fullUrl -> model
    known: Mapping[str, Any] = field(default_factory=dict)  # "Device/id" -> decoded record
    identified: dict[int, Any] = field(default_factory=dict)  # id(Device model) -> its record

    def with_contained(self, resource: Any) -> Resolver:
        contained = {f"#{item.id}": item for item in (resource.contained or []) if item.id}
        return Resolver(contained, self.entries, self.known, self.identified)

    def resolve(self, reference: Any) -> Any | None:
        """The resource a reference points at, when it is contained or in the Bundle."""
        found = target(reference)
        if found.key is None:
            return None
        if found.key.startswith("#"):
            return self.contained.get(found.key)
        if found.key in self.entries:
            return self.entries[found.key]
        for full_url, resource in self.entries.items():  # "Device/1" against "http://…/Device/1"
            if found.resource_type and full_url.endswith("/" + found.key):
                return resource
        return None


def type_of(reference: Any, resolver: Resolver) -> str | None:
    """The target's resource type, from the literal, ``type``, or the resolved resource."""
    found = target(reference)
    if found.resource_type is not None:
        return found.resource_type
    resolved = resolver.resolve(reference)
    return None if resolved is None else str(resolved.get_resource_type())


def check_type(
    reference: Any, allowed: tuple[str, ...], path: str, resolver: Resolver
) -> Issue | None:
    """An issue when a reference points at a type outside ``allowed`` (422 ``value``)."""
    if reference is None:
        return None
    kind = type_of(reference, resolver)
    if kind is None or kind in allowed:
        return None
    return Issue("value", f"{path} must reference {' or '.join(allowed)}, not {kind}", path)


def require_types(checks: list[tuple[Any, tuple[str, ...], str]], resolver: Resolver) -> None:
    """Raise every wrong-type issue of ``checks`` (reference, allowed types, FHIRPath)."""
    issues = [
        issue
        for reference, allowed, path in checks
        if (issue := check_type(reference, allowed, path, resolver)) is not None
    ]
    if issues:
        raise FhirDecodeError(issues)


def token_of(reference: Any, tokenize: Tokenize, resolver: Resolver) -> str | None:
    """The token of the person or visit a reference names; None when it names none."""
    if reference is None:
        return None
    found = target(reference)
    value = found.identifier
    if value is None:
        resolved = resolver.resolve(reference)
        if resolved is not None:
            for identifier in getattr(resolved, "identifier", None) or []:
                if identifier.value:
                    value = str(identifier.value)
                    break
    if value is None and found.id is not None and found.resource_type is not None:
        value = f"{found.resource_type}/{found.id}"  # a server id: typed, so ids never collide
    elif value is None and found.key is not None and found.key.startswith("urn:"):
        value = found.key
    return tokenize(value) if value else None


def code_of(reference: Any) -> str | None:
    """A non-PHI reference (organization, location) as the sender's code: identifier or id."""
    found = target(reference)
    return found.identifier or found.id
