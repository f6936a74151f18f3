"""The CapabilityStatement served at ``GET /fhir/R4/metadata``: exactly what is supported.

FHIR R4 capabilitystatement.html: a server says which resource types it takes and which
interactions on each. This hub takes ``create`` of the six types it maps
(:data:`~.validation.SUPPORTED_TYPES`) and, at the base URL, ``batch`` and ``transaction``
Bundles of creates; nothing is read, searched, updated or deleted through FHIR. Built from the
same constants the codec enforces, so the statement and the behaviour cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from suture.formats.fhir.bundles import BUNDLE_TYPES
from suture.formats.fhir.validation import SUPPORTED_TYPES

#: The FHIR version of the endpoint (R4); validation uses the R4B models, which read R4 JSON.
FHIR_VERSION = "4.0.1"
_FORMATS = ("application/fhir+json", "json")


def capability_statement(
    *, base_url: str, date: str, software_version: str, software_name: str = "Suture"
) -> dict[str, Any]:
    """The statement as a JSON-ready dict; ``date`` (FHIR dateTime) is when it was published."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": software_name,
        "kind": "instance",
        "software": {"name": software_name, "version": software_version},
        "implementation": {
            "description": f"{software_name} FHIR R4 intake: creates mapped to canonical records",
            "url": base_url,
        },
        "fhirVersion": FHIR_VERSION,
        "format": list(_FORMATS),
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Creates only; Bundles of type "
                    + " and ".join(BUNDLE_TYPES)
                    + " at the base URL, each entry a POST of a supported type."
                ),
                "resource": [
                    {"type": kind, "interaction": [{"code": "create"}]} for kind in SUPPORTED_TYPES
                ],
                "interaction": [{"code": kind} for kind in BUNDLE_TYPES],
            }
        ],
    }
