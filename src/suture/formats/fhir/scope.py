"""What a mapping function is given besides the resource: where it is and what the edge knows."""

from __future__ import annotations

from dataclasses import dataclass

from suture.formats.fhir.devices import ReadUdi
from suture.formats.fhir.references import Resolver, Tokenize
from suture.formats.fhir.values import Settings


@dataclass(frozen=True, slots=True)
class Scope:
    """``path``: the resource's FHIRPath (``ChargeItem``, ``Bundle.entry[2].resource``);
    ``key``: its natural key, for deterministic record ids; the rest as in ``Decoding``."""

    path: str
    key: str
    settings: Settings
    tokenize: Tokenize
    resolver: Resolver
    read_udi: ReadUdi
    cdm_system: str | None = None
