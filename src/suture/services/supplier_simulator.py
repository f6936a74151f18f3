"""The scripted test supplier: a trading-partner simulator that answers the hub's 850s.

Hospitals and suppliers rehearse a go-live with it, and the demo and the tests use it (issue 5):
it reads a purchase order interchange exactly as a supplier's EDI system would receive it, and
writes back the 855 acknowledgment, the 856 ship notice(s) and the 810 invoice(s) over the same
X12 path, each with the time it is due. What it answers is a :class:`Scenario` per PO, chosen by
a :class:`ScenarioPlan` (one scenario for every PO, a fixed scenario per PO number, or a seeded
mix, deterministic per PO number so that a rerun of the same day answers the same way).

The scenarios plant the discrepancies procure-to-pay must catch::

    normal             855 all accepted (AD); one 856 ships everything; one 810 at the PO price
    short_ship         the first line ships 20 % short (at least one unit); the 810 bills the
                       full order: a quantity variance
    back_order         the first line is backordered (IB, ships in 14 days): a first 856 and
                       810 for the rest, a second 856 and 810 for it later (two invoices a PO)
    price_increase     the first line is acknowledged at +8 % (IP + CTP) and invoiced at it:
                       a price variance (unless within tolerance)
    wrong_uom          the first line is invoiced in CA (case) at the ordered number and
                       price: a unit the hub cannot reconcile with the PO line
    duplicate_invoice  the 810 is sent twice, the second in a new interchange a day later
    early_invoice      the 810 arrives before the 856: the match finds no receipt first and
                       re-runs when the goods are received
    late_invoice       the 810 arrives 45 days after the shipment

A bill-only PO (BEG02 ``CN``, "do not ship": a consigned implant already used) is acknowledged
and invoiced but never shipped: its scenario's 856s are left out.

The reply goes from the 850's receiver to its sender (ISA ids swapped), as one interchange per
document, with control numbers from a counter the caller owns (:class:`ControlCounter`).
Nothing here reads a clock or does I/O: times are offsets from the 850's arrival.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from suture.domain.errors import DomainError
from suture.formats.x12 import (
    ControlNumbers,
    PurchaseOrder850,
    TradingPartnerProfile,
    decode_document,
)
from suture.formats.x12.envelope import Interchange
from suture.formats.x12.purchase_order_850 import OrderLine
from suture.formats.x12.supplier_documents import (
    AcknowledgedLineOut,
    AcknowledgmentOut,
    InvoicedLineOut,
    InvoiceOut,
    ShipmentOut,
    ShippedLineOut,
    write_810,
    write_855,
    write_856,
)


class Scenario(StrEnum):
    """How the simulated supplier answers one PO (module doc)."""

    NORMAL = "normal"
    SHORT_SHIP = "short_ship"
    BACK_ORDER = "back_order"
    PRICE_INCREASE = "price_increase"
    WRONG_UOM = "wrong_uom"
    DUPLICATE_INVOICE = "duplicate_invoice"
    EARLY_INVOICE = "early_invoice"
    LATE_INVOICE = "late_invoice"


#: When each document goes out after the 850 arrives, unless a scenario moves it.
ACKNOWLEDGE_AFTER = timedelta(hours=1)
SHIP_AFTER = timedelta(days=1)
INVOICE_AFTER = timedelta(days=2)
BACK_ORDER_DELAY = timedelta(days=14)
LATE_INVOICE_DELAY = timedelta(days=45)
#: A duplicate invoice repeats the 810 this long after the first.
DUPLICATE_AFTER = timedelta(days=1)
SHORT_SHIP_SHARE = Decimal("0.8")
PRICE_INCREASE = Decimal("1.08")
#: BEG02 of a bill-only PO (``formats/x12/purchase_order_850.py``): the implant was used from
#: consignment and the 850 says DO NOT SHIP, so no 856 answers it; the 855 and 810 do.
BILL_ONLY_ORDER_TYPE = "CN"
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class ScenarioPlan:
    """Which scenario answers which PO: ``fixed`` by PO number first, then a seeded draw from
    ``mix`` (weights), else ``default``. The draw depends only on the seed and the PO number."""

    default: Scenario = Scenario.NORMAL
    fixed: Mapping[str, Scenario] = field(default_factory=dict)
    mix: Mapping[Scenario, float] = field(default_factory=dict)
    seed: int = 0

    def __post_init__(self) -> None:
        for scenario, weight in self.mix.items():
            if weight < 0:
                raise DomainError("mix", f"weight of {scenario} must not be negative: {weight}")
        if self.mix and sum(self.mix.values()) <= 0:
            raise DomainError("mix", "weights must add up to more than zero")

    def scenarios(self) -> frozenset[Scenario]:
        """Every scenario this plan can answer a PO with."""
        drawn = {s for s, weight in self.mix.items() if weight > 0} if self.mix else {self.default}
        return frozenset(drawn | set(self.fixed.values()))

    def last_reply_after(self) -> timedelta:
        """How long after its 850 the last reply of any PO goes out, at the longest: a driver
        that replays the replies on a clock (the demo) starts that long before it wants them
        all in the past (back orders: 16 days; late invoices: 46)."""
        return max(_last_reply_after(scenario) for scenario in self.scenarios())

    def scenario_for(self, po_number: str) -> Scenario:
        if po_number in self.fixed:
            return self.fixed[po_number]
        if not self.mix:
            return self.default
        digest = hashlib.sha256(f"{self.seed}:{po_number}".encode()).digest()
        draw = random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 - not security
        scenarios = list(self.mix)
        return draw.choices(scenarios, weights=[self.mix[s] for s in scenarios])[0]

    @classmethod
    def parse_mix(cls, text: str, *, seed: int = 0) -> ScenarioPlan:
        """``"normal=6,short_ship=1,price_increase=1"``: a seeded mix; errors name the entry."""
        mix: dict[Scenario, float] = {}
        for entry in (part.strip() for part in text.split(",")):
            if not entry:
                continue
            name, _, weight = entry.partition("=")
            try:
                scenario = Scenario(name.strip())
            except ValueError:
                known = ", ".join(s.value for s in Scenario)
                raise DomainError(
                    "mix", f"unknown scenario {name.strip()!r}; one of {known}"
                ) from None
            try:
                mix[scenario] = float(weight) if weight else 1.0
            except ValueError:
                raise DomainError(
                    "mix", f"weight of {scenario} is not a number: {weight!r}"
                ) from None
        return cls(mix=mix, seed=seed)


class ControlCounter:
    """Interchange and group control numbers for the simulated supplier, one per document."""

    def __init__(self, start: int = 1) -> None:
        self._next = start

    def take(self) -> ControlNumbers:
        number = self._next
        self._next += 1
        return ControlNumbers(interchange=number, group=number)


@dataclass(frozen=True, slots=True)
class Reply:
    """One document the supplier sends: its set (855, 856, 810), bytes, and when it is due."""

    transaction_set: str
    po_number: str
    scenario: Scenario
    due_after: timedelta
    payload: bytes

    def due_at(self, received_at: datetime) -> datetime:
        return received_at + self.due_after


class SupplierSimulator:
    """Answers 850 interchanges with the documents of each PO's scenario (module doc)."""

    def __init__(self, plan: ScenarioPlan, counter: ControlCounter | None = None) -> None:
        self._plan = plan
        self._counter = counter or ControlCounter()

    def answer(self, raw_850: bytes, received_at: datetime) -> list[Reply]:
        """Every reply to the 850s in ``raw_850``, ordered by when it is due.

        Raises :class:`~suture.formats.x12.X12DecodeError` when the interchange cannot be read
        and :class:`DomainError` when it holds something other than 850s.
        """
        document = decode_document(raw_850)
        partner = _reply_partner(document.interchange)
        replies: list[Reply] = []
        for record in document.records:
            if not isinstance(record, PurchaseOrder850):
                raise DomainError("ST01", f"the supplier answers 850s, got {type(record).__name__}")
            scenario = self._plan.scenario_for(record.number)
            for set_id, due, body in _script(record, scenario, received_at.date()):
                payload = _write(set_id, body, partner, self._counter.take(), received_at + due)
                replies.append(Reply(set_id, record.number, scenario, due, payload))
        return sorted(replies, key=lambda reply: reply.due_after)


_Body = AcknowledgmentOut | ShipmentOut | InvoiceOut


def _write(
    set_id: str,
    body: _Body,
    partner: TradingPartnerProfile,
    numbers: ControlNumbers,
    at: datetime,
) -> bytes:
    if isinstance(body, AcknowledgmentOut):
        return write_855(body, partner, numbers, at)
    if isinstance(body, ShipmentOut):
        return write_856(body, partner, numbers, at)
    return write_810(body, partner, numbers, at)


def _reply_partner(interchange: Interchange) -> TradingPartnerProfile:
    """We answer as the 850's receiver, to its sender, in its version and test/production mode."""
    version = "004010" if interchange.version.startswith("004") else "005010"
    return TradingPartnerProfile(
        sender_qualifier=interchange.receiver_qualifier.strip(),
        sender_id=interchange.receiver_id.strip(),
        receiver_qualifier=interchange.sender_qualifier.strip(),
        receiver_id=interchange.sender_id.strip(),
        version=version,
        usage_indicator=interchange.usage if interchange.usage in ("P", "T") else "T",
    )


def _script(
    po: PurchaseOrder850, scenario: Scenario, today: date
) -> Iterable[tuple[str, timedelta, _Body]]:
    """The documents of one PO's scenario: (set id, due after arrival, content)."""
    lines = [_Line.of(line, index) for index, line in enumerate(po.lines, start=1)]
    first = lines[0].line_id if lines else None
    ack_lines = tuple(_acknowledged(line, scenario, first, today) for line in lines)
    changed = any(ack.status != "IA" for ack in ack_lines)
    yield (
        "855",
        ACKNOWLEDGE_AFTER,
        AcknowledgmentOut(
            po_number=po.number, po_date=po.order_date,
            acknowledged_on=(today + ACKNOWLEDGE_AFTER),
            acknowledgment_type="AC" if changed else "AD",
            seller_order_number=f"SO-{po.number}", lines=ack_lines,
        ),
    )  # fmt: skip
    backordered = {line.line_id for line in lines if line.line_id == first} if (
        scenario is Scenario.BACK_ORDER
    ) else set()  # fmt: skip
    now = [line for line in lines if line.line_id not in backordered]
    later = [line for line in lines if line.line_id in backordered]
    invoice_after = _invoice_after(scenario)
    ships = po.order_type != BILL_ONLY_ORDER_TYPE
    if now:
        if ships:
            yield "856", SHIP_AFTER, _shipment(po, now, scenario, first, today + SHIP_AFTER, 1)
        invoice = _invoice(po, now, scenario, first, today + invoice_after, 1)
        yield "810", invoice_after, invoice
        if scenario is Scenario.DUPLICATE_INVOICE:
            yield "810", invoice_after + DUPLICATE_AFTER, invoice
    if later:
        ship_later = SHIP_AFTER + BACK_ORDER_DELAY
        if ships:
            yield "856", ship_later, _shipment(po, later, scenario, None, today + ship_later, 2)
        bill_later = INVOICE_AFTER + BACK_ORDER_DELAY
        yield "810", bill_later, _invoice(po, later, scenario, None, today + bill_later, 2)


def _invoice_after(scenario: Scenario) -> timedelta:
    return {
        Scenario.EARLY_INVOICE: SHIP_AFTER / 2,
        Scenario.LATE_INVOICE: SHIP_AFTER + LATE_INVOICE_DELAY,
    }.get(scenario, INVOICE_AFTER)


def _last_reply_after(scenario: Scenario) -> timedelta:
    """The script's (``_script``) last document for ``scenario``, after the 850."""
    invoice_after = _invoice_after(scenario)
    last = max(ACKNOWLEDGE_AFTER, SHIP_AFTER, invoice_after)
    if scenario is Scenario.DUPLICATE_INVOICE:
        last = invoice_after + DUPLICATE_AFTER
    if scenario is Scenario.BACK_ORDER:
        last = max(last, SHIP_AFTER + BACK_ORDER_DELAY, INVOICE_AFTER + BACK_ORDER_DELAY)
    return last


@dataclass(frozen=True, slots=True)
class _Line:
    line_id: str
    quantity: Decimal
    uom: str
    unit_price: Decimal
    product_ids: Mapping[str, str]

    @classmethod
    def of(cls, line: OrderLine, index: int) -> _Line:
        return cls(
            line_id=line.line_id or str(index),
            quantity=line.quantity,
            uom=line.uom,
            unit_price=line.unit_price if line.unit_price is not None else Decimal(0),
            product_ids=dict(line.product_ids),
        )


def _acknowledged(
    line: _Line, scenario: Scenario, first: str | None, today: date
) -> AcknowledgedLineOut:
    status, ship_date, price = "IA", None, None
    if line.line_id == first and scenario is Scenario.BACK_ORDER:
        status, ship_date = "IB", today + SHIP_AFTER + BACK_ORDER_DELAY
    elif line.line_id == first and scenario is Scenario.PRICE_INCREASE:
        status, price = "IP", _raised(line.unit_price)
    return AcknowledgedLineOut(
        line_id=line.line_id, quantity=line.quantity, uom=line.uom, unit_price=line.unit_price,
        status=status, product_ids=line.product_ids, ship_date=ship_date, changed_price=price,
    )  # fmt: skip


def _shipment(  # noqa: PLR0917 - private, called twice with the script's state
    po: PurchaseOrder850,
    lines: list[_Line],
    scenario: Scenario,
    first: str | None,
    shipped_on: date,
    sequence: int,
) -> ShipmentOut:
    shipped = []
    for line in lines:
        quantity = line.quantity
        if line.line_id == first and scenario is Scenario.SHORT_SHIP:
            quantity = _short(line.quantity)
        shipped.append(
            ShippedLineOut(
                line_id=line.line_id, quantity=quantity, uom=line.uom,
                product_ids=line.product_ids, lot=f"L{shipped_on:%y%m%d}{line.line_id}",
                expiry=shipped_on + timedelta(days=730),
            )
        )  # fmt: skip
    return ShipmentOut(
        shipment_id=f"ASN-{po.number}-{sequence}",
        shipped_on=shipped_on,
        po_number=po.number,
        lines=tuple(shipped),
    )


def _invoice(  # noqa: PLR0917 - private, called twice with the script's state
    po: PurchaseOrder850,
    lines: list[_Line],
    scenario: Scenario,
    first: str | None,
    invoiced_on: date,
    sequence: int,
) -> InvoiceOut:
    billed = []
    for line in lines:
        uom, price = line.uom, line.unit_price
        if line.line_id == first and scenario is Scenario.PRICE_INCREASE:
            price = _raised(price)
        if line.line_id == first and scenario is Scenario.WRONG_UOM:
            uom = "CA" if line.uom != "CA" else "BX"
        billed.append(
            InvoicedLineOut(
                line_id=line.line_id, quantity=line.quantity, uom=uom, unit_price=price,
                product_ids=line.product_ids,
            )
        )  # fmt: skip
    return InvoiceOut(
        number=f"INV-{po.number}-{sequence}",
        invoice_date=invoiced_on,
        po_number=po.number,
        po_date=po.order_date,
        lines=tuple(billed),
    )


def _raised(price: Decimal) -> Decimal:
    return (price * PRICE_INCREASE).quantize(_CENT, rounding=ROUND_HALF_UP)


def _short(quantity: Decimal) -> Decimal:
    shipped = (quantity * SHORT_SHIP_SHARE).to_integral_value(rounding="ROUND_FLOOR")
    return min(shipped, quantity - 1) if quantity > 1 else quantity
