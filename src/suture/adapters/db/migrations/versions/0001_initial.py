"""The initial schema: master data, crosswalks and transactional records (``tables.py``).

Written out explicitly rather than built from ``tables.metadata``, so this revision keeps meaning
what it meant when later revisions change the tables; the contract test
``tests/integration/test_migrations.py`` proves ``upgrade head`` equals ``tables.metadata``.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from suture.adapters.db.types import ExactDecimal, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: Ids sort bytewise on both databases (``tables.KEY``, frozen here as of this revision).
KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")

#: Every table of this revision, in creation order; dropped in reverse.
TABLES = (
    "facilities",
    "cost_centers",
    "departments",
    "locations",
    "gl_accounts",
    "suppliers",
    "items",
    "item_packaging",
    "par_levels",
    "contracts",
    "contract_memberships",
    "contract_prices",
    "crosswalk_entries",
    "requisitions",
    "requisition_lines",
    "purchase_orders",
    "purchase_order_lines",
    "receipts",
    "receipt_lines",
    "invoices",
    "invoice_lines",
    "charges",
    "usage_records",
    "stock_positions",
    "journal_entries",
    "journal_lines",
)


def upgrade() -> None:
    _create_master_data()
    _create_contracts_and_crosswalks()
    _create_transactions()


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)


def _create_master_data() -> None:
    op.create_table(
        "facilities",
        sa.Column("id", KEY, nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("gln", sa.String(), nullable=True),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_facilities"),
    )

    op.create_table(
        "cost_centers",
        sa.Column("id", KEY, nullable=False),
        sa.Column("facility_id", KEY, nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cost_centers"),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name="fk_cost_centers_facility_id"
        ),
    )
    op.create_index("ix_cost_centers_facility_id", "cost_centers", ["facility_id"])

    op.create_table(
        "departments",
        sa.Column("id", KEY, nullable=False),
        sa.Column("facility_id", KEY, nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("cost_center_id", KEY, nullable=False),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_departments"),
        sa.ForeignKeyConstraint(
            ["cost_center_id"], ["cost_centers.id"], name="fk_departments_cost_center_id"
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name="fk_departments_facility_id"
        ),
    )
    op.create_index("ix_departments_cost_center_id", "departments", ["cost_center_id"])
    op.create_index("ix_departments_facility_id", "departments", ["facility_id"])

    op.create_table(
        "locations",
        sa.Column("id", KEY, nullable=False),
        sa.Column("facility_id", KEY, nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("department_id", KEY, nullable=True),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_locations"),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name="fk_locations_department_id"
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name="fk_locations_facility_id"
        ),
    )
    op.create_index("ix_locations_department_id", "locations", ["department_id"])
    op.create_index("ix_locations_facility_id", "locations", ["facility_id"])

    op.create_table(
        "gl_accounts",
        sa.Column("id", KEY, nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gl_accounts"),
    )
    op.create_index("ix_gl_accounts_number", "gl_accounts", ["number"])

    op.create_table(
        "suppliers",
        sa.Column("id", KEY, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("erp_vendor_id", sa.String(), nullable=True),
        sa.Column("gln", sa.String(), nullable=True),
        sa.Column("hin", sa.String(), nullable=True),
        sa.Column("remit_to_line1", sa.String(), nullable=True),
        sa.Column("remit_to_city", sa.String(), nullable=True),
        sa.Column("remit_to_state", sa.String(), nullable=True),
        sa.Column("remit_to_postal_code", sa.String(), nullable=True),
        sa.Column("remit_to_country", sa.String(), nullable=True),
        sa.Column("payment_terms", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_suppliers"),
    )
    op.create_index("ix_suppliers_erp_vendor_id", "suppliers", ["erp_vendor_id"])
    op.create_index("ix_suppliers_gln", "suppliers", ["gln"])

    op.create_table(
        "items",
        sa.Column("id", KEY, nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("manufacturer", sa.String(), nullable=False),
        sa.Column("catalog_number", sa.String(), nullable=False),
        sa.Column("purchase_uom", sa.String(), nullable=False),
        sa.Column("supplier_id", KEY, nullable=True),
        sa.Column("hibc", sa.String(), nullable=True),
        sa.Column("unspsc", sa.String(), nullable=True),
        sa.Column("is_implant", sa.Boolean(), nullable=False),
        sa.Column("is_consignment", sa.Boolean(), nullable=False),
        sa.Column("is_chargeable", sa.Boolean(), nullable=False),
        sa.Column("cdm_code", sa.String(), nullable=True),
        sa.Column("hcpcs", sa.String(), nullable=True),
        sa.Column("revenue_code", sa.String(), nullable=True),
        sa.Column("list_price", ExactDecimal(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.ForeignKeyConstraint(["supplier_id"], ["suppliers.id"], name="fk_items_supplier_id"),
    )
    op.create_index(
        "ix_items_manufacturer_catalog_number", "items", ["manufacturer", "catalog_number"]
    )
    op.create_index("ix_items_supplier_id", "items", ["supplier_id"])

    op.create_table(
        "item_packaging",
        sa.Column("item_id", KEY, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("uom", sa.String(), nullable=False),
        sa.Column("each_per_unit", sa.Integer(), nullable=False),
        sa.Column("gtin", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("item_id", "position", name="pk_item_packaging"),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name="fk_item_packaging_item_id", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_item_packaging_gtin", "item_packaging", ["gtin"])

    op.create_table(
        "par_levels",
        sa.Column("id", KEY, nullable=False),
        sa.Column("facility_id", KEY, nullable=False),
        sa.Column("location_id", KEY, nullable=False),
        sa.Column("item_id", KEY, nullable=False),
        sa.Column("reorder_point", ExactDecimal(), nullable=False),
        sa.Column("par", ExactDecimal(), nullable=False),
        sa.Column("uom", sa.String(), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_par_levels"),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name="fk_par_levels_facility_id"
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_par_levels_item_id"),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name="fk_par_levels_location_id"
        ),
    )
    op.create_index("ix_par_levels_facility_id", "par_levels", ["facility_id"])
    op.create_index("ix_par_levels_item_id", "par_levels", ["item_id"])
    op.create_index("ix_par_levels_location_id", "par_levels", ["location_id"])


def _create_contracts_and_crosswalks() -> None:
    op.create_table(
        "contracts",
        sa.Column("id", KEY, nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("supplier_id", KEY, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("gpo", sa.String(), nullable=True),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contracts"),
        sa.ForeignKeyConstraint(["supplier_id"], ["suppliers.id"], name="fk_contracts_supplier_id"),
    )
    op.create_index("ix_contracts_number", "contracts", ["number"])
    op.create_index("ix_contracts_supplier_id", "contracts", ["supplier_id"])

    op.create_table(
        "contract_memberships",
        sa.Column("contract_id", KEY, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("facility_id", KEY, nullable=False),
        sa.Column("tier", sa.String(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("contract_id", "position", name="pk_contract_memberships"),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name="fk_contract_memberships_contract_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name="fk_contract_memberships_facility_id"
        ),
    )
    op.create_index("ix_contract_memberships_facility_id", "contract_memberships", ["facility_id"])

    op.create_table(
        "contract_prices",
        sa.Column("contract_id", KEY, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("item_id", sa.String(), nullable=False),
        sa.Column("tier", sa.String(), nullable=False),
        sa.Column("uom", sa.String(), nullable=False),
        sa.Column("unit_price", ExactDecimal(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("contract_id", "position", name="pk_contract_prices"),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name="fk_contract_prices_contract_id",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_contract_prices_item_id", "contract_prices", ["item_id"])

    op.create_table(
        "crosswalk_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.Column("facility_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("local_code", sa.String(), nullable=False),
        sa.Column("canonical_id", sa.String(), nullable=False),
        sa.Column("valid_from", UtcDateTime(), nullable=False),
        sa.Column("valid_to", UtcDateTime(), nullable=True),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_crosswalk_entries"),
    )
    op.create_index("ix_crosswalk_entries_canonical_id", "crosswalk_entries", ["canonical_id"])
    op.create_index(
        "ix_crosswalk_entries_key",
        "crosswalk_entries",
        ["source_system", "facility_id", "kind", "local_code", "valid_from"],
    )
    op.create_index(
        "uq_crosswalk_entries_current_key",
        "crosswalk_entries",
        ["source_system", "facility_id", "kind", "local_code"],
        unique=True,
        sqlite_where=sa.text("valid_to IS NULL"),
        postgresql_where=sa.text("valid_to IS NULL"),
    )


def _create_transactions() -> None:
    op.create_table(
        "requisitions",
        sa.Column("id", KEY, nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("facility_id", sa.String(), nullable=False),
        sa.Column("department_id", sa.String(), nullable=True),
        sa.Column("location_id", sa.String(), nullable=True),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_requisitions"),
    )
    op.create_index("ix_requisitions_facility_id_id", "requisitions", ["facility_id", "id"])
    op.create_index("ix_requisitions_number", "requisitions", ["number"])

    op.create_table(
        "requisition_lines",
        sa.Column("requisition_id", KEY, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("uom", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("requisition_id", "position", name="pk_requisition_lines"),
        sa.ForeignKeyConstraint(
            ["requisition_id"],
            ["requisitions.id"],
            name="fk_requisition_lines_requisition_id",
            ondelete="CASCADE",
        ),
    )

    op.create_table(
        "purchase_orders",
        sa.Column("id", KEY, nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("facility_id", sa.String(), nullable=False),
        sa.Column("supplier_id", sa.String(), nullable=False),
        sa.Column("order_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("requisition_id", sa.String(), nullable=True),
        sa.Column("department_id", sa.String(), nullable=True),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_purchase_orders"),
    )
    op.create_index("ix_purchase_orders_facility_id_id", "purchase_orders", ["facility_id", "id"])
    op.create_index("ix_purchase_orders_number", "purchase_orders", ["number"])
    op.create_index("ix_purchase_orders_supplier_id", "purchase_orders", ["supplier_id"])

    op.create_table(
        "purchase_order_lines",
        sa.Column("purchase_order_id", KEY, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("uom", sa.String(), nullable=False),
        sa.Column("unit_price", ExactDecimal(), nullable=False),
        sa.Column("contract_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("purchase_order_id", "position", name="pk_purchase_order_lines"),
        sa.ForeignKeyConstraint(
            ["purchase_order_id"],
            ["purchase_orders.id"],
            name="fk_purchase_order_lines_purchase_order_id",
            ondelete="CASCADE",
        ),
    )

    op.create_table(
        "receipts",
        sa.Column("id", KEY, nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("facility_id", sa.String(), nullable=False),
        sa.Column("location_id", sa.String(), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("purchase_order_id", sa.String(), nullable=True),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_receipts"),
    )
    op.create_index("ix_receipts_facility_id_id", "receipts", ["facility_id", "id"])
    op.create_index("ix_receipts_number", "receipts", ["number"])
    op.create_index("ix_receipts_purchase_order_id", "receipts", ["purchase_order_id"])

    op.create_table(
        "receipt_lines",
        sa.Column("receipt_id", KEY, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("uom", sa.String(), nullable=False),
        sa.Column("po_line_number", sa.Integer(), nullable=True),
        sa.Column("lot", sa.String(), nullable=True),
        sa.Column("serial", sa.String(), nullable=True),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("receipt_id", "position", name="pk_receipt_lines"),
        sa.ForeignKeyConstraint(
            ["receipt_id"], ["receipts.id"], name="fk_receipt_lines_receipt_id", ondelete="CASCADE"
        ),
    )

    op.create_table(
        "invoices",
        sa.Column("id", KEY, nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("supplier_id", sa.String(), nullable=False),
        sa.Column("facility_id", sa.String(), nullable=False),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("purchase_order_number", sa.String(), nullable=True),
        sa.Column("freight", ExactDecimal(), nullable=False),
        sa.Column("tax", ExactDecimal(), nullable=False),
        sa.Column("stated_total", ExactDecimal(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_invoices"),
    )
    op.create_index("ix_invoices_facility_id_id", "invoices", ["facility_id", "id"])
    op.create_index("ix_invoices_purchase_order_number", "invoices", ["purchase_order_number"])
    op.create_index("ix_invoices_supplier_id_number", "invoices", ["supplier_id", "number"])

    op.create_table(
        "invoice_lines",
        sa.Column("invoice_id", KEY, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(), nullable=True),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("uom", sa.String(), nullable=False),
        sa.Column("unit_price", ExactDecimal(), nullable=False),
        sa.Column("po_line_number", sa.Integer(), nullable=True),
        sa.Column("supplier_part_number", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("invoice_id", "position", name="pk_invoice_lines"),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name="fk_invoice_lines_invoice_id", ondelete="CASCADE"
        ),
    )

    op.create_table(
        "charges",
        sa.Column("id", KEY, nullable=False),
        sa.Column("facility_id", sa.String(), nullable=False),
        sa.Column("encounter_token", sa.String(), nullable=False),
        sa.Column("cdm_code", sa.String(), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("service_at", UtcDateTime(), nullable=False),
        sa.Column("transaction_type", sa.String(), nullable=False),
        sa.Column("account_token", sa.String(), nullable=True),
        sa.Column("department_id", sa.String(), nullable=True),
        sa.Column("hcpcs", sa.String(), nullable=True),
        sa.Column("revenue_code", sa.String(), nullable=True),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_charges"),
    )
    op.create_index("ix_charges_encounter_token", "charges", ["encounter_token"])
    op.create_index("ix_charges_facility_id_id", "charges", ["facility_id", "id"])

    op.create_table(
        "usage_records",
        sa.Column("id", KEY, nullable=False),
        sa.Column("facility_id", sa.String(), nullable=False),
        sa.Column("location_id", sa.String(), nullable=False),
        sa.Column("item_id", sa.String(), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("uom", sa.String(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=False),
        sa.Column("encounter_token", sa.String(), nullable=True),
        sa.Column("department_id", sa.String(), nullable=True),
        sa.Column("lot", sa.String(), nullable=True),
        sa.Column("serial", sa.String(), nullable=True),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("udi", sa.String(), nullable=True),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_usage_records"),
    )
    op.create_index("ix_usage_records_encounter_token", "usage_records", ["encounter_token"])
    op.create_index("ix_usage_records_facility_id_id", "usage_records", ["facility_id", "id"])
    op.create_index("ix_usage_records_item_id", "usage_records", ["item_id"])

    op.create_table(
        "stock_positions",
        sa.Column("location_id", KEY, nullable=False),
        sa.Column("item_id", KEY, nullable=False),
        sa.Column("facility_id", sa.String(), nullable=False),
        sa.Column("on_hand", ExactDecimal(), nullable=False),
        sa.Column("consigned_on_hand", ExactDecimal(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("location_id", "item_id", name="pk_stock_positions"),
    )
    op.create_index("ix_stock_positions_facility_id", "stock_positions", ["facility_id"])

    op.create_table(
        "journal_entries",
        sa.Column("id", KEY, nullable=False),
        sa.Column("facility_id", sa.String(), nullable=False),
        sa.Column("posting_date", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("source_system", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_journal_entries"),
    )
    op.create_index("ix_journal_entries_facility_id_id", "journal_entries", ["facility_id", "id"])
    op.create_index("ix_journal_entries_reference", "journal_entries", ["reference"])

    op.create_table(
        "journal_lines",
        sa.Column("journal_entry_id", KEY, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("gl_account_id", sa.String(), nullable=False),
        sa.Column("debit", ExactDecimal(), nullable=False),
        sa.Column("credit", ExactDecimal(), nullable=False),
        sa.Column("cost_center_id", sa.String(), nullable=True),
        sa.Column("memo", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("journal_entry_id", "position", name="pk_journal_lines"),
        sa.ForeignKeyConstraint(
            ["journal_entry_id"],
            ["journal_entries.id"],
            name="fk_journal_lines_journal_entry_id",
            ondelete="CASCADE",
        ),
    )
