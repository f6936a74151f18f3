"""A simulated hospital day for ``suture demo``: what each edge sends, and what it plants.

:func:`plan_day` takes the first ``n`` procedures of the synthetic history (``history.py``),
spread over one day from ``start``, in time order, and decides everything the demo replays and
everything the hub should find, before anything is sent:

- **the edges**: every facility's charges go out as HL7 v2 DFT^P03 over MLLP; the usage of one
  facility, the *legacy* one, as a CSV batch (its OR system still exports files); the other
  facilities' usage as FHIR Procedures. :attr:`HospitalDay.usage_lines` is the usage exactly as
  the edges send it: a FHIR ``usedCode`` is one each, so a supply used three times is three
  lines of 1 EA there, while the CSV sends one row per item and procedure;
- **the opening stock** of every position the day draws from (:class:`OpeningStock`): some
  positions are empty (planted stockouts; owned ones with a par level are replenished by
  their first usage too), owned stock with a par level sits at its reorder
  point (the first usage crosses it: a replenishment requisition), the rest at par, or, without
  a par level, at what the day uses and a margin;
- **what the hub must find** (:class:`Planted`): usage lines no charge covers (the history's
  missed charges: revenue at risk), charges no usage documents, and the stockouts the opening
  stock and the day's usage make, counted by replaying the usage in the order it is sent.

Pure: no clock, no I/O; the same generator, count and start give the same day.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from suture.domain.errors import DomainError
from suture.domain.masterdata import ParLevel
from suture.domain.reconciliation import ChargemasterPrice
from suture.services.synthetic.catalog import ItemDraft
from suture.services.synthetic.health_system import HealthSystemGenerator
from suture.services.synthetic.history import ProcedureRecords

#: Share of the day's stock positions that open empty: each one's first usage is a stockout.
EMPTY_SHARE = 0.08
#: Share of owned positions with a par level that open at their reorder point.
AT_REORDER_SHARE = 0.4
#: Eaches above the day's own use that a position without a par level opens with.
MARGIN = 5
DAY = timedelta(days=1)

Position = tuple[str, str]  # (location id, item id)
Key = tuple[str, str, str]  # (facility id, visit number, CDM code)


@dataclass(frozen=True, slots=True)
class DayItem:
    """What the edges and the plan need of one item."""

    id: str
    gtin: str
    is_implant: bool
    is_consignment: bool
    cdm_code: str | None
    charge_price: Decimal

    @classmethod
    def of(cls, draft: ItemDraft) -> DayItem:
        return cls(
            id=draft.id,
            gtin=draft.each_gtin,
            is_implant=draft.category.is_implant,
            is_consignment=draft.is_consignment,
            cdm_code=draft.cdm_code,
            charge_price=draft.charge_price,
        )


@dataclass(frozen=True, slots=True)
class UsageLine:
    """One usage line as an edge sends it (``quantity`` in eaches)."""

    procedure: ProcedureRecords
    item: DayItem
    quantity: int
    udi: str | None
    lot: str | None
    serial: str | None
    expiry: date | None
    legacy: bool


@dataclass(frozen=True, slots=True)
class OpeningStock:
    """A position's stock before the day, in eaches, in the bucket its item draws from."""

    facility_id: str
    location_id: str
    item_id: str
    eaches: int
    consigned: bool
    empty: bool


@dataclass(frozen=True, slots=True)
class DepartmentRequest:
    """A department's own request for an item it keeps at par (the Experience API's)."""

    facility_id: str
    department_id: str
    location_id: str
    item_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Planted:
    """What the hub should find once the day has settled (module doc)."""

    procedures: int
    usage_lines: int
    charge_lines: int
    #: Usage lines no charge covers at all (outcome ``usage_without_charge``).
    missed_charge_lines: int
    #: Usage lines a charge covers in part (``quantity_mismatch``: a CSV row of several eaches).
    partly_charged_lines: int
    #: Charge lines with no usage of their key (``charge_without_usage``).
    undocumented_charges: int
    #: Usages the stock could not cover, replaying the usage in the order it is sent.
    stockouts: int
    #: Positions that open empty.
    empty_positions: int
    #: Positions that open at their reorder point (each crosses it once: a requisition).
    at_reorder_point: int


@dataclass(frozen=True, slots=True)
class HospitalDay:
    """The day the demo replays (module doc)."""

    start: datetime
    procedures: tuple[ProcedureRecords, ...]
    legacy_facility_id: str
    usage_lines: tuple[UsageLine, ...]
    opening: tuple[OpeningStock, ...]
    planted: Planted
    #: One request per hospital, from the department of its first procedure's location.
    department_requests: tuple[DepartmentRequest, ...] = ()


def plan_day(generator: HealthSystemGenerator, *, procedures: int, start: datetime) -> HospitalDay:
    """The first ``procedures`` procedures of ``generator``'s history over one day from
    ``start`` (the profile's ``history_days`` must be 1), with their edges and plants."""
    if generator.profile.history_days != 1:
        raise DomainError("history_days", "the demo's day needs a profile with history_days 1")
    if procedures < 1:
        raise DomainError("procedures", f"must be at least 1, got {procedures}")
    items = {draft.id: DayItem.of(draft) for draft in generator.item_drafts()}
    day = sorted(generator.procedures(procedures, start), key=lambda p: (p.at, p.number))
    facilities = sorted({procedure.facility_id for procedure in day})
    # The last hospital (by id) still runs the legacy OR system that exports CSV files.
    legacy = facilities[-1]
    lines = tuple(_usage_lines(day, items, legacy))
    pars = {(par.location_id, par.item_id): par for par in generator.par_levels()}
    opening = _opening(lines, pars, random.Random(f"{generator.seed}:demo-stock"))  # noqa: S311
    missed, partly, undocumented = _reconciliation(day, lines)
    planted = Planted(
        procedures=len(day),
        usage_lines=len(lines),
        charge_lines=sum(len(p.charges) for p in day),
        missed_charge_lines=missed,
        partly_charged_lines=partly,
        undocumented_charges=undocumented,
        stockouts=_stockouts(lines, opening),
        empty_positions=sum(1 for stock in opening if stock.empty),
        at_reorder_point=sum(
            1
            for stock in opening
            if not stock.empty
            and (stock.location_id, stock.item_id) in pars
            and not stock.consigned
            and stock.eaches == int(pars[(stock.location_id, stock.item_id)].reorder_point)
        ),
    )
    requests = tuple(_department_requests(day, pars, items))
    return HospitalDay(start, tuple(day), legacy, lines, opening, planted, requests)


def _department_requests(
    day: Iterable[ProcedureRecords], pars: dict[Position, ParLevel], items: dict[str, DayItem]
) -> Iterator[DepartmentRequest]:
    """Per hospital, two purchasing units of the first owned supply its first procedure's
    location keeps at par."""
    seen: set[str] = set()
    for procedure in day:
        if procedure.facility_id in seen:
            continue
        stocked = sorted(
            item_id
            for (location_id, item_id) in pars
            if location_id == procedure.location_id
            and not items[item_id].is_implant
            and not items[item_id].is_consignment
        )
        if stocked:
            seen.add(procedure.facility_id)
            yield DepartmentRequest(
                procedure.facility_id, procedure.department_id, procedure.location_id,
                stocked[0], 2,
            )  # fmt: skip


def chargemaster(
    generator: HealthSystemGenerator, effective_from: date
) -> Iterator[ChargemasterPrice]:
    """Every chargeable item's CDM price at every facility: the synthetic catalog's charge
    price, which the history bills at (revenue at risk is priced from it)."""
    facilities = [facility.id for facility in generator.facilities()]
    for draft in generator.item_drafts():
        if draft.cdm_code is None:
            continue
        for facility_id in facilities:
            yield ChargemasterPrice(
                facility_id=facility_id,
                cdm_code=draft.cdm_code,
                effective_from=effective_from,
                unit_price=draft.charge_price,
                description=draft.description[:80],
            )


def _usage_lines(
    day: Iterable[ProcedureRecords], items: dict[str, DayItem], legacy: str
) -> Iterator[UsageLine]:
    """The usage as the edges send it: implants first (FHIR ``focalDevice``), then supplies
    (``usedCode``, one each per line); the legacy CSV sends one row per supply item."""
    for procedure in day:
        is_legacy = procedure.facility_id == legacy
        implants = [u for u in procedure.usage if items[u.item_id].is_implant]
        supplies: Counter[str] = Counter()
        for usage in procedure.usage:
            if not items[usage.item_id].is_implant:
                supplies[usage.item_id] += int(usage.quantity)
        for usage in implants:
            yield UsageLine(
                procedure, items[usage.item_id], int(usage.quantity), usage.udi, usage.lot,
                usage.serial, usage.expiry, is_legacy,
            )  # fmt: skip
        for item_id, quantity in supplies.items():
            per_line = [quantity] if is_legacy else [1] * quantity
            for eaches in per_line:
                yield UsageLine(
                    procedure, items[item_id], eaches, None, None, None, None, is_legacy
                )


def _opening(
    lines: tuple[UsageLine, ...], pars: dict[Position, ParLevel], rng: random.Random
) -> tuple[OpeningStock, ...]:
    used: dict[Position, int] = {}
    where: dict[Position, UsageLine] = {}
    for line in lines:
        position = (line.procedure.location_id, line.item.id)
        used[position] = used.get(position, 0) + line.quantity
        where.setdefault(position, line)
    opening = []
    for position in sorted(used):
        line, par = where[position], pars.get(position)
        draw = rng.random()
        consigned = line.item.is_consignment
        if draw < EMPTY_SHARE:
            eaches, empty = 0, True
        elif par is not None and not consigned and draw < EMPTY_SHARE + AT_REORDER_SHARE:
            eaches, empty = int(par.reorder_point), False
        elif par is not None:
            eaches, empty = int(par.par), False
        else:
            eaches, empty = used[position] + MARGIN, False
        opening.append(
            OpeningStock(
                facility_id=line.procedure.facility_id, location_id=position[0],
                item_id=position[1], eaches=eaches, consigned=consigned, empty=empty,
            )
        )  # fmt: skip
    return tuple(opening)


def _stockouts(lines: Iterable[UsageLine], opening: Iterable[OpeningStock]) -> int:
    """Usages drawing more than their position holds, in the order the edges send them
    (each position is fed by one edge, so that is the order the hub applies them in)."""
    stock = {(s.location_id, s.item_id): s.eaches for s in opening}
    count = 0
    for line in lines:
        position = (line.procedure.location_id, line.item.id)
        before = stock.get(position, 0)
        count += before < line.quantity
        stock[position] = before - line.quantity
    return count


def _reconciliation(
    day: Iterable[ProcedureRecords], lines: Iterable[UsageLine]
) -> tuple[int, int, int]:
    """(usage lines not charged, usage lines charged in part, charges without usage): the
    coverage rule of ``domain/reconciliation.py`` on keys whose usage lines are all of one
    each or a single line, where the order of coverage cannot change the count."""
    used: dict[Key, list[int]] = {}
    for line in lines:
        if line.item.cdm_code is None:
            continue
        key = (line.procedure.facility_id, line.procedure.encounter, line.item.cdm_code)
        used.setdefault(key, []).append(line.quantity)
    billed: Counter[Key] = Counter()
    charge_lines: Counter[Key] = Counter()
    for procedure in day:
        for charge in procedure.charges:
            key = (charge.facility_id, procedure.encounter, charge.cdm_code)
            billed[key] += int(charge.quantity)
            charge_lines[key] += 1
    missed = partly = 0
    for key, quantities in used.items():
        left = billed[key]
        for quantity in quantities:
            if left <= 0:
                missed += 1
            elif left < quantity:
                partly += 1
            left -= quantity
    undocumented = sum(n for key, n in charge_lines.items() if key not in used)
    return missed, partly, undocumented
