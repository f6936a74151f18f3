"""The clock port: services never read the time themselves, so tests can fix it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def __call__(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


def system_clock() -> datetime:
    return datetime.now(UTC)
