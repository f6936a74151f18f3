"""The usage workflow's own events in JSON form, built from typed values (the hot path).

Every usage raises one ``inventory.usage.applied`` and one ``finance.usage.costed``; building
them through :class:`~suture.eventlog.events.UsageApplied` and
:class:`~suture.eventlog.events.UsageCosted` validated values that were already typed domain
objects, then dumped the model back to JSON. These builders write the same JSON directly
(:mod:`suture.eventlog.payloads`: the model's fields in its order, what its validators check
checked here); ``tests/unit/test_usage_events.py`` holds them to the models byte for byte. The
events the workflow raises seldom (requisitions, purchase orders) still go through their models.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from suture.domain.costing import PriceSource
from suture.eventlog.events import UNSPSC_PATTERN, UsageApplied, UsageCosted
from suture.eventlog.payloads import JsonPayload, datetime_text, decimal_text, pattern_text

_UNSPSC = re.compile(UNSPSC_PATTERN)


def usage_applied(
    *,
    usage_id: str,
    facility_id: str,
    location_id: str,
    item_id: str,
    item_category: str | None,
    supplier_id: str | None,
    eaches: Decimal,
    consigned: bool,
    stockout: bool,
    on_hand_after: Decimal,
    price_source: PriceSource,
    unit_price: Decimal,
    amount: Decimal,
    contract_id: str | None,
    requisition_id: str | None,
    bill_only_po_id: str | None,
    replenishment_po_id: str | None,
    department_id: str | None,
    encounter_token: str | None,
    used_at: datetime,
) -> JsonPayload:
    """``UsageApplied(...)``'s JSON form."""
    return JsonPayload(UsageApplied, {
        "usage_id": usage_id, "facility_id": facility_id, "location_id": location_id,
        "item_id": item_id, "item_category": pattern_text(item_category, _UNSPSC, "item_category"),
        "supplier_id": supplier_id, "eaches": decimal_text(eaches, "eaches"),
        "consigned": consigned, "stockout": stockout,
        "on_hand_after": decimal_text(on_hand_after, "on_hand_after"),
        "price_source": price_source.value, "unit_price": decimal_text(unit_price, "unit_price"),
        "amount": decimal_text(amount, "amount"), "contract_id": contract_id,
        "requisition_id": requisition_id, "bill_only_po_id": bill_only_po_id,
        "replenishment_po_id": replenishment_po_id, "department_id": department_id,
        "encounter_token": encounter_token, "used_at": datetime_text(used_at, "used_at"),
    })  # fmt: skip


def usage_costed(
    *,
    usage_id: str,
    facility_id: str,
    item_id: str,
    department_id: str,
    cost_center_id: str,
    amount: Decimal,
    journal_id: str | None,
    cdm_code: str | None,
    expected_charge_id: str | None,
    encounter_token: str | None,
) -> JsonPayload:
    """``UsageCosted(...)``'s JSON form."""
    return JsonPayload(UsageCosted, {
        "usage_id": usage_id, "facility_id": facility_id, "item_id": item_id,
        "department_id": department_id, "cost_center_id": cost_center_id,
        "amount": decimal_text(amount, "amount"), "journal_id": journal_id,
        "cdm_code": cdm_code, "expected_charge_id": expected_charge_id,
        "encounter_token": encounter_token,
    })  # fmt: skip
