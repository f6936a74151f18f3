"""The inbox: store before acknowledge (DESIGN.md §3, guarantee 1; STYLE.md habit 2).

Every inbound edge (MLLP listener, HTTP endpoint, file drop) hands the bytes it read to
:meth:`Inbox.receive` and acknowledges the sender only after that call returned: by then the raw
bytes are committed, so a crash afterwards loses nothing, and decoding runs from the stored copy.
The same bytes from the same interface are recognised as a duplicate delivery, acknowledged again
and not processed twice (``Received.is_duplicate``); the same bytes from another interface are a
message of their own.

Status changes go through :func:`mark_message`, inside the caller's unit of work, so a handler
marks a message ``processed`` in the same transaction as its effects; :meth:`Inbox.mark` is the
same in a transaction of its own. The domain decides which changes are allowed
(``domain/messages.py``).

PHI: raw bytes may hold patient identifiers. Nothing here logs, and no error message quotes raw
content or a status reason; callers must keep the ``reason`` they pass PHI-free. Errors::

    SutureError
    ├── DomainError
    │   └── MessageTransitionError   a status change the domain forbids (field "status")
    └── InboxError
        └── UnknownMessageError      no stored message has the id (field "message_id")
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from suture.domain.errors import SutureError
from suture.domain.messages import InboundMessage, MessageStatus, require_aware
from suture.eventlog.ids import Uuid7Sequence
from suture.services.unit_of_work import UnitOfWork
from suture.services.unmanaged_traffic import TrafficMonitor

#: Makes the id of a message received at the given instant.
IdFactory = Callable[[datetime], str]


class InboxError(SutureError):
    """The inbox cannot do what was asked."""


class UnknownMessageError(InboxError):
    """No stored inbound message has this id."""


class Arrival(NamedTuple):
    """Bytes an edge read, and where from: one message of :meth:`Inbox.receive_many`."""

    raw: bytes
    interface: str
    source_system: str


class Received(NamedTuple):
    """What :meth:`Inbox.receive` stored, or found stored; a tuple ``(message, is_duplicate)``.

    For a new message ``message.raw`` holds the bytes; for a duplicate it is the stored message
    without its bytes (they are the bytes just received, by checksum).
    """

    message: InboundMessage
    is_duplicate: bool


def uuid7_ids() -> IdFactory:
    """UUIDv7 ids from the receive time, strictly increasing within this process."""
    sequence = Uuid7Sequence()
    return lambda received_at: str(sequence(received_at))


class Inbox:
    """The use cases of the inbox over a unit of work factory; each call is one transaction."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        new_id: IdFactory | None = None,
        traffic: TrafficMonitor | None = None,
    ) -> None:
        self._uow = uow_factory
        self._new_id = new_id or uuid7_ids()
        self._traffic = traffic or TrafficMonitor()

    def receive(
        self,
        raw: bytes,
        *,
        format: str,
        interface: str,
        source_system: str,
        received_at: datetime,
        trace_id: str | None = None,
        facility_id: str | None = None,
    ) -> Received:
        """Commit ``raw`` as a message of ``interface``, or find it there already; then return.

        ``received_at`` is when the edge finished reading (aware). Without a ``trace_id`` the
        message starts a trace of its own, its id in 32 hex digits (an OpenTelemetry trace id).
        """
        with self._uow() as uow:
            received = self.store(
                uow, raw, format=format, interface=interface, source_system=source_system,
                received_at=received_at, trace_id=trace_id, facility_id=facility_id,
            )  # fmt: skip
            uow.commit()
        return received

    def store(
        self,
        uow: UnitOfWork,
        raw: bytes,
        *,
        format: str,
        interface: str,
        source_system: str,
        received_at: datetime,
        trace_id: str | None = None,
        facility_id: str | None = None,
    ) -> Received:
        """:meth:`receive` within ``uow``'s transaction, for an edge that commits more with the
        message (the event that starts its decoding); the caller commits."""
        require_aware("received_at", received_at)  # before it becomes part of an id
        message_id = self._new_id(received_at)
        message = InboundMessage.received(
            id=message_id,
            format=format,
            interface=interface,
            source_system=source_system,
            raw=raw,
            received_at=received_at,
            trace_id=trace_id or message_id.replace("-", ""),
            facility_id=facility_id,
        )
        stored, is_duplicate = uow.inbox.add_if_new(message)
        if not is_duplicate:
            self._traffic.record(uow, [stored])
        return Received(stored, is_duplicate)

    def receive_many(
        self,
        arrivals: Sequence[Arrival],
        *,
        format: str,
        received_at: datetime,
    ) -> builtins.list[Received]:
        """:meth:`receive` for a group in one transaction (group commit): every message is
        committed before this returns, one :class:`Received` per arrival, in order. The same
        bytes twice in the group are stored once; the later arrival is the duplicate."""
        require_aware("received_at", received_at)
        messages = []
        for arrival in arrivals:
            message_id = self._new_id(received_at)
            messages.append(
                InboundMessage.received(
                    id=message_id,
                    format=format,
                    interface=arrival.interface,
                    source_system=arrival.source_system,
                    raw=arrival.raw,
                    received_at=received_at,
                    trace_id=message_id.replace("-", ""),
                )
            )
        with self._uow() as uow:
            outcomes = uow.inbox.add_many_if_new(messages)
            self._traffic.record(uow, [stored for stored, duplicate in outcomes if not duplicate])
            uow.commit()
        return [Received(stored, is_duplicate) for stored, is_duplicate in outcomes]

    def mark(
        self,
        message_id: str,
        status: MessageStatus,
        reason: str | None,
        at: datetime,
        *,
        correlation_id: str | None = None,
        facility_id: str | None = None,
    ) -> InboundMessage:
        """Move a message to ``status`` and commit; see :func:`mark_message`."""
        with self._uow() as uow:
            changed = mark_message(
                uow,
                message_id,
                status,
                reason,
                at,
                correlation_id=correlation_id,
                facility_id=facility_id,
            )
            uow.commit()
        return changed

    def get(self, message_id: str, *, with_raw: bool = False) -> InboundMessage:
        """The stored message, its raw bytes loaded only when ``with_raw``."""
        with self._uow() as uow:
            found = uow.inbox.get(message_id, with_raw=with_raw)
        if found is None:
            raise UnknownMessageError("message_id", f"no inbound message {message_id!r}")
        return found

    def counts(self, *, interface: str | None = None) -> dict[MessageStatus, int]:
        """Messages per status, every status present (``suture status``)."""
        with self._uow() as uow:
            return uow.inbox.count_by_status(interface=interface)

    def list(
        self,
        *,
        status: MessageStatus | None = None,
        interface: str | None = None,
        received_since: datetime | None = None,
        received_before: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> builtins.list[InboundMessage]:
        """A page of messages without raw bytes, ordered by id; the next page is ``after`` its
        last id. ``received_since`` is inclusive, ``received_before`` exclusive."""
        with self._uow() as uow:
            return uow.inbox.list(
                status=status,
                interface=interface,
                received_since=received_since,
                received_before=received_before,
                after=after,
                limit=limit,
            )

    def by_correlation_id(
        self, correlation_id: str, *, after: str | None = None, limit: int = 100
    ) -> builtins.list[InboundMessage]:
        """The messages of one business key (``suture trace``), without raw bytes."""
        with self._uow() as uow:
            return uow.inbox.by_correlation_id(correlation_id, after=after, limit=limit)


def mark_message(
    uow: UnitOfWork,
    message_id: str,
    status: MessageStatus,
    reason: str | None,
    at: datetime,
    *,
    correlation_id: str | None = None,
    facility_id: str | None = None,
) -> InboundMessage:
    """Move a stored message to ``status`` within ``uow``'s transaction; the caller commits.

    The message is locked until that commit, so two workers cannot both move it from the same
    status. Raises :class:`UnknownMessageError` or
    :class:`~suture.domain.messages.MessageTransitionError`.
    """
    current = uow.inbox.get(message_id, lock=True)
    if current is None:
        raise UnknownMessageError("message_id", f"no inbound message {message_id!r}")
    changed = current.transition(
        status, reason=reason, at=at, correlation_id=correlation_id, facility_id=facility_id
    )
    uow.inbox.save_status(changed)
    return changed


def unprocessed_of(payload: dict[str, Any], uow: UnitOfWork, format: str) -> InboundMessage | None:
    """The stored message a ``message.received`` payload names, with its raw bytes and locked
    until ``uow`` ends, when it is of ``format`` and not processed yet; else None (another
    format's, gone, or done). The first step of each format's handler of re-driven messages."""
    if payload.get("format") != format:
        return None
    message = uow.inbox.get(str(payload["message_id"]), with_raw=True, lock=True)
    if message is None or message.status is MessageStatus.PROCESSED:
        return None
    return message
