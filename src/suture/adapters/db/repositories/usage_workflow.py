"""Repositories of the usage workflow: its state per usage id, expected charges, and the two
reads the workflow needs that no other repository answers (par level by location and item, the
last price paid for an item at a facility).

``start`` and ``add`` insert with ``ON CONFLICT DO NOTHING … RETURNING``: a row back means this
transaction inserted it, so idempotency is the primary key (STYLE.md habit 3), correct when two
workers deliver the same usage at once. Their batch forms, and the cost step's ``cost_many``,
are one plain ``executemany`` each (``adapters/db/bulk.py``) and learn how many rows they wrote
from the database's row count instead of ``RETURNING``: a workflow step only needs to know
whether all of its batch was written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from suture.adapters.db import tables as t
from suture.adapters.db.bulk import insert_rows, select_in, update_rows
from suture.adapters.db.errors import StorageError, storage_errors
from suture.adapters.db.repositories.base import BATCH_SIZE, Row
from suture.adapters.db.usage_tables import expected_charges, usage_workflows
from suture.domain.costing import ExpectedCharge, PriceSource
from suture.domain.inventory import StockPosition
from suture.domain.masterdata import ParLevel
from suture.domain.purchasing import (
    LineAcknowledgment,
    PurchaseOrderStatus,
    RequisitionStatus,
)
from suture.domain.usage_workflow import UsageCosting, UsageStep, UsageWorkflow


def _insert_new(connection: sa.Connection, table: sa.Table, key: str) -> Any:
    insert = (
        sqlite.insert(table) if connection.dialect.name == "sqlite" else (postgresql.insert(table))
    )
    return insert.on_conflict_do_nothing(index_elements=[key]).returning(table.c[key])


#: The first key of the advisory locks :meth:`UsageWorkflowRepository.serials_used` takes on
#: PostgreSQL (the two-key form, so they cannot meet another feature's single-key locks).
SERIAL_LOCKS = 0x53455249  # "SERI"
#: A usage's replenishment requisition is ``REQ-<usage id>`` (``domain/replenishment.py``).
_REQUISITION_PREFIX = "REQ-"

_STEPS = ("usage_id", "step")
_STEP_OF = {step.value: step for step in UsageStep}


class UsageWorkflowRepository:
    """One row per usage id: the process manager's state (``domain/usage_workflow.py``)."""

    table = usage_workflows

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def start(self, workflow: UsageWorkflow) -> bool:
        """Store a new workflow; False, writing nothing, when the usage has one already."""
        with storage_errors(self.table.name):
            inserted = self._connection.execute(
                _insert_new(self._connection, self.table, "usage_id"), _to_row(workflow)
            ).first()
        return inserted is not None

    def start_many(self, workflows: Sequence[UsageWorkflow]) -> int:
        """:meth:`start` for several, in one ``executemany``; how many this call stored (the
        database's row count: no ``RETURNING`` needed to know it)."""
        if not workflows:
            return 0
        rows = [_workflow_values(w) for w in workflows]
        with storage_errors(self.table.name):
            return insert_rows(
                self._connection, self.table, _WORKFLOW_COLUMNS, rows,
                conflict="nothing", keys=("usage_id",),
            )  # fmt: skip

    def get_many(self, usage_ids: Iterable[str]) -> dict[str, UsageWorkflow]:
        """The stored workflows of these usages, by usage id (those without one are absent)."""
        wanted = sorted(set(usage_ids))
        found: dict[str, UsageWorkflow] = {}
        for start in range(0, len(wanted), BATCH_SIZE):
            query = sa.select(self.table).where(
                self.table.c.usage_id.in_(wanted[start : start + BATCH_SIZE])
            )
            with storage_errors(self.table.name):
                for row in self._connection.execute(query):
                    found[row.usage_id] = _from_row(row)
        return found

    def save_many(self, workflows: Sequence[UsageWorkflow]) -> None:
        """:meth:`save` for several, in one ``executemany``."""
        rows = [(*_changes(w).values(), w.usage_id) for w in workflows]
        with storage_errors(self.table.name):
            update_rows(self._connection, self.table, _MUTABLE, ("usage_id",), rows)

    def steps(self, usage_ids: Iterable[str]) -> dict[str, UsageStep]:
        """The step of each of these usages' workflows (those without one are absent)."""
        wanted = sorted(set(usage_ids))
        found: dict[str, UsageStep] = {}
        with storage_errors(self.table.name):
            for start in range(0, len(wanted), BATCH_SIZE):
                chunk = wanted[start : start + BATCH_SIZE]
                rows = select_in(self._connection, self.table, _STEPS, "usage_id", chunk)
                found.update((usage_id, _STEP_OF[step]) for usage_id, step in rows)
        return found

    def cost_many(self, costings: Sequence[UsageCosting]) -> int:
        """Move these stocked workflows to ``costed`` with what the cost step produced, in one
        ``executemany``; how many moved (a workflow not ``stocked`` is left as it was)."""
        costed = UsageStep.COSTED.value
        stocked = UsageStep.STOCKED.value
        rows = [
            (costed, c.journal_id, c.expected_charge_id, c.cost_center_id, c.at, c.usage_id,
             stocked)
            for c in costings
        ]  # fmt: skip
        with storage_errors(self.table.name):
            return update_rows(self._connection, self.table, _MUTABLE, ("usage_id", "step"), rows)

    def lock_positions(
        self, keys: Iterable[tuple[str, str, str]], at: datetime
    ) -> dict[tuple[str, str], StockPosition]:
        """The stock positions of (facility, location, item), held until commit.

        A position that does not exist yet is created at zero first, so that there is a row to
        lock: two workers taking the first usage of an item at a location then wait for each
        other instead of both writing a position computed from nothing.
        """
        # One order for the inserts and the locks, (location, item), so two workers wait for
        # each other rather than deadlock.
        wanted = sorted(set(keys), key=lambda key: (key[1], key[2]))
        if not wanted:
            return {}
        stock = t.stock_positions
        dialect = self._connection.dialect.name
        insert = sqlite.insert(stock) if dialect == "sqlite" else postgresql.insert(stock)
        zero = [
            {"facility_id": f, "location_id": loc, "item_id": item, "on_hand": Decimal(0),
             "consigned_on_hand": Decimal(0), "updated_at": at}
            for f, loc, item in wanted
        ]  # fmt: skip
        pairs = sorted({(loc, item) for _, loc, item in wanted})
        found: dict[tuple[str, str], StockPosition] = {}
        with storage_errors(stock.name):
            self._connection.execute(
                insert.on_conflict_do_nothing(index_elements=["location_id", "item_id"]), zero
            )
            for start in range(0, len(pairs), BATCH_SIZE):
                chunk = pairs[start : start + BATCH_SIZE]
                query = (
                    sa.select(stock)
                    .where(sa.tuple_(stock.c.location_id, stock.c.item_id).in_(chunk))
                    .order_by(stock.c.location_id, stock.c.item_id)
                    .with_for_update()
                )
                for row in self._connection.execute(query):
                    found[(row.location_id, row.item_id)] = StockPosition(**row._mapping)
        return found

    def get(self, usage_id: str, *, lock: bool = False) -> UsageWorkflow | None:
        query = sa.select(self.table).where(self.table.c.usage_id == usage_id)
        if lock:
            query = query.with_for_update()  # PostgreSQL; SQLite's writer holds the lock already
        with storage_errors(self.table.name):
            row = self._connection.execute(query).first()
        return None if row is None else _from_row(row)

    def save(self, workflow: UsageWorkflow) -> None:
        """Write what a later step changes of a stored workflow (:data:`_MUTABLE`)."""
        values = _changes(workflow)
        with storage_errors(self.table.name):
            updated = self._connection.execute(
                sa.update(self.table)
                .where(self.table.c.usage_id == workflow.usage_id)
                .values(values)
            ).rowcount
        if updated != 1:
            raise StorageError("usage_workflows.usage_id", f"no workflow {workflow.usage_id}")

    def count_by_step(self, *, facility_id: str | None = None) -> dict[UsageStep, int]:
        """How many workflows are at each step (every step present)."""
        query = sa.select(self.table.c.step, sa.func.count()).group_by(self.table.c.step)
        if facility_id is not None:
            query = query.where(self.table.c.facility_id == facility_id)
        counts = dict.fromkeys(UsageStep, 0)
        with storage_errors(self.table.name):
            for step, n in self._connection.execute(query):
                counts[UsageStep(step)] = int(n)
        return counts

    def stockout_counts(
        self, *, since: datetime, until: datetime, facility_id: str | None = None
    ) -> tuple[int, int]:
        """Usages whose workflow started in ``[since, until)``, and how many were stockouts."""
        c = self.table.c
        stockouts = sa.func.coalesce(sa.func.sum(sa.case((c.stockout, 1), else_=0)), 0)
        query = sa.select(sa.func.count(), stockouts).where(
            c.started_at >= since, c.started_at < until
        )
        if facility_id is not None:
            query = query.where(c.facility_id == facility_id)
        with storage_errors(self.table.name):
            usages, stocked_out = self._connection.execute(query).one()
        return int(usages), int(stocked_out)

    def par_level(self, location_id: str, item_id: str) -> ParLevel | None:
        """The par level of the item at the location, if it has one."""
        table = t.par_levels
        query = sa.select(table).where(
            (table.c.location_id == location_id) & (table.c.item_id == item_id)
        )
        with storage_errors(table.name):
            row = self._connection.execute(query.limit(1)).first()
        return None if row is None else ParLevel(**row._mapping)

    def replenishments_under_way(
        self, keys: Iterable[tuple[str, str, str]]
    ) -> set[tuple[str, str]]:
        """Which keys (facility, location, item), as (location, item), have a replenishment
        under way: a requisition a usage raised (its workflow names it) pending approval or
        approved, or ordered with a PO line of the item still open (the PO neither received,
        closed nor cancelled, the line neither rejected by the supplier nor received in full).

        A usage's requisition is ``REQ-<usage id>`` (``domain/replenishment.py``), so the
        workflow naming it is found by its primary key; a departmental requisition is no
        workflow's and does not count.
        """
        wanted = set(keys)
        if not wanted:
            return set()
        req, po, line, flow = t.requisitions, t.purchase_orders, t.purchase_order_lines, self.table
        open_line = sa.exists().where(
            (po.c.requisition_id == req.c.id)
            & (po.c.facility_id == req.c.facility_id)
            & po.c.status.notin_([PurchaseOrderStatus.RECEIVED.value,
                                  PurchaseOrderStatus.CLOSED.value,
                                  PurchaseOrderStatus.CANCELLED.value])
            & (line.c.purchase_order_id == po.c.id)
            & (line.c.item_id == flow.c.item_id)
            & sa.or_(line.c.acknowledgment.is_(None),
                     line.c.acknowledgment != LineAcknowledgment.REJECTED.value)
            & (line.c.quantity > sa.func.coalesce(line.c.received_quantity, 0))
        )  # fmt: skip
        query = (
            sa.select(req.c.facility_id, req.c.location_id, flow.c.item_id)
            .join(
                flow,
                (flow.c.usage_id == sa.func.substr(req.c.id, len(_REQUISITION_PREFIX) + 1))
                & (flow.c.requisition_id == req.c.id),
            )
            .where(
                req.c.facility_id.in_(sorted({f for f, _, _ in wanted}))
                & req.c.location_id.in_(sorted({loc for _, loc, _ in wanted}))
                & req.c.id.startswith(_REQUISITION_PREFIX, autoescape=True)
                & flow.c.item_id.in_(sorted({i for _, _, i in wanted}))
                & (
                    req.c.status.in_([RequisitionStatus.PENDING_APPROVAL.value,
                                      RequisitionStatus.APPROVED.value])
                    | ((req.c.status == RequisitionStatus.ORDERED.value) & open_line)
                )
            )
        )  # fmt: skip
        with storage_errors(req.name):
            rows = self._connection.execute(query).all()
        return {(loc, item) for fac, loc, item in rows if (fac, loc, item) in wanted}

    def serials_used(self, units: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """Which of these (item, serial) units a started workflow used already, and by which
        usage (the usage records of the edges that are not started yet do not count).

        The units are locked until commit first, so a worker using one waits for another that
        is using it, then reads its usage: the positions' row locks do not serialize the two
        when they are at two locations. On PostgreSQL a transaction-scoped advisory lock per
        unit (:data:`SERIAL_LOCKS`, ``hashtext`` of the unit: a collision only makes two units
        wait for each other), taken in one order so that two batches do not deadlock; SQLite
        has one writer at a time already.
        """
        wanted = set(units)
        if not wanted:
            return {}
        if self._connection.dialect.name == "postgresql":
            lock = sa.text("SELECT pg_advisory_xact_lock(:space, hashtext(:unit))")
            with storage_errors(t.usage_records.name):
                for item_id, serial in sorted(wanted):
                    unit = f"{item_id}\x1f{serial}"
                    self._connection.execute(lock, {"space": SERIAL_LOCKS, "unit": unit})
        usage = t.usage_records
        query = (
            sa.select(usage.c.item_id, usage.c.serial, usage.c.id)
            .join(self.table, self.table.c.usage_id == usage.c.id)
            .where(
                usage.c.item_id.in_(sorted({item for item, _ in wanted}))
                & usage.c.serial.in_(sorted({serial for _, serial in wanted}))
            )
            .order_by(usage.c.id)
        )
        found: dict[tuple[str, str], str] = {}
        with storage_errors(usage.name):
            for item_id, serial, usage_id in self._connection.execute(query):
                if (item_id, serial) in wanted:
                    found.setdefault((item_id, serial), usage_id)
        return found

    def last_price_paid(self, facility_id: str, item_id: str) -> tuple[Decimal, str] | None:
        """The unit price and unit of the item's line on the facility's latest priced PO."""
        header, line = t.purchase_orders, t.purchase_order_lines
        query = (
            sa.select(line.c.unit_price, line.c.uom)
            .join(header, header.c.id == line.c.purchase_order_id)
            .where(
                (header.c.facility_id == facility_id)
                & (line.c.item_id == item_id)
                & (line.c.unit_price > 0)
            )
            .order_by(header.c.order_date.desc(), header.c.id.desc())
            .limit(1)
        )
        with storage_errors(line.name):
            row = self._connection.execute(query).first()
        return None if row is None else (row.unit_price, row.uom)


class ExpectedChargeRepository:
    """The charges chargeable usage should bring, one per usage id."""

    table = expected_charges

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add(self, charge: ExpectedCharge) -> bool:
        """Store the expected charge; False, writing nothing, when its usage has one already."""
        with storage_errors(self.table.name):
            inserted = self._connection.execute(
                _insert_new(self._connection, self.table, "id"), _charge_row(charge)
            ).first()
        return inserted is not None

    def add_many(self, charges: Sequence[ExpectedCharge]) -> int:
        """:meth:`add` for several, in one statement; how many were stored."""
        if not charges:
            return 0
        rows = [_charge_values(charge) for charge in charges]
        with storage_errors(self.table.name):
            return insert_rows(
                self._connection, self.table, _CHARGE_COLUMNS, rows,
                conflict="nothing", keys=("id",),
            )  # fmt: skip

    def get(self, charge_id: str) -> ExpectedCharge | None:
        query = sa.select(self.table).where(self.table.c.id == charge_id)
        with storage_errors(self.table.name):
            row = self._connection.execute(query).first()
        return None if row is None else ExpectedCharge(**row._mapping)

    def for_encounter(self, facility_id: str, encounter_token: str) -> list[ExpectedCharge]:
        """The expected charges of one encounter, by usage id."""
        table = self.table
        query = (
            sa.select(table)
            .where((table.c.facility_id == facility_id)
                   & (table.c.encounter_token == encounter_token))
            .order_by(table.c.id)
        )  # fmt: skip
        with storage_errors(table.name):
            rows = self._connection.execute(query).all()
        return [ExpectedCharge(**row._mapping) for row in rows]


#: What a step after the first changes, in this order; the rest is fixed when the usage is
#: taken from stock.
_MUTABLE = ("step", "journal_id", "expected_charge_id", "cost_center_id", "updated_at")


def _changes(workflow: UsageWorkflow) -> dict[str, Any]:
    return {
        "step": workflow.step.value,
        "journal_id": workflow.journal_id,
        "expected_charge_id": workflow.expected_charge_id,
        "cost_center_id": workflow.cost_center_id,
        "updated_at": workflow.updated_at,
    }


#: The column names, once: iterating a table's columns costs more than the row it builds.
_WORKFLOW_COLUMNS = tuple(column.name for column in usage_workflows.c)
_CHARGE_COLUMNS = tuple(column.name for column in expected_charges.c)


_charge_values = attrgetter(*_CHARGE_COLUMNS)
_workflow_attributes = attrgetter(*_WORKFLOW_COLUMNS)
_STEP = _WORKFLOW_COLUMNS.index("step")
_PRICE_SOURCE = _WORKFLOW_COLUMNS.index("price_source")


def _charge_row(charge: ExpectedCharge) -> dict[str, Any]:
    return dict(zip(_CHARGE_COLUMNS, _charge_values(charge), strict=True))


def _workflow_values(workflow: UsageWorkflow) -> list[Any]:
    """The row of ``workflow`` in the order of :data:`_WORKFLOW_COLUMNS`."""
    values = list(_workflow_attributes(workflow))
    values[_STEP] = workflow.step.value
    values[_PRICE_SOURCE] = workflow.price_source.value
    return values


def _to_row(workflow: UsageWorkflow) -> dict[str, Any]:
    return dict(zip(_WORKFLOW_COLUMNS, _workflow_values(workflow), strict=True))


def _from_row(row: Row) -> UsageWorkflow:
    values = dict(row._mapping)
    values["step"] = UsageStep(values["step"])
    values["price_source"] = PriceSource(values["price_source"])
    return UsageWorkflow(**values)
