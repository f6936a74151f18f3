"""The ``charge.posted`` event, written alike by every edge that posts a charge.

HL7 v2 DFT^P03 (:mod:`suture.services.hl7_ingest`), FHIR ChargeItem
(:mod:`suture.services.fhir_records`) and CSV charge feeds (:mod:`suture.services.csv_ingest`)
each record a charge and publish this event. Its payload is written here, once, so that the
three cannot drift apart: until 2026-11-27 each edge wrote its own, and the CSV feed's left the
revenue code out and dated the service in UTC rather than in the facility's zone.

- ``service_date`` is the service's calendar day in the facility's zone (:func:`facility_zone`:
  the facility's IANA zone, else UTC), as the revenue cycle that posted it counts days;
- decimals are written as :data:`~suture.eventlog.schemas.DecimalString` writes them, checked as
  it checks them (:func:`~suture.eventlog.payloads.decimal_text`), and the revenue code against
  the model's pattern, so the HL7 apply may have the registry vouch for the payload without
  validating it again;
- ``revenue_code`` is present only when the charge carries one (the model's default is None).
"""

from __future__ import annotations

import re
from datetime import UTC, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from suture.domain.masterdata import Facility
from suture.domain.revenue import Charge
from suture.eventlog.ids import idempotency_key_of
from suture.eventlog.payloads import decimal_text, pattern_text

CHARGE_POSTED = "charge.posted"

#: The version of ``charge.posted`` whose form :func:`posted_payload` writes.
POSTED_VERSION = 1

#: The idempotency key of a charge's ``charge.posted``, from the charge's id (its business key).
posted_key = idempotency_key_of(CHARGE_POSTED)

_REVENUE_CODE = re.compile(r"^[0-9]{4}$")


def facility_zone(facility: Facility | None, default: tzinfo = UTC) -> tzinfo:
    """The zone a facility counts its days in: its IANA zone, else ``default`` (also when the
    name is not a zone this machine knows)."""
    if facility is None or not facility.timezone:
        return default
    return _zone(facility.timezone) or default


@cache
def _zone(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def posted_payload(charge: Charge, zone: tzinfo) -> dict[str, Any]:
    """The payload of ``charge``'s ``charge.posted`` (v1), its service dated in ``zone``.

    Raises :class:`~suture.eventlog.errors.PayloadError` naming the field when a value is one
    the event's model would refuse (a quantity out of range, a revenue code not of 4 digits).
    """
    payload: dict[str, Any] = {
        "charge_id": charge.id,
        "facility_id": charge.facility_id,
        "encounter_token": charge.encounter_token,
        "cdm_code": charge.cdm_code,
    }
    if charge.revenue_code is not None:
        payload["revenue_code"] = pattern_text(charge.revenue_code, _REVENUE_CODE, "revenue_code")
    payload["hcpcs"] = charge.hcpcs
    payload["transaction_type"] = charge.transaction_type.value
    payload["quantity"] = decimal_text(charge.quantity, "quantity")
    payload["amount"] = decimal_text(charge.amount, "amount")
    payload["service_date"] = charge.service_at.astimezone(zone).date().isoformat()
    payload["department_id"] = charge.department_id
    return payload


__all__ = ["CHARGE_POSTED", "POSTED_VERSION", "facility_zone", "posted_key", "posted_payload"]
