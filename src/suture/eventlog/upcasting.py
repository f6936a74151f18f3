"""Upcasters: old payloads brought, one version at a time, to the latest version of their type.

Events are never rewritten in the log; a reader upcasts what it reads (the eventsourcing
library's approach). A step is a pure function from the JSON form of version N to the JSON form
of version N+1; a chain applies the steps in order and refuses to skip a missing one, so a payload
is never read under a version it was not brought to.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from suture.eventlog.errors import SchemaError, UpcastError

#: One step: the JSON form of version N in, the JSON form of version N+1 out.
UpcastStep = Callable[[dict[str, Any]], dict[str, Any]]


class Upcaster:
    """The registered steps, per event type and the version each step starts from."""

    def __init__(self) -> None:
        self._steps: dict[str, dict[int, UpcastStep]] = {}

    def register(self, event_type: str, from_version: int, step: UpcastStep) -> None:
        """Register the step ``from_version`` → ``from_version + 1`` of ``event_type``."""
        if from_version < 1:
            raise SchemaError("from_version", f"{from_version} is not a version ≥ 1")
        steps = self._steps.setdefault(event_type, {})
        if from_version in steps:
            raise SchemaError(event_type, f"an upcaster from v{from_version} is already registered")
        steps[from_version] = step

    def step(self, event_type: str, from_version: int) -> Callable[[UpcastStep], UpcastStep]:
        """Decorator form of :meth:`register`."""

        def decorate(step: UpcastStep) -> UpcastStep:
            self.register(event_type, from_version, step)
            return step

        return decorate

    def has_step(self, event_type: str, from_version: int) -> bool:
        return from_version in self._steps.get(event_type, {})

    def latest(self, event_type: str, version: int) -> int:
        """The version the chain of ``event_type`` ends at (``version`` itself if no steps)."""
        return max(version, max(self._steps.get(event_type, {}), default=0) + 1)

    def upcast(
        self, event_type: str, version: int, payload: dict[str, Any], *, to: int | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Bring ``payload`` from ``version`` to ``to`` (default: the latest) step by step.

        The caller's payload is not modified. :class:`UpcastError` names the missing step, or
        refuses a payload newer than ``to`` (a reader cannot downcast).
        """
        target = self.latest(event_type, version) if to is None else to
        if version > target:
            raise UpcastError(
                event_type, f"v{version} is newer than v{target}, the latest this reader knows"
            )
        current = copy.deepcopy(payload)
        steps = self._steps.get(event_type, {})
        for from_version in range(version, target):
            step = steps.get(from_version)
            if step is None:
                raise UpcastError(
                    event_type,
                    f"no upcaster from v{from_version} to v{from_version + 1} "
                    f"(reading a v{version} payload)",
                )
            current = step(current)
        return target, current
