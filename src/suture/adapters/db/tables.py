"""The storage schema: one ``MetaData`` of typed SQLAlchemy Core tables (ADR 0001).

Each aggregate of the domain is a header table plus child tables for its lines, keyed
``(parent id, position)`` so lines come back in the order they were given. Money and quantities
are :class:`ExactDecimal`, instants :class:`UtcDateTime`, enums their string values. Strings are
unbounded ``VARCHAR`` so that SQLite and PostgreSQL accept exactly the same values.

Foreign keys: master data refers to the master data it belongs to (cost center, department and
location to facility, department to cost center, location to department, item to supplier, par
level to facility, location and item, contract to supplier, membership to facility), because an
import loads those in that order and a dangling reference there is a data error worth refusing.
Transactional tables (requisitions, purchase orders, receipts, invoices, charges, usage, stock,
journals) and crosswalks hold ids only, with no foreign key to master data: ingest must never
fail because messages arrive before the master data they mention (DESIGN.md §3, guarantee 4).
Child lines do refer to their own header, which is written in the same statement batch.

The inbox keeps raw bytes as ``LargeBinary`` (BLOB, bytea); a unique index on ``(interface,
checksum)`` makes "the same bytes from the same edge" one row.

Crosswalk rows store the system-wide facility as ``''`` (:data:`SYSTEM_WIDE`), not NULL, so the
partial unique index "one current row per key" also holds for system-wide entries (NULLs never
collide in a unique index).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from suture.adapters.db.types import ExactDecimal, UtcDateTime

#: The facility column value of a system-wide crosswalk entry.
SYSTEM_WIDE = ""

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)


#: Ids sort bytewise on both databases (SQLite's BINARY, PostgreSQL's "C"), whatever the server's
#: default collation, so keyset pagination returns the same pages from both.
KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")


def _str(name: str, *args: Any, nullable: bool = False, **kwargs: Any) -> sa.Column[str]:
    return sa.Column(name, sa.String(), *args, nullable=nullable, **kwargs)


def _opt(name: str, *, index: bool = False) -> sa.Column[str | None]:
    return sa.Column(name, sa.String(), nullable=True, index=index)


def _key(name: str, *args: Any, **kwargs: Any) -> sa.Column[str]:
    return sa.Column(name, KEY, *args, **kwargs)


def _id() -> sa.Column[str]:
    return _key("id", primary_key=True)


def _ref(name: str, target: str, *, nullable: bool = False) -> sa.Column[str]:
    return _key(name, sa.ForeignKey(target), nullable=nullable, index=True)


def _dec(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, ExactDecimal(name), nullable=nullable)


def _at(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, UtcDateTime(name), nullable=nullable)


def _date(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.Date(), nullable=nullable)


def _int(name: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _bool(name: str) -> sa.Column[bool]:
    return sa.Column(name, sa.Boolean(), nullable=False)


def _parent(name: str, target: str) -> tuple[sa.Column[Any], sa.Column[Any]]:
    """The key of a child line: its header's id and its position among the header's lines."""
    return (
        _key(name, sa.ForeignKey(target, ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
    )


def _source() -> sa.Column[str]:
    return _str("source_system")


def _by_facility(table: str) -> sa.Index:
    """``(facility_id, id)``: serves a facility's keyset-paginated list and its count."""
    return sa.Index(f"ix_{table}_facility_id_id", "facility_id", "id")


# --- master data ---------------------------------------------------------------------------

facilities = sa.Table(
    "facilities", metadata,
    _id(), _str("code"), _str("name"), _opt("gln"), _str("timezone"), _source(),
)  # fmt: skip

cost_centers = sa.Table(
    "cost_centers", metadata,
    _id(), _ref("facility_id", "facilities.id"), _str("code"), _str("name"), _source(),
)  # fmt: skip

departments = sa.Table(
    "departments", metadata,
    _id(), _ref("facility_id", "facilities.id"), _str("code"), _str("name"),
    _ref("cost_center_id", "cost_centers.id"), _source(),
)  # fmt: skip

locations = sa.Table(
    "locations", metadata,
    _id(), _ref("facility_id", "facilities.id"), _str("code"), _str("name"), _str("kind"),
    _ref("department_id", "departments.id", nullable=True), _source(),
)  # fmt: skip

gl_accounts = sa.Table(
    "gl_accounts", metadata,
    _id(), _str("number", index=True), _str("name"), _str("kind"), _source(),
)  # fmt: skip

suppliers = sa.Table(
    "suppliers", metadata,
    _id(), _str("name"), _opt("erp_vendor_id", index=True), _opt("gln", index=True), _opt("hin"),
    _opt("remit_to_line1"), _opt("remit_to_city"), _opt("remit_to_state"),
    _opt("remit_to_postal_code"), _opt("remit_to_country"),
    _str("payment_terms"), _bool("active"), _source(),
)  # fmt: skip

items = sa.Table(
    "items", metadata,
    _id(), _str("description"), _str("manufacturer"), _str("catalog_number"),
    _str("purchase_uom"), _ref("supplier_id", "suppliers.id", nullable=True),
    _opt("hibc"), _opt("unspsc"),
    _bool("is_implant"), _bool("is_consignment"), _bool("is_chargeable"),
    _opt("cdm_code"), _opt("hcpcs"), _opt("revenue_code"), _dec("list_price", nullable=True),
    _bool("active"), _source(),
    sa.Index("ix_items_manufacturer_catalog_number", "manufacturer", "catalog_number"),
)  # fmt: skip

item_packaging = sa.Table(
    "item_packaging", metadata,
    *_parent("item_id", "items.id"), _str("uom"), _int("each_per_unit"), _opt("gtin", index=True),
)  # fmt: skip

par_levels = sa.Table(
    "par_levels", metadata,
    _id(), _ref("facility_id", "facilities.id"), _ref("location_id", "locations.id"),
    _ref("item_id", "items.id"), _dec("reorder_point"), _dec("par"), _str("uom"),
    _int("lead_time_days"), _source(),
)  # fmt: skip

contracts = sa.Table(
    "contracts", metadata,
    _id(), _str("number", index=True), _ref("supplier_id", "suppliers.id"), _str("name"),
    _date("effective_from"), _date("effective_to", nullable=True), _opt("gpo"), _source(),
)  # fmt: skip

contract_memberships = sa.Table(
    "contract_memberships", metadata,
    *_parent("contract_id", "contracts.id"), _ref("facility_id", "facilities.id"), _str("tier"),
    _date("effective_from"), _date("effective_to", nullable=True),
)  # fmt: skip

contract_prices = sa.Table(
    "contract_prices", metadata,
    *_parent("contract_id", "contracts.id"), _str("item_id", index=True), _str("tier"),
    _str("uom"), _dec("unit_price"),
    _date("effective_from", nullable=True), _date("effective_to", nullable=True),
)  # fmt: skip

crosswalk_entries = sa.Table(
    "crosswalk_entries", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    _str("source_system"), _str("facility_id"), _str("kind"), _str("local_code"),
    _str("canonical_id", index=True), _at("valid_from"), _at("valid_to", nullable=True),
    _str("recorded_by"),
    sa.Index(
        "ix_crosswalk_entries_key",
        "source_system", "facility_id", "kind", "local_code", "valid_from",
    ),
    sa.Index(
        "uq_crosswalk_entries_current_key",
        "source_system", "facility_id", "kind", "local_code",
        unique=True,
        sqlite_where=sa.text("valid_to IS NULL"),
        postgresql_where=sa.text("valid_to IS NULL"),
    ),
)  # fmt: skip

# --- transactions: ids only, no foreign keys to master data ----------------------------------

requisitions = sa.Table(
    "requisitions", metadata,
    _id(), _str("number", index=True), _str("facility_id"), _opt("department_id"),
    _opt("location_id"), _at("requested_at"), _str("status"), _source(),
    _by_facility("requisitions"),
)  # fmt: skip

requisition_lines = sa.Table(
    "requisition_lines", metadata,
    *_parent("requisition_id", "requisitions.id"), _int("line_number"), _str("item_id"),
    _dec("quantity"), _str("uom"),
)  # fmt: skip

purchase_orders = sa.Table(
    "purchase_orders", metadata,
    _id(), _str("number", index=True), _str("facility_id"), _str("supplier_id", index=True),
    _date("order_date"), _str("kind"), _str("status"), _opt("requisition_id"),
    _opt("department_id"), _source(),
    _by_facility("purchase_orders"),
)  # fmt: skip

purchase_order_lines = sa.Table(
    "purchase_order_lines", metadata,
    *_parent("purchase_order_id", "purchase_orders.id"), _int("line_number"), _str("item_id"),
    _dec("quantity"), _str("uom"), _dec("unit_price"), _opt("contract_id"),
    # revision 0011: priced without a contract price (flagged, docs/workflows.md)
    sa.Column("off_contract", sa.Boolean(), nullable=False, server_default=sa.false()),
    # revision 0012: the supplier's acknowledgment (855) and what the dock received
    _opt("acknowledgment"), _dec("acknowledged_quantity", nullable=True),
    _dec("acknowledged_unit_price", nullable=True), _date("expected_date", nullable=True),
    _dec("received_quantity", nullable=True),
)  # fmt: skip

receipts = sa.Table(
    "receipts", metadata,
    _id(), _str("number", index=True), _str("facility_id"), _opt("location_id"),
    _at("received_at"), _opt("purchase_order_id", index=True), _source(),
    _by_facility("receipts"),
)  # fmt: skip

receipt_lines = sa.Table(
    "receipt_lines", metadata,
    *_parent("receipt_id", "receipts.id"), _int("line_number"), _str("item_id"),
    _dec("quantity"), _str("uom"), _int("po_line_number", nullable=True), _opt("lot"),
    _opt("serial"), _date("expiry", nullable=True),
)  # fmt: skip

invoices = sa.Table(
    "invoices", metadata,
    _id(), _str("number"), _str("supplier_id"), _str("facility_id"), _date("invoice_date"),
    _opt("purchase_order_number", index=True), _dec("freight"), _dec("tax"),
    _dec("stated_total", nullable=True), _str("status"), _source(),
    _by_facility("invoices"),
    sa.Index("ix_invoices_supplier_id_number", "supplier_id", "number"),
)  # fmt: skip

invoice_lines = sa.Table(
    "invoice_lines", metadata,
    *_parent("invoice_id", "invoices.id"), _int("line_number"), _opt("item_id"),
    _dec("quantity"), _str("uom"), _dec("unit_price"), _int("po_line_number", nullable=True),
    _opt("supplier_part_number"),
)  # fmt: skip

charges = sa.Table(
    "charges", metadata,
    _id(), _str("facility_id"), _str("encounter_token", index=True), _str("cdm_code"),
    _dec("quantity"), _dec("amount"), _at("service_at"), _str("transaction_type"),
    _opt("account_token"), _opt("department_id"), _opt("hcpcs"), _opt("revenue_code"), _source(),
    _by_facility("charges"),
)  # fmt: skip

usage_records = sa.Table(
    "usage_records", metadata,
    _id(), _str("facility_id"), _str("location_id"), _str("item_id", index=True),
    _dec("quantity"), _str("uom"), _at("used_at"), _opt("encounter_token", index=True),
    _opt("department_id"), _opt("lot"), _opt("serial"), _date("expiry", nullable=True),
    _opt("udi"), _source(),
    _by_facility("usage_records"),
)  # fmt: skip

stock_positions = sa.Table(
    "stock_positions", metadata,
    _key("location_id", primary_key=True), _key("item_id", primary_key=True),
    _str("facility_id", index=True), _dec("on_hand"), _dec("consigned_on_hand"),
    _at("updated_at"),
)  # fmt: skip

journal_entries = sa.Table(
    "journal_entries", metadata,
    _id(), _str("facility_id"), _date("posting_date"), _str("reference", index=True), _source(),
    _by_facility("journal_entries"),
)  # fmt: skip

journal_lines = sa.Table(
    "journal_lines", metadata,
    *_parent("journal_entry_id", "journal_entries.id"), _str("gl_account_id"), _dec("debit"),
    _dec("credit"), _opt("cost_center_id"), _str("memo"),
)  # fmt: skip

# --- the message backbone (DESIGN.md §3) -----------------------------------------------------

inbox_messages = sa.Table(
    "inbox_messages", metadata,
    _id(), _str("format"), _str("interface"), _str("source_system"), _opt("facility_id"),
    _at("received_at"), _str("checksum"), sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("raw", sa.LargeBinary(), nullable=False), _str("trace_id", index=True),
    _str("status"), _opt("status_reason"), _opt("correlation_id", index=True),
    _int("attempts"), _at("updated_at"),
    sa.Index("uq_inbox_messages_interface_checksum", "interface", "checksum", unique=True),
    sa.Index("ix_inbox_messages_interface_id", "interface", "id"),
    sa.Index("ix_inbox_messages_status_id", "status", "id"),
    sa.Index("ix_inbox_messages_received_at", "received_at"),
)  # fmt: skip
