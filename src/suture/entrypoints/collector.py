"""The garbage collector's settings for a long-running process: ``serve`` and ``worker``.

Once a process has started (modules imported, the app, its routes and schemas, compiled
statements and validators built), what it built lives as long as the process. Left in the
collector's sight, each full collection walks all of it again on some request's or batch's
time: a latency tail of tens of milliseconds in ``suture serve``, and about a sixth of the
usage pipeline's CPU (``benchmarks/usage_pipeline.py``). :func:`settle_collector` moves it out
of sight and makes young collections rarer; both commands call it once their start-up is done,
and the benchmarks call it where they stand for one of them.
"""

from __future__ import annotations

import gc

#: Young-generation collections every 50,000 allocations instead of 700: a request or a batch
#: allocates thousands of short-lived objects, and each collection is a pause on its time.
LONG_RUN_GC_THRESHOLDS = (50_000, 20, 100)


def settle_collector() -> None:
    """Freeze what start-up built out of full collections and raise the young threshold.

    Call it once, after start-up and before the loop that serves or works: objects created
    later are collected as usual (only the thresholds differ).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*LONG_RUN_GC_THRESHOLDS)
