"""Operator actions on the three-way match: run or re-run, show, clear a suspected duplicate,
and the tolerance rules.

The CLI (``suture match …``) and the Process API (``POST /api/v1/process/invoices/{id}/match``)
call these; each run is one transaction of its own, publishing ``purchasing.invoice.matched``
through the bus like the handler does (correlation id: the invoice id). Running a matched
invoice again changes nothing and says so (``MatchRun.ran`` False).

:meth:`MatchOperations.clear_duplicate` records that a suspected duplicate is not a duplicate
of the original its match names (``domain/duplicate_clearance.py``) and re-runs the invoice in
the same transaction, with the caller's audit entry: the decision, its re-run and its record
commit together, or none of them does.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from suture.domain.duplicate_clearance import DuplicateClearance, clear_duplicate
from suture.domain.exceptions import ExceptionType
from suture.domain.invoicing import Invoice
from suture.domain.matching import InvoiceMatch, Tolerance, ToleranceRule, tolerance_for
from suture.services.clock import Clock
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.lookups import WorkflowError
from suture.services.workflows.three_way_match import (
    MatchRun,
    ThreeWayMatch,
    UnknownInvoiceError,
)

#: The fields of a :class:`Tolerance`, which :meth:`MatchOperations.update_tolerance` takes.
_TOLERANCE_FIELDS = frozenset(f.name for f in fields(Tolerance))


@dataclass(frozen=True, slots=True)
class MatchView:
    """An invoice with its match state (None: never run) and the decisions that it is not a
    duplicate of an original."""

    invoice: Invoice
    match: InvoiceMatch | None
    clearances: tuple[DuplicateClearance, ...] = ()


@dataclass(frozen=True, slots=True)
class ClearanceRun:
    """A decision that an invoice is not a duplicate, and the re-run it caused."""

    clearance: DuplicateClearance
    run: MatchRun
    clearances: tuple[DuplicateClearance, ...]


#: Records the decision in the audit trail within its own transaction:
#: ``(uow, the decision, the re-run)``. A refused decision records nothing through it (the
#: caller records the refusal on its own, as nothing else was committed).
ClearanceAudit = Callable[[UnitOfWork, DuplicateClearance, MatchRun], None]


class MatchOperations:
    """Run, show and configure the three-way match, each call in its own unit of work."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        bus: MessageBus,
        process: ThreeWayMatch,
        clock: Clock,
        *,
        read_uow_factory: Callable[[], UnitOfWork] | None = None,
    ) -> None:
        self._uow = uow_factory
        #: Reads (``show``, the rules) need no write lock: on SQLite they begin DEFERRED.
        self._read = read_uow_factory or uow_factory
        self._bus = bus
        self._process = process
        self._clock = clock

    def run(self, invoice_id: str) -> MatchRun:
        """Match (or re-run) one invoice now."""
        with self._uow() as uow:
            run = self._run(uow, invoice_id)
            uow.commit()
        return run

    def run_purchase_order(self, purchase_order_number: str) -> builtins.list[MatchRun]:
        """Re-run every not-yet-matched invoice of the PO, in one transaction. A number that is
        no PO's and that no open invoice names is refused naming it (a typo said "0 run")."""
        with self._uow() as uow:
            ids = uow.invoice_matches.open_invoice_ids(purchase_order_number=purchase_order_number)
            if not ids and uow.purchase_orders.by_number(purchase_order_number) is None:
                raise WorkflowError(
                    "purchase_order_number",
                    f"no purchase order {purchase_order_number!r}, and no open invoice names it",
                )
            runs = [self._run(uow, invoice_id) for invoice_id in ids]
            uow.commit()
        return runs

    def run_open(self, *, limit: int = 1000) -> builtins.list[MatchRun]:
        """Re-run every not-yet-matched invoice (up to ``limit``), one transaction each."""
        with self._uow() as uow:
            ids = uow.invoice_matches.open_invoice_ids(limit=limit)
        return [self.run(invoice_id) for invoice_id in ids]

    def show(self, invoice_id: str) -> MatchView:
        with self._read() as uow:
            invoice = uow.invoices.get(invoice_id)
            if invoice is None:
                raise UnknownInvoiceError("invoice_id", f"no invoice {invoice_id!r}")
            return MatchView(
                invoice,
                uow.invoice_matches.get(invoice_id),
                tuple(uow.invoice_matches.duplicate_clearances(invoice_id)),
            )

    def clear_duplicate(
        self,
        invoice_id: str,
        *,
        reason: str,
        decided_by: str,
        audit: ClearanceAudit | None = None,
    ) -> ClearanceRun:
        """Record that the invoice, held as a suspected duplicate, is not a duplicate of the
        original its match names, then re-run it at once: it may match and be vouchered, or
        stay held on other findings; its ``duplicate_invoice`` item is resolved by the re-run
        with a note naming the decision. Refused (:class:`NotClearableError`) for an invoice not
        held as a duplicate or held for the same invoice number (always a duplicate),
        (:class:`DuplicateClearanceError`) without a reason; an unknown invoice is
        :class:`UnknownInvoiceError`."""
        with self._uow() as uow:
            if not uow.invoice_matches.lock_invoice(invoice_id):
                raise UnknownInvoiceError("invoice_id", f"no invoice {invoice_id!r}")
            invoice = uow.invoices.get(invoice_id)
            if invoice is None:
                raise UnknownInvoiceError("invoice_id", f"no invoice {invoice_id!r}")
            held = uow.invoice_matches.get(invoice_id)
            original_id = held.duplicate_of if held is not None else None
            original = uow.invoices.get(original_id) if original_id else None
            clearance = clear_duplicate(
                invoice, held, original, reason=reason, decided_by=decided_by, at=self._clock()
            )
            uow.invoice_matches.add_duplicate_clearance(clearance)
            run = self._run(
                uow, invoice_id, resolutions={ExceptionType.DUPLICATE_INVOICE: clearance.note}
            )
            if audit is not None:  # the audit entry commits with the decision, or neither does
                audit(uow, clearance, run)
            clearances = tuple(uow.invoice_matches.duplicate_clearances(invoice_id))
            uow.commit()
        return ClearanceRun(clearance, run, clearances)

    def tolerance_rules(self) -> builtins.list[ToleranceRule]:
        with self._read() as uow:
            return uow.match_tolerances.rules()

    @property
    def default_tolerance(self) -> Tolerance:
        return self._process.default_tolerance

    def set_tolerance(self, rule: ToleranceRule) -> None:
        """Store ``rule``; a facility or supplier that does not exist is refused naming it (a
        typo would store a rule no invoice ever meets, while the default went on applying)."""
        with self._uow() as uow:
            self._check_scope(uow, rule.facility_id, rule.supplier_id)
            uow.match_tolerances.set(rule, at=self._clock())
            uow.commit()

    @staticmethod
    def _check_scope(uow: UnitOfWork, facility_id: str | None, supplier_id: str | None) -> None:
        if facility_id is not None and uow.facilities.get(facility_id) is None:
            raise WorkflowError("facility_id", f"no facility {facility_id!r}")
        if supplier_id is not None and uow.suppliers.get(supplier_id) is None:
            raise WorkflowError("supplier_id", f"no supplier {supplier_id!r}")

    def update_tolerance(
        self,
        *,
        facility_id: str | None,
        supplier_id: str | None,
        changes: Mapping[str, Decimal],
    ) -> ToleranceRule:
        """Set the scope's rule to the tolerance in force for it with ``changes`` applied (field
        name → value), and return it: a field not named keeps the scope's own rule's value, or,
        for a new rule, the value of the next less specific rule, else of the settings. Read and
        written in one transaction, so two operators changing two fields do not undo each other."""
        unknown = sorted(set(changes) - _TOLERANCE_FIELDS)
        if unknown:
            raise WorkflowError(unknown[0], "not a tolerance field")
        with self._uow() as uow:
            self._check_scope(uow, facility_id, supplier_id)
            current = tolerance_for(
                uow.match_tolerances.rules(), facility_id, supplier_id, self.default_tolerance
            )
            tolerance = Tolerance(**{
                name: changes.get(name, getattr(current, name)) for name in _TOLERANCE_FIELDS
            })  # fmt: skip
            rule = ToleranceRule(facility_id=facility_id, supplier_id=supplier_id,
                                 tolerance=tolerance)  # fmt: skip
            uow.match_tolerances.set(rule, at=self._clock())
            uow.commit()
        return rule

    def remove_tolerance(self, *, facility_id: str | None, supplier_id: str | None) -> bool:
        with self._uow() as uow:
            removed = uow.match_tolerances.remove(facility_id=facility_id, supplier_id=supplier_id)
            uow.commit()
        return removed

    def _run(
        self,
        uow: UnitOfWork,
        invoice_id: str,
        *,
        resolutions: Mapping[ExceptionType, str] | None = None,
    ) -> MatchRun:
        bus = self._bus

        def emit(event_type: str, payload: dict[str, Any], key: str, correlation: str) -> None:
            bus.publish(uow, bus.envelope(
                event_type, payload, idempotency_key=key, correlation_id=correlation,
                source_facility=payload.get("facility_id"),
            ))  # fmt: skip

        return self._process.run(
            uow, invoice_id, at=self._clock(), emit=emit, resolutions=resolutions
        )
