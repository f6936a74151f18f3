"""The integration inventory of the synthetic health system (``suture seed``; DESIGN.md §6).

The interfaces a hospital system of this shape runs, each with the governance it really has:
the EHR's HL7 v2 charges over MLLP and as nightly batch files, X12 850 out and 855/856/810 in
with the first trading partners, the ERP file export beside its Tryton JSON-RPC successor in
shadow mode, the procedural usage feed, a FHIR SupplyDelivery feed whose OAuth2 client is not
named yet (needs attention), and a legacy materials-management CSV export in ``legacy`` mode,
classed ``retire``, dropped on an unauthenticated file share (ungoverned).

The routes match what Suture's own edges record: ``suture ingest`` stores HL7 v2 files as
channel ``file`` from ``rcm``, the MLLP listener as ``mllp`` from ``rcm``. Dates are relative
to the seeding time ``at``, so the demo does not age into "past sunset".
"""

from __future__ import annotations

import functools
import itertools
from datetime import datetime, timedelta

from suture.domain.authority import ObjectType as O
from suture.domain.interfaces import Direction, Interface, InterfaceFormat, Mode
from suture.domain.interfaces import ModernizationClass as M
from suture.services.synthetic.health_system import HealthSystemGenerator

#: How many suppliers exchange X12 with the health system in the demo inventory.
X12_PARTNERS = 3
_IN, _OUT = Direction.INBOUND, Direction.OUTBOUND
_F = InterfaceFormat


def demo_inventory(generator: HealthSystemGenerator, at: datetime) -> list[Interface]:
    """The inventory of ``generator``'s health system, sunset dates counted from ``at``."""
    facilities = tuple(facility.id for facility in generator.facilities())

    interface = functools.partial(Interface, facility_ids=facilities)

    found = [
        interface(
            name="ehr-charges-hl7",
            direction=_IN,
            format=_F.HL7V2,
            channel="mllp",
            source_system="rcm",
            target_system="suture",
            description="DFT^P03 charges from the EHR, real time",
            authoritative_objects=(O.CHARGE,),
            owner="revenue-integration",
            sla_latency_minutes=5,
            sla_availability="24x7, 99.9%",
            contract="HL7 v2.5.1 DFT^P03, docs/hl7v2.md",
            schema_version="2.5.1",
            authentication="vpn-ip-allowlist",
            mode=Mode.LIVE,
            modernization=M.RETAIN,
        ),
        interface(
            name="ehr-charges-batch",
            direction=_IN,
            format=_F.HL7V2,
            channel="file",
            source_system="rcm",
            target_system="suture",
            description="Nightly FHS/BHS batch of late charges",
            authoritative_objects=(O.CHARGE,),
            owner="revenue-integration",
            sla_availability="nightly by 06:00",
            contract="HL7 v2.5.1 batch of DFT^P03",
            schema_version="2.5.1",
            authentication="sftp-key",
            mode=Mode.LIVE,
            modernization=M.REFACTOR,
        ),
        interface(
            name="procedural-usage-csv",
            direction=_IN,
            format=_F.CSV,
            channel="file",
            source_system="clinical",
            target_system="suture",
            description="Implant and supply usage from the OR system",
            authoritative_objects=(O.USAGE,),
            owner="perioperative-informatics",
            sla_latency_minutes=60,
            contract="usage feed profile, docs/csv-feeds.md",
            schema_version="1",
            authentication="sftp-key",
            mode=Mode.LIVE,
            modernization=M.REFACTOR,
        ),
        interface(
            name="fhir-supply-delivery",
            direction=_IN,
            format=_F.FHIR,
            channel="api",
            source_system="clinical-fhir",
            target_system="suture",
            description="FHIR R4 SupplyDelivery, replacing the CSV feed",
            authoritative_objects=(O.USAGE,),
            owner="perioperative-informatics",
            sla_latency_minutes=5,
            contract="FHIR R4 SupplyDelivery at /fhir/R4",
            schema_version="4.0.1",
            authentication="oauth2",
            mode=Mode.SHADOW,
            modernization=M.RETAIN,
        ),
        interface(
            name="legacy-mms-items",
            direction=_IN,
            format=_F.CSV,
            channel="file",
            source_system="legacy-mms",
            target_system="suture",
            description="Item master export of the old MMS",
            authoritative_objects=(O.ITEM, O.CONTRACT),
            owner="materials-management",
            sla_availability="weekly",
            contract="MMS fixed-column export, undocumented",
            authentication="none",
            mode=Mode.LEGACY,
            modernization=M.RETIRE,
            sunset_on=(at + timedelta(days=180)).date(),
        ),
        interface(
            name="erp-file-export",
            direction=_OUT,
            format=_F.CSV,
            channel="erp",
            source_system="suture",
            target_system="erp",
            description="Journal and AP interface files for the ERP",
            authoritative_objects=(O.JOURNAL_ENTRY, O.RECEIPT),
            owner="finance-systems",
            sla_availability="daily by 02:00",
            contract="ERP journal and AP interface files",
            schema_version="1",
            authentication="file-share-acl",
            mode=Mode.LIVE,
            modernization=M.REPLATFORM,
        ),
        interface(
            name="erp-tryton-jsonrpc",
            direction=_OUT,
            format=_F.ERP_JSONRPC,
            channel="tryton",
            source_system="suture",
            target_system="erp",
            description="The ERP's JSON-RPC API, shadowing the file export",
            authoritative_objects=(O.JOURNAL_ENTRY, O.PURCHASE_ORDER, O.RECEIPT, O.INVOICE),
            owner="finance-systems",
            sla_latency_minutes=15,
            contract="Tryton JSON-RPC, docs/adr",
            schema_version="7.0",
            authentication="erp-user-session",
            mode=Mode.SHADOW,
            modernization=M.RETAIN,
        ),
    ]
    for supplier in itertools.islice(generator.suppliers(), X12_PARTNERS):
        slug = supplier.id.lower()
        found.append(
            interface(
                name=f"x12-{slug}-orders",
                direction=_OUT,
                format=_F.X12,
                channel=f"x12-{slug}",
                source_system="suture",
                target_system=supplier.id,
                description=f"850 purchase orders to {supplier.name}",
                authoritative_objects=(O.PURCHASE_ORDER,),
                owner="supply-chain-it",
                sla_latency_minutes=60,
                contract="ASC X12 005010 850, docs/x12.md",
                schema_version="005010",
                authentication="as2-certificate",
                mode=Mode.LIVE,
                modernization=M.RETAIN,
            )
        )
        found.append(
            interface(
                name=f"x12-{slug}-documents",
                direction=_IN,
                format=_F.X12,
                channel="as2",
                source_system=supplier.id,
                target_system="suture",
                description=f"855, 856 and 810 from {supplier.name}",
                authoritative_objects=(O.INVOICE,),
                owner="supply-chain-it",
                sla_latency_minutes=60,
                contract="ASC X12 005010 855/856/810, docs/x12.md",
                schema_version=None if supplier.id.endswith("3") else "005010",
                authentication="as2-certificate",
                mode=Mode.LIVE,
                modernization=M.RETAIN,
            )
        )
    return found
