"""Units of measure and packaging levels of an item.

A supply item is bought by the case, stored by the box and used by the each. Each packaging level
says how many base units (eaches) it holds and may carry its own GTIN (GS1 packaging hierarchy).
Conversions are exact: quantities are :class:`~decimal.Decimal`, never floats.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from suture.domain.errors import UnitConversionError

#: Units of measure as X12 (element 355) and most item masters spell them.
KNOWN_UOMS = frozenset({"EA", "BX", "CS", "PK", "CA", "DZ", "KT", "PR", "ST", "RL", "BG", "CT"})


@dataclass(frozen=True, slots=True)
class PackagingLevel:
    """One unit of measure of an item: how many base units it holds and its own GTIN, if any."""

    uom: str
    each_per_unit: int
    gtin: str | None = None

    def __post_init__(self) -> None:
        # Store GTINs in their GTIN-14 form so a scanned (01) GTIN-14 finds a GTIN-13 on file;
        # the check digit is a quality rule, so a bad one is reported, not refused here.
        gtin = self.gtin
        if gtin is not None and gtin.isascii() and gtin.isdigit() and len(gtin) in (8, 12, 13):
            object.__setattr__(self, "gtin", gtin.zfill(14))
        if self.each_per_unit < 1:
            raise UnitConversionError(
                "each_per_unit", f"{self.uom} must hold at least 1 each, got {self.each_per_unit}"
            )


@dataclass(frozen=True, slots=True)
class Packaging:
    """The packaging hierarchy of one item; the base level holds exactly one each."""

    levels: tuple[PackagingLevel, ...]

    @classmethod
    def of(cls, levels: Iterable[PackagingLevel]) -> Packaging:
        items = tuple(levels)
        seen: set[str] = set()
        for level in items:
            if level.uom in seen:
                raise UnitConversionError("uom", f"{level.uom} is listed twice")
            seen.add(level.uom)
        if not any(level.each_per_unit == 1 for level in items):
            raise UnitConversionError("uom", "no base level holding exactly 1 each")
        return cls(items)

    @property
    def base_uom(self) -> str:
        return next(level.uom for level in self.levels if level.each_per_unit == 1)

    def level(self, uom: str) -> PackagingLevel:
        for level in self.levels:
            if level.uom == uom:
                return level
        known = ", ".join(level.uom for level in self.levels)
        raise UnitConversionError("uom", f"unknown unit {uom!r}; the item has {known}")

    def convert(self, quantity: Decimal, from_uom: str, to_uom: str) -> Decimal:
        """``quantity`` in ``from_uom`` expressed in ``to_uom`` (exact, may be fractional).

        Both units must be levels of the item, even when they are the same unit.
        """
        source, target = self.level(from_uom), self.level(to_uom)
        if from_uom == to_uom:
            return quantity
        eaches = quantity * source.each_per_unit
        return eaches / Decimal(target.each_per_unit)

    def to_each(self, quantity: Decimal, uom: str) -> Decimal:
        return quantity * self.level(uom).each_per_unit

    def round_up_to(self, eaches: Decimal, uom: str) -> Decimal:
        """The smallest whole number of ``uom`` units that holds at least ``eaches``."""
        per = self.level(uom).each_per_unit
        whole, rest = divmod(eaches, per)
        return whole + (1 if rest > 0 else 0)

    def convert_price(self, unit_price: Decimal, from_uom: str, to_uom: str) -> Decimal:
        """A price per ``from_uom`` expressed per ``to_uom``.

        Multiplies before dividing, so that a result a Decimal can hold exactly (100.00 per pack
        of 3 is 800.00 per case of 24) is not rounded on the way through a price per each.
        """
        source, target = self.level(from_uom), self.level(to_uom)
        if from_uom == to_uom:
            return unit_price
        return unit_price * target.each_per_unit / Decimal(source.each_per_unit)

    def by_gtin(self, gtin: str) -> PackagingLevel | None:
        return next((level for level in self.levels if level.gtin == gtin), None)
