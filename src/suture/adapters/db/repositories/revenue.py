"""The charge repository: charges from the revenue cycle, one row each, the bulkiest table.

Charges carry tokens of the account and encounter, never patient identifiers (DESIGN.md §6), so
nothing here needs masking.
"""

from __future__ import annotations

from suture.adapters.db import tables as t
from suture.adapters.db.repositories.base import AggregateRepository, Row, Values
from suture.domain.revenue import Charge, ChargeType


class ChargeRepository(AggregateRepository[Charge]):
    table = t.charges
    date_column = "service_at"

    def to_row(self, obj: Charge) -> Values:
        return {
            "id": obj.id,
            "facility_id": obj.facility_id,
            "encounter_token": obj.encounter_token,
            "cdm_code": obj.cdm_code,
            "quantity": obj.quantity,
            "amount": obj.amount,
            "service_at": obj.service_at,
            "transaction_type": obj.transaction_type.value,
            "account_token": obj.account_token,
            "department_id": obj.department_id,
            "hcpcs": obj.hcpcs,
            "revenue_code": obj.revenue_code,
            "source_system": obj.source_system,
        }

    def from_row(self, row: Row, lines: tuple[list[Row], ...]) -> Charge:
        return Charge(**{**row._mapping, "transaction_type": ChargeType(row.transaction_type)})
