"""WAL checkpoints of the embedded SQLite file, in a thread of their own.

In WAL mode a commit appends to the ``-wal`` file; a *checkpoint* copies those pages back into
the database file and syncs it to disk. SQLite runs one by default inside whichever commit pushes
the WAL past 1,000 pages, so that one commit waits for the copy and two ``fsync`` calls: on a
shared virtual disk, milliseconds. An ingest that commits hundreds of times a second (the MLLP
listener's group commit, docs/hl7v2.md) then spends most of its time in other commits'
checkpoints.

:class:`WalCheckpointer` takes that work off the commit path: the engine's connections set
``wal_autocheckpoint=0`` and this thread runs ``PRAGMA wal_checkpoint(PASSIVE)`` on a connection
of its own every ``interval``. A passive checkpoint never blocks a writer or a reader; it copies
what it can, and the next round copies the rest. Durability is unchanged (``engine.py``): with
``synchronous=NORMAL`` a commit survives a crash of the process; a power cut may lose the commits
since the last checkpoint, which now runs at least every ``interval``.

When the thread is stopped (the engine disposed), connections opened afterwards checkpoint
themselves again, so an engine used after :meth:`stop` never lets its WAL grow unbounded.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

DEFAULT_INTERVAL = 0.1  # seconds

log = logging.getLogger("suture.db")


class WalCheckpointer:
    """Passive WAL checkpoints of one SQLite file, every ``interval`` seconds, off the commit
    path (module docstring). :attr:`running` tells the engine's connections whether to leave
    checkpoints to it."""

    def __init__(self, path: Path, interval: float = DEFAULT_INTERVAL) -> None:
        self._uri = f"{path.expanduser().resolve().as_uri()}?mode=rw"  # never creates the file
        self._interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._stopping.is_set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current round; a last checkpoint runs on the way out."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while True:
                stopping = self._stopping.wait(self._interval)
                connection = connection or self._connect()
                if connection is not None:
                    self._checkpoint(connection)
                if stopping:
                    return
        finally:
            if connection is not None:
                connection.close()

    def _connect(self) -> sqlite3.Connection | None:
        try:
            connection = sqlite3.connect(
                self._uri, uri=True, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error:  # not created yet: the engine has not connected
            return None
        try:
            connection.execute("PRAGMA busy_timeout=1000")
        except sqlite3.Error:  # not (yet) a database: try again next round
            connection.close()
            return None
        return connection

    @staticmethod
    def _checkpoint(connection: sqlite3.Connection) -> None:
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as error:  # busy or locked: the next round copies it
            log.debug("SQLite checkpoint skipped: %s", type(error).__name__)
