"""A supplier's X12 trading-partner profile: how an 850 is addressed and where it goes.

The agreement with each supplier (or its EDI network) fixes its ISA qualifier and id
(ISA07/ISA08), its application id (GS03), the X12 version, whether the interchange is test or
production (ISA15 ``T``/``P``) and, on our side, the delivery target that carries the file
(``x12:<supplier>`` by default; several suppliers behind one VAN can share one). The hub's own
ISA id is a setting. ``last_control_number`` is the last ISA13/GS06 used for this partner:
each interchange takes the next one, under a row lock, so numbers never repeat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from suture.domain.deliveries import TARGET
from suture.domain.errors import DomainError

X12_VERSIONS = frozenset({"004010", "005010"})
#: ISA05/ISA07 interchange id qualifiers in use with US healthcare suppliers (X12 element I05):
#: 01 DUNS, 08 UCC EDI communications id, 12 phone, 14 DUNS+4, ZZ mutually defined.
QUALIFIERS = frozenset({"01", "08", "12", "14", "16", "20", "27", "28", "29", "30", "ZZ"})
_ISA_ID = re.compile(r"[A-Za-z0-9 ._-]{1,15}")
_GS_ID = re.compile(r"[A-Za-z0-9 ._-]{2,15}")
MAX_CONTROL_NUMBER = 999_999_999


def default_target(supplier_id: str) -> str:
    """Where a supplier's 850s go unless its profile names another target."""
    return f"x12:{supplier_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TradingPartner:
    """One supplier's profile; every field is checked so a bad profile is refused when set."""

    supplier_id: str
    isa_qualifier: str
    isa_id: str
    gs_id: str
    updated_at: datetime
    x12_version: str = "005010"
    usage_indicator: str = "P"
    delivery_target: str | None = None
    last_control_number: int = 0

    def __post_init__(self) -> None:
        if self.isa_qualifier not in QUALIFIERS:
            known = ", ".join(sorted(QUALIFIERS))
            raise DomainError("isa_qualifier", f"{self.isa_qualifier!r} is not one of {known}")
        if not _ISA_ID.fullmatch(self.isa_id) or self.isa_id != self.isa_id.strip():
            raise DomainError("isa_id", "must be 1 to 15 letters, digits, space, '.', '_', '-'")
        if not _GS_ID.fullmatch(self.gs_id) or self.gs_id != self.gs_id.strip():
            raise DomainError("gs_id", "must be 2 to 15 letters, digits, space, '.', '_', '-'")
        if self.x12_version not in X12_VERSIONS:
            raise DomainError("x12_version", f"must be one of {', '.join(sorted(X12_VERSIONS))}")
        if self.usage_indicator not in ("P", "T"):
            raise DomainError("usage_indicator", "must be P (production) or T (test)")
        if self.delivery_target is not None and not TARGET.fullmatch(self.delivery_target):
            raise DomainError(
                "delivery_target", f"{self.delivery_target!r} is not a target like 'x12:ghx'"
            )
        if not 0 <= self.last_control_number <= MAX_CONTROL_NUMBER:
            raise DomainError("last_control_number", f"must be 0 to {MAX_CONTROL_NUMBER}")

    @property
    def target(self) -> str:
        return self.delivery_target or default_target(self.supplier_id)

    def next_control_number(self) -> int:
        """The control number after the last one, wrapping to 1 after 999,999,999."""
        return self.last_control_number % MAX_CONTROL_NUMBER + 1
