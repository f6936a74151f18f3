"""A worker process of the three-way match, for the crash-resume test.

Run as a script, it drives the bus of ``match_world.build_bus`` over ``--database-url`` until no
work is due, then exits. With ``--die-in three_way_match`` it SIGKILLs itself inside the match,
after a run wrote the match state, the invoice's status, its voucher delivery and its event, and
before the transaction commits::

    python tests/service/match_worker.py --database-url sqlite:///x.db --die-in three_way_match
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from match_world import build_bus, drain

from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.services.workflows.three_way_match import MatchRun, ThreeWayMatch


def _die_after_writing() -> None:
    run = ThreeWayMatch.run

    def dying(self: ThreeWayMatch, *args: Any, **kwargs: Any) -> MatchRun:
        run(self, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")

    ThreeWayMatch.run = dying  # type: ignore[method-assign]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--die-in", choices=["three_way_match"])
    args = parser.parse_args(argv)
    if args.die_in:
        _die_after_writing()
    engine = create_engine(args.database_url)
    try:
        # A short lease: the restarted worker must find the dead one's claims due again at once.
        bus, _ = build_bus(lambda: SqlAlchemyUnitOfWork(engine), lease=timedelta(milliseconds=200))
        drain(bus)
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
