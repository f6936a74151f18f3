"""The demo day's messages, as the source systems would write them (no I/O, no clock).

- :func:`dft_p03`: a procedure's charges as one HL7 v2.5.1 DFT^P03 (§6.4.3): MSH-4 the
  hospital's code, PV1-19 the synthetic visit number, one FT1 per charge line (FT1-2 the charge
  line id, FT1-4 the service time in UTC with its offset, FT1-7 the CDM code, FT1-10/11
  quantity and extended amount, FT1-13 the department, FT1-25 the HCPCS code);
- :func:`procedure_bundle`: FHIR R4 Procedures in a ``batch`` Bundle, one per procedure, with
  ``encounter`` (the same visit number, as an identifier), ``location``, each implant as a
  contained Device with its UDI (``focalDevice``) and each supply each as a ``usedCode`` with
  the item id;
- :func:`usage_csv`: the legacy facility's usage as a CSV batch in the built-in usage profile's
  layout (docs/csv-feeds.md), times in the profile's zone (America/Chicago).

Nothing here is patient data: visit numbers, accounts and patient references are opaque hashes
of the seed and the procedure number (``history.py``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from suture.services.synthetic.day import UsageLine
from suture.services.synthetic.history import ProcedureRecords

#: The zone of the built-in usage CSV profile's wall-clock times.
CSV_ZONE = ZoneInfo("America/Chicago")
CSV_HEADER = (
    "Case Number", "Visit Number", "MRN", "Procedure Date", "Facility", "Location",
    "Department", "Item Number", "GTIN", "UDI", "Qty", "UOM", "Lot", "Serial", "Expiry",
)  # fmt: skip
ITEM_SYSTEM = "urn:suture:item"
_KIND_TEXT = {
    "operating_room": "Operative procedure",
    "cath_lab": "Catheterization",
    "nursing_unit": "Bedside care",
}


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")


def dft_p03(procedure: ProcedureRecords, facility_code: str, control_id: str) -> bytes:
    """The procedure's charges as one DFT^P03 (module doc); at least one charge is needed."""
    when = _ts(procedure.at)
    segments = [
        f"MSH|^~\\&|EHR|{facility_code}|SUTURE|{facility_code}|{when}||DFT^P03|{control_id}|P|2.5.1",
        f"EVN|P03|{when}",
        f"PID|1||pat_{procedure.encounter[4:]}^^^{facility_code}^MR||Demo^Patient|||U"
        + "|" * 10
        + f"acct_{procedure.encounter[4:]}",
        f"PV1|1|O|{procedure.location_id}^^^{facility_code}" + "|" * 16 + procedure.encounter,
    ]
    for number, charge in enumerate(procedure.charges, start=1):
        fields = [
            "FT1", str(number), f"CHG-{procedure.number:06d}-{number}", "", when, "", "CG",
            charge.cdm_code, "", "", format(charge.quantity, "f"), format(charge.amount, "f"),
            "", charge.department_id or "",
        ]  # fmt: skip
        fields += [""] * 11 + [charge.hcpcs or ""]
        segments.append("|".join(fields))
    return ("\r".join(segments) + "\r").encode("ascii")


def procedure_bundle(procedures: Sequence[tuple[ProcedureRecords, Sequence[UsageLine]]]) -> bytes:
    """A ``batch`` Bundle of one Procedure per procedure with its usage lines (module doc)."""
    entries = [
        {
            "fullUrl": f"urn:uuid:{_uuid_like(procedure.encounter)}",
            "resource": _procedure(procedure, lines),
            "request": {"method": "POST", "url": "Procedure"},
        }
        for procedure, lines in procedures
    ]
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": entries}
    return json.dumps(bundle, separators=(",", ":")).encode("utf-8")


def _procedure(procedure: ProcedureRecords, lines: Sequence[UsageLine]) -> dict[str, Any]:
    devices = [line for line in lines if line.udi is not None]
    supplies = [line for line in lines if line.udi is None]
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "identifier": [{"system": "urn:suture:demo:procedure", "value": f"P{procedure.number}"}],
        "status": "completed",
        "code": {"text": _KIND_TEXT.get(procedure.location_kind.value, "Procedure")},
        "subject": {"type": "Patient", "identifier": {"value": f"pat_{procedure.encounter[4:]}"}},
        "encounter": {"type": "Encounter", "identifier": {"value": procedure.encounter}},
        "performedDateTime": procedure.at.astimezone(UTC).isoformat(),
        "location": {"reference": f"Location/{procedure.location_id}"},
    }
    if devices:
        resource["contained"] = [
            {
                "resourceType": "Device",
                "id": f"d{index}",
                "status": "active",
                "udiCarrier": [{"carrierHRF": line.udi}],
            }
            for index, line in enumerate(devices, start=1)
        ]
        resource["focalDevice"] = [
            {"manipulated": {"reference": f"#d{index}"}} for index in range(1, len(devices) + 1)
        ]
    if supplies:
        resource["usedCode"] = [
            {"coding": [{"system": ITEM_SYSTEM, "code": line.item.id}]}
            for line in supplies
            for _ in range(line.quantity)
        ]
    return resource


def _uuid_like(token: str) -> str:
    digits = (token.removeprefix("enc_") + "0" * 32)[:32]
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:32]}"


def usage_csv(lines: Iterable[UsageLine], facility_code: str) -> bytes:
    """The legacy facility's usage lines as one CSV batch (module doc)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for line in lines:
        procedure = line.procedure
        writer.writerow(
            [
                f"CASE-{procedure.number:06d}", procedure.encounter, "",
                procedure.at.astimezone(CSV_ZONE).strftime("%m/%d/%Y %H:%M"), facility_code,
                procedure.location_id, "", "", line.item.gtin, line.udi or "",
                str(line.quantity), "EA", line.lot or "", line.serial or "",
                line.expiry.strftime("%m/%d/%Y") if line.expiry else "",
            ]
        )  # fmt: skip
    return out.getvalue().encode("utf-8")
