"""The HL7 v2 apply alone: instructions (or CPU) per message of ``Hl7Ingest.apply``.

DESIGN.md §10's MLLP target is paid in one writer thread, by the ACK path
(``Hl7Ingest.accept_many``) and the apply between groups (``Hl7Ingest.apply``); this script
isolates the apply. On a fresh SQLite file with one facility, 64 DFT^P03 (two FT1s each) are
accepted in groups of 8 and applied in one batch first (the warm-up: statements built and
prepared, caches filled, as in a running listener), then ``--messages`` are accepted in groups
of 8, as the listener's writer accepts them, and, unless ``--accept-only``, applied in one
batch. The apply's cost is the difference of two runs under callgrind, the second with
``--accept-only`` (the same work up to the apply), divided by ``--messages``::

    PYTHONPATH=src valgrind --tool=callgrind .venv/bin/python benchmarks/hl7_apply.py
    PYTHONPATH=src valgrind --tool=callgrind .venv/bin/python benchmarks/hl7_apply.py \\
        --accept-only

Without callgrind it prints the apply's CPU time per message (``time.process_time``), which
on a shared machine is only a rough figure; run the baseline in the same period.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.bootstrap import build
from suture.config import Settings
from suture.domain.masterdata import Facility
from suture.services.hl7_ingest import Hl7Work
from suture.services.inbox import Arrival

sys.path.insert(0, str(Path(__file__).parent))
from mllp_ingest import dft  # the MLLP benchmark's messages, beside this file

GROUP = 8
WARM_UP = 64


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--accept-only", action="store_true", help="stop before the apply")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="suture-apply-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        hub = build(Settings(database_url=url, secret_key="benchmark-secret"))  # noqa: S106 - a throwaway database
        try:
            with SqlAlchemyUnitOfWork(hub.engine) as uow:
                uow.facilities.add(Facility(id="fac-gh", code="GH", name="General", timezone="UTC"))
                uow.commit()
            ingest = hub.hl7_ingest
            warm = [Arrival(dft(9, number), "mllp", "EPIC") for number in range(WARM_UP)]
            accepted: list[Hl7Work] = []
            for start in range(0, WARM_UP, GROUP):
                accepted += ingest.accept_many(warm[start : start + GROUP]).pending
            ingest.apply(accepted)
            arrivals = [Arrival(dft(n % 8, n), "mllp", "EPIC") for n in range(args.messages)]
            pending: list[Hl7Work] = []
            for start in range(0, args.messages, GROUP):
                pending += ingest.accept_many(arrivals[start : start + GROUP]).pending
            if args.accept_only:
                print(f"accepted {len(pending)}, not applied")
                return
            began = time.process_time()
            applied = ingest.apply(pending)
            seconds = time.process_time() - began
        finally:
            hub.close()
    each = seconds / applied * 1e6
    print(f"applied {applied} of {args.messages} in one batch: {each:,.0f} µs of CPU each")


if __name__ == "__main__":
    main()
