"""NATS JetStream as the event stream: the stream, its subjects and the workers' shared consumer.

DESIGN.md §8. The database is the source of truth; the stream carries only the news that an
event was committed, to spread the work over many ``suture worker`` processes:

- Subjects are ``<prefix>.<facility or "system">.<event type>`` (``suture.events.FAC-1.supply.
  usage.recorded``), so a consumer may filter by facility or type; a facility's characters that
  NATS reserves (``.``, ``*``, ``>``, whitespace) become ``_``.
- Each message carries the envelope JSON (``eventlog.envelope.to_json``; the relay writes it
  from the stored row, the payload text copied, ``stored_to_json``) and the header
  ``Nats-Msg-Id`` = event id: JetStream drops a second publication of the same id within
  ``duplicate_window`` (docs.nats.io, JetStream "Message Deduplication"), which is what makes a
  relay's republication after a crash cheap.
- Workers share one durable pull consumer with explicit acknowledgement; a message not
  acknowledged within ``ack_wait`` is redelivered, at most ``max_deliver`` times (after that the
  database sweep still finds the work). At most ``max_ack_pending`` messages are delivered and
  not yet acknowledged at once, over all workers.

Errors, NATS's own mapped at this boundary (STYLE.md habit 9)::

    SutureError
    └── StreamError   NATS refused or did not answer; ``field`` names the operation
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext, api

from suture.domain.errors import SutureError
from suture.eventlog.envelope import Envelope
from suture.services.event_store import OutboxEvent

#: The header JetStream de-duplicates on.
MSG_ID = "Nats-Msg-Id"
#: The facility token of an event with no facility (a system-wide source).
SYSTEM = "system"

_RESERVED = re.compile(r"[^A-Za-z0-9_\-]")
#: What NATS's protocol cannot carry in a subject (nats-py's own check, ``_validate_subject``).
_NOT_IN_SUBJECT = re.compile(r"[ \t\r\n]")
#: The header of a JetStream status message, and the status of an idle heartbeat.
_STATUS = "Status"
_HEARTBEAT = "100"
#: How JetStream's acknowledgement of a stored publication begins (``{"stream":"S","seq":1}``).
_STORED = b'{"stream":'

log = logging.getLogger("suture.nats")


class StreamError(SutureError):
    """NATS refused an operation or did not answer in time."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamSettings:
    """Where the stream is and how it behaves; ``bootstrap`` builds it from ``SUTURE_NATS_*``."""

    url: str
    stream: str = "SUTURE"
    subject_prefix: str = "suture.events"
    consumer: str = "suture-workers"
    duplicate_window: timedelta = timedelta(minutes=2)
    max_age: timedelta = timedelta(days=7)
    ack_wait: timedelta = timedelta(seconds=60)
    max_deliver: int = 10
    #: Messages delivered and not yet acknowledged, over every worker: each holds a batch being
    #: processed and the next one fetched (``WorkerOptions.prefetch``), 1,000 at the default
    #: batch of 500, where the server's own default (1,000) would starve a second worker.
    max_ack_pending: int = 20_000
    publish_timeout: timedelta = timedelta(seconds=10)
    #: How long :meth:`NatsEventStream.connect` keeps trying a server that refuses or does not
    #: answer at start-up before it gives up (after a drop, the connection retries for ever).
    connect_deadline: timedelta = timedelta(seconds=30)


def subject_of(event: Envelope | OutboxEvent, prefix: str) -> str:
    """The subject an event is published on: prefix, facility token, event type.

    Raises :class:`StreamError` for a type or prefix with whitespace, which NATS's protocol
    cannot carry in a subject (the client's own check, which the connection skips: every
    subject it publishes to is checked here or is the server's reply subject).
    """
    return _subject(prefix, event.source_facility, event.type)


@functools.lru_cache(maxsize=4096)
def _subject(prefix: str, facility: str | None, event_type: str) -> str:
    """:func:`subject_of`, made once per facility and type rather than once per event."""
    token = _RESERVED.sub("_", facility) if facility else SYSTEM
    subject = f"{prefix}.{token}.{event_type}"
    if _NOT_IN_SUBJECT.search(subject):
        raise StreamError("subject", "an event type or prefix with whitespace")
    return subject


def event_id_of(message: Msg) -> str | None:
    """The event id a stream message is about (its ``Nats-Msg-Id``, else its envelope's id)."""
    if message.headers and message.headers.get(MSG_ID):
        return message.headers[MSG_ID]
    try:
        document = json.loads(message.data)
    except ValueError:
        return None
    found = document.get("id") if isinstance(document, dict) else None
    return found if isinstance(found, str) else None


@asynccontextmanager
async def nats_errors(operation: str) -> AsyncIterator[None]:
    """Map NATS's exceptions (and its timeouts) to :class:`StreamError` naming ``operation``."""
    try:
        yield
    except (nats.errors.Error, TimeoutError) as error:
        raise StreamError(operation, f"{type(error).__name__}: {error}") from error


class NatsEventStream:
    """One connection to NATS: publishes envelopes and fetches for the shared consumer."""

    def __init__(self, settings: StreamSettings, client: Client) -> None:
        self.settings = settings
        self._client = client
        self._js: JetStreamContext = client.jetstream(
            timeout=settings.publish_timeout.total_seconds()
        )
        self._pull: _Pull | None = None
        self._acks: _Acks | None = None

    @classmethod
    async def connect(cls, settings: StreamSettings) -> NatsEventStream:
        """Connect (reconnecting for ever after a drop) and make sure stream and consumer exist.

        Raises :class:`StreamError` (``connect``) with the last refusal when no server answered
        within ``settings.connect_deadline``: nats-py itself, told to reconnect for ever, also
        retries a first connection for ever, logging a traceback at each attempt.
        """
        failures: list[Exception] = []  # the last one only: a long outage keeps calling

        async def failed(error: Exception) -> None:
            failures[:] = [error]
            log.warning("NATS connection failed: %s: %s; retrying", type(error).__name__, error)

        deadline = settings.connect_deadline.total_seconds()
        async with nats_errors("connect"):
            try:
                # Subjects are checked by ``subject_of`` once per facility and type, not by the
                # client on every publication and acknowledgement (two regular expressions each).
                client = await asyncio.wait_for(
                    nats.connect(
                        settings.url, max_reconnect_attempts=-1, connect_timeout=5,
                        allow_reconnect=True, skip_subject_validation=True, error_cb=failed,
                    ),
                    deadline,
                )  # fmt: skip
            except TimeoutError:
                last = f": {type(failures[-1]).__name__}: {failures[-1]}" if failures else ""
                reason = f"no server accepted a connection within {deadline:g} s{last}"
                raise StreamError("connect", reason) from None
        stream = cls(settings, client)
        try:
            await stream.ensure()
        except BaseException:
            await client.close()
            raise
        return stream

    @property
    def subjects(self) -> str:
        return f"{self.settings.subject_prefix}.>"

    async def ensure(self) -> None:
        """Create the stream and the durable consumer, or bring their settings up to date."""
        s = self.settings
        config = api.StreamConfig(
            name=s.stream,
            subjects=[self.subjects],
            storage=api.StorageType.FILE,
            retention=api.RetentionPolicy.LIMITS,
            duplicate_window=s.duplicate_window.total_seconds(),
            max_age=s.max_age.total_seconds(),
        )
        consumer = api.ConsumerConfig(
            durable_name=s.consumer,
            ack_policy=api.AckPolicy.EXPLICIT,
            deliver_policy=api.DeliverPolicy.ALL,
            ack_wait=s.ack_wait.total_seconds(),
            max_deliver=s.max_deliver,
            max_ack_pending=s.max_ack_pending,
            filter_subject=self.subjects,
        )
        async with nats_errors("stream"):
            try:
                await self._js.stream_info(s.stream)
            except nats.js.errors.NotFoundError:
                await self._js.add_stream(config)
            else:
                await self._js.update_stream(config)
            await self._js.add_consumer(s.stream, consumer)

    async def publish(self, envelopes: Sequence[Envelope]) -> int:
        """Publish every envelope and wait for JetStream's acknowledgements; how many were new.

        Raises :class:`StreamError` unless every one was stored (or recognised as a duplicate).
        """
        return await self.publish_stored([OutboxEvent.of(envelope) for envelope in envelopes])

    async def publish_stored(self, events: Sequence[OutboxEvent]) -> int:
        """:meth:`publish` for events as the relay reads them from the log, their JSON made."""
        prefix = self.settings.subject_prefix
        async with nats_errors("publish"):
            if self._acks is None:
                acks = _Acks(self._client)
                await acks.start()
                self._acks = acks
            return await self._acks.publish(
                [(subject_of(event, prefix), event.json, event.id) for event in events],
                self.settings.publish_timeout.total_seconds(),
            )

    async def fetch(self, batch: int, timeout: float) -> list[Msg]:
        """Up to ``batch`` messages for the shared consumer; empty when none came in ``timeout``."""
        async with nats_errors("fetch"):
            if self._pull is None:
                pull = _Pull(self._client, self.settings.stream, self.settings.consumer)
                await pull.start()
                self._pull = pull
            return await self._pull.fetch(batch, timeout)

    async def info(self) -> api.StreamInfo:
        async with nats_errors("stream"):
            return await self._js.stream_info(self.settings.stream)

    async def consumer_info(self) -> api.ConsumerInfo:
        async with nats_errors("consumer"):
            found: api.ConsumerInfo = await self._js.consumer_info(
                self.settings.stream, self.settings.consumer
            )
        return found

    async def purge(self) -> None:
        """Drop every message of the stream (operations; the database still holds the work)."""
        async with nats_errors("purge"):
            await self._js.purge_stream(self.settings.stream)

    async def delete(self) -> None:
        """Delete the stream and its consumer (tests, decommissioning)."""
        async with nats_errors("delete"):
            await self._js.delete_stream(self.settings.stream)

    async def close(self) -> None:
        async with nats_errors("close"):
            if self._pull is not None:
                await self._pull.stop()
                self._pull = None
            if self._acks is not None:
                await self._acks.stop()
                self._acks = None
        await self._client.close()


class _Batch:
    """The acknowledgements awaited for one :meth:`_Acks.publish`."""

    def __init__(self, count: int) -> None:
        self.left = set(range(count))
        self.new = 0
        self.errors: list[str] = []
        self.done = asyncio.Event()
        if not count:
            self.done.set()


class _Acks:
    """JetStream publications acknowledged through one subscription with a callback.

    What nats-py's ``publish_async`` does (each message with a reply subject of its own, its
    acknowledgement JetStream's answer there), without its per-message machinery: a future, a
    semaphore, a random token and a parsed ``PubAck`` each, and an event-loop turn per
    acknowledgement to resolve its future, which beside the worker's database threads cost
    about as much as the publication itself. The replies of a batch are ``<inbox>.<batch>.<i>``;
    the callback counts them and wakes the batch once, when every one has come.
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self._inbox = client.new_inbox()
        self._batches: dict[str, _Batch] = {}
        self._sequence = 0
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        self._subscription = await self._client.subscribe(f"{self._inbox}.*.*", cb=self._acked)

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None

    async def publish(self, messages: Sequence[tuple[str, bytes, str]], timeout: float) -> int:
        """Publish (subject, data, message id) each; how many JetStream stored as new."""
        self._sequence += 1
        key = str(self._sequence)
        batch = self._batches[key] = _Batch(len(messages))
        try:
            for i, (subject, data, message_id) in enumerate(messages):
                await self._client.publish(
                    subject, data, f"{self._inbox}.{key}.{i}", headers={MSG_ID: message_id}
                )
            await asyncio.wait_for(batch.done.wait(), timeout)
        finally:
            del self._batches[key]
        if batch.errors:
            raise StreamError("publish", f"{len(batch.errors)} refused, first: {batch.errors[0]}")
        return batch.new

    async def _acked(self, message: Msg) -> None:
        key, _, index = message.subject[len(self._inbox) + 1 :].partition(".")
        batch = self._batches.get(key)
        if batch is None or not index.isdigit() or int(index) not in batch.left:
            return  # a batch given up on, or an answer already counted
        batch.left.discard(int(index))
        status = message.headers.get(_STATUS) if message.headers else None
        if status is not None:  # 503: no stream listens on the subject
            batch.errors.append(f"status {status}")
        elif _stored_as_new(message.data):
            batch.new += 1
        else:
            try:
                answer = json.loads(message.data)
            except ValueError:
                answer = {"error": {"description": "an answer that is not JSON"}}
            if not isinstance(answer, dict):
                answer = {"error": {"description": "an answer that is not a JSON object"}}
            if "error" in answer:
                error = answer["error"]
                batch.errors.append(f"{error.get('code')} {error.get('description')}")
            elif not answer.get("duplicate"):
                batch.new += 1
        if not batch.left:
            batch.done.set()


def _stored_as_new(answer: bytes) -> bool:
    """Whether JetStream's answer is the common one, ``{"stream":"S", "seq":1}``: stored, not a
    duplicate, no error. Told without parsing it (a JSON parse per publication, 20,000 for
    20,000 events); any other answer is parsed."""
    return answer.startswith(_STORED) and b'"error"' not in answer and b'"duplicate"' not in answer


class _Pull:
    """Pull requests to the durable consumer, their messages gathered by a callback.

    What nats-py's pull subscription does (``fetch``: first a request that returns what is
    there, ``no_wait``; only when nothing was, one that waits up to the timeout), but nats-py
    waits for each message with a task of its own (``next_msg`` under ``wait_for``): about
    75 µs of CPU a message and an event-loop turn each, which beside the worker's database
    threads (each turn waiting for the GIL) took a 500-message batch about 3 times as long as
    here. Here one subscription on ``<inbox>.*`` appends the messages as they come, and a fetch
    waits once, for its batch or for its request's end: the status JetStream sends then
    (``404`` nothing there, ``408`` expired or ``no_wait`` with fewer than asked, ``409`` refused).

    Each request has a reply subject of its own, so a late status of an earlier request ends
    nothing; a late message of one (a request given up on at the timeout) is kept for the next
    fetch rather than left to redelivery. Messages kept when the worker stops are redelivered
    after ``ack_wait``, as nats-py's pending ones were.
    """

    def __init__(self, client: Client, stream: str, consumer: str) -> None:
        self._client = client
        self._subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self._inbox = client.new_inbox()
        self._requests = 0
        self._request = ""
        self._wanted = 0
        self._messages: list[Msg] = []
        self._answered = asyncio.Event()
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        self._subscription = await self._client.subscribe(f"{self._inbox}.*", cb=self._delivered)

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None

    async def _delivered(self, message: Msg) -> None:
        status = message.headers.get(_STATUS) if message.headers else None
        if status is None:
            self._messages.append(message)
            if len(self._messages) >= self._wanted:
                self._answered.set()
        elif status != _HEARTBEAT and message.subject == self._request:
            self._answered.set()  # the request is over: what came is all it brings

    async def fetch(self, batch: int, timeout: float) -> list[Msg]:
        if len(self._messages) < batch:
            await self._ask(batch - len(self._messages), timeout, wait=False)
        if not self._messages:
            await self._ask(batch, timeout, wait=True)
        taken, self._messages = self._messages[:batch], self._messages[batch:]
        return taken

    async def _ask(self, count: int, timeout: float, *, wait: bool) -> None:
        """Send a pull request for ``count`` messages; return once answered or at ``timeout``."""
        self._requests += 1
        self._request = f"{self._inbox}.{self._requests}"
        self._wanted = len(self._messages) + count
        self._answered.clear()
        request: dict[str, int | bool] = {"batch": count}
        if wait:
            request["expires"] = int(timeout * 1_000_000_000)
        else:
            request["no_wait"] = True
        await self._client.publish(self._subject, json.dumps(request).encode(), self._request)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._answered.wait(), timeout)


__all__ = [
    "MSG_ID",
    "NatsEventStream",
    "StreamError",
    "StreamSettings",
    "event_id_of",
    "nats_errors",
    "subject_of",
]
