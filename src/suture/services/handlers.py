"""What a handler is, what it may do, and the message bus's branch of the error tree.

A handler is a function ``verb_noun(envelope, uow, context)`` (STYLE.md naming). It reads and
writes through the unit of work it is given and publishes new events through ``context``: its
effects, those events and the bus's tracking row then commit in one transaction, or none of them
does (DESIGN.md §3 guarantee 2). A handler never commits, never opens a unit of work of its own,
and raises to fail: :class:`~suture.eventlog.errors.MissingDependencyError` parks the work on
the missing master data, anything else is retried or dead-lettered
(:func:`~suture.eventlog.errors.classify`). Errors::

    SutureError
    └── BusError                    the bus cannot do what was asked
        ├── BusConfigurationError   unknown handler in a subscription, two handlers for a command
        ├── UnknownCommandError     no handler is registered for the command's type
        └── UnknownWorkError        no work item, event or message has the id given
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import BaseModel

from suture.domain.errors import SutureError
from suture.eventlog.envelope import Envelope
from suture.eventlog.payloads import JsonPayload
from suture.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from suture.services.messagebus import MessageBus


class BusError(SutureError):
    """The message bus cannot do what was asked."""


class BusConfigurationError(BusError):
    """The handlers, subscriptions or commands given to the bus do not fit together."""


class UnknownCommandError(BusError):
    """No command handler is registered for the command's type."""


class UnknownWorkError(BusError):
    """No work item, event or inbound message has the id given."""


class HandlerContext:
    """What a running handler may ask of the bus: publish events caused by what it handles.

    Events published here join the handler's transaction. By default they carry the handled
    event's trace and correlation ids, and its id as ``causation_id`` (DESIGN.md §3 guarantee
    6); a command has no cause, so an event raised by a command handler names its correlation.
    """

    def __init__(
        self, bus: MessageBus, uow: UnitOfWork, cause: Envelope | None, now: datetime
    ) -> None:
        self.bus = bus
        self.uow = uow
        self.cause = cause
        self.now = now

    def publish(self, envelope: Envelope) -> bool:
        """Append ``envelope`` for its subscribers; False if its idempotency key is known."""
        return self.bus.publish(self.uow, envelope)

    def emit(
        self,
        event_type: str,
        payload: dict[str, Any] | BaseModel | JsonPayload,
        *,
        idempotency_key: str,
        schema_version: int | None = None,
        correlation_id: str | None = None,
        trace_id: str | None = None,
        occurred_at: datetime | None = None,
        source_facility: str | None = None,
    ) -> Envelope:
        """Build an event caused by the handled one and publish it; returns the envelope.

        ``source_facility`` defaults to the cause's; ``schema_version`` to the latest the
        bus's registry knows (1 without a registry), or the model's version when ``payload``
        is the event's model, which publishing then does not validate again
        (:meth:`~suture.services.messagebus.MessageBus.envelope`).
        """
        cause = self.cause
        correlation = correlation_id or (cause.correlation_id if cause else None)
        if correlation is None:
            raise BusError("correlation_id", "an event raised by a command needs one")
        envelope = self.bus.envelope(
            event_type,
            payload,
            idempotency_key=idempotency_key,
            schema_version=schema_version,
            correlation_id=correlation,
            trace_id=trace_id or (cause.trace_id if cause else None),
            causation_id=cause.id if cause else None,
            occurred_at=occurred_at or self.now,
            source_facility=source_facility or (cause.source_facility if cause else None),
        )
        self.publish(envelope)
        return envelope


#: Handles one event inside the bus's transaction; raising fails the attempt.
Handler = Callable[[Envelope, UnitOfWork, HandlerContext], None]

#: Optional batch form of a :data:`Handler`: the same effects for several events at once (each
#: with its own context), so that it may write them with one statement. The bus calls it only
#: where a whole batch runs together (no savepoint); when a batch fails, it is rolled back and
#: the one-event form runs each event alone, in a savepoint of its own, so the one-event
#: handler stays the contract and must exist.
BatchHandler = Callable[[Sequence[tuple[Envelope, HandlerContext]], UnitOfWork], None]

#: Handles one command inside one transaction and returns its result to the caller.
CommandHandler = Callable[[Any, UnitOfWork, HandlerContext], Any]


def new_trace_id(event_id: UUID) -> str:
    """A trace id for a story that starts here: the id in 32 hex digits (OpenTelemetry form)."""
    return event_id.hex
