"""The batch reconciliation in DuckDB: the rule of ``domain/reconciliation.py``, in SQL.

``reconcile_files`` reads the inputs (CSV or Parquet, by suffix) with DuckDB's built-in readers
(no extension is downloaded at run time), computes every line's verdict into a table of an
on-disk scratch database (so a period larger than memory spills instead of failing; memory is
capped by ``memory_limit``), then answers the summary and writes the unmatched lines as
``unmatched.parquet`` and ``unmatched.csv`` (and, asked, every line as ``lines.parquet``).

Statements are composed with f-strings from this module's own constants, file paths (quoted)
and numbers, never from a user's text; that is why the ``S608`` warnings are silenced here.

The SQL follows the Python rule step by step; ``tests/service/test_reconciliation_batch.py``
runs both on generated data and compares each line's verdict:

1. keys of the usage side with their span (earliest time minus the window, latest plus it),
   usage quantity and cost;
2. each charge signed (credits negative) and marked *in play* when it falls within its key's
   span; nets per key and play;
3. usage lines covered in (time, id) order by a running sum (a window function), unbilled
   quantity, outcome, and revenue at risk priced from the chargemaster on the day of use
   (``round_even``: half-even to the cent, as ``Decimal.quantize`` does);
4. charge lines given their key's verdict.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory

import duckdb

from suture.domain.reconciliation import UNMATCHED, Outcome, Side
from suture.services.reconciliation_batch import (
    BatchSummary,
    OutcomeCount,
    Progress,
    ReconcileInput,
)

USAGE_TYPES = {
    "id": "VARCHAR", "facility_id": "VARCHAR", "encounter_token": "VARCHAR",
    "cdm_code": "VARCHAR", "quantity": "DECIMAL(18,4)", "cost": "DECIMAL(18,4)",
    "used_at": "TIMESTAMP",
}  # fmt: skip
CHARGE_TYPES = {
    "id": "VARCHAR", "facility_id": "VARCHAR", "encounter_token": "VARCHAR",
    "cdm_code": "VARCHAR", "quantity": "DECIMAL(18,4)", "amount": "DECIMAL(18,4)",
    "service_at": "TIMESTAMP", "transaction_type": "VARCHAR",
}  # fmt: skip
PRICE_TYPES = {
    "facility_id": "VARCHAR", "cdm_code": "VARCHAR", "effective_from": "DATE",
    "effective_to": "DATE", "unit_price": "DECIMAL(18,4)",
}  # fmt: skip

#: The rule, one statement a step; ``{window}`` is an INTERVAL expression.
_RULE = (
    # Usage lines (a view: the file is read again rather than held in memory); a usage without
    # an encounter is a key of its own.
    """CREATE VIEW u AS
    SELECT id, facility_id, coalesce(encounter_token, 'none:' || id) AS enc, cdm_code,
           quantity, cost, used_at
    FROM usage_in""",
    # 1. Keys of the usage side: span, usage quantity and cost, and how many lines share it.
    """CREATE TEMP TABLE k AS
    SELECT facility_id, enc, cdm_code, min(used_at) - {window} AS lo,
           max(used_at) + {window} AS hi, sum(quantity) AS used, sum(cost) AS cost,
           count(*) AS lines
    FROM u GROUP BY facility_id, enc, cdm_code""",
    # 2. Charges signed and marked in play; nets per key and play.
    """CREATE TEMP TABLE c AS
    SELECT ch.id, ch.facility_id, ch.encounter_token AS enc, ch.cdm_code, ch.service_at,
           CASE WHEN ch.transaction_type = 'CD' THEN -abs(ch.quantity)
                ELSE abs(ch.quantity) END AS q,
           CASE WHEN ch.transaction_type = 'CD' THEN -abs(ch.amount)
                ELSE abs(ch.amount) END AS a,
           coalesce(ch.service_at BETWEEN k.lo AND k.hi, false) AS in_play,
           k.used, k.cost
    FROM charges_in ch
    LEFT JOIN k ON ch.facility_id = k.facility_id AND ch.encounter_token = k.enc
               AND ch.cdm_code = k.cdm_code""",
    """CREATE TEMP TABLE n AS
    SELECT facility_id, enc, cdm_code, in_play, sum(q) AS charged, sum(a) AS billed
    FROM c GROUP BY facility_id, enc, cdm_code, in_play""",
    # 3. Usage lines with their key's figures; the running sum of the lines before each one in
    # (time, id) order, computed only where a key has several lines (a window function sorts).
    """CREATE TEMP TABLE ul AS
    SELECT u.id, u.facility_id, u.enc, u.cdm_code, u.quantity, u.used_at, k.lines,
           k.used, k.cost AS key_cost,
           coalesce(n.charged, 0) AS charged, coalesce(n.billed, 0) AS billed
    FROM u
    JOIN k ON u.facility_id = k.facility_id AND u.enc = k.enc AND u.cdm_code = k.cdm_code
    LEFT JOIN n ON n.in_play AND u.facility_id = n.facility_id AND u.enc = n.enc
               AND u.cdm_code = n.cdm_code""",
    "DROP VIEW u",  # each step's input is dropped once used, to keep memory for the next
    "DROP TABLE k",
    """CREATE TEMP TABLE uc AS
    SELECT *, least(quantity, greatest(0, charged - before)) AS covered FROM (
        SELECT *, CAST(0 AS DECIMAL(38,4)) AS before FROM ul WHERE lines = 1
        UNION ALL
        SELECT *, coalesce(sum(quantity) OVER (
                   PARTITION BY facility_id, enc, cdm_code ORDER BY used_at, id
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
        FROM ul WHERE lines > 1
    )""",
    "DROP TABLE ul",
    # The chargemaster as segments: from each start or end of a price, the price then in force
    # (of those covering the day, the latest to start; NULL where none does), so that each
    # line finds its day's price with one ASOF join.
    """CREATE TEMP TABLE price_segments AS
    WITH points AS (
        SELECT facility_id, cdm_code, effective_from AS s FROM prices_in
        UNION
        SELECT facility_id, cdm_code, CAST(effective_to + 1 AS DATE) FROM prices_in
        WHERE effective_to IS NOT NULL
    )
    SELECT pt.facility_id, pt.cdm_code, pt.s,
           arg_max(p.unit_price, p.effective_from) AS unit_price
    FROM points pt
    LEFT JOIN prices_in p ON p.facility_id = pt.facility_id AND p.cdm_code = pt.cdm_code
         AND p.effective_from <= pt.s AND (p.effective_to IS NULL OR pt.s <= p.effective_to)
    GROUP BY pt.facility_id, pt.cdm_code, pt.s""",
    # 4. Verdicts: usage lines, priced where unbilled, then charge lines.
    """CREATE OR REPLACE TABLE results AS
    WITH ur AS (
        SELECT 'usage' AS side, id AS line_id, facility_id, enc AS encounter_key, cdm_code,
               used_at AS line_at, quantity,
               CASE WHEN covered = 0 AND quantity <> 0 THEN 'usage_without_charge'
                    WHEN quantity - covered <> 0 THEN 'quantity_mismatch'
                    WHEN charged >= used AND billed < key_cost THEN 'charge_below_cost'
                    ELSE 'matched' END AS outcome,
               CAST(quantity - covered AS DECIMAL(18,4)) AS unbilled
        FROM uc
    )
    SELECT *, CAST(0 AS DECIMAL(18,2)) AS revenue_at_risk FROM ur WHERE unbilled = 0
    UNION ALL
    SELECT ur.*, CAST(round_even(ur.unbilled * ps.unit_price, 2) AS DECIMAL(18,2))
    FROM ur ASOF LEFT JOIN price_segments ps
      ON ur.facility_id = ps.facility_id AND ur.cdm_code = ps.cdm_code
     AND CAST(ur.line_at AS DATE) >= ps.s
    WHERE ur.unbilled <> 0
    UNION ALL
    SELECT 'charge', c.id, c.facility_id, c.enc, c.cdm_code, c.service_at, c.q,
           CASE WHEN NOT c.in_play THEN
                    CASE WHEN n.charged > 0 THEN 'charge_without_usage' ELSE 'credited' END
                WHEN n.charged <= 0 THEN 'credited'
                WHEN n.charged <> c.used THEN 'quantity_mismatch'
                WHEN n.billed < c.cost THEN 'charge_below_cost'
                ELSE 'matched' END,
           CAST(0 AS DECIMAL(18,4)), CAST(0 AS DECIMAL(18,2))
    FROM c
    JOIN n ON c.facility_id = n.facility_id AND c.enc = n.enc AND c.cdm_code = n.cdm_code
          AND c.in_play = n.in_play""",
    "DROP TABLE uc",
    "DROP TABLE c",
    "DROP TABLE n",
)


def _reader(path: Path, types: dict[str, str]) -> str:
    """A DuckDB table function reading ``path`` with the columns typed as ``types``."""
    quoted = str(path).replace("'", "''")
    if path.suffix == ".parquet":
        columns = ", ".join(f"CAST({name} AS {kind}) AS {name}" for name, kind in types.items())
        return f"(SELECT {columns} FROM read_parquet('{quoted}'))"  # noqa: S608 - see docstring
    spec = ", ".join(f"'{name}': '{kind}'" for name, kind in types.items())
    return f"read_csv('{quoted}', header = true, columns = {{{spec}}})"


def _inputs(con: duckdb.DuckDBPyConnection, files: ReconcileInput) -> None:
    """Views over the usage and charge files; the (small) price list loaded as a table."""
    usage = _reader(files.usage, USAGE_TYPES)
    charges = _reader(files.charges, CHARGE_TYPES)
    prices = _reader(files.prices, PRICE_TYPES) if files.prices else _empty(PRICE_TYPES)
    con.execute(f"CREATE VIEW usage_in AS SELECT * FROM {usage}")  # noqa: S608
    con.execute(f"CREATE VIEW charges_in AS SELECT * FROM {charges}")  # noqa: S608
    con.execute(f"CREATE TABLE prices_in AS SELECT * FROM {prices}")  # noqa: S608


def _empty(types: dict[str, str]) -> str:
    columns = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in types.items())
    return f"(SELECT {columns} WHERE false)"


class DuckDbReconciler:
    """:class:`~suture.services.reconciliation_batch.Reconciler` in DuckDB."""

    def __init__(self, *, memory_limit: str = "1GB", threads: int | None = None) -> None:
        self.memory_limit = memory_limit
        self.threads = threads

    def reconcile_files(
        self,
        files: ReconcileInput,
        *,
        window: timedelta,
        out_dir: Path | None,
        report_from: datetime | None = None,
        report_to: datetime | None = None,
        include_matched: bool = False,
        progress: Progress | None = None,
    ) -> BatchSummary:
        with TemporaryDirectory(prefix="suture-duckdb-") as scratch:
            con = duckdb.connect(":memory:")
            try:
                self._configure(con, Path(scratch))
                step = _Steps(progress, 4 if out_dir is not None else 3)
                _inputs(con, files)
                step()
                micros = int(window / timedelta(microseconds=1))
                for statement in _RULE:
                    con.execute(statement.format(window=f"to_microseconds({micros})"))
                step()
                where = _period(report_from, report_to)
                counts = _counts(con, where)
                step()
                written: list[Path] = []
                if out_dir is not None:
                    written = _export(con, out_dir, where, include_matched=include_matched)
                    step()
            finally:
                con.close()
        return BatchSummary(report_from, report_to, None, counts, written)

    def _configure(self, con: duckdb.DuckDBPyConnection, scratch: Path) -> None:
        con.execute(f"SET memory_limit = '{self.memory_limit}'")
        con.execute(f"SET temp_directory = '{scratch / 'spill'}'")
        con.execute("SET preserve_insertion_order = false")
        if self.threads is not None:
            con.execute(f"SET threads = {int(self.threads)}")


class _Steps:
    def __init__(self, progress: Progress | None, total: int) -> None:
        self._progress = progress
        self._total = total
        self._done = 0

    def __call__(self) -> None:
        self._done += 1
        if self._progress is not None:
            self._progress("reconcile", self._done, self._total)


def _period(start: datetime | None, end: datetime | None) -> str:
    """The filter of the lines reported: those whose own time is in the period."""
    clauses = ["true"]
    if start is not None:
        clauses.append(f"line_at >= TIMESTAMP '{_naive(start)}'")
    if end is not None:
        clauses.append(f"line_at < TIMESTAMP '{_naive(end)}'")
    return " AND ".join(clauses)


def _naive(at: datetime) -> str:
    """A UTC instant as a DuckDB timestamp literal (the inputs hold naive UTC)."""
    utc = at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo is not None else at
    return utc.isoformat(sep=" ", timespec="microseconds")


def _counts(con: duckdb.DuckDBPyConnection, where: str) -> dict[tuple[Side, Outcome], OutcomeCount]:
    rows = con.execute(
        f"""SELECT side, outcome, count(*), coalesce(sum(unbilled), 0),
                   coalesce(sum(revenue_at_risk), 0),
                   count(*) FILTER (WHERE unbilled <> 0 AND revenue_at_risk IS NULL)
            FROM results WHERE {where} GROUP BY side, outcome"""  # noqa: S608
    ).fetchall()
    return {
        (Side(side), Outcome(outcome)): OutcomeCount(
            int(lines), Decimal(unbilled), Decimal(at_risk), int(unpriced)
        )
        for side, outcome, lines, unbilled, at_risk, unpriced in rows
    }


def _export(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    where: str,
    *,
    include_matched: bool,
) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    unmatched = ", ".join(f"'{outcome.value}'" for outcome in sorted(UNMATCHED))
    columns = (
        "side, line_id, facility_id, encounter_key, cdm_code, line_at, quantity, outcome, "
        "unbilled, "
        "revenue_at_risk"
    )
    select = f"SELECT {columns} FROM results WHERE {where}"  # noqa: S608 - see docstring
    targets = [
        (out_dir / "unmatched.parquet", f"{select} AND outcome IN ({unmatched})", "PARQUET"),
        (out_dir / "unmatched.csv", f"{select} AND outcome IN ({unmatched})", "CSV, HEADER"),
    ]
    if include_matched:
        targets.append((out_dir / "lines.parquet", select, "PARQUET"))
    for path, query, options in targets:
        quoted = str(path).replace("'", "''")
        con.execute(f"COPY ({query} ORDER BY side, line_id) TO '{quoted}' (FORMAT {options})")
    return [path for path, _, _ in targets]
