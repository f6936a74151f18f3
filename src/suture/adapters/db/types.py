"""Column types that make money, quantities and instants round-trip exactly on both databases.

STYLE.md habit 15: money is ``Decimal`` and time is timezone-aware UTC. PostgreSQL has exact
``NUMERIC`` and ``TIMESTAMPTZ``; SQLite has neither (its NUMERIC affinity stores a float), so the
two types below choose a storage form per dialect and return the same Python values from both:

- :class:`ExactDecimal` is ``NUMERIC(18, 4)`` on PostgreSQL and a 64-bit integer count of
  ten-thousandths on SQLite. Integers keep SQLite comparisons, ``ORDER BY`` and ``SUM`` exact
  (a sum is in ten-thousandths). A value that would lose digits (more than four decimal places,
  more than 18 digits, NaN, a float) is refused with :class:`StorageError` instead of being
  rounded, on both databases, so a stored amount is always the amount given.
- :class:`UtcDateTime` is ``TIMESTAMPTZ`` on PostgreSQL and an ISO text of the UTC instant on
  SQLite; naive datetimes are refused, and every value read back is aware and in UTC.

Migrations import these types, so their storage forms must never change meaning; a new form is a
new type and a data migration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from suture.adapters.db.errors import StorageError

PRECISION = 18
SCALE = 4
_QUANTUM = Decimal(1).scaleb(-SCALE)
_FACTOR = 10**SCALE
_LIMIT = Decimal(10) ** (PRECISION - SCALE)


class ExactDecimal(sa.types.TypeDecorator[Decimal]):
    """A ``Decimal`` with at most 18 digits, four after the point, stored without loss."""

    impl = sa.Numeric(PRECISION, SCALE)
    cache_ok = True

    def __init__(self, field: str = "") -> None:
        super().__init__()
        self.field = field

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.Numeric(PRECISION, SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Decimal | int | None:
        if value is None:
            return None
        exact = self._checked(value)
        if dialect.name == "sqlite":
            return int(exact.scaleb(SCALE))
        return exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-SCALE)
        return Decimal(value)

    def _checked(self, value: object) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise StorageError(
                self.field, f"{value!r} is not a Decimal; money and quantities are never floats"
            )
        number = Decimal(value)
        if not number.is_finite() or abs(number) >= _LIMIT:
            raise StorageError(
                self.field, f"{number} does not fit NUMERIC({PRECISION}, {SCALE}) exactly"
            )
        exact = number.quantize(_QUANTUM)  # cannot overflow: the bound above leaves 10 digits spare
        if exact != number:
            raise StorageError(
                self.field,
                f"{number} has more than {SCALE} decimal places; round it before storing",
            )
        return exact


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC and returned aware in UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def __init__(self, field: str = "") -> None:
        super().__init__()
        self.field = field

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise StorageError(
                self.field, f"{value!r} is not a timezone-aware datetime; Suture stores UTC"
            )
        instant = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return instant.replace(tzinfo=None)
        return instant

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
