"""Serve the HTTP application on uvicorn in a thread of its own.

``suture serve`` runs several edges in one process (DESIGN.md §8, embedded default): the
dispatcher in the main thread, the MLLP listener in a thread with its own event loop, and this
one. uvicorn installs signal handlers only in the main thread, so here the command's own
handlers stay in charge and :meth:`HttpThread.stop` asks the server to finish its requests.
"""

from __future__ import annotations

import threading

import uvicorn
from fastapi import FastAPI

#: Seconds :meth:`HttpThread.start` waits for the socket to be bound.
START_TIMEOUT = 30.0


class HttpThread:
    """uvicorn serving ``app`` on ``host:port`` (port 0: any free one) in a daemon thread."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        # log_config None: uvicorn's own config would give its loggers a plain-text handler and
        # stop them propagating, so its lines would bypass the structured (JSON) log handler.
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="http", daemon=True)

    def start(self) -> int:
        """Start serving; returns the bound port. Raises ``OSError`` when it cannot listen."""
        self._thread.start()
        waited = 0.0
        while not self._server.started:
            if not self._thread.is_alive():
                raise OSError("the HTTP server stopped before it was listening")
            self._thread.join(0.05)
            waited += 0.05
            if waited > START_TIMEOUT:
                raise OSError(f"the HTTP server was not listening after {START_TIMEOUT:g} s")
        sockets = [s for server in self._server.servers for s in server.sockets]
        return int(sockets[0].getsockname()[1])

    def stop(self) -> None:
        """Finish the requests in flight, close the socket, wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
