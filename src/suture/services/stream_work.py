"""A stream worker's two sources of work: delivered events, and the database's sweep.

DESIGN.md §8: a stream (NATS JetStream) tells workers *which events* to look at; the database
says *what is to be done* (``handler_work``) and whether it was done (tracking rows). So a
delivered event runs, through :meth:`MessageBus.process_due` (a fetched batch in one
transaction, reading its work too), exactly the work that is pending and due for it among
this bus's handlers, and a redelivery finds nothing left to do.

Failures are scheduled in the database only. A failed attempt is recorded by the bus with its
``next_attempt_at`` (or parked, or dead-lettered); the stream message is acknowledged anyway and
:func:`sweep` runs the retry when it is due. One schedule, not two: NATS redelivery delays would
duplicate the retry policy, fight ``max_deliver`` against ``bus_max_attempts``, and could not
re-drive parked work, exception retries or replays, which have no stream message at all.

:func:`sweep` claims (with a lease, like the embedded dispatcher) the due work the stream does
not carry: work made due after its event was published (retries, re-drives, replays) and work
pending longer than ``stale_after`` (a message lost, a stream purged, ``max_deliver`` spent).
Nothing is lost, because the database holds the work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from suture.services.event_store import WorkItem
from suture.services.messagebus import MessageBus, Processing


def process_delivered(bus: MessageBus, event_ids: Sequence[str]) -> int:
    """Run the pending, due work of delivered events for the bus's handlers; how many items.

    One transaction reads the work and runs it (:meth:`MessageBus.process_due`), as one batch.
    """
    if not event_ids:
        return 0
    return bus.process_due(event_ids)


def process_items(bus: MessageBus, items: Sequence[WorkItem]) -> list[Processing]:
    """Run the items through the bus's one exactly-once code path, as one batch; what became of
    each (:meth:`MessageBus.process_many`: one transaction, a failure taken back alone)."""
    if not items:
        return []
    return bus.process_many([(item.handler, item.event_id) for item in items])


def sweep(
    bus: MessageBus,
    limit: int,
    *,
    stale_after: timedelta,
    lease: timedelta = timedelta(minutes=1),
) -> int:
    """Claim and process up to ``limit`` items the stream does not carry; how many were claimed."""
    now = bus.clock()
    with bus.uow() as uow:
        items = uow.events.claim_unstreamed(
            now,
            limit,
            handlers=bus.handler_names,
            stale_before=now - stale_after,
            lease_until=now + lease,
        )
        uow.commit(durable=False)  # a claim, as the bus's (``MessageBus._batch``)
    process_items(bus, items)
    return len(items)


__all__ = ["process_delivered", "process_items", "sweep"]
