"""Re-drive what was parked on master data when the master data appears (DESIGN.md §3 guarantee 4).

:func:`redrive_parked` works inside the caller's unit of work, so a master-data import or a
handler re-drives in the same transaction as the change that cured the dependency;
:meth:`MessageBus.redrive` is the same in a transaction of its own. :func:`redrive_on_mapping`
is the bus handler that does it for every ``crosswalk.mapped`` event, so fixing a mapping
re-drives everything parked on it without anyone asking.
"""

from __future__ import annotations

from datetime import datetime

from suture.eventlog.envelope import Envelope
from suture.eventlog.errors import DependencyKey
from suture.eventlog.events import CrosswalkMapped
from suture.services import exceptions as exception_queue
from suture.services.handlers import HandlerContext
from suture.services.unit_of_work import UnitOfWork

#: The name under which bootstrap registers :func:`redrive_on_mapping`.
REDRIVE_ON_MAPPING = "redrive_on_mapping"


def redrive_parked(uow: UnitOfWork, dependency: DependencyKey, at: datetime) -> int:
    """Make the work parked on ``dependency`` due at ``at`` and resolve its exception items."""
    items = uow.events.redrive(str(dependency), at)
    exception_queue.resolve_for_dependency(
        uow, dependency, at, f"{dependency} appeared; {len(items)} work items re-driven"
    )
    return len(items)


def redrive_on_mapping(envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
    """A local code now maps to a canonical id: re-drive what waited for that mapping."""
    mapped = CrosswalkMapped.model_validate(envelope.payload)
    redrive_parked(uow, mapped.dependency(), context.now)
