"""The shapes of synthetic health system Suture can generate: a small demo and a large one.

A profile is a frozen description (how many hospitals, suppliers and items, which shares of the
items are implants, consigned or chargeable, how many contracts) so that a demo, a test and a
benchmark can ask for "the same system, smaller" with :func:`dataclasses.replace` instead of
reaching into the generator. Shares are fractions between 0 and 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from suture.domain.errors import DomainError


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """How big the synthetic health system is and how its item master is composed.

    ``item_coverage`` is the share of the item master each hospital carries (has a local item
    number for, stocks, uses). ``procedure_span_days`` is the window history is spread over.
    """

    name: str
    hospitals: int
    departments_per_hospital: int
    nursing_units_per_hospital: int
    suppliers: int
    distributor_share: float = 0.1
    items: int
    implant_share: float = 0.1
    consignment_share: float = 0.8
    chargeable_share: float = 0.15
    contracts: int
    on_contract_share: float = 0.85
    item_coverage: float = 0.8
    par_items_per_location: int
    contract_start: date = date(2024, 1, 1)
    history_days: int = 365
    history_charges: int = 0
    history_usage: int = 0

    def __post_init__(self) -> None:
        for name in ("hospitals", "suppliers", "items", "contracts"):
            if getattr(self, name) < 1:
                raise DomainError(name, f"must be at least 1, got {getattr(self, name)}")
        shares = ("distributor_share", "implant_share", "consignment_share", "chargeable_share",
                  "on_contract_share", "item_coverage")  # fmt: skip
        for name in shares:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise DomainError(name, f"must be between 0 and 1, got {getattr(self, name)}")
        if not 3 + self.nursing_units_per_hospital <= self.departments_per_hospital <= 16:
            raise DomainError(
                "departments_per_hospital",
                "must be between 3 + nursing_units_per_hospital (one department per location) "
                f"and 16, got {self.departments_per_hospital}",
            )
        if self.hospitals > 99:
            raise DomainError("hospitals", f"at most 99 (FAC-01..FAC-99), got {self.hospitals}")
        if self.suppliers > 8999:
            raise DomainError(
                "suppliers", f"at most 8999 GS1 company numbers, got {self.suppliers}"
            )
        if self.history_days < 1:
            raise DomainError("history_days", f"must be at least 1, got {self.history_days}")


PROFILES: dict[str, Profile] = {
    "demo": Profile(
        name="demo",
        hospitals=3,
        departments_per_hospital=10,
        nursing_units_per_hospital=3,
        suppliers=40,
        items=5_000,
        contracts=60,
        par_items_per_location=150,
    ),
    "large": Profile(
        name="large",
        hospitals=10,
        departments_per_hospital=14,
        nursing_units_per_hospital=5,
        suppliers=400,
        items=100_000,
        contracts=600,
        # A hospital carries a third of a 100,000-item master: about 33,000 local numbers each.
        item_coverage=0.35,
        par_items_per_location=400,
    ),
}
