"""Deprecation and sunset of API operations (DESIGN.md §6, "deprecation headers on old versions").

An operation on its way out keeps working until its sunset date and says so on every answer:

- ``Deprecation: @<unix seconds>`` since when it is deprecated (RFC 9745);
- ``Sunset: <HTTP-date>`` when it will stop answering (RFC 8594);
- ``Link: <successor>; rel="successor-version"`` where to go instead, when there is one.

The OpenAPI document marks it ``deprecated`` and the description names both dates, so the
committed contract (``schemas/openapi.json``) records the promise. Use it as a route's
``dependencies=[Depends(deprecated(...))]`` together with ``**deprecation_openapi(...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from typing import Any

from fastapi import Response


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def deprecation_headers(since: date, sunset: date, successor: str | None) -> dict[str, str]:
    """The headers of a deprecated operation's answers."""
    headers = {
        "Deprecation": f"@{int(_instant(since).timestamp())}",
        "Sunset": format_datetime(_instant(sunset), usegmt=True),
    }
    if successor is not None:
        headers["Link"] = f'<{successor}>; rel="successor-version"'
    return headers


def deprecated(
    *, since: date, sunset: date, successor: str | None = None
) -> Callable[[Response], None]:
    """A dependency adding the deprecation headers to the operation's answers."""
    if sunset < since:
        msg = "a sunset date before the deprecation date"
        raise ValueError(msg)
    headers = deprecation_headers(since, sunset, successor)

    def announce(response: Response) -> None:
        response.headers.update(headers)

    return announce


def deprecation_openapi(
    *, since: date, sunset: date, successor: str | None = None
) -> dict[str, Any]:
    """Route keyword arguments marking the operation deprecated in OpenAPI."""
    instead = f" Use `{successor}` instead." if successor else ""
    return {
        "deprecated": True,
        "description": (
            f"Deprecated since {since.isoformat()}; answers until {sunset.isoformat()}.{instead}"
        ),
    }
