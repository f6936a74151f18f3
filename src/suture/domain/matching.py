"""Three-way match: PO line ↔ quantity received ↔ invoice line (DESIGN.md §4, procure-to-pay).

Pure rules: :func:`match_invoice` takes the invoice, its purchase order, the receipts against
the PO, what earlier matched invoices of the PO already billed, the invoices that might be the
same bill, the items' packaging and the tolerance in force, and says whether the invoice is
approved for payment or which exceptions it raises, line by line, with the amounts.

**Units.** Every quantity is compared in the item's base unit (eaches) and every price per each,
through the item's packaging (``domain/units.py``): an invoice for 2 CS at 500.00 matches a PO
line for 100 EA at 10.00 when the case holds 50.

**Lines.** An invoice line is matched to the PO line it names (``po_line_number``) when that line
is of the same item, else to the PO's first line of the item with quantity left to bill, else to
its first line of the item.
Lines are taken in line-number order, so the outcome does not depend on the order they arrive in.

**Quantity.** A PO line may be billed up to ``min(ordered, received) - already invoiced``, where
*received* sums the receipt lines against it (partial receipts add up) and *already invoiced*
sums the lines of the PO's earlier matched invoices. Lines of a **bill-only** PO count as received
in full: the usage that raised the PO was the receipt. A line billing more is a
``quantity_variance`` for the excess, unless it is within the quantity tolerance; a line whose PO
line has received nothing at all is ``invoice_without_receipt`` (a receipt arriving later re-runs
the match). Billing less than is available is a partial invoice, not a variance.

**Price.** The invoice price per each against the PO price per each; billing *more* is a
``price_variance`` of ``(invoice - PO) x eaches`` unless within the price tolerance. A lower price
is accepted: the hospital pays what it was billed.

**Tolerances** (:class:`Tolerance`) have a percent and an absolute amount, and **both must hold**:
a variance passes only when it is no more than the percent *and* no more than the amount (the
stricter of the two binds), so a small percentage of a very expensive line cannot slip through
and a large percentage of a cheap one cannot either. The quantity amount is in eaches; the price
amount is money per line (the extended variance). A zero tolerance accepts no variance.

**Header.** Freight and tax are not on the PO: they are accepted as billed and paid with the
invoice. A stated total (the 810's TDS) that differs from lines + freight + tax by more than a
cent is a ``price_variance`` of the header (``line_number`` None) for the difference.

**Credits.** A line with a negative quantity (a credit) is checked on price only and lowers the
amount; it never needs a receipt. Its price runs the other way round: a credit gives back at the
PO price what was charged at it, so crediting *less* per each than the PO price is the
``price_variance``, of ``(PO - credit) x eaches`` (the money not given back), under the same
tolerance; a credit above the PO price gives back more and is accepted.

**Duplicates.** An invoice is a ``duplicate_invoice`` when an invoice that reached matching before
it (:class:`InvoiceSummary`, ordered by ``received_at`` then id) has the same supplier and
invoice number, or, a *suspected* duplicate, the same supplier, PO number, total amount and
invoice date under another number. A duplicate is never approved, whatever its lines say, and
it raises that one exception (with the invoice's amount): its lines keep their findings, but a
quantity variance there is mostly the original's billing counted a second time.

**Not on PO.** An invoice naming no PO, a PO not found, a PO of another supplier, or a line
whose item is not on the PO: ``not_on_po``. A unit the item does not know: ``uom_mismatch``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from suture.domain.errors import DomainError, UnitConversionError
from suture.domain.invoicing import Invoice, InvoiceLine
from suture.domain.purchasing import (
    PurchaseOrder,
    PurchaseOrderKind,
    PurchaseOrderLine,
    Receipt,
)
from suture.domain.units import Packaging

CENT = Decimal("0.01")
#: Prices per each are kept to four places (like the usage workflow's unit prices).
PRICE_PLACES = Decimal("0.0001")
#: Tolerance checks compare to twelve places, far below a cent (see :func:`_fine`).
COMPARE_PLACES = Decimal("1e-12")
_HUNDRED = Decimal(100)
#: Lines an issue's detail names before it says "and N more" (work-queue reasons stay short).
_NAMED_LINES = 10


class MatchStatus(StrEnum):
    """The outcome of an invoice: approved for payment, or held on exceptions."""

    MATCHED = "matched"
    EXCEPTION = "exception"


class Finding(StrEnum):
    """What a line (or the invoice) found; the exception types of the work queue, plus matched."""

    MATCHED = "matched"
    PRICE_VARIANCE = "price_variance"
    QUANTITY_VARIANCE = "quantity_variance"
    NOT_ON_PO = "not_on_po"
    INVOICE_WITHOUT_RECEIPT = "invoice_without_receipt"
    DUPLICATE_INVOICE = "duplicate_invoice"
    UOM_MISMATCH = "uom_mismatch"


@dataclass(frozen=True, slots=True, kw_only=True)
class Tolerance:
    """How far an invoice may exceed the PO and the receipt and still be approved.

    ``*_percent`` of the PO price per each (price) or of the quantity available to bill
    (quantity); ``price_amount`` in money per line, ``quantity_amount`` in eaches. Both the
    percent and the amount must hold.
    """

    price_percent: Decimal = Decimal(0)
    price_amount: Decimal = Decimal(0)
    quantity_percent: Decimal = Decimal(0)
    quantity_amount: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        for name in ("price_percent", "price_amount", "quantity_percent", "quantity_amount"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise DomainError(name, f"must be a finite, non-negative decimal, got {value!r}")

    def price_ok(self, po_each: Decimal, over_each: Decimal, eaches: Decimal) -> bool:
        """A loss of ``over_each`` per each on ``eaches`` eaches is within tolerance: charged
        above the PO price, or, on a credit (negative ``eaches``), given back below it."""
        if over_each <= 0:
            return True
        within_amount = _fine(over_each * abs(eaches)) <= self.price_amount
        within_percent = po_each > 0 and _fine(over_each * _HUNDRED) <= _fine(
            self.price_percent * po_each
        )
        return within_amount and within_percent

    def quantity_ok(self, available: Decimal, excess: Decimal) -> bool:
        """Billing ``excess`` eaches beyond the ``available`` ones is within tolerance."""
        if excess <= 0:
            return True
        within_amount = excess <= self.quantity_amount
        within_percent = available > 0 and excess * _HUNDRED <= self.quantity_percent * available
        return within_amount and within_percent


@dataclass(frozen=True, slots=True, kw_only=True)
class ToleranceRule:
    """A tolerance for a scope: a facility, a supplier, both, or neither (the default)."""

    facility_id: str | None = None
    supplier_id: str | None = None
    tolerance: Tolerance

    @property
    def specificity(self) -> int:
        """3 facility and supplier, 2 supplier, 1 facility, 0 the default."""
        return (2 if self.supplier_id else 0) + (1 if self.facility_id else 0)

    def applies_to(self, facility_id: str | None, supplier_id: str | None) -> bool:
        """The rule covers the facility and supplier (None: a scope of any, which only the
        rules of any cover)."""
        return self.facility_id in (None, facility_id) and self.supplier_id in (None, supplier_id)


def tolerance_for(
    rules: Sequence[ToleranceRule],
    facility_id: str | None,
    supplier_id: str | None,
    default: Tolerance,
) -> Tolerance:
    """The most specific rule that applies: facility and supplier, then supplier, then facility,
    then ``default``. A supplier's rule beats a facility's because tolerances are terms agreed
    with the supplier; a facility that wants otherwise sets a facility-and-supplier rule.

    With None for the facility or supplier it is the tolerance in force for that *scope* (the
    scope's own rule, else the next less specific one): what a rule set for the scope replaces.
    """
    applicable = [rule for rule in rules if rule.applies_to(facility_id, supplier_id)]
    if not applicable:
        return default
    return max(applicable, key=lambda rule: rule.specificity).tolerance


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceSummary:
    """Another invoice that might be the same bill, as the duplicate check needs it."""

    invoice_id: str
    number: str
    supplier_id: str
    purchase_order_number: str | None
    amount: Decimal
    invoice_date: date
    received_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class LineMatch:
    """One invoice line's match: eaches and prices per each, what it found and the variance."""

    line_number: int | None
    finding: Finding
    po_line_number: int | None = None
    item_id: str | None = None
    invoiced_eaches: Decimal = Decimal(0)
    ordered_eaches: Decimal = Decimal(0)
    received_eaches: Decimal = Decimal(0)
    previously_invoiced_eaches: Decimal = Decimal(0)
    po_price_each: Decimal = Decimal(0)
    invoice_price_each: Decimal = Decimal(0)
    quantity_variance_eaches: Decimal = Decimal(0)
    #: Money the line is over the PO and receipt by (price and quantity variance), to the cent.
    variance_amount: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchIssue:
    """One exception an invoice raises: its type, the money at stake, and a PHI-free detail."""

    finding: Finding
    amount: Decimal
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchOutcome:
    """The outcome of one invoice: status, lines, exceptions, amounts (to the cent)."""

    status: MatchStatus
    lines: tuple[LineMatch, ...]
    issues: tuple[MatchIssue, ...] = ()
    invoice_amount: Decimal
    matched_amount: Decimal
    variance_amount: Decimal
    duplicate_of: str | None = None
    purchase_order_id: str | None = None

    @property
    def findings(self) -> frozenset[Finding]:
        return frozenset(issue.finding for issue in self.issues)


@dataclass(slots=True)
class _PoLineState:
    line: PurchaseOrderLine
    ordered: Decimal
    received: Decimal
    before: Decimal
    price_each: Decimal
    billed_now: Decimal = field(default=Decimal(0))

    @property
    def left(self) -> Decimal:
        return min(self.ordered, self.received) - self.before - self.billed_now


def match_invoice(
    invoice: Invoice,
    *,
    purchase_order: PurchaseOrder | None,
    receipts: Sequence[Receipt],
    previously_invoiced: Mapping[int, Decimal],
    others: Sequence[InvoiceSummary],
    packaging: Mapping[str, Packaging],
    tolerance: Tolerance,
    received_at: datetime,
) -> MatchOutcome:
    """Match ``invoice`` (received by matching at ``received_at``); see the module docstring.

    ``previously_invoiced`` maps PO line numbers to eaches billed by the PO's earlier matched
    invoices; ``others`` are invoices that may be the same bill (same supplier).
    """
    po = purchase_order
    if po is not None and po.supplier_id != invoice.supplier_id:
        po = None
    states = {} if po is None else _po_states(po, receipts, previously_invoiced, packaging)
    lines = [
        _match_line(line, po, states, packaging, tolerance)
        for line in sorted(invoice.lines, key=lambda line: line.line_number)
    ]
    header = _header_line(invoice)
    if header is not None:
        lines.append(header)
    issues = _issues(invoice, po, lines)
    duplicate = _duplicate_of(invoice, others, received_at)
    if duplicate is not None:
        kind = (
            "same invoice number"
            if duplicate.number == invoice.number
            else (f"suspected: same PO, amount and date as invoice {duplicate.number}")
        )
        # The duplicate is the one issue: its lines' findings stay on its lines, but a quantity
        # variance there is the original's billing counted again, and the whole bill is at stake.
        issues = [MatchIssue(
            finding=Finding.DUPLICATE_INVOICE, amount=_cents(invoice.computed_total),
            detail=f"duplicate of invoice {duplicate.invoice_id} ({kind}); "
                   f"amount {_cents(invoice.computed_total)}",
        )]  # fmt: skip
    total = _cents(invoice.computed_total)
    variance = sum((line.variance_amount for line in lines), Decimal(0))
    return MatchOutcome(
        status=MatchStatus.EXCEPTION if issues else MatchStatus.MATCHED,
        lines=tuple(lines),
        issues=tuple(issues),
        invoice_amount=total,
        matched_amount=Decimal(0).quantize(CENT) if issues else total,
        variance_amount=_cents(variance),
        duplicate_of=duplicate.invoice_id if duplicate else None,
        purchase_order_id=po.id if po else None,
    )


def _po_states(
    po: PurchaseOrder,
    receipts: Sequence[Receipt],
    previously_invoiced: Mapping[int, Decimal],
    packaging: Mapping[str, Packaging],
) -> dict[int, _PoLineState]:
    states: dict[int, _PoLineState] = {}
    for line in po.lines:
        ordered = _eaches(packaging, line.item_id, line.quantity, line.uom, line.uom)
        per = _each_per(packaging, line.item_id, line.uom, line.uom)
        if ordered is None or per is None:
            continue  # a PO line in a unit its item does not know: invoice lines on it flag it
        states[line.line_number] = _PoLineState(
            line=line, ordered=ordered,
            received=ordered if po.kind is PurchaseOrderKind.BILL_ONLY else Decimal(0),
            before=previously_invoiced.get(line.line_number, Decimal(0)),
            price_each=line.unit_price / per,
        )  # fmt: skip
    if po.kind is PurchaseOrderKind.BILL_ONLY:
        return states
    for receipt in receipts:
        for received in receipt.lines:
            state = _receipt_target(states, received.po_line_number, received.item_id)
            if state is None:
                continue
            eaches = _eaches(
                packaging, received.item_id, received.quantity, received.uom, state.line.uom
            )
            if eaches is not None:
                state.received += eaches
    return states


def _receipt_target(
    states: Mapping[int, _PoLineState], po_line_number: int | None, item_id: str
) -> _PoLineState | None:
    if po_line_number is not None:
        return states.get(po_line_number)
    return next((s for s in states.values() if s.line.item_id == item_id), None)


def _match_line(
    line: InvoiceLine,
    po: PurchaseOrder | None,
    states: Mapping[int, _PoLineState],
    packaging: Mapping[str, Packaging],
    tolerance: Tolerance,
) -> LineMatch:
    amount = _cents(line.extended_amount)
    state = None if po is None else _invoice_target(states, line)
    if state is None:
        return LineMatch(
            line_number=line.line_number, finding=Finding.NOT_ON_PO, item_id=line.item_id,
            po_line_number=line.po_line_number, variance_amount=amount, amount=amount,
        )  # fmt: skip
    item_id = state.line.item_id
    eaches = _eaches(packaging, item_id, line.quantity, line.uom, state.line.uom)
    per = _each_per(packaging, item_id, line.uom, state.line.uom)
    base = LineMatch(
        line_number=line.line_number, finding=Finding.MATCHED,
        po_line_number=state.line.line_number, item_id=item_id, ordered_eaches=state.ordered,
        received_eaches=state.received, previously_invoiced_eaches=state.before,
        po_price_each=_price(state.price_each), amount=amount,
    )  # fmt: skip
    if eaches is None or per is None:
        return replace(base, finding=Finding.UOM_MISMATCH, variance_amount=amount)
    price_each = line.unit_price / per
    available = max(state.left, Decimal(0))
    state.billed_now += eaches
    # What the hospital loses per each: paying above the PO price on a charge, getting back
    # below it on a credit (a credit above the PO price gives back more: no loss).
    over_each = price_each - state.price_each if eaches > 0 else state.price_each - price_each
    price_variance = max(over_each, Decimal(0)) * abs(eaches)
    base = replace(base, invoiced_eaches=eaches, invoice_price_each=_price(price_each))
    price_ok = tolerance.price_ok(state.price_each, over_each, eaches)
    if eaches < 0:  # a credit: price only
        finding = Finding.MATCHED if price_ok else Finding.PRICE_VARIANCE
        variance = Decimal(0) if price_ok else price_variance
        return replace(base, finding=finding, variance_amount=_cents(variance))
    excess = max(eaches - available, Decimal(0))
    if state.received <= 0:
        finding = Finding.INVOICE_WITHOUT_RECEIPT
    elif not tolerance.quantity_ok(available, excess):
        finding = Finding.QUANTITY_VARIANCE
    elif not price_ok:
        finding = Finding.PRICE_VARIANCE
    else:
        finding = Finding.MATCHED
    variance = {
        Finding.MATCHED: Decimal(0),
        Finding.PRICE_VARIANCE: price_variance,
    }.get(finding, excess * price_each + price_variance)
    return replace(
        base, finding=finding, quantity_variance_eaches=excess, variance_amount=_cents(variance)
    )


def _invoice_target(states: Mapping[int, _PoLineState], line: InvoiceLine) -> _PoLineState | None:
    if line.po_line_number is not None:
        state = states.get(line.po_line_number)
        if state is not None and (line.item_id is None or line.item_id == state.line.item_id):
            return state
    same_item = [s for s in states.values() if s.line.item_id == line.item_id]
    return next((s for s in same_item if s.left > 0), same_item[0] if same_item else None)


def _header_line(invoice: Invoice) -> LineMatch | None:
    if invoice.stated_total is None:
        return None
    difference = invoice.stated_total - invoice.computed_total
    if abs(difference) <= CENT:
        return None
    return LineMatch(
        line_number=None, finding=Finding.PRICE_VARIANCE, variance_amount=_cents(abs(difference)),
        amount=_cents(difference),
    )  # fmt: skip


def _issues(invoice: Invoice, po: PurchaseOrder | None, lines: list[LineMatch]) -> list[MatchIssue]:
    """One issue per finding other than matched, with the money and the lines it concerns."""
    by_finding: dict[Finding, list[LineMatch]] = {}
    for line in lines:
        if line.finding is not Finding.MATCHED:
            by_finding.setdefault(line.finding, []).append(line)
    issues = []
    for finding in Finding:
        found = by_finding.get(finding)
        if not found:
            continue
        money = _cents(sum((line.variance_amount for line in found), Decimal(0)))
        where = ", ".join(
            "header (stated total)" if line.line_number is None else f"line {line.line_number}"
            for line in found[:_NAMED_LINES]
        )
        if len(found) > _NAMED_LINES:
            where += f" and {len(found) - _NAMED_LINES} more lines"
        detail = f"{finding.value.replace('_', ' ')}: {money} on {where}"
        if finding is Finding.NOT_ON_PO and po is None:
            name = invoice.purchase_order_number
            detail += "; no PO named" if name is None else f"; PO {name} not found for the supplier"
        issues.append(MatchIssue(finding=finding, amount=money, detail=detail))
    return issues


def _duplicate_of(
    invoice: Invoice, others: Sequence[InvoiceSummary], received_at: datetime
) -> InvoiceSummary | None:
    total = invoice.computed_total
    earlier = sorted(
        (
            other
            for other in others
            if other.invoice_id != invoice.id
            and other.supplier_id == invoice.supplier_id
            and (other.received_at, other.invoice_id) < (received_at, invoice.id)
        ),
        key=lambda other: (other.received_at, other.invoice_id),
    )
    for other in earlier:
        if other.number == invoice.number:
            return other
    for other in earlier:
        if (
            invoice.purchase_order_number is not None
            and other.purchase_order_number == invoice.purchase_order_number
            and other.amount == total
            and other.invoice_date == invoice.invoice_date
        ):
            return other
    return None


def _eaches(
    packaging: Mapping[str, Packaging], item_id: str, quantity: Decimal, uom: str, po_uom: str
) -> Decimal | None:
    per = _each_per(packaging, item_id, uom, po_uom)
    return None if per is None else quantity * per


def _each_per(
    packaging: Mapping[str, Packaging], item_id: str, uom: str, po_uom: str
) -> Decimal | None:
    """Eaches in one ``uom`` of the item; without the item's packaging only the PO's own unit
    is understood (one PO unit is one "each" of comparison)."""
    pack = packaging.get(item_id)
    if pack is None:
        return Decimal(1) if uom == po_uom else None
    try:
        return Decimal(pack.level(uom).each_per_unit)
    except UnitConversionError:
        return None


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _fine(value: Decimal) -> Decimal:
    """``value`` to :data:`COMPARE_PLACES`: a price per each divides by a pack size (a box of 3
    at 1.00 is 0.333… each), which Decimal cuts at 28 digits, so a variance exactly at a
    tolerance came out a hair over it and was refused."""
    return value.quantize(COMPARE_PLACES, rounding=ROUND_HALF_UP)


def _price(value: Decimal) -> Decimal:
    return value.quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceMatch:
    """The persisted match of one invoice: the process manager's state per invoice id.

    ``received_at`` (the invoice reached matching) and ``matched_at`` (approved for payment)
    give the invoice cycle time KPI (DESIGN.md §7); ``attempts`` counts the runs, so an invoice
    matched at the first attempt with no manual touch is *touchless*.
    """

    invoice_id: str
    invoice_number: str
    facility_id: str
    supplier_id: str
    purchase_order_number: str | None
    purchase_order_id: str | None
    status: MatchStatus
    findings: tuple[Finding, ...]
    lines: tuple[LineMatch, ...]
    invoice_amount: Decimal
    matched_amount: Decimal
    variance_amount: Decimal
    attempts: int
    received_at: datetime
    updated_at: datetime
    matched_at: datetime | None = None
    duplicate_of: str | None = None
    voucher_id: str | None = None
    trace_id: str | None = None

    @property
    def is_matched(self) -> bool:
        return self.status is MatchStatus.MATCHED

    def billed_eaches(self) -> dict[int, Decimal]:
        """Eaches this invoice bills per PO line (what a later invoice finds already invoiced)."""
        billed: dict[int, Decimal] = {}
        for line in self.lines:
            if line.po_line_number is not None:
                number = line.po_line_number
                billed[number] = billed.get(number, Decimal(0)) + line.invoiced_eaches
        return billed


def record_outcome(
    invoice: Invoice,
    outcome: MatchOutcome,
    previous: InvoiceMatch | None,
    *,
    at: datetime,
    received_at: datetime,
    trace_id: str | None = None,
) -> InvoiceMatch:
    """The invoice's match state after one more run; a matched invoice is never run again."""
    if previous is not None and previous.is_matched:
        raise DomainError("status", f"invoice {invoice.id} is matched already")
    matched = outcome.status is MatchStatus.MATCHED
    return InvoiceMatch(
        invoice_id=invoice.id, invoice_number=invoice.number, facility_id=invoice.facility_id,
        supplier_id=invoice.supplier_id, purchase_order_number=invoice.purchase_order_number,
        purchase_order_id=outcome.purchase_order_id, status=outcome.status,
        findings=tuple(sorted(outcome.findings)), lines=outcome.lines,
        invoice_amount=outcome.invoice_amount, matched_amount=outcome.matched_amount,
        variance_amount=outcome.variance_amount,
        attempts=(previous.attempts if previous else 0) + 1,
        received_at=previous.received_at if previous else received_at, updated_at=at,
        matched_at=at if matched else None, duplicate_of=outcome.duplicate_of,
        voucher_id=f"APV-{invoice.id}" if matched else None,
        trace_id=trace_id or (previous.trace_id if previous else None),
    )  # fmt: skip
