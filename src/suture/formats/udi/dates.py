"""Dates as UDI barcodes print them: two-digit years, day zero, Julian days.

Two-digit years are placed in a 100-year window around ``today`` as GS1 General
Specifications §7.12 prescribes: a year 51 to 99 years ahead of today's is in the previous
century, 50 to 99 years behind is in the next one. HIBC (ANSI/HIBC 2.6) does not state a
window, so the same one is used there. ``today`` is always passed in: codecs read no clock.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

__all__ = ["full_year", "julian_date", "last_day_of_month", "month_date"]


def full_year(two_digits: int, today: date) -> int:
    """The four-digit year for a two-digit ``YY``, per GS1 General Specifications §7.12."""
    century = today.year - today.year % 100
    difference = two_digits - today.year % 100
    if 51 <= difference <= 99:
        return century - 100 + two_digits
    if -99 <= difference <= -50:
        return century + 100 + two_digits
    return century + two_digits


def last_day_of_month(year: int, month: int) -> date:
    """The last day of ``month``: how a date without a day is read as an expiry."""
    return date(year, month, calendar.monthrange(year, month)[1])


def month_date(year: int, month: int, day: int) -> date:
    """``date(year, month, day)``; ``day`` 0 means the month's last day (GS1 §7.12).

    Raises :class:`ValueError` when the date does not exist.
    """
    if day == 0:
        if not 1 <= month <= 12:
            raise ValueError("month out of range")
        return last_day_of_month(year, month)
    return date(year, month, day)


def julian_date(year: int, day_of_year: int) -> date:
    """The date of day ``day_of_year`` (1-based) of ``year``; :class:`ValueError` if none."""
    days = 366 if calendar.isleap(year) else 365
    if not 1 <= day_of_year <= days:
        raise ValueError(f"day of year must be 1 to {days}, got {day_of_year}")
    return date(year, 1, 1) + timedelta(days=day_of_year - 1)
