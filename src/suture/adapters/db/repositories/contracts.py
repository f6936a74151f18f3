"""The contract repository: a contract with its facility memberships and its item prices.

Contracts are system-wide (a GPO contract covers every member facility), so the facility filter
of ``list`` is ignored and ``count_by_facility`` counts them under ``None``; which facilities
buy under a contract is the memberships' business (``Contract.tier_for``).
"""

from __future__ import annotations

import sqlalchemy as sa

from suture.adapters.db import tables as t
from suture.adapters.db.repositories.base import AggregateRepository, Lines, Row, Values
from suture.domain.contracts import Contract, ContractMembership, ContractPrice


class ContractRepository(AggregateRepository[Contract]):
    table = t.contracts
    supplier_column = "supplier_id"
    date_column = "effective_from"
    number_column = "number"
    lines = (
        Lines(t.contract_memberships, "contract_id"),
        Lines(t.contract_prices, "contract_id"),
    )
    facility_column = None

    def by_number(self, number: str) -> Contract | None:
        return self._first(self.table.c.number == number)

    def for_item(self, item_id: str) -> list[Contract]:
        """Every contract with a price for the item, in id order, memberships and prices whole."""
        pricing = sa.select(t.contract_prices.c.contract_id).where(
            t.contract_prices.c.item_id == item_id
        )
        return self._load(
            sa.select(self.table)
            .where(self.table.c.id.in_(pricing.scalar_subquery()))
            .order_by(self.table.c.id)
        )

    def to_row(self, obj: Contract) -> Values:
        return {
            "id": obj.id,
            "number": obj.number,
            "supplier_id": obj.supplier_id,
            "name": obj.name,
            "effective_from": obj.effective_from,
            "effective_to": obj.effective_to,
            "gpo": obj.gpo,
            "source_system": obj.source_system,
        }

    def to_lines(self, obj: Contract) -> tuple[list[Values], ...]:
        memberships = [
            {
                "facility_id": m.facility_id,
                "tier": m.tier,
                "effective_from": m.effective_from,
                "effective_to": m.effective_to,
            }
            for m in obj.memberships
        ]
        prices = [
            {
                "item_id": p.item_id,
                "tier": p.tier,
                "uom": p.uom,
                "unit_price": p.unit_price,
                "effective_from": p.effective_from,
                "effective_to": p.effective_to,
            }
            for p in obj.prices
        ]
        return memberships, prices

    def from_row(self, row: Row, lines: tuple[list[Row], ...]) -> Contract:
        memberships, prices = lines
        return Contract(
            id=row.id,
            number=row.number,
            supplier_id=row.supplier_id,
            name=row.name,
            effective_from=row.effective_from,
            effective_to=row.effective_to,
            gpo=row.gpo,
            memberships=[
                ContractMembership(
                    facility_id=m.facility_id,
                    tier=m.tier,
                    effective_from=m.effective_from,
                    effective_to=m.effective_to,
                )
                for m in memberships
            ],
            prices=[
                ContractPrice(
                    item_id=p.item_id,
                    tier=p.tier,
                    uom=p.uom,
                    unit_price=p.unit_price,
                    effective_from=p.effective_from,
                    effective_to=p.effective_to,
                )
                for p in prices
            ],
            source_system=row.source_system,
        )
