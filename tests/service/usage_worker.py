"""A worker process of the usage workflow, for the crash-resume test.

Run as a script, it drives the bus of ``usage_world.build_bus`` over ``--database-url`` until no
work is due, then exits. With ``--die-in cost_attribution`` it SIGKILLs itself inside the
workflow's second step, after the step wrote its journal, delivery and expected charge and
before the transaction commits: the moment "stock moved, journal not yet posted"::

    python tests/service/usage_worker.py --database-url sqlite:///x.db --die-in cost_attribution
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta

from usage_world import build_bus, drain

from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.eventlog.envelope import Envelope
from suture.services.handlers import HandlerContext
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows import usage
from suture.services.workflows.usage_cost import CostSettings


def _die_after_writing() -> None:
    """Both forms of the cost step (one event, batch) go through ``usage.attribute_costs``."""
    attribute_costs = usage.attribute_costs

    def dying(
        batch: Sequence[tuple[Envelope, HandlerContext]], uow: UnitOfWork, settings: CostSettings
    ) -> None:
        attribute_costs(batch, uow, settings)
        os.kill(os.getpid(), signal.SIGKILL)

    usage.attribute_costs = dying


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--die-in", choices=["cost_attribution"])
    args = parser.parse_args(argv)
    if args.die_in:
        _die_after_writing()
    engine = create_engine(args.database_url)
    try:
        # A short lease: the restarted worker must find the dead one's claims due again at once
        # (the bus leases claimed items until their batch settles; a dead worker never does).
        drain(build_bus(lambda: SqlAlchemyUnitOfWork(engine), lease=timedelta(milliseconds=200)))
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
