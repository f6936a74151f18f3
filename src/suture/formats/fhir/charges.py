"""ChargeItem → a canonical charge (FHIR R4 chargeitem.html; DESIGN.md §2, beside HL7 DFT^P03).

Element by element:

- ``status``: ``billable`` and ``billed`` are charges (CG); ``entered-in-error`` reverses one,
  a credit (CD) under its own id; ``planned``, ``not-billable``, ``aborted`` and ``unknown``
  decode with no charge (:attr:`DecodedChargeItem.charge` is None): nothing is billed yet;
- ``code``: the CDM code is the coding in the CDM system the interface names, else the first
  coding that is not CPT/HCPCS or a revenue code; a CPT or HCPCS coding becomes ``hcpcs``, a
  NUBC revenue-code coding ``revenue_code``;
- ``quantity.value`` → ``quantity`` (1 when absent, as for FT1-10);
- ``priceOverride`` (the total price, Money in the hub's currency) → ``amount``, the line then
  ``priced``; without it the amount is 0 and the service prices the line from the CDM, applying
  ``factorOverride`` (kept as :attr:`DecodedChargeItem.factor`);
- ``occurrence[x]`` (dateTime, Period.start, Timing's first event; else ``enteredDate``) →
  ``service_at`` in UTC;
- ``context`` (Encounter or EpisodeOfCare) → ``encounter_token``, ``account[0]`` →
  ``account_token``, ``subject`` (Patient) → :attr:`DecodedChargeItem.patient_token`: tokens
  from the caller's keyed hash, never the identifiers. With no context the account stands for
  the encounter, as PID-18 does for HL7; with neither the ChargeItem is refused;
- ``performingOrganization`` (else ``requestingOrganization``) → ``department_id``, the
  sender's code (identifier value or reference id), mapped later by the service;
- the facility is the one the sending client is scoped to (:class:`~.values.Settings`).

The id is deterministic (ChargeItem.identifier, else its id, else the body's hash), so a
re-sent ChargeItem finds its charge.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from suture.domain.authority import ObjectType
from suture.domain.revenue import Charge, ChargeType
from suture.formats.fhir.errors import fail
from suture.formats.fhir.references import code_of, require_types, token_of
from suture.formats.fhir.scope import Scope
from suture.formats.fhir.values import Settings, decimal, moment, money, quantity, record_id

#: Coding systems read as CPT/HCPCS (→ Charge.hcpcs) and as UB-04 revenue codes.
HCPCS_SYSTEMS = (
    "http://www.ama-assn.org/go/cpt",
    "urn:oid:2.16.840.1.113883.6.12",
    "urn:oid:2.16.840.1.113883.6.285",
    "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
)
REVENUE_CODE_SYSTEMS = (
    "https://www.nubc.org/CodeSystem/RevenueCodes",
    "http://www.nubc.org/CodeSystem/RevenueCodes",
    "https://nubc.org/CodeSystem/RevenueCodes",
)
_CHARGES = {"billable": ChargeType.CHARGE, "billed": ChargeType.CHARGE}
_CREDIT = "entered-in-error"
_ONE = Decimal(1)
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class DecodedChargeItem:
    """A ChargeItem: its charge (None when its status bills nothing) and what Charge lacks."""

    status: str
    charge: Charge | None
    priced: bool
    factor: Decimal | None
    patient_token: str | None
    #: The billing system's own id of the line (the first ChargeItem.identifier value): the
    #: charge's business key across channels (``domain/revenue.py``), None without one.
    line_id: str | None = None


def decode_charge_item(item: Any, scope: Scope) -> DecodedChargeItem:
    """The canonical charge of a validated ChargeItem; :class:`FhirDecodeError` otherwise."""
    path, key, settings, tokenize, resolver = (
        scope.path,
        scope.key,
        scope.settings,
        scope.tokenize,
        scope.resolver,
    )
    cdm_system = scope.cdm_system
    require_types(
        [
            (item.subject, ("Patient",), f"{path}.subject"),
            (item.context, ("Encounter", "EpisodeOfCare"), f"{path}.context"),
            *(
                (account, ("Account",), f"{path}.account[{index}]")
                for index, account in enumerate(item.account or [])
            ),
            (item.performingOrganization, ("Organization",), f"{path}.performingOrganization"),
            (item.requestingOrganization, ("Organization",), f"{path}.requestingOrganization"),
        ],
        resolver,
    )
    patient = token_of(item.subject, tokenize, resolver)
    factor = (
        decimal(item.factorOverride, f"{path}.factorOverride")
        if item.factorOverride is not None
        else None
    )
    price = money(item.priceOverride, f"{path}.priceOverride", settings)
    status = str(item.status)
    kind = _CHARGES.get(status) or (ChargeType.CREDIT if status == _CREDIT else None)
    if kind is None:
        return DecodedChargeItem(status, None, price is not None, factor, patient)
    account = token_of(item.account[0], tokenize, resolver) if item.account else None
    encounter = token_of(item.context, tokenize, resolver) or account
    if encounter is None:
        reason = f"{path}.context is required when there is no account: the charge needs a visit"
        raise fail("required", reason, f"{path}.context")
    amount_of = _ONE
    if item.quantity is not None:
        amount_of, _unit = quantity(item.quantity, f"{path}.quantity")
    codes = _codes(item.code, f"{path}.code", cdm_system)
    charge = Charge(
        id=record_id(
            "CHG",
            settings.facility_id,
            "ChargeItem",
            key,
            status if kind is ChargeType.CREDIT else "",
        ),
        facility_id=settings.facility_id,
        encounter_token=encounter,
        cdm_code=codes[0],
        quantity=amount_of,
        amount=price if price is not None else _ZERO,
        service_at=_service_at(item, path, settings),
        transaction_type=kind,
        account_token=account,
        department_id=code_of(item.performingOrganization) or code_of(item.requestingOrganization),
        hcpcs=codes[1],
        revenue_code=codes[2],
        source_system=settings.source_for(ObjectType.CHARGE),
    )
    line_id = next(
        (str(i.value).strip() for i in item.identifier or [] if i.value and str(i.value).strip()),
        None,
    )
    return DecodedChargeItem(status, charge, price is not None, factor, patient, line_id)


def _codes(concept: Any, path: str, cdm_system: str | None) -> tuple[str, str | None, str | None]:
    codings = [c for c in (concept.coding or []) if c.code]
    hcpcs = next((str(c.code).strip() for c in codings if c.system in HCPCS_SYSTEMS), None)
    revenue = next((str(c.code).strip() for c in codings if c.system in REVENUE_CODE_SYSTEMS), None)
    if cdm_system is not None:
        cdm = next((str(c.code).strip() for c in codings if c.system == cdm_system), None)
    else:
        others = HCPCS_SYSTEMS + REVENUE_CODE_SYSTEMS
        cdm = next((str(c.code).strip() for c in codings if c.system not in others), None)
    if not cdm:
        where = f" in {cdm_system}" if cdm_system else ""
        raise fail("required", f"{path}.coding needs a charge (CDM) code{where}", f"{path}.coding")
    return cdm, hcpcs, revenue


def _service_at(item: Any, path: str, settings: Settings) -> Any:
    if item.occurrenceDateTime is not None:
        return moment(item.occurrenceDateTime, f"{path}.occurrenceDateTime", settings.zone)
    period = item.occurrencePeriod
    if period is not None and (period.start or period.end):
        return moment(period.start or period.end, f"{path}.occurrencePeriod", settings.zone)
    timing = item.occurrenceTiming
    if timing is not None and timing.event:
        return moment(timing.event[0], f"{path}.occurrenceTiming.event[0]", settings.zone)
    if item.enteredDate is not None:
        return moment(item.enteredDate, f"{path}.enteredDate", settings.zone)
    raise fail(
        "required", f"{path}.occurrence[x] is required: when was the service", f"{path}.occurrence"
    )
