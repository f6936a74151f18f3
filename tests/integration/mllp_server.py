"""A real MLLP listener in a process of its own, for the "ACK only after commit" test.

``python mllp_server.py DATABASE_URL BLOCK_AT`` serves on a free port and prints ``listening
PORT``. With ``BLOCK_AT`` = N > 0, the N-th commit of the ingest's units of work writes
``blocked`` on stdout and then hangs instead of committing, so the test can SIGKILL the process
between a write and its commit (1: the raw bytes' store, 2: the transaction that applies them).
The hook lives here, in the test's server script, never in production code.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.bootstrap import build
from suture.config import Settings
from suture.entrypoints.mllp import MllpThread
from suture.services.hl7_ingest import Hl7Ingest
from suture.services.inbox import Inbox
from suture.services.phi import PhiTokenizer

SECRET = "crash-test-secret"


class BlockingUnitOfWork:
    """A unit of work whose commit hangs when it is the N-th commit of the process."""

    commits = 0
    block_at = 0
    lock = threading.Lock()

    def __init__(self, inner: SqlAlchemyUnitOfWork) -> None:
        self._inner = inner

    def __enter__(self) -> BlockingUnitOfWork:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def commit(self, *, durable: bool = True) -> None:
        with BlockingUnitOfWork.lock:
            BlockingUnitOfWork.commits += 1
            blocked = BlockingUnitOfWork.commits == BlockingUnitOfWork.block_at
        if blocked:
            print("blocked", flush=True)
            while True:
                time.sleep(60)
        self._inner.commit(durable=durable)


def main() -> None:
    url, block_at = sys.argv[1], int(sys.argv[2])
    BlockingUnitOfWork.block_at = block_at
    hub = build(Settings(database_url=url, secret_key=SECRET))

    def uow() -> Any:
        return BlockingUnitOfWork(SqlAlchemyUnitOfWork(hub.engine))

    ingest = Hl7Ingest(uow, Inbox(uow), hub.bus, PhiTokenizer(SECRET), hub.clock)
    listener = MllpThread(ingest, "127.0.0.1", 0)
    port = listener.start()
    print(f"listening {port}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
