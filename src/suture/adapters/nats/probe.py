"""Is a NATS server there? A readiness probe that speaks just enough of the protocol.

A NATS server greets every new connection with an ``INFO {...}`` line (NATS client protocol,
"INFO"); reading it proves a server, not merely an open port, is listening. Connecting a full
client for a probe would start reconnect loops and subscriptions a probe does not need.
"""

from __future__ import annotations

import asyncio
import os
from urllib.parse import urlsplit

DEFAULT_PORT = 4222


async def nats_reachable(url: str, timeout: float) -> str | None:
    """None when a NATS server answers at ``url`` within ``timeout`` seconds, else why not.

    The reason names the server (host and port) and the failure, never the URL's credentials.
    """
    parts = urlsplit(url.split(",", maxsplit=1)[0].strip())
    host, port = parts.hostname or "127.0.0.1", parts.port or DEFAULT_PORT
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                greeting = await reader.readline()
            finally:
                writer.close()
    except TimeoutError:
        return f"no answer from {host}:{port} in {timeout:g} s"
    except OSError as error:
        return f"cannot connect to {host}:{port}: {_why(error)}"
    if not greeting.startswith(b"INFO "):
        return f"the server at {host}:{port} did not greet as NATS does"
    return None


def _why(error: OSError) -> str:
    """The system's words for the error: asyncio words a refusal "Connect call failed
    ('127.0.0.1', 4222)", which says neither what happened nor anything the host and port
    before it do not."""
    if error.errno is not None:
        return os.strerror(error.errno)
    return error.strerror or type(error).__name__
