"""The backlog of the workers' shared consumer, read for ``suture status`` (DESIGN.md §8).

Read-only and short: it connects once (no reconnecting), asks JetStream for the durable
consumer's info, and disconnects. It creates nothing, unlike ``NatsEventStream.connect``, which
makes sure the stream and consumer exist. A server that is down, or a consumer no worker has
created yet, is reported in :attr:`ConsumerLag.error` rather than raised: status is what an
operator runs when something is wrong.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import nats
import nats.errors
import nats.js.errors

from suture.adapters.nats.stream import StreamSettings
from suture.services.status import ConsumerLag


async def read_consumer_lag(settings: StreamSettings, *, timeout: float = 5.0) -> ConsumerLag:
    """The consumer's pending, ack-pending and redelivered counts, or why they are missing."""
    unknown = ConsumerLag(stream=settings.stream, consumer=settings.consumer)
    try:  # nats-py keeps retrying a refused first connection: the deadline is ours
        client = await asyncio.wait_for(
            nats.connect(
                settings.url, connect_timeout=timeout, allow_reconnect=False,
                max_reconnect_attempts=0, error_cb=_quiet,
            ),
            timeout,
        )  # fmt: skip
    except TimeoutError:
        return replace(unknown, error=f"cannot connect: no server answered within {timeout:g} s")
    except (nats.errors.Error, OSError) as error:
        return replace(unknown, error=f"cannot connect: {type(error).__name__}: {error}")
    try:
        jetstream = client.jetstream(timeout=timeout)
        info = await jetstream.consumer_info(settings.stream, settings.consumer)
    except nats.js.errors.NotFoundError:
        return replace(unknown, error="no such stream or consumer (no worker has run yet)")
    except (nats.errors.Error, TimeoutError) as error:
        return replace(unknown, error=f"{type(error).__name__}: {error}")
    finally:
        await client.close()
    return replace(
        unknown, pending=info.num_pending, ack_pending=info.num_ack_pending,
        redelivered=info.num_redelivered,
    )  # fmt: skip


async def _quiet(error: Exception) -> None:
    """nats-py's error callback; without one it logs each refused connection with a trace."""


def consumer_lag(settings: StreamSettings, *, timeout: float = 5.0) -> ConsumerLag:
    """:func:`read_consumer_lag` from synchronous code (the command line)."""
    return asyncio.run(read_consumer_lag(settings, timeout=timeout))


__all__ = ["consumer_lag", "read_consumer_lag"]
