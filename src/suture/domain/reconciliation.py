"""Charge-to-cost reconciliation: the matching rule (DESIGN.md §4, §7 "revenue at risk").

The usage side is the **expected charges** of the usage workflow (one per chargeable usage:
:class:`~suture.domain.costing.ExpectedCharge`); the revenue side is the **charges** the revenue
cycle posted (HL7 DFT^P03 FT1, FHIR ChargeItem; credits ``CD`` are negative). The rule is pure,
and is the specification the continuous handler runs in Python and the batch runs in SQL
(``adapters/analytics/reconcile_sql.py``); a property test holds the two to the same answer.

**Key.** Lines meet on ``(facility, encounter token, CDM code)``: the item's CDM code is the
item↔CDM charge crosswalk, applied when the expected charge was recorded. A usage without an
encounter can meet no charge: it is a key of its own (``none:<usage id>``).

**Window.** A charge counts toward a key's usage when its service time lies within ``window``
of the key's usage: from the earliest usage time minus the window to the latest plus the window.
Charges of the key outside that span, and charges of a key with no usage, are judged on their
own: net positive, ``charge_without_usage``; netted to nothing by credits, ``credited``. The
window is also the time an unmatched line may wait before it ages into an exception.

**Netting.** Within a key, credits net against charges: the net charged quantity ``Q`` and
amount ``A`` are the sums of charge lines minus credit lines (quantities and amounts taken as
absolute values, the sign given by the transaction type).

**Usage lines and tie-breaking.** When several usage lines share a key, the net charged quantity
covers them in order of usage time, then usage id (bytewise): each line is covered by what is
left of ``Q`` after the lines before it. Fully covered: ``matched``, or ``charge_below_cost``
when the key is fully charged (``Q`` ≥ usage quantity) for less than its cost (``A`` < cost);
partly covered: ``quantity_mismatch``; not covered: ``usage_without_charge``. The unbilled
quantity times the chargemaster price on the day of use (UTC) is the line's **revenue at risk**,
to the cent, half-even; unknown (None) when the chargemaster has no price for it.

**Charge lines** in play take the key's verdict: ``credited`` when ``Q`` ≤ 0, else
``quantity_mismatch`` when ``Q`` differs from the usage quantity, else ``charge_below_cost``
when ``A`` is below the cost, else ``matched``.

Every outcome is a function of the key's lines alone, never of their arrival order, which is
what lets a continuous, event-by-event evaluation and a batch over a period agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from suture.domain.errors import DomainError
from suture.domain.kpis import distribution

CENT = Decimal("0.01")
ZERO = Decimal(0)


class Side(StrEnum):
    USAGE = "usage"
    CHARGE = "charge"


class Outcome(StrEnum):
    """What reconciliation says about one line."""

    MATCHED = "matched"
    QUANTITY_MISMATCH = "quantity_mismatch"
    USAGE_WITHOUT_CHARGE = "usage_without_charge"
    CHARGE_WITHOUT_USAGE = "charge_without_usage"
    CHARGE_BELOW_COST = "charge_below_cost"
    CREDITED = "credited"


#: Outcomes that need a person, once the window has passed: exported by the batch and aged into
#: exceptions by the continuous form (the usage side's quantity mismatch is a partly missed
#: charge, so it ages as ``usage_without_charge`` too).
UNMATCHED = frozenset(
    {
        Outcome.USAGE_WITHOUT_CHARGE,
        Outcome.CHARGE_WITHOUT_USAGE,
        Outcome.QUANTITY_MISMATCH,
        Outcome.CHARGE_BELOW_COST,
    }
)
AGING = {
    (Side.USAGE, Outcome.USAGE_WITHOUT_CHARGE),
    (Side.USAGE, Outcome.QUANTITY_MISMATCH),
    (Side.CHARGE, Outcome.CHARGE_WITHOUT_USAGE),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageLine:
    """An expected charge: what a usage should have been billed, and what it cost."""

    id: str
    facility_id: str
    encounter_token: str | None
    cdm_code: str
    quantity: Decimal
    cost: Decimal
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargeLine:
    """A posted charge (``credit`` False) or credit (True)."""

    id: str
    facility_id: str
    encounter_token: str
    cdm_code: str
    quantity: Decimal
    amount: Decimal
    at: datetime
    credit: bool = False

    @property
    def signed_quantity(self) -> Decimal:
        return -abs(self.quantity) if self.credit else abs(self.quantity)

    @property
    def signed_amount(self) -> Decimal:
        return -abs(self.amount) if self.credit else abs(self.amount)


@dataclass(frozen=True, slots=True, kw_only=True)
class LineResult:
    """The verdict on one line; ``unbilled`` and ``revenue_at_risk`` are the usage side's."""

    side: Side
    line_id: str
    facility_id: str
    encounter_key: str
    cdm_code: str
    at: datetime
    quantity: Decimal
    outcome: Outcome
    unbilled: Decimal = ZERO
    revenue_at_risk: Decimal | None = ZERO

    @property
    def fully_billed(self) -> bool:
        return self.side is Side.USAGE and self.unbilled == 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargemasterPrice:
    """A CDM code's price at a facility from ``effective_from`` to ``effective_to`` inclusive."""

    facility_id: str
    cdm_code: str
    effective_from: date
    unit_price: Decimal
    effective_to: date | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        if not self.cdm_code:
            raise DomainError("cdm_code", "is empty")
        if self.unit_price < 0:
            raise DomainError("unit_price", f"{self.unit_price} is negative")
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise DomainError(
                "effective_to",
                f"{self.effective_to.isoformat()} is before {self.effective_from.isoformat()}",
            )

    def covers(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


def price_on(prices: Iterable[ChargemasterPrice], day: date) -> Decimal | None:
    """The price in effect on ``day``: of those covering it, the latest to take effect."""
    best: ChargemasterPrice | None = None
    for price in prices:
        if price.covers(day) and (best is None or price.effective_from > best.effective_from):
            best = price
    return None if best is None else best.unit_price


#: ``price(facility, cdm_code, day)``: the chargemaster price, or None.
PriceLookup = Callable[[str, str, date], Decimal | None]
Key = tuple[str, str, str]


def encounter_key(line: UsageLine) -> str:
    """A usage's encounter token, or a key of its own when it has none (it can match nothing)."""
    return line.encounter_token if line.encounter_token is not None else f"none:{line.id}"


def usage_key(line: UsageLine) -> Key:
    return (line.facility_id, encounter_key(line), line.cdm_code)


def charge_key(line: ChargeLine) -> Key:
    return (line.facility_id, line.encounter_token, line.cdm_code)


def reconcile(
    usages: Iterable[UsageLine],
    charges: Iterable[ChargeLine],
    *,
    window: timedelta,
    price: PriceLookup,
) -> list[LineResult]:
    """The verdict on every line given, by the rule of the module docstring."""
    if window < timedelta(0):
        raise DomainError("window", f"{window} is negative")
    by_key_usage: dict[Key, list[UsageLine]] = defaultdict(list)
    by_key_charge: dict[Key, list[ChargeLine]] = defaultdict(list)
    for usage in usages:
        by_key_usage[usage_key(usage)].append(usage)
    for charge in charges:
        by_key_charge[charge_key(charge)].append(charge)
    results: list[LineResult] = []
    for key in sorted(by_key_usage.keys() | by_key_charge.keys()):
        results += reconcile_key(
            key, by_key_usage.get(key, []), by_key_charge.get(key, []), window=window, price=price
        )
    return results


def reconcile_key(
    key: Key,
    usages: Sequence[UsageLine],
    charges: Sequence[ChargeLine],
    *,
    window: timedelta,
    price: PriceLookup,
) -> list[LineResult]:
    """The verdicts on one key's lines (all of them must have ``key``)."""
    ordered = sorted(usages, key=lambda line: (line.at, line.id))
    if not ordered:
        return _out_of_play(key, charges)
    low, high = ordered[0].at - window, max(line.at for line in ordered) + window
    in_play = [charge for charge in charges if low <= charge.at <= high]
    rest = [charge for charge in charges if not low <= charge.at <= high]
    used = sum((line.quantity for line in ordered), ZERO)
    cost = sum((line.cost for line in ordered), ZERO)
    charged = sum((charge.signed_quantity for charge in in_play), ZERO)
    billed = sum((charge.signed_amount for charge in in_play), ZERO)
    below_cost = charged >= used and billed < cost
    results: list[LineResult] = []
    before = ZERO
    for line in ordered:
        covered = min(line.quantity, max(ZERO, charged - before))
        before += line.quantity
        unbilled = line.quantity - covered
        if covered == 0 and line.quantity != 0:
            outcome = Outcome.USAGE_WITHOUT_CHARGE
        elif unbilled != 0:
            outcome = Outcome.QUANTITY_MISMATCH
        else:
            outcome = Outcome.CHARGE_BELOW_COST if below_cost else Outcome.MATCHED
        results.append(
            LineResult(
                side=Side.USAGE, line_id=line.id, facility_id=key[0], encounter_key=key[1],
                cdm_code=key[2], at=line.at, quantity=line.quantity, outcome=outcome,
                unbilled=unbilled, revenue_at_risk=_at_risk(line, unbilled, price),
            )
        )  # fmt: skip
    if charged <= 0:
        verdict = Outcome.CREDITED
    elif charged != used:
        verdict = Outcome.QUANTITY_MISMATCH
    else:
        verdict = Outcome.CHARGE_BELOW_COST if below_cost else Outcome.MATCHED
    results += [_charge_result(key, charge, verdict) for charge in in_play]
    return results + _out_of_play(key, rest)


def _out_of_play(key: Key, charges: Sequence[ChargeLine]) -> list[LineResult]:
    net = sum((charge.signed_quantity for charge in charges), ZERO)
    verdict = Outcome.CHARGE_WITHOUT_USAGE if net > 0 else Outcome.CREDITED
    return [_charge_result(key, charge, verdict) for charge in charges]


def _charge_result(key: Key, charge: ChargeLine, outcome: Outcome) -> LineResult:
    return LineResult(
        side=Side.CHARGE, line_id=charge.id, facility_id=key[0], encounter_key=key[1],
        cdm_code=key[2], at=charge.at, quantity=charge.signed_quantity, outcome=outcome,
    )  # fmt: skip


def _at_risk(line: UsageLine, unbilled: Decimal, price: PriceLookup) -> Decimal | None:
    if unbilled == 0:
        return ZERO
    return revenue_at_risk(unbilled, price(line.facility_id, line.cdm_code, line.at.date()))


def revenue_at_risk(unbilled: Decimal, unit_price: Decimal | None) -> Decimal | None:
    """The unbilled quantity at the chargemaster's unit price, half-even to the cent; None
    when there is something unbilled and no price."""
    if unbilled == 0:
        return ZERO
    if unit_price is None:
        return None
    return (unbilled * unit_price).quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class LagStats:
    """The reconciliation-lag KPI (DESIGN.md §7): usage recorded → matched to its charge."""

    matched: int
    median_hours: float | None
    p90_hours: float | None


def lag_stats(lags: Sequence[timedelta]) -> LagStats:
    """Median and 90th percentile of the lags, in hours, interpolated as every KPI's
    percentiles are (``domain/kpis.py``)."""
    found = distribution(lags)
    if found.median is None or found.p90 is None:
        return LagStats(0, None, None)
    return LagStats(
        found.count,
        round(found.median.total_seconds() / 3600, 3),
        round(found.p90.total_seconds() / 3600, 3),
    )
