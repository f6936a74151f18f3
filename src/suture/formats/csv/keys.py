"""Deterministic canonical ids for rows whose file has no id column.

Re-importing a file must find the records the first import wrote, so an id derived from a
row's natural key has to come out the same every time: a name-based UUID (RFC 9562 §5.5, UUIDv5)
under Suture's own namespace. Natural keys are normalised first (case and runs of spaces), as
the same vendor number or catalog number arrives as "v1002" from one export and "V1002 " from
another. The namespace below must never change: every derived id in every database depends on it.
"""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("b80775c3-48ad-4342-93f8-16eb0ea44b34")
_SEPARATOR = "\x1f"  # ASCII unit separator: never part of a real name or catalog number


def _derive(prefix: str, *parts: str) -> str:
    key = _SEPARATOR.join(" ".join(part.split()).casefold() for part in (prefix, *parts))
    return f"{prefix}-{uuid.uuid5(_NAMESPACE, key).hex[:20].upper()}"


def item_id_for(manufacturer: str, catalog_number: str) -> str:
    """The canonical item id of a manufacturer's catalog number (a product, whoever sells it)."""
    return _derive("ITM", manufacturer, catalog_number)


def supplier_id_for(vendor_number: str) -> str:
    """The canonical supplier id of an ERP vendor number."""
    return _derive("SUP", vendor_number)


def contract_id_for(contract_number: str) -> str:
    """The canonical contract id of a contract number."""
    return _derive("CON", contract_number)
