"""Batch charge-to-cost reconciliation over 5 M charges × 5 M usage, beside the bare DuckDB join.

DESIGN.md §10: "batch charge-to-cost reconciliation, 5 M charges × 5 M usage: ≤ 1.25 × the bare
DuckDB join on the same data; peak memory ≤ 1.5 GB". In one run:

1. **generate** (not timed against the target): ``--rows`` expected charges (usage) and as many
   charges, plus a chargemaster, written as Parquet by DuckDB itself from ``range()`` with
   integer mixing, so the data is the same for the same ``--rows`` on every machine. The mix per
   ten usage lines: seven billed as used, one billed short (quantity mismatch), one billed below
   cost, one never billed (a missed charge); and per ten charges, one on an encounter with no
   usage (a documentation gap). Encounters hold three lines; 4 facilities, 500 CDM codes.
2. **bare join (inner)**: DuckDB joining the two Parquet files on the key (facility, encounter,
   CDM code) and aggregating the result (count and sums): the least work that still reads every
   row and meets every pair. It reads four columns a side, keeps the pairs only and writes
   nothing: DESIGN.md §10's "bare DuckDB join" read literally, printed as a reference (the
   "cpu x inner" column).
3. **bare full join**, the fair baseline of the product's verdicts: the join the rule needs, a
   full outer join (a line with no partner is a verdict too: an inner join drops the missed
   charges) reading the columns the rule reads (six of usage, seven of charges), aggregated.
4. **product, verdicts**: ``DuckDbReconciler.reconcile_files`` without ``out_dir``: every
   line's verdict (keys with several lines a side found, the rest paired by one full outer
   join, revenue at risk priced on the day) and the summary by side and outcome.
5. **bare full join, files** (``_BARE_FILES``), the fair baseline of the product with files:
   the same full join writing by hand the lines a user of ``--out`` gets (the same 3 M lines,
   the same ten columns) to Parquet, then the Parquet to CSV.
6. **product, with files**: the same as 4, plus ``unmatched.parquet`` and ``unmatched.csv``
   (3 M lines at 5 M × 5 M, about 300 MB of CSV): ``suture reconcile --out`` after its extract.

The fair baselines (issue 5, docs/workflows.md "Throughput") compare like with like: the same
inputs and the outputs the user needs ("cpu x fair").

With ``--several``, lines 2k and 2k+1 take one CDM code, so that where they also share an
encounter they share a key: two lines in three have a partner on their own side (half the keys
hold two lines a side). The batch then takes its hashed path (``duckdb_reconciler``), which
this measures instead; the hand rule of 5 judges one line a side and then writes other lines
than the product (the run says so): not a fair baseline there.

Not measured: the extract from the hub's database, which depends on the database rather than
the rule (``suture reconcile`` streams it in chunks to CSV).

The comparison is like for like: the same Parquet files; each measurement in a fresh child
process of this interpreter, which reports its wall time and its peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``, DuckDB's buffers included) and the CPU time of
the measured call (user and system, every thread), which other work on a shared machine
disturbs less than the wall time; the same DuckDB settings (an in-memory database,
``--threads`` threads, a 1 GB memory limit, a scratch spill directory, insertion order not
preserved, no progress bar). On a shared machine the figures are indicative: ``--repeat`` runs
each measurement several times and keeps the fastest.

    python benchmarks/reconcile_batch.py [--quick] [--rows 5000000] [--threads 2] [--repeat 1]
        [--several]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb

from suture.adapters.analytics.duckdb_reconciler import DuckDbReconciler
from suture.services.reconciliation_batch import ReconcileInput

WINDOW = timedelta(hours=72)
MEMORY_LIMIT = "1GB"

_USAGE = """
COPY (
    SELECT 'U' || i AS id, 'FAC-' || (i // 3 % 4) AS facility_id,
           'E' || (i // 3) AS encounter_token,
           'CDM' || ((i * 7919) % 500) AS cdm_code, CAST(1 + i % 2 AS DECIMAL(18,4)) AS quantity,
           CAST(100 + (i * 37) % 900 AS DECIMAL(18,4)) AS cost,
           TIMESTAMP '2026-03-01' + to_seconds((i * 7907) % (30 * 86400)) AS used_at
    FROM range({rows}) t(i)
) TO '{path}' (FORMAT PARQUET)
"""

# Charge j mirrors usage j: 7 in 10 billed as used, 1 short (j % 10 = 7), 1 below cost (8), and
# the usage j % 10 = 9 is never billed: its charge goes to an encounter with no usage instead.
_CHARGES = """
COPY (
    SELECT 'C' || j AS id, 'FAC-' || (j // 3 % 4) AS facility_id,
           CASE WHEN j % 10 = 9 THEN 'X' || j ELSE 'E' || (j // 3) END AS encounter_token,
           'CDM' || ((j * 7919) % 500) AS cdm_code,
           CAST(CASE WHEN j % 10 = 7 AND j % 2 = 1 THEN 1 ELSE 1 + j % 2 END AS DECIMAL(18,4))
               AS quantity,
           CAST(CASE WHEN j % 10 = 8 THEN 10 ELSE 2000 + (j * 37) % 900 END AS DECIMAL(18,4))
               AS amount,
           TIMESTAMP '2026-03-01' + to_seconds((j * 7907) % (30 * 86400) + 3600 * (j % 48))
               AS service_at,
           'CG' AS transaction_type
    FROM range({rows}) t(j)
) TO '{path}' (FORMAT PARQUET)
"""

_PRICES = """
COPY (
    SELECT 'FAC-' || f AS facility_id, 'CDM' || c AS cdm_code, DATE '2026-01-01' AS effective_from,
           CAST(NULL AS DATE) AS effective_to, CAST(2500 + c AS DECIMAL(18,4)) AS unit_price
    FROM range(4) a(f), range(500) b(c)
) TO '{path}' (FORMAT PARQUET)
"""

_BARE = """
SELECT count(*), sum(u.quantity), sum(c.amount)
FROM read_parquet('{usage}') u
JOIN read_parquet('{charges}') c
  ON u.facility_id = c.facility_id AND u.encounter_token = c.encounter_token
 AND u.cdm_code = c.cdm_code
"""

_FULL = """
SELECT count(*), count(u.id_present), count(c.id_present), sum(u.quantity), sum(u.cost),
       max(u.used_at), sum(c.quantity), sum(c.amount), max(c.service_at),
       count(c.transaction_type)
FROM (SELECT true AS id_present, facility_id, encounter_token, cdm_code, quantity, cost, used_at
      FROM read_parquet('{usage}')) u
FULL JOIN (SELECT true AS id_present, facility_id, encounter_token, cdm_code, quantity, amount,
                  service_at, transaction_type FROM read_parquet('{charges}')) c
  ON u.facility_id = c.facility_id AND u.encounter_token = c.encounter_token
 AND u.cdm_code = c.cdm_code
"""

#: The fair baseline of the product with files: the same full outer join, written out by hand
#: as an analyst would, its unmatched lines copied one row a line, in the product's ten columns
#: (side, line id, facility, encounter, CDM code, time, quantity, outcome, unbilled, revenue at
#: risk) to Parquet, then the Parquet to CSV (as the product does). The hand rule is the
#: benchmark data's (one line a side, every line in the period): a usage line is unmatched when
#: it has no charge, another quantity or less than its cost billed, a charge alike; no window,
#: no credits, no price (the unbilled quantity stands in for the revenue at risk). On this data
#: it writes the same 3 lines in 10 as the product.
_BARE_FILES = (
    """COPY (
    SELECT CASE part WHEN 0 THEN 'usage' ELSE 'charge' END AS side,
           CASE part WHEN 0 THEN u_id ELSE c_id END AS line_id,
           CASE part WHEN 0 THEN u_fac ELSE c_fac END AS facility_id,
           CASE part WHEN 0 THEN u_enc ELSE c_enc END AS encounter_key,
           CASE part WHEN 0 THEN u_cdm ELSE c_cdm END AS cdm_code,
           CASE part WHEN 0 THEN used_at ELSE service_at END AS line_at,
           CASE part WHEN 0 THEN used ELSE charged END AS quantity,
           CASE WHEN part = 0 AND charged IS NULL THEN 'usage_without_charge'
                WHEN part = 1 AND used IS NULL THEN 'charge_without_usage'
                WHEN charged <> used THEN 'quantity_mismatch'
                ELSE 'charge_below_cost' END AS outcome,
           CASE part WHEN 0 THEN used - coalesce(least(charged, used), 0) ELSE 0 END
               AS unbilled,
           CAST(CASE part WHEN 0 THEN used - coalesce(least(charged, used), 0) ELSE 0 END
                AS DECIMAL(18,2)) AS revenue_at_risk
    FROM (
        SELECT *, unnest(CASE WHEN u_bad AND c_bad THEN [0, 1] WHEN u_bad THEN [0] ELSE [1] END)
                      AS part
        FROM (
            SELECT u.id AS u_id, c.id AS c_id, u.facility_id AS u_fac, c.facility_id AS c_fac,
                   u.encounter_token AS u_enc, c.encounter_token AS c_enc,
                   u.cdm_code AS u_cdm, c.cdm_code AS c_cdm, u.used_at, c.service_at,
                   u.quantity AS used, c.quantity AS charged,
                   u.id IS NOT NULL AND (c.id IS NULL OR c.quantity <> u.quantity
                                         OR c.amount < u.cost) AS u_bad,
                   c.id IS NOT NULL AND (u.id IS NULL OR c.quantity <> u.quantity
                                         OR c.amount < u.cost) AS c_bad
            FROM read_parquet('{usage}') u
            FULL JOIN read_parquet('{charges}') c
              ON u.facility_id = c.facility_id AND u.encounter_token = c.encounter_token
             AND u.cdm_code = c.cdm_code)
        WHERE u_bad OR c_bad)
) TO '{out}/unmatched.parquet' (FORMAT PARQUET)""",
    "COPY (FROM read_parquet('{out}/unmatched.parquet')) TO '{out}/unmatched.csv' (FORMAT CSV, "
    "HEADER)",
)

#: ``--several``: lines 2k and 2k+1 take one CDM code (a key of two lines where they also share
#: an encounter).
_SEVERAL = ("'CDM' || ((i * 7919) % 500)", "'CDM' || (((i // 2) * 7919) % 500)")


def generate(directory: Path, rows: int, *, several: bool = False) -> ReconcileInput:
    files = ReconcileInput(
        usage=directory / "usage.parquet",
        charges=directory / "charges.parquet",
        prices=directory / "prices.parquet",
    )
    con = duckdb.connect()
    try:
        usage, charges = _USAGE, _CHARGES
        if several:
            usage = usage.replace(*_SEVERAL)
            charges = charges.replace(*(text.replace("i", "j") for text in _SEVERAL))
        con.execute(usage.format(rows=rows, path=files.usage))
        con.execute(charges.format(rows=rows, path=files.charges))
        con.execute(_PRICES.format(path=files.prices))
    finally:
        con.close()
    return files


#: The reconciler's steps, as its progress reports them.
STEPS = ("open", "judge", "count", "files")


def measure_product(
    directory: Path, threads: int, *, files_out: bool, several: bool
) -> dict[str, object]:
    files = ReconcileInput(
        usage=directory / "usage.parquet",
        charges=directory / "charges.parquet",
        prices=directory / "prices.parquet",
    )
    reconciler = DuckDbReconciler(memory_limit=MEMORY_LIMIT, threads=threads)
    with tempfile.TemporaryDirectory(prefix="suture-product-") as out:
        marks: list[tuple[float, float]] = []
        started, cpu_started = time.perf_counter(), cpu_seconds()
        summary = reconciler.reconcile_files(
            files, window=WINDOW, out_dir=Path(out) if files_out else None,
            progress=lambda _stage, _done, _total: marks.append(
                (time.perf_counter(), cpu_seconds())
            ),
        )  # fmt: skip
        elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    # The reconciler's steps (``STEPS``: inputs opened, lines judged, summary counted, files
    # written), each as [wall s, cpu s].
    split: dict[str, list[float]] = {}
    previous = (started, cpu_started)
    # With files, the one-join path judges the lines as it writes them to Parquet (that
    # statement testing that the path applies), copies them to CSV, then counts them from the
    # file written.
    names = ("open", "parquet", "csv", "count") if files_out and not several else STEPS
    for name, mark in zip(names, marks, strict=False):
        split[name] = [round(mark[0] - previous[0], 3), round(mark[1] - previous[1], 3)]
        previous = mark
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "stages": split,
        "lines": summary.lines,
        "unmatched": summary.unmatched,
        "revenue_at_risk": str(summary.revenue_at_risk),
        "outcomes": {
            f"{s.value}/{o.value}": c.lines for (s, o), c in sorted(summary.counts.items())
        },
    }


def measure_bare(directory: Path, threads: int, queries: tuple[str, ...]) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="suture-bare-") as scratch:
        started, cpu = time.perf_counter(), cpu_seconds()
        con = duckdb.connect(":memory:")
        try:
            # The settings DuckDbReconciler applies to its own connection.
            con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            con.execute(f"SET temp_directory = '{Path(scratch) / 'spill'}'")
            con.execute("SET preserve_insertion_order = false")
            con.execute("SET enable_progress_bar = false")
            con.execute(f"SET threads = {threads}")
            rows = [
                con.execute(
                    query.format(
                        usage=directory / "usage.parquet",
                        charges=directory / "charges.parquet",
                        out=scratch,
                    )
                ).fetchone()
                for query in queries
            ]
        finally:
            con.close()
        elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    return {"seconds": elapsed, "cpu_seconds": cpu, "rows": rows[0][0] if rows[0] else 0}


KINDS = {
    "bare": "bare join (inner)",
    "full": "bare full join",
    "verdicts": "product, verdicts",
    "bare_files": "bare full join, files",
    "files": "product, with files",
}
#: Each measurement's fair baseline (the same inputs, the same outputs a user needs; see the
#: module docstring): the product's verdicts beside the bare full join, its files beside the
#: bare full join writing the same lines.
BASELINE = {
    "bare": "bare", "full": "bare", "verdicts": "full", "bare_files": "full",
    "files": "bare_files",
}  # fmt: skip
_QUERIES = {"bare": (_BARE,), "full": (_FULL,), "bare_files": _BARE_FILES}


def child(kind: str, directory: Path, threads: int, *, several: bool) -> None:
    """Run one measurement in this (fresh) process and print it with the peak RSS as JSON."""
    if kind in _QUERIES:
        result = measure_bare(directory, threads, _QUERIES[kind])
    else:
        result = measure_product(directory, threads, files_out=kind == "files", several=several)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def cpu_seconds() -> float:
    """This process's CPU time so far, user and system, every thread."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def spawn(
    kind: str, directory: Path, threads: int, repeat: int, *, several: bool
) -> dict[str, object]:
    """The fastest of ``repeat`` runs, each in a fresh process (the peak RSS is the highest)."""
    runs: list[dict[str, Any]] = []
    for _ in range(repeat):
        completed = subprocess.run(  # noqa: S603 - this interpreter, this script
            [sys.executable, __file__, "--child", kind, "--dir", str(directory),
             "--threads", str(threads), *(["--several"] if several else [])],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        runs.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda run: float(run["seconds"]))
    best["peak_rss_mb"] = max(float(run["peak_rss_mb"]) for run in runs)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=5_000_000, help="Charges, and usage lines.")
    parser.add_argument("--quick", action="store_true", help="A smoke test: 100,000 rows.")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads (every run).")
    parser.add_argument("--repeat", type=int, default=1, help="Runs of each; the fastest kept.")
    parser.add_argument(
        "--several", action="store_true", help="Two lines a key on each side (the hashed path)."
    )
    parser.add_argument("--child", choices=sorted(KINDS), help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.dir, args.threads, several=args.several)
        return 0
    rows = 100_000 if args.quick else args.rows
    with tempfile.TemporaryDirectory(prefix="suture-reconcile-bench-") as work:
        directory = Path(work)
        started = time.perf_counter()
        generate(directory, rows, several=args.several)
        print(f"generated {rows:,} usage lines and {rows:,} charges as Parquet "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        results: dict[str, dict[str, Any]] = {
            kind: spawn(kind, directory, args.threads, args.repeat, several=args.several)
            for kind in KINDS
        }
    print(f"{'':24}{'wall s':>8}{'cpu s':>8}{'peak RSS MB':>13}{'cpu x inner':>13}"
          f"{'cpu x fair':>12}  fair baseline")  # fmt: skip
    inner = float(results["bare"]["cpu_seconds"])
    for kind, name in KINDS.items():
        seconds = float(results[kind]["seconds"])
        cpu = float(results[kind]["cpu_seconds"])
        rss = float(results[kind]["peak_rss_mb"])
        base = BASELINE[kind]
        fair = cpu / float(results[base]["cpu_seconds"])
        print(f"{name:24}{seconds:>8.2f}{cpu:>8.2f}{rss:>13.0f}{cpu / inner:>13.2f}{fair:>12.2f}"
              f"  {KINDS[base]}")  # fmt: skip
    print("target (DESIGN.md §10): <= 1.25x the bare join, taken as the fair baseline "
          "('cpu x fair', docs/workflows.md); peak RSS <= 1536 MB")  # fmt: skip
    written = (int(results["bare_files"]["rows"]), int(results["files"]["unmatched"]))
    print(f"written: bare {written[0]:,} lines, product {written[1]:,}"
          + ("" if written[0] == written[1] else " (not like for like: the hand rule of the "
             "bare files judges one line a side, which --several's keys do not have)"))  # fmt: skip
    for kind in ("verdicts", "files"):
        stages = ", ".join(
            f"{name} {wall:.2f} s (cpu {cpu:.2f} s)"
            for name, (wall, cpu) in results[kind]["stages"].items()
        )
        print(f"{KINDS[kind]}: {stages}")
    product = results["files"]
    print(f"lines {product['lines']:,}, unmatched {product['unmatched']:,}, "
          f"revenue at risk {product['revenue_at_risk']}")  # fmt: skip
    print(json.dumps(product["outcomes"], indent=None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
