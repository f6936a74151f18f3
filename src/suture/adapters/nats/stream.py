"""NATS JetStream as the event stream: the stream, its subjects and the workers' shared consumer.

DESIGN.md §8. The database is the source of truth; the stream carries only the news that an
event was committed, to spread the work over many ``suture worker`` processes:

- Subjects are ``<prefix>.<facility or "system">.<event type>`` (``suture.events.FAC-1.supply.
  usage.recorded``), so a consumer may filter by facility or type; a facility's characters that
  NATS reserves (``.``, ``*``, ``>``, whitespace) become ``_``.
- Each message carries the envelope JSON (``eventlog.envelope.to_json``) and the header
  ``Nats-Msg-Id`` = event id: JetStream drops a second publication of the same id within
  ``duplicate_window`` (docs.nats.io, JetStream "Message Deduplication"), which is what makes a
  relay's republication after a crash cheap.
- Workers share one durable pull consumer with explicit acknowledgement; a message not
  acknowledged within ``ack_wait`` is redelivered, at most ``max_deliver`` times (after that the
  database sweep still finds the work).

Errors, NATS's own mapped at this boundary (STYLE.md habit 9)::

    SutureError
    └── StreamError   NATS refused or did not answer; ``field`` names the operation
"""

from __future__ import annotations

import asyncio
import json
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
from nats.js import JetStreamContext, api

from suture.domain.errors import SutureError
from suture.eventlog.envelope import Envelope, to_json

#: The header JetStream de-duplicates on.
MSG_ID = "Nats-Msg-Id"
#: The facility token of an event with no facility (a system-wide source).
SYSTEM = "system"

_RESERVED = re.compile(r"[^A-Za-z0-9_\-]")


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
    publish_timeout: timedelta = timedelta(seconds=10)


def subject_of(envelope: Envelope, prefix: str) -> str:
    """The subject an event is published on: prefix, facility token, event type."""
    facility = envelope.source_facility
    token = _RESERVED.sub("_", facility) if facility else SYSTEM
    return f"{prefix}.{token}.{envelope.type}"


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
        self._subscription: JetStreamContext.PullSubscription | None = None

    @classmethod
    async def connect(cls, settings: StreamSettings) -> NatsEventStream:
        """Connect (reconnecting for ever after a drop) and make sure stream and consumer exist."""
        async with nats_errors("connect"):
            client = await nats.connect(
                settings.url, max_reconnect_attempts=-1, connect_timeout=5, allow_reconnect=True
            )
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
        prefix = self.settings.subject_prefix
        async with nats_errors("publish"):
            pending = [
                await self._js.publish_async(
                    subject_of(envelope, prefix),
                    to_json(envelope),
                    headers={MSG_ID: str(envelope.id)},
                )
                for envelope in envelopes
            ]
            timeout = self.settings.publish_timeout.total_seconds()
            acks = await asyncio.wait_for(asyncio.gather(*pending), timeout)
        return sum(not ack.duplicate for ack in acks)

    async def fetch(self, batch: int, timeout: float) -> list[Msg]:
        """Up to ``batch`` messages for the shared consumer; empty when none came in ``timeout``."""
        async with nats_errors("fetch"):
            if self._subscription is None:
                self._subscription = await self._js.pull_subscribe_bind(
                    durable=self.settings.consumer, stream=self.settings.stream
                )
            try:
                return await self._subscription.fetch(batch, timeout=timeout)
            except TimeoutError:  # nats-py raises its own or asyncio's: nothing came
                return []

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
        if self._subscription is not None:
            async with nats_errors("close"):
                await self._subscription.unsubscribe()
            self._subscription = None
        await self._client.close()


__all__ = [
    "MSG_ID",
    "NatsEventStream",
    "StreamError",
    "StreamSettings",
    "event_id_of",
    "nats_errors",
    "subject_of",
]
