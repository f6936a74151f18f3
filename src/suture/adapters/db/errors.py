"""The storage branch of Suture's error tree, and the mapping of driver exceptions onto it.

STYLE.md habit 9: third-party exceptions are mapped at the boundary, and every error names the
field and the reason. Repositories run their statements inside :func:`storage_errors`, so a
caller of a port only ever sees :class:`StorageError`, never ``sqlalchemy.exc`` or ``psycopg``::

    SutureError                      (suture.domain.errors)
    └── StorageError                 the database refused or could not store a value (field, reason)

``field`` names the column or constraint when the database says which, else the table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy.exc as sa_exc

from suture.domain.errors import SutureError


class StorageError(SutureError):
    """The database refused a write, or a value cannot be stored exactly."""


#: SQLite names the columns of a failed unique or not-null constraint: ``table.col, table.col``.
_SQLITE_COLUMNS = re.compile(r"constraint failed: (?P<columns>[\w., ]+)")


@contextmanager
def storage_errors(table: str) -> Iterator[None]:
    """Run database work, re-raising driver and SQLAlchemy errors as :class:`StorageError`.

    A value refused by one of our column types (``types.py``) surfaces from SQLAlchemy wrapped in
    a ``StatementError``; it is unwrapped so its own field and reason reach the caller.
    """
    try:
        yield
    except sa_exc.DBAPIError as exc:
        raise StorageError(_field_of(exc, table), _reason_of(exc)) from exc
    except sa_exc.StatementError as exc:
        if isinstance(exc.orig, SutureError):
            raise exc.orig from exc
        raise StorageError(table, str(exc.orig or exc)) from exc
    except sa_exc.SQLAlchemyError as exc:
        raise StorageError(table, str(exc)) from exc


def _field_of(exc: sa_exc.DBAPIError, table: str) -> str:
    diag = getattr(exc.orig, "diag", None)  # psycopg 3 names the column and the constraint
    if diag is not None:
        where = getattr(diag, "table_name", None) or table
        column = getattr(diag, "column_name", None)
        constraint = getattr(diag, "constraint_name", None)
        if column:
            return f"{where}.{column}"
        if constraint:
            # Foreign keys are named fk_<table>_<column> (tables.py naming convention).
            prefix = f"fk_{where}_"
            if constraint.startswith(prefix):
                return f"{where}.{constraint.removeprefix(prefix)}"
            return str(constraint)
    match = _SQLITE_COLUMNS.search(str(exc.orig))
    if match:
        return match.group("columns").strip()
    return table


def _reason_of(exc: sa_exc.DBAPIError) -> str:
    text = str(exc.orig).strip().splitlines()
    reason = text[0] if text else type(exc.orig).__name__
    if isinstance(exc, sa_exc.IntegrityError):
        return f"integrity constraint violated: {reason}"
    return reason
