"""The root of Suture's error tree and the domain's errors.

Every error Suture raises descends from :class:`SutureError` and names the field it is about and
the reason, so that a person reading a work-queue item or a CLI message knows what to fix::

    SutureError
    └── DomainError                  a rule of the canonical model is broken (field, reason)
        ├── InvalidIdentifierError   GTIN, GLN, HIBC or UNSPSC fails its format or check character
        ├── UnitConversionError      a unit of measure the item does not know, or no conversion
        ├── CrosswalkConflictError   a local code already maps to another canonical id
        ├── NotAuthoritativeError    a write from a system that does not own the object type
        └── UnbalancedJournalError   debits and credits of a journal entry differ

Adapters and services add their own branches under :class:`SutureError` (for example
``StorageError`` and ``ImportRowError``); third-party exceptions are mapped at the boundary.
"""

from __future__ import annotations


class SutureError(Exception):
    """Root of every error Suture raises on purpose."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


class DomainError(SutureError):
    """A rule of the canonical model is broken."""


class InvalidIdentifierError(DomainError):
    """An identifier (GTIN, GLN, HIBC, UNSPSC) fails its format or check character."""


class UnitConversionError(DomainError):
    """A quantity cannot be converted between two units of measure of an item."""


class CrosswalkConflictError(DomainError):
    """A local code already maps to a different canonical id."""


class NotAuthoritativeError(DomainError):
    """A system tried to write an object type that another system owns (DESIGN.md §1)."""


class UnbalancedJournalError(DomainError):
    """A journal entry whose debits and credits differ."""
