"""Suppliers' X12 trading-partner profiles: list them, and set one (``suture partners``).

Setting a profile re-drives, in the same transaction, every PO step parked because the
supplier had none (``trading_partner:<supplier>``; ``services/workflows/order_dispatch.py``),
and is recorded in the audit trail. Changing a profile keeps its control-number counter, so
interchange numbers never go back.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import replace

from suture.domain.audit import Actor
from suture.domain.trading_partners import TradingPartner
from suture.services.audit import AuditTrail
from suture.services.clock import Clock
from suture.services.redrive import redrive_parked
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.order_dispatch import partner_dependency


class TradingPartners:
    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], audit: AuditTrail, clock: Clock
    ) -> None:
        self._uow = uow_factory
        self._audit = audit
        self._clock = clock

    def list(self, *, after: str | None = None, limit: int = 100) -> builtins.list[TradingPartner]:
        with self._uow() as uow:
            return uow.trading_partners.list(after=after, limit=limit)

    def get(self, supplier_id: str) -> TradingPartner | None:
        with self._uow() as uow:
            return uow.trading_partners.get(supplier_id)

    def set(
        self,
        supplier_id: str,
        *,
        isa_qualifier: str,
        isa_id: str,
        gs_id: str,
        actor: Actor,
        x12_version: str = "005010",
        usage_indicator: str = "P",
        delivery_target: str | None = None,
    ) -> tuple[TradingPartner, int]:
        """Store the profile and re-drive what waited for it; (profile, work items re-driven)."""
        with self._audit.write(
            actor, "trading_partner.set", target_type="supplier", target_id=supplier_id
        ) as write:
            uow = write.uow
            at = self._clock()
            current = uow.trading_partners.get(supplier_id, lock=True)
            partner = TradingPartner(
                supplier_id=supplier_id, isa_qualifier=isa_qualifier, isa_id=isa_id,
                gs_id=gs_id, x12_version=x12_version, usage_indicator=usage_indicator,
                delivery_target=delivery_target, updated_at=at,
                last_control_number=0 if current is None else current.last_control_number,
            )  # fmt: skip
            uow.trading_partners.save(partner)
            redriven = redrive_parked(uow, partner_dependency(supplier_id), at)
            write.before = None if current is None else _summary(current)
            write.after = _summary(partner)
        return replace(partner), redriven


def _summary(partner: TradingPartner) -> str:
    return (
        f"{partner.isa_qualifier}:{partner.isa_id} gs={partner.gs_id} {partner.x12_version} "
        f"{partner.usage_indicator} target={partner.target}"
    )
