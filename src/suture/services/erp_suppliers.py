"""The supplier master flows from the ERP to Suture (DESIGN.md §1: the ERP is authoritative).

:meth:`SupplierSync.pull` reads every supplier of the ERP (``ErpGateway.suppliers``) and writes
the ones that are new or changed into Suture's supplier master in one transaction, as written
by the ERP (``source_system = "erp"``). What only Suture knows of a supplier (its GLN, HIN,
remit-to address, payment terms) is kept; the ERP's name, active flag and record id
(``erp_vendor_id``) win. A supplier Suture has and the ERP does not is left alone: the ERP
listing it no longer is not proof it was deleted (it may be filtered); deactivate it in the ERP.
A second pull with nothing changed in the ERP writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from suture.domain.masterdata import Supplier
from suture.services.erp import ErpGateway
from suture.services.unit_of_work import UnitOfWork

#: The source system of suppliers written by a pull (the ERP owns the supplier master).
ERP_SOURCE = "erp"


@dataclass(frozen=True, slots=True)
class SupplierPull:
    """How a pull changed Suture's supplier master."""

    created: int
    updated: int
    unchanged: int


class SupplierSync:
    """Pulls the ERP's supplier master into Suture's."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], gateway: ErpGateway) -> None:
        self._uow = uow_factory
        self._gateway = gateway

    def pull(self) -> SupplierPull:
        """Read the ERP's suppliers (outside any transaction), then write what changed."""
        listed = self._gateway.suppliers()
        created = updated = unchanged = 0
        with self._uow() as uow:
            pending: list[Supplier] = []
            for erp in listed:
                stored = uow.suppliers.get(erp.supplier_id)
                if stored is None:
                    pending.append(
                        Supplier(
                            id=erp.supplier_id, name=erp.name, erp_vendor_id=erp.erp_id or None,
                            active=erp.active, source_system=ERP_SOURCE,
                        )
                    )  # fmt: skip
                    created += 1
                    continue
                merged = replace(
                    stored, name=erp.name, active=erp.active,
                    erp_vendor_id=erp.erp_id or stored.erp_vendor_id, source_system=ERP_SOURCE,
                )  # fmt: skip
                if merged == stored:
                    unchanged += 1
                else:
                    pending.append(merged)
                    updated += 1
            if pending:
                uow.suppliers.add_many(pending)
                uow.commit()
        return SupplierPull(created, updated, unchanged)
