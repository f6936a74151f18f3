"""FHIR data types read into the canonical model's types: Decimal money and quantities, UTC
times and dates, the edge's :class:`Settings`, and deterministic record ids.

Money is refused without a currency, or in a currency other than the hub's (the canonical model
carries amounts without one, so a EUR amount in a USD hub would be silently wrong); quantities
with a comparator (``<``, ``>=``) are not counts. A date without a time is the start of that day
in the facility's zone; a partial date (``2017``, ``2017-01``) cannot place a charge or a usage
in time and is refused. Errors name the element and never quote its value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from hashlib import blake2b
from typing import Any

from suture.domain.authority import DEFAULT_OWNERS, ObjectType
from suture.formats.fhir.errors import fail

_PERSON = b"suture.fhir"
_SEPARATOR = "\x1f"


@dataclass(frozen=True, slots=True)
class Settings:
    """What the edge knows that the resource does not say.

    ``facility_id``: the facility the sending client is scoped to; ``zone``: that facility's
    time zone; ``currency``: the hub's currency (ISO 4217); ``source_system``: the system the
    records are recorded as coming from, checked by the authority registry (DESIGN.md §1); when
    None, each record names the default owner of its type (charges ``rcm``, usage
    ``clinical``, invoices ``erp``, requisitions ``procurement``); ``default_location``: where
    usage without a location happened, when the interface says.
    """

    facility_id: str
    zone: tzinfo = UTC
    currency: str = "USD"
    source_system: str | None = None
    default_location: str | None = None

    def source_for(self, object_type: ObjectType) -> str:
        """The system a record of ``object_type`` is recorded as coming from."""
        return self.source_system or DEFAULT_OWNERS[object_type]


def record_id(prefix: str, *parts: str) -> str:
    """``prefix-`` and 20 hex digits derived from a natural key (BLAKE2b; never change _PERSON)."""
    key = _SEPARATOR.join(parts).encode("utf-8", "surrogatepass")
    return f"{prefix}-" + blake2b(key, digest_size=10, person=_PERSON).hexdigest().upper()


#: The canonical model keeps money and quantities exactly as NUMERIC(18, 4): at most 4 decimal
#: places and 14 digits before them (as the CSV codec's ``cells.py``). A FHIR decimal beyond
#: that is refused here, at its element, rather than by the database after the message is stored.
_QUANTUM = Decimal("0.0001")
_LIMIT = Decimal(10) ** 14


def decimal(value: Any, path: str) -> Decimal:
    """A FHIR decimal the canonical model can hold exactly (see ``_QUANTUM`` and ``_LIMIT``)."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise fail("value", f"{path} is not a decimal", path) from None
    if not number.is_finite() or abs(number) >= _LIMIT:
        raise fail("value", f"{path} must be less than 10^14", path)
    if number.quantize(_QUANTUM) != number:  # cannot overflow: the bound above leaves room
        raise fail("value", f"{path} has more than 4 decimal places", path)
    return number


def money(value: Any, path: str, settings: Settings) -> Decimal | None:
    """A Money's amount in the hub's currency; None when the element is absent."""
    if value is None:
        return None
    if value.value is None:
        raise fail("required", f"{path}.value is required", f"{path}.value")
    if not value.currency:
        raise fail(
            "required", f"{path}.currency is required: money needs a currency", f"{path}.currency"
        )
    if value.currency != settings.currency:
        reason = f"{path}.currency must be {settings.currency}, the currency of this hub"
        raise fail("business-rule", reason, f"{path}.currency")
    return decimal(value.value, f"{path}.value")


def quantity(value: Any, path: str, *, default_uom: str = "EA") -> tuple[Decimal, str]:
    """A Quantity's value and unit code (``code``, else ``unit``, else ``default_uom``)."""
    if value.value is None:
        raise fail("required", f"{path}.value is required", f"{path}.value")
    if value.comparator:
        raise fail("value", f"{path}.comparator: a count cannot be a bound", f"{path}.comparator")
    uom = str(value.code or value.unit or default_uom).strip().upper() or default_uom
    return decimal(value.value, f"{path}.value"), uom


def positive(amount: Decimal, path: str) -> Decimal:
    if amount <= 0:
        raise fail("value", f"{path} must be positive", path)
    return amount


def moment(value: Any, path: str, zone: tzinfo) -> datetime:
    """A FHIR dateTime/date in UTC; a date is midnight in ``zone``; partial dates refused."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=zone).astimezone(UTC)
    raise fail("value", f"{path} must give at least a full date (YYYY-MM-DD)", path)


def day(value: Any, path: str, zone: tzinfo) -> date:
    """The calendar date of a FHIR date/dateTime, in ``zone``."""
    if isinstance(value, datetime):
        return value.astimezone(zone).date()
    if isinstance(value, date):
        return value
    raise fail("value", f"{path} must give at least a full date (YYYY-MM-DD)", path)


def business_id(resource: Any) -> str | None:
    """``system|value`` of the resource's first identifier with a value, else None."""
    for identifier in getattr(resource, "identifier", None) or []:
        if identifier.value:
            return f"{identifier.system or ''}|{identifier.value}"
    return None
