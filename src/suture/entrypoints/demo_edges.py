"""The demo's edges in the integration inventory, so its traffic is managed (DESIGN.md §6).

Inbound traffic is managed when an active inbound interface has its route: the inbox
``interface`` a message is stored under (the interface's ``channel``) and its source system
(for the HTTP edges, the API client's id). The seeded inventory (``services/synthetic/
interfaces.py``) describes the health system's production routes: the EHR's charges on the MLLP
listener's default channel ``mllp``, the usage CSV as a file from ``clinical``, a FHIR feed from
an API client not named yet. The demo's senders use their own routes: the MLLP listener stores
the EHR's charges as ``ehr-charges-hl7``, the legacy OR system posts its CSV batch with its own
API client, the clinical FHIR client and the suppliers' EDI gateway are API clients the demo
creates. :func:`demo_edges` says what those are, fully governed (owner, contract and schema
version, SLA, authentication, the API client); the demo imports them before the first message,
updating the two seeded interfaces whose route it uses and adding the other two, so no demo
traffic shows as unmanaged and the governed-integrations KPI counts the interfaces the day uses.
"""

from __future__ import annotations

import dataclasses

from suture.domain.authority import ObjectType
from suture.domain.interfaces import Direction, Interface, InterfaceFormat, Mode
from suture.domain.interfaces import ModernizationClass as M
from suture.entrypoints.demo_day import LEGACY_USAGE_INTERFACE, SUPPLIER_INTERFACE, DemoClients
from suture.entrypoints.demo_hub import CHARGES_INTERFACE

#: The inbox interface the FHIR edge stores every resource and Bundle under.
FHIR_INTERFACE = "fhir"


def demo_edges(seeded: list[Interface], clients: DemoClients) -> list[Interface]:
    """The demo's four inbound edges; ``seeded`` is the inventory as seeded (module doc)."""
    by_name = {interface.name: interface for interface in seeded}
    facilities = by_name[CHARGES_INTERFACE].facility_ids
    return [
        dataclasses.replace(by_name[CHARGES_INTERFACE], channel=CHARGES_INTERFACE),
        dataclasses.replace(
            by_name[LEGACY_USAGE_INTERFACE],
            channel=LEGACY_USAGE_INTERFACE, source_system=clients.legacy.client_id,
            authentication="oauth2", api_client=clients.legacy.client_id,
            description="Implant and supply usage from the legacy OR system, one CSV batch a "
            "day over the System API",
        ),
        Interface(
            name="clinical-fhir-procedures", direction=Direction.INBOUND,
            format=InterfaceFormat.FHIR, channel=FHIR_INTERFACE,
            source_system=clients.clinical.client_id, target_system="suture",
            description="Implant and supply usage as FHIR R4 Procedure Bundles from the "
            "clinical system",
            authoritative_objects=(ObjectType.USAGE,), owner="perioperative-informatics",
            sla_latency_minutes=5, contract="FHIR R4 Procedure at /fhir/R4, docs/fhir.md",
            schema_version="4.0.1", authentication="oauth2",
            api_client=clients.clinical.client_id, mode=Mode.LIVE, modernization=M.RETAIN,
            facility_ids=facilities,
        ),
        Interface(
            name="supplier-x12-documents", direction=Direction.INBOUND,
            format=InterfaceFormat.X12, channel=SUPPLIER_INTERFACE,
            source_system=clients.supplier.client_id, target_system="suture",
            description="855, 856 and 810 from the suppliers' EDI gateway (the scripted test "
            "supplier) over the System API",
            owner="supply-chain-it", sla_latency_minutes=60,
            contract="ASC X12 005010 855/856/810, docs/x12.md", schema_version="005010",
            authentication="oauth2", api_client=clients.supplier.client_id, mode=Mode.LIVE,
            modernization=M.RETAIN, facility_ids=facilities,
        ),
    ]  # fmt: skip
