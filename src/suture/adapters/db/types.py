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

from collections.abc import Callable
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
_SCALED_LIMIT = _LIMIT.scaleb(SCALE)
_DIGITS = PRECISION - SCALE


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

    # The processors SQLAlchemy calls per value, specialised per dialect once: the same values
    # as ``process_bind_param`` and ``process_result_value`` give, with no dispatch per value
    # (every row a batch writes or reads goes through them).

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        checked = self._checked

        def process(value: Any) -> int | None:
            if value is None:
                return None
            if type(value) is Decimal and value.is_finite() and value.adjusted() < _DIGITS:
                scaled = value.scaleb(SCALE)  # cannot overflow: the magnitude is bounded above
                if scaled == scaled.to_integral_value() and abs(scaled) < _SCALED_LIMIT:
                    return int(scaled)  # exact, in range: what ``_checked`` would let through
            return int(checked(value).scaleb(SCALE))

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: Any) -> Decimal | None:
            return None if value is None else Decimal(int(value)).scaleb(-SCALE)

        return process

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


def utc_instant(value: Any) -> Any:
    """An instant the driver read (aware in the session's zone, or naive UTC as SQLite stores
    it), or None, as :class:`UtcDateTime` returns it: aware in UTC. Code that reads a driver's
    rows by position, without SQLAlchemy's result processing, converts with this too."""
    if value is None:
        return None
    zone = value.tzinfo
    if zone is UTC:
        return value
    if zone is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


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
        instant: datetime | None = utc_instant(value)
        return instant

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, the text SQLAlchemy's SQLite ``DATETIME`` writes for the naive UTC
        instant (``YYYY-MM-DD HH:MM:SS.ffffff``), made in one step."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        checked = self.process_bind_param

        def process(value: Any) -> str | None:
            if value is None:
                return None
            if type(value) is datetime and value.tzinfo is UTC:
                return value.replace(tzinfo=None).isoformat(" ", "microseconds")
            naive = checked(value, dialect)
            return None if naive is None else naive.isoformat(" ", "microseconds")

        return process
