"""Synthetic clinical history: procedures that used supplies and implants, and what they billed.

Charges and usage come from one ``procedures`` stream, so they tell the same story: procedure
``n`` happens at one hospital and location, on one encounter, and each item it used becomes a
usage record and, when the item is chargeable, a charge line. A few charges are deliberately
missed (usage without charge) and a few billed without documented usage, so reconciliation has
something to find. Every draw is made whichever of the two is asked for, so the first ``k``
charges are the same whether or not usage is generated too.

Nothing here looks like a patient: encounter and account tokens are opaque hashes of the seed
and the procedure number ("enc_3f9c..."), never an MRN-like number. Times spread over
``profile.history_days`` by a Weyl sequence, so any number of procedures fills the window evenly
and procedure ``n`` has the same time however many are asked for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from math import gcd

from suture.domain.errors import DomainError
from suture.domain.inventory import UsageRecord
from suture.domain.masterdata import LocationKind
from suture.domain.revenue import Charge
from suture.services.synthetic.catalog import Catalog, ItemDraft
from suture.services.synthetic.organization import LocationPlan, facility_id

#: Share of chargeable lines whose charge is never posted (usage without charge: revenue at risk).
MISSED_CHARGE_SHARE = 0.03
#: Share of procedures that bill one chargeable item nobody documented using.
UNDOCUMENTED_CHARGE_SHARE = 0.01
_GOLDEN = 0.6180339887498949
#: (share of procedures, implants used (low, high), supplies used (low, high)) per location kind.
_MIX = (
    (LocationKind.OPERATING_ROOM, 0.45, (0, 3), (2, 5)),
    (LocationKind.CATH_LAB, 0.30, (0, 2), (1, 4)),
    (LocationKind.NURSING_UNIT, 0.25, (0, 0), (1, 4)),
)

_EDGES = tuple(accumulate(share for _, share, _, _ in _MIX))

Record = Charge | UsageRecord


def _token(prefix: str, seed: int, number: int) -> str:
    digest = hashlib.blake2b(f"{seed}:{prefix}:{number}".encode(), digest_size=12).hexdigest()
    return f"{prefix}_{digest}"


def _weyl_step(span: int) -> int:
    """A step near the golden ratio of ``span`` and coprime with it: n*step % span visits every
    second of the span once before repeating."""
    step = max(1, round(span * _GOLDEN))
    while gcd(step, span) != 1:
        step += 1
    return step


@dataclass(slots=True)
class _Procedure:
    number: int
    facility: int
    plan: LocationPlan
    at: datetime
    encounter: str
    #: (item, quantity in eaches, production bits) per item used.
    used: list[tuple[ItemDraft, int, int]]
    billed: list[tuple[ItemDraft, int]]


def _procedures(catalog: Catalog, start: datetime) -> Iterator[_Procedure]:
    """Procedures 0, 1, 2, ... without end; every draw of the history is made here."""
    organization, profile = catalog.organization, catalog.profile
    rng = organization.rng("procedures")
    rand, bits = rng.random, rng.getrandbits
    span = profile.history_days * 86_400
    step = _weyl_step(span)
    plans: dict[tuple[int, LocationKind], list[LocationPlan]] = {}
    for plan in organization.location_plan:
        plans.setdefault((plan.facility_number, plan.kind), []).append(plan)
    stocked = catalog.stocked
    number = 0
    while True:
        facility = int(rand() * profile.hospitals) + 1
        draw = rand()
        mix = next((mix for mix, edge in zip(_MIX, _EDGES, strict=True) if draw < edge), _MIX[0])
        if (facility, mix[0]) not in plans:  # a profile without nursing units
            mix = _MIX[0]
        kind, _, implants, supplies = mix
        choices = plans[(facility, kind)]
        plan = choices[int(rand() * len(choices))]
        used: list[tuple[ItemDraft, int, int]] = []
        for implant, (low, high) in ((True, implants), (False, supplies)):
            pool = stocked.get((facility, kind, implant), ())
            for _ in range(low + int(rand() * (high - low + 1)) if pool else 0):
                draft = pool[int(rand() * len(pool))]
                used.append((draft, 1 if implant else 1 + int(rand() * 4), bits(60)))
        billed = [
            (draft, quantity)
            for draft, quantity, _ in used
            if rand() >= MISSED_CHARGE_SHARE and draft.is_chargeable
        ]
        if rand() < UNDOCUMENTED_CHARGE_SHARE:
            pool = stocked.get((facility, kind, True)) or stocked.get((facility, kind, False), ())
            extra = pool[int(rand() * len(pool))] if pool else None
            if extra is not None and extra.is_chargeable and all(d is not extra for d, *_ in used):
                billed.append((extra, 1))
        at = start + timedelta(seconds=number * step % span)
        encounter = _token("enc", organization.seed, number)
        yield _Procedure(number, facility, plan, at, encounter, used, billed)
        number += 1


def procedure_records(
    catalog: Catalog, start: datetime, *, charges: bool, usage: bool
) -> Iterator[Record]:
    """Charges and/or usage records of procedures 0, 1, 2, ... without end; callers slice."""
    if start.tzinfo is None:
        raise DomainError("start", "must be timezone-aware")
    _require_material(catalog, charges=charges, usage=usage)
    seed = catalog.organization.seed
    charge_no = usage_no = 0
    for procedure in _procedures(catalog, start):
        if usage:
            for line in procedure.used:
                usage_no += 1
                yield _usage(usage_no, procedure, line)
        if charges:
            account = _token("acct", seed, procedure.number)
            for draft, quantity in procedure.billed:
                charge_no += 1
                yield Charge(
                    id=f"CHG-{charge_no:09d}",
                    facility_id=facility_id(procedure.facility),
                    encounter_token=procedure.encounter,
                    account_token=account,
                    cdm_code=draft.cdm_code or "",
                    quantity=Decimal(quantity),
                    amount=draft.charge_price * quantity,
                    service_at=procedure.at,
                    department_id=procedure.plan.department_id,
                    hcpcs=draft.category.hcpcs,
                    revenue_code=draft.category.revenue_code,
                )


@dataclass(frozen=True, slots=True)
class ProcedureRecords:
    """One procedure of the history: where and when, its visit, what it used and what it billed.

    ``encounter`` is the synthetic visit number every record of the procedure shares (an opaque
    hash, never an MRN-like number); the demo sends it as PV1-19, a FHIR Encounter identifier
    and a CSV Visit Number, so the hub tokenizes it the same way on every edge.
    """

    number: int
    at: datetime
    facility_id: str
    location_id: str
    department_id: str
    location_kind: LocationKind
    encounter: str
    usage: tuple[UsageRecord, ...]
    charges: tuple[Charge, ...]


def procedures(catalog: Catalog, start: datetime) -> Iterator[ProcedureRecords]:
    """Procedures 0, 1, 2, ... without end, each with the usage and charges that
    :func:`procedure_records` yields for it (the same ids and values); callers slice."""
    if start.tzinfo is None:
        raise DomainError("start", "must be timezone-aware")
    _require_material(catalog, charges=True, usage=True)
    seed = catalog.organization.seed
    charge_no = usage_no = 0
    for procedure in _procedures(catalog, start):
        usage = []
        for line in procedure.used:
            usage_no += 1
            usage.append(_usage(usage_no, procedure, line))
        account = _token("acct", seed, procedure.number)
        charges = []
        for draft, quantity in procedure.billed:
            charge_no += 1
            charges.append(
                Charge(
                    id=f"CHG-{charge_no:09d}",
                    facility_id=facility_id(procedure.facility),
                    encounter_token=procedure.encounter,
                    account_token=account,
                    cdm_code=draft.cdm_code or "",
                    quantity=Decimal(quantity),
                    amount=draft.charge_price * quantity,
                    service_at=procedure.at,
                    department_id=procedure.plan.department_id,
                    hcpcs=draft.category.hcpcs,
                    revenue_code=draft.category.revenue_code,
                )
            )
        plan = procedure.plan
        yield ProcedureRecords(
            number=procedure.number,
            at=procedure.at,
            facility_id=facility_id(procedure.facility),
            location_id=plan.location_id,
            department_id=plan.department_id,
            location_kind=plan.kind,
            encounter=procedure.encounter,
            usage=tuple(usage),
            charges=tuple(charges),
        )


def _require_material(catalog: Catalog, *, charges: bool, usage: bool) -> None:
    """Refuse a history that could never yield a record instead of looping for ever."""
    kinds = {mix[0] for mix in _MIX}
    used = [pool for (_, kind, _), pool in catalog.stocked.items() if kind in kinds]
    if usage and not any(used):
        raise DomainError("item_coverage", "no hospital uses any item, so there is no usage")
    if charges and not any(draft.is_chargeable for pool in used for draft in pool):
        raise DomainError("chargeable_share", "no hospital uses a chargeable item to charge")


def _usage(number: int, procedure: _Procedure, line: tuple[ItemDraft, int, int]) -> UsageRecord:
    """A usage record; lot, serial and shelf life come from the line's 60 production bits."""
    draft, quantity, production = line
    implant = draft.category.is_implant
    lot = f"L{production % 10**6:06d}"
    serial = f"SN{production // 10**6 % 10**8:08d}" if implant else None
    expiry = (procedure.at + timedelta(days=180 + (production >> 47) % 916)).date()
    udi = f"(01){draft.each_gtin}(17){expiry:%y%m%d}(10){lot}(21){serial}" if implant else None
    plan = procedure.plan
    return UsageRecord(
        id=f"USE-{number:09d}",
        facility_id=facility_id(plan.facility_number),
        location_id=plan.location_id,
        item_id=draft.id,
        quantity=Decimal(quantity),
        uom="EA",
        used_at=procedure.at,
        encounter_token=procedure.encounter,
        department_id=plan.department_id,
        lot=lot,
        serial=serial,
        expiry=expiry,
        udi=udi,
    )
