"""The SQLite processors of ``ExactDecimal`` and ``UtcDateTime`` are a shortcut, not a new form.

They write exactly what the decorators' ``process_bind_param`` followed by SQLAlchemy's own
SQLite processors write (the storage forms migrations rely on), refuse exactly what it refuses
with the same error, and read back the same values.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator

from suture.adapters.db.types import ExactDecimal, UtcDateTime

DIALECT = sqlite.dialect()


def _outcome(process: Any, value: object) -> tuple[str, object]:
    try:
        return "stored", process(value)
    except Exception as error:  # the refusal itself is what is compared
        return type(error).__name__, str(error)


def _both(column_type: TypeDecorator[Any]) -> tuple[Any, Any]:
    bound = column_type.dialect_impl(DIALECT)
    return bound.bind_processor(DIALECT), TypeDecorator.bind_processor(bound, DIALECT)


@pytest.mark.parametrize(
    "value",
    [Decimal("1.25"), Decimal("-0"), Decimal("12.5000000"), Decimal("1E+3"), Decimal("0.0001"),
     Decimal("99999999999999.9999"), Decimal("-99999999999999.9999"), Decimal("100000000000000"),
     Decimal("1.23456"), Decimal("NaN"), Decimal("-Infinity"), Decimal("1E+20"),
     Decimal("9E+999998"), Decimal("1E-999990"), Decimal("0E+999990"), 3, True, 1.5,
     "1.25", None],
)  # fmt: skip
def test_exact_decimal_on_sqlite_stores_and_refuses_as_the_decorator_does(value: object) -> None:
    fast, reference = _both(ExactDecimal("amount"))
    assert _outcome(fast, value) == _outcome(reference, value)


@pytest.mark.parametrize("stored", [None, 0, 12500, -1, 999_999_999_999_999_999])
def test_exact_decimal_on_sqlite_reads_as_the_decorator_does(stored: int | None) -> None:
    bound = ExactDecimal("amount").dialect_impl(DIALECT)
    fast = bound.result_processor(DIALECT, None)
    reference = TypeDecorator.result_processor(bound, DIALECT, None)
    assert repr(fast(stored)) == repr(reference(stored))


@pytest.mark.parametrize(
    "value",
    [datetime(2025, 3, 3, 14, 5, tzinfo=UTC), datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
     datetime(2025, 3, 3, 14, 5, 1, 123456, tzinfo=timezone(timedelta(hours=5))),
     datetime(2025, 3, 3, 14, 5),  # noqa: DTZ001  (a naive datetime, to be refused)
     "2025-03-03", None],
)  # fmt: skip
def test_utc_datetime_on_sqlite_stores_and_refuses_as_the_decorator_does(value: object) -> None:
    fast, reference = _both(UtcDateTime("at"))
    assert _outcome(fast, value) == _outcome(reference, value)
