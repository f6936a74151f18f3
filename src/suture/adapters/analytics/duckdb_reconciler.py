"""The batch reconciliation in DuckDB: the rule of ``domain/reconciliation.py``, in SQL.

``reconcile_files`` reads the inputs (CSV or Parquet, by suffix) with DuckDB's built-in readers
(no extension is downloaded at run time) and answers the summary; with files, the verdict on
every line that is not matched is written to ``unmatched.parquet`` as it is judged on the
one-join path (from the table ``verdicts`` on the hashed one), and from that file to
``unmatched.csv`` (asked, every line goes to ``lines.parquet`` first, the unmatched ones from
it). Memory is capped by ``memory_limit``; past it DuckDB spills to a scratch directory.

Statements are composed with f-strings from this module's own constants, file paths (quoted)
and numbers, never from a user's text; that is why the ``S608`` warnings are silenced here.

How (docs/workflows.md, "Batch"), by one of two paths:

- **One join** (``_PAIRS``), when no key has several lines on a side (every usage billed once,
  as in the benchmark's data): one full outer join of the two inputs on the key itself, the
  bare join's condition, and the rule specialised to one line a side judges both lines of each
  row. Without files the summary is counted from those rows by the comparisons each makes (one
  byte, ``_PAIRS_SUMMARY``), and the groups judged here (``_pair_verdicts``). The join's own
  rows tell whether the rule
  applied: a line met by several of the other side's appears in several rows, so a side's rows
  outnumber its lines; a key of several lines on one side only is judged alike line by line
  unless one of them is not positive (``doubtful``). Either seen, that pass is dropped. With
  files, the lines are judged as they are written (``_PAIRS_LINES``), and that statement is
  its own test: its unnest gives an element for each line of each row (and one more for each
  doubtful row), which DuckDB's profiler counts, and that count equals the inputs' lines only
  when the path applies; if not, the file is removed and the hashed path runs. The summary is
  then tallied from the file written: nothing of the 5.5 M rows of the join at 5 M × 5 M is
  kept in a table, no other join runs, and the rule runs once. A sample of each input's first
  lines is looked at first (``_SAMPLE``), so that data where keys of several lines are common
  goes straight to the second path.
- **Hashed** (``_judge_general``), in three statements: 1. the keys with several lines on a
  side, found by one hash aggregate over a 64-bit hash of each line's key (facility, encounter
  key, CDM code): ``shared_keys``; 2. every other key, paired by one full outer join on the
  key's hash (the key itself compared) and judged as above (``_PAIRED``); 3. the keys of step
  1, judged by the general form (``_GENERAL``), which follows the Python rule step by step over
  their lines only: key spans and nets, charges in play, the running coverage in (time, id)
  order (a window function), the charges' verdicts.

Revenue at risk is priced from the chargemaster on the day of use (``round_even``: half-even to
the cent, as ``Decimal.quantize`` does). Matched lines are counted, not stored (in the hashed
path, a side's matched count is its lines in the period less those not matched).
``tests/service/test_reconciliation_batch.py`` holds the batch to the continuous form line by
line on generated data, ``tests/integration/test_duckdb_reconciler.py`` holds both paths to the
pure rule, and ``tests/integration/test_duckdb_reconciler_files.py`` the one-join path with
files to the same batch without files.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import duckdb

from suture.domain.reconciliation import UNMATCHED, ZERO, Outcome, Side
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

#: The outcome and side enums of the verdict table (one byte a line, where the names as text
#: would take a heap string each).
_TYPES = (
    "CREATE TYPE recon_side AS ENUM ('usage', 'charge')",
    "CREATE TYPE recon_outcome AS ENUM ("
    + ", ".join(f"'{outcome.value}'" for outcome in Outcome)
    + ")",
)

#: The chargemaster as segments: from each start or end of a price, the price then in force (of
#: those covering the day, the latest to start; NULL where none does) until the next point, so
#: that a line finds its day's price with one equality join on (facility, CDM code) and a range
#: test. The list is small (a price per code and period), so this table is too.
_PRICE_SEGMENTS = """CREATE TEMP TABLE price_segments AS
    WITH points AS (
        SELECT facility_id, cdm_code, effective_from AS s FROM prices_in
        UNION
        SELECT facility_id, cdm_code, CAST(effective_to + 1 AS DATE) FROM prices_in
        WHERE effective_to IS NOT NULL
    ), priced AS (
        SELECT pt.facility_id, pt.cdm_code, pt.s,
               arg_max(p.unit_price, p.effective_from) AS unit_price
        FROM points pt
        LEFT JOIN prices_in p ON p.facility_id = pt.facility_id AND p.cdm_code = pt.cdm_code
             AND p.effective_from <= pt.s
             AND (p.effective_to IS NULL OR pt.s <= p.effective_to)
        GROUP BY pt.facility_id, pt.cdm_code, pt.s
    )
    SELECT *, lead(s) OVER (PARTITION BY facility_id, cdm_code ORDER BY s) AS e FROM priced"""

#: The verdict table's columns, in the order of the exported files.
_COLUMNS = (
    "side, line_id, facility_id, encounter_key, cdm_code, line_at, quantity, outcome, unbilled, "
    "revenue_at_risk"
)
#: The unmatched outcomes, as a list of SQL texts (the lines the files hold).
_UNMATCHED_TEXT = ", ".join(f"'{outcome.value}'" for outcome in sorted(UNMATCHED))
_VERDICTS = """CREATE TEMP TABLE verdicts (
    side recon_side, line_id VARCHAR, facility_id VARCHAR, encounter_key VARCHAR,
    cdm_code VARCHAR, line_at TIMESTAMP, quantity DECIMAL(18,4), outcome recon_outcome,
    unbilled DECIMAL(18,4), revenue_at_risk DECIMAL(18,2))"""

#: **The one-join path.** Both inputs meet in one full outer join on the key itself (facility,
#: encounter token, CDM code: the bare join's condition, a usage without an encounter meeting
#: nothing), and each row is judged by the rule specialised to one line a side. That is the
#: whole rule when no key has several lines on a side, which the join's own rows tell: a line
#: met by several of the other side's appears in as many rows (so a side's rows outnumber its
#: lines), and a key of several lines on one side only is judged alike line by line unless one
#: of its lines is not positive (``doubtful``: a zero or negative usage, a credit). Failing
#: either test, the batch is judged again by the hashed form below (``_judge_general``). One
#: row per pair (or lone line), with both verdicts, the in-period flags and the usage's price.
_PAIRS = """WITH u AS (
        SELECT true AS has, * FROM usage_in
    ), c AS (
        SELECT true AS has, id, facility_id, encounter_token, cdm_code, service_at,
               CASE WHEN transaction_type = 'CD' THEN -abs(quantity) ELSE abs(quantity) END AS q,
               CASE WHEN transaction_type = 'CD' THEN -abs(amount) ELSE abs(amount) END AS a
        FROM charges_in
    ), paired AS (
        SELECT u.has IS NOT NULL AS has_u, c.has IS NOT NULL AS has_c,
               u.id AS usage_id, u.facility_id AS usage_facility,
               coalesce(u.encounter_token, 'none:' || u.id) AS usage_enc, u.cdm_code AS usage_cdm,
               u.used_at, u.quantity AS used, u.cost,
               c.id AS charge_id, c.facility_id AS charge_facility,
               c.encounter_token AS charge_enc, c.cdm_code AS charge_cdm,
               c.service_at AS charged_at, c.q AS charge_q, c.a AS charge_a,
               coalesce(epoch_us(c.service_at) - epoch_us(u.used_at)
                        BETWEEN -{window_us} AND {window_us}, false) AS in_play
        FROM u FULL JOIN c
          ON u.facility_id = c.facility_id AND u.encounter_token = c.encounter_token
         AND u.cdm_code = c.cdm_code
    ), charged AS (
        SELECT *, CASE WHEN in_play THEN charge_q ELSE 0 END AS charged,
               CASE WHEN in_play THEN charge_a ELSE 0 END AS billed
        FROM paired
    ), covered AS (
        SELECT *, least(used, greatest(0, charged)) AS covered FROM charged
    ), v AS (
        SELECT *,
               CASE WHEN NOT has_u THEN NULL
                    WHEN covered = 0 AND used <> 0 THEN {usage_without_charge}
                    WHEN used - covered <> 0 THEN {quantity_mismatch}
                    WHEN charged >= used AND billed < cost THEN {charge_below_cost}
                    ELSE {matched} END AS usage_outcome,
               CASE WHEN NOT has_c THEN NULL
                    WHEN NOT in_play THEN
                        CASE WHEN charge_q > 0 THEN {charge_without_usage} ELSE {credited} END
                    WHEN charge_q <= 0 THEN {credited}
                    WHEN charge_q <> used THEN {quantity_mismatch}
                    WHEN charge_a < cost THEN {charge_below_cost}
                    ELSE {matched} END AS charge_outcome,
               CAST(used - covered AS DECIMAL(18,4)) AS unbilled,
               has_u AND {usage_period} AS usage_in, has_c AND {charge_period} AS charge_in,
               (has_u AND NOT has_c AND used <= 0)
               OR (has_c AND NOT has_u AND charge_q <= 0) AS doubtful,
               CASE WHEN used - covered <> 0 THEN CAST(used_at AS DATE) END AS day
        FROM covered
    )
    SELECT v.*,
           CAST(CASE WHEN v.unbilled = 0 THEN 0
                     ELSE round_even(v.unbilled * ps.unit_price, 2) END AS DECIMAL(18,2))
               AS revenue_at_risk
    FROM v
    LEFT JOIN price_segments ps
      ON ps.facility_id = CASE WHEN v.unbilled <> 0 THEN v.usage_facility END
     AND ps.cdm_code = v.usage_cdm AND v.day >= ps.s AND (ps.e IS NULL OR v.day < ps.e)"""

#: Real data often has keys of several lines (two usages of an item in one encounter, a charge
#: and its reversal); the one-join path then fails its test and is wasted. A sample of each
#: input's first lines (read by DuckDB up to the limit, no further) is looked at first, at about
#: 2 % of the join's CPU: a key seen twice there sends the batch straight to the hashed path.
#: Its lines are grouped by the key's 64-bit hash (a fifth less CPU than by the key's three
#: texts at 5 M × 5 M): a collision can only send a batch to the hashed path, whose answer is
#: the same.
_SAMPLE_LINES = 100_000
_SAMPLE = """SELECT (
        SELECT count(*) FROM (
            SELECT hash(facility_id, encounter_token, cdm_code) AS kh
            FROM (FROM usage_in LIMIT {lines})
            WHERE encounter_token IS NOT NULL GROUP BY kh HAVING count(*) > 1)
    ) + (
        SELECT count(*) FROM (
            SELECT hash(facility_id, encounter_token, cdm_code) AS kh
            FROM (FROM charges_in LIMIT {lines})
            GROUP BY kh HAVING count(*) > 1)
    )"""

#: Without files, the one-join path's summary: the same full outer join as ``_PAIRS``, each row
#: reduced to one byte of the comparisons that the rule specialised to one line a side makes
#: (``_pair_verdicts`` reads both verdicts and the doubt from it), the rows counted by that
#: byte (a perfect hash aggregate: at most 256 groups, found by index) and by the in-period
#: flags when there is a period. The byte, for a row with both lines: bit 0 in play, 1 charged
#: quantity below the used one, 2 equal to it, 3 charged amount below the cost, 4 used quantity
#: above zero, 5 cost above zero, 6 charged quantity above zero; a usage line alone: 128, bit 0
#: used quantity above zero, bit 1 cost above zero; a charge alone: 192, bit 0 charged quantity
#: above zero (in play is NULL where a line is alone, and so is the first form; a NULL among a
#: row's values leaves it in a group of the wrong kind, which the count test then fails). Each
#: comparison is cast to a DOUBLE, weighted and added, and the sum (a whole number below 256,
#: exact in a double) cast back to a byte, so the aggregate stays perfect: DuckDB multiplies
#: and adds doubles in a plain loop, where a product of bytes is checked for overflow by a
#: function call a value (a shift too): about a quarter of the statement's work beyond the bare
#: join. Judging the 5.5 M rows in ``CASE`` expressions and grouping them by verdict,
#: as before, cost about a tenth more CPU in all (docs/workflows.md, "Throughput"). Only the
#: usage lines billed less than used (``used > 0`` and, in play, ``q < used``) meet the
#: chargemaster (its segments as timestamps, so that no line's time is cast to a date); their
#: unbilled quantity is the used one, less the charge's where in play and positive (only then
#: subtracted: a difference of two decimals is a 128-bit one in DuckDB); the key of that join is
#: computed beside the byte, whose comparisons it shares.
_NO_QUANTITY, _NO_AMOUNT = Decimal("0.0000"), Decimal("0.00")
_PAIRS_SUMMARY = """WITH c AS (
        SELECT facility_id, encounter_token, cdm_code, service_at,
               CASE WHEN transaction_type = 'CD' THEN -abs(quantity) ELSE abs(quantity) END AS q,
               CASE WHEN transaction_type = 'CD' THEN -abs(amount) ELSE abs(amount) END AS a
        FROM charges_in
    ), paired AS (
        SELECT u.facility_id, u.cdm_code, u.used_at, u.quantity AS used, u.cost,
               c.service_at, c.q, c.a,
               epoch_us(c.service_at) - epoch_us(u.used_at)
                   BETWEEN -{window_us} AND {window_us} AS in_play
        FROM usage_in u FULL JOIN c
          ON u.facility_id = c.facility_id AND u.encounter_token = c.encounter_token
         AND u.cdm_code = c.cdm_code
    ), coded AS (
        SELECT *, coalesce(
                   CAST(CAST(in_play AS DOUBLE) + CAST(q < used AS DOUBLE) * 2
                        + CAST(q = used AS DOUBLE) * 4 + CAST(a < cost AS DOUBLE) * 8
                        + CAST(used > 0 AS DOUBLE) * 16 + CAST(cost > 0 AS DOUBLE) * 32
                        + CAST(q > 0 AS DOUBLE) * 64 AS UTINYINT),
                   CAST(128 + CAST(used > 0 AS DOUBLE) + CAST(cost > 0 AS DOUBLE) * 2 AS UTINYINT),
                   CAST(192 + CAST(q > 0 AS DOUBLE) AS UTINYINT)) AS code,
               CASE WHEN used > 0 AND (q IS NULL OR NOT in_play OR q < used)
                    THEN facility_id END AS price_facility
        FROM paired
    )
    SELECT code, {flags} count(*), sum(used), sum(q), sum(revenue_at_risk), count(unit_price)
    FROM (
        SELECT code, {period_flags} used, q, ps.unit_price,
               CASE WHEN ps.unit_price IS NOT NULL THEN CAST(round_even(
                   CASE WHEN in_play AND q > 0 THEN CAST(used - q AS DECIMAL(18,4)) ELSE used END
                   * ps.unit_price, 2) AS DECIMAL(18,2)) END AS revenue_at_risk
        FROM coded
        LEFT JOIN (
            SELECT facility_id, cdm_code, CAST(s AS TIMESTAMP) AS lo,
                   coalesce(CAST(e AS TIMESTAMP), 'infinity'::TIMESTAMP) AS hi, unit_price
            FROM price_segments) ps
          ON ps.facility_id = coded.price_facility
         AND ps.cdm_code = coded.cdm_code AND coded.used_at >= ps.lo AND coded.used_at < ps.hi)
    GROUP BY ALL"""

#: With files, the lines of ``_PAIRS`` (``{pairs}``) are judged as they are written, one row a
#: line, in the columns of the files (side and outcome as text): nothing of the join is kept in
#: a table, and no other join tests first that the one-join path applies: this statement is its
#: own test. Each row of the join is unnested into one element a line it holds (``part``: 0 a
#: usage line to write, 1 a charge line to write, 2 and 3 lines not written) and, where the row
#: is doubtful (a lone line not positive), one more (4); only parts 0 and 1 go on. Every line of
#: the inputs appears in at least one row of a full join, and a line met by several lines of
#: the other side in several, so the unnest's elements (DuckDB's profiler counts them,
#: ``_unnested``) number exactly the inputs' lines when no line meets several and no row is
#: doubtful, and more otherwise. The filter reads ``part`` alone, so that no optimisation can
#: move it below the unnest and leave rows uncounted.
_PAIRS_LINES = """SELECT CASE part WHEN 0 THEN 'usage' ELSE 'charge' END AS side,
           CASE part WHEN 0 THEN usage_id ELSE charge_id END AS line_id,
           CASE part WHEN 0 THEN usage_facility ELSE charge_facility END AS facility_id,
           CASE part WHEN 0 THEN usage_enc ELSE charge_enc END AS encounter_key,
           CASE part WHEN 0 THEN usage_cdm ELSE charge_cdm END AS cdm_code,
           CASE part WHEN 0 THEN used_at ELSE charged_at END AS line_at,
           CAST(CASE part WHEN 0 THEN used ELSE charge_q END AS DECIMAL(18,4)) AS quantity,
           CAST(CASE part WHEN 0 THEN usage_outcome ELSE charge_outcome END AS VARCHAR)
               AS outcome,
           CAST(CASE part WHEN 0 THEN unbilled ELSE 0 END AS DECIMAL(18,4)) AS unbilled,
           CAST(CASE part WHEN 0 THEN revenue_at_risk ELSE 0 END AS DECIMAL(18,2))
               AS revenue_at_risk
    FROM (SELECT *,
                 unnest(CASE WHEN has_u AND has_c THEN
                                 CASE WHEN keep_u AND keep_c THEN [0, 1] WHEN keep_u THEN [0, 3]
                                      WHEN keep_c THEN [2, 1] ELSE [2, 3] END
                             WHEN doubtful THEN CASE WHEN has_u THEN [2, 4] ELSE [3, 4] END
                             WHEN has_u THEN CASE WHEN keep_u THEN [0] ELSE [2] END
                             ELSE CASE WHEN keep_c THEN [1] ELSE [3] END END) AS part
          FROM (SELECT *, usage_in AND {keep_usage} AS keep_u,
                       charge_in AND {keep_charge} AS keep_c
                FROM ({pairs})))
    WHERE part < 2"""

#: With files on the one-join path, the charges credited in the period (a credit, or a charge
#: of quantity 0: credited whatever they meet, so told from the line alone): counted, not
#: written to the unmatched lines.
_CREDITED = """SELECT count(*) FROM charges_in
    WHERE CASE WHEN transaction_type = 'CD' THEN -abs(quantity) ELSE abs(quantity) END <= 0
      AND {charge_period}"""

#: The key of a line as one 64-bit hash, to find the keys with several lines on a side cheaply.
#: A collision can only send more keys than needed to the general form, which compares the key
#: itself: the answer does not depend on it.
_USAGE_KEY = "hash(facility_id, coalesce(encounter_token, 'none:' || id), cdm_code)"
_CHARGE_KEY = "hash(facility_id, encounter_token, cdm_code)"

#: 1. The keys with several usage lines or several charges (by hash).
_SHARED = """CREATE TEMP TABLE shared_keys AS
    SELECT kh FROM (
        SELECT {usage_key} AS kh, 0 AS charge FROM usage_in
        UNION ALL
        SELECT {charge_key}, 1 FROM charges_in
    )
    GROUP BY kh
    HAVING sum(charge) > 1 OR count(*) - sum(charge) > 1"""

#: 2. Every other key has at most one usage line and one charge (nearly every key: a usage
#: billed once), so **one full outer join** of the two inputs on the key's hash (each column
#: read once in this statement) pairs a key's lines in one row, and the rule specialised to one
#: line a side judges both from that row: no aggregate, no window, nothing materialised. Two
#: lines paired by a hash collision are told apart by the key itself (``in_play`` needs it
#: equal; each line keeps its own key). Its lines (those not matched, unless every line is
#: asked for), priced on the day where unbilled, are written to ``verdicts`` when files are to
#: be written, else only tallied. ``{usage}`` and ``{charges}`` are the inputs less the keys of
#: step 1.
_PAIRED = """WITH paired AS (
        SELECT u.id AS usage_id, c.id AS charge_id,
               u.facility_id AS usage_facility, u.enc AS usage_enc, u.cdm_code AS usage_cdm,
               c.facility_id AS charge_facility, c.encounter_token AS charge_enc,
               c.cdm_code AS charge_cdm,
               u.used_at, u.quantity AS used, u.cost,
               c.service_at AS charged_at,
               CASE WHEN c.transaction_type = 'CD' THEN -abs(c.quantity)
                    ELSE abs(c.quantity) END AS charge_q,
               CASE WHEN c.transaction_type = 'CD' THEN -abs(c.amount)
                    ELSE abs(c.amount) END AS charge_a,
               coalesce(u.facility_id = c.facility_id AND u.enc = c.encounter_token
                        AND u.cdm_code = c.cdm_code
                        AND c.service_at BETWEEN u.used_at - {window}
                                             AND u.used_at + {window}, false) AS in_play
        FROM (SELECT *, {usage_key} AS kh
              FROM (SELECT *, coalesce(encounter_token, 'none:' || id) AS enc FROM {usage})) u
        FULL JOIN (SELECT *, {charge_key} AS kh FROM {charges}) c ON u.kh = c.kh
    ), judged AS (
        SELECT *, CASE WHEN in_play THEN charge_q ELSE 0 END AS charged,
               CASE WHEN in_play THEN charge_a ELSE 0 END AS billed,
               unnest(CASE WHEN usage_id IS NULL THEN [1]
                           WHEN charge_id IS NULL THEN [0] ELSE [0, 1] END) AS part
        FROM paired
    ), covered AS (
        SELECT *, least(used, greatest(0, charged)) AS covered FROM judged
    ), v AS (
        SELECT CASE part WHEN 0 THEN {usage_side} ELSE {charge_side} END AS side,
               CASE part WHEN 0 THEN usage_id ELSE charge_id END AS line_id,
               CASE part WHEN 0 THEN usage_facility ELSE charge_facility END AS facility_id,
               CASE part WHEN 0 THEN usage_enc ELSE charge_enc END AS encounter_key,
               CASE part WHEN 0 THEN usage_cdm ELSE charge_cdm END AS cdm_code,
               CASE part WHEN 0 THEN used_at ELSE charged_at END AS line_at,
               CASE part WHEN 0 THEN used ELSE charge_q END AS quantity,
               CASE WHEN part = 0 THEN
                        CASE WHEN covered = 0 AND used <> 0 THEN {usage_without_charge}
                             WHEN used - covered <> 0 THEN {quantity_mismatch}
                             WHEN charged >= used AND billed < cost THEN {charge_below_cost}
                             ELSE {matched} END
                    WHEN NOT in_play THEN
                        CASE WHEN charge_q > 0 THEN {charge_without_usage} ELSE {credited} END
                    WHEN charge_q <= 0 THEN {credited}
                    WHEN charge_q <> used THEN {quantity_mismatch}
                    WHEN charge_a < cost THEN {charge_below_cost}
                    ELSE {matched}
               END AS outcome,
               CASE part WHEN 0 THEN used - covered ELSE 0 END AS unbilled
        FROM covered
    )
    SELECT v.*,
           CASE WHEN v.unbilled = 0 THEN 0
                ELSE round_even(v.unbilled * ps.unit_price, 2) END AS revenue_at_risk
    FROM v
    LEFT JOIN price_segments ps
      ON v.unbilled <> 0 AND ps.facility_id = v.facility_id AND ps.cdm_code = v.cdm_code
     AND CAST(v.line_at AS DATE) >= ps.s AND (ps.e IS NULL OR CAST(v.line_at AS DATE) < ps.e)
    WHERE {keep}"""

#: Lines by side and outcome, with the quantity unbilled, the revenue at risk and the lines left
#: unpriced, of ``verdicts`` or of a query's lines (``{lines}``).
_TALLY = """SELECT CAST(side AS VARCHAR), CAST(outcome AS VARCHAR), count(*),
           coalesce(sum(unbilled), 0), coalesce(sum(revenue_at_risk), 0),
           count(*) FILTER (WHERE unbilled <> 0 AND revenue_at_risk IS NULL)
    FROM {lines} GROUP BY side, outcome"""

#: 3. The lines of the keys of step 1, for the general form (read again, those only).
_SHARED_LINES = (
    """CREATE TEMP VIEW usage_x AS
    SELECT * FROM usage_in SEMI JOIN shared_keys ON {usage_key} = shared_keys.kh""",
    """CREATE TEMP VIEW charges_x AS
    SELECT * FROM charges_in SEMI JOIN shared_keys ON {charge_key} = shared_keys.kh""",
)
_SINGLE_LINES = (
    "(SELECT * FROM usage_in ANTI JOIN shared_keys ON {usage_key} = shared_keys.kh)",
    "(SELECT * FROM charges_in ANTI JOIN shared_keys ON {charge_key} = shared_keys.kh)",
)

#: The general form, for keys with several lines on a side, step by step as the Python rule:
#: 0. their usage lines read once (the table ``u``: the input is scanned and matched against
#: ``shared_keys`` once, where a view was read twice); 1. keys of the usage side with their span
#: (earliest time minus the window, latest plus it); 2. each charge signed (credits negative)
#: and marked *in play* when it falls within its key's span, nets per key and play; 3. usage
#: lines covered in (time, id) order by a running sum (a window function; the key's usage
#: quantity and cost summed over the same partition, rather than joined from step 1), unbilled
#: quantity, outcome, revenue at risk; 4. charge lines given their key's verdict.
_GENERAL = (
    """CREATE TEMP TABLE u AS
    SELECT id, facility_id, coalesce(encounter_token, 'none:' || id) AS enc, cdm_code,
           quantity, cost, used_at
    FROM usage_x""",
    """CREATE TEMP TABLE k AS
    SELECT facility_id, enc, cdm_code, min(used_at) - {window} AS lo,
           max(used_at) + {window} AS hi, sum(quantity) AS used, sum(cost) AS cost
    FROM u GROUP BY facility_id, enc, cdm_code""",
    """CREATE TEMP TABLE c AS
    SELECT ch.id, ch.facility_id, ch.encounter_token AS enc, ch.cdm_code, ch.service_at,
           CASE WHEN ch.transaction_type = 'CD' THEN -abs(ch.quantity)
                ELSE abs(ch.quantity) END AS q,
           CASE WHEN ch.transaction_type = 'CD' THEN -abs(ch.amount)
                ELSE abs(ch.amount) END AS a,
           coalesce(ch.service_at BETWEEN k.lo AND k.hi, false) AS in_play,
           k.used, k.cost
    FROM charges_x ch
    LEFT JOIN k ON ch.facility_id = k.facility_id AND ch.encounter_token = k.enc
               AND ch.cdm_code = k.cdm_code""",
    """CREATE TEMP TABLE n AS
    SELECT facility_id, enc, cdm_code, in_play, sum(q) AS charged, sum(a) AS billed
    FROM c GROUP BY facility_id, enc, cdm_code, in_play""",
    """CREATE TEMP TABLE uc AS
    SELECT *, least(quantity, greatest(0, charged - before)) AS covered FROM (
        SELECT u.id, u.facility_id, u.enc, u.cdm_code, u.quantity, u.used_at,
               sum(u.quantity) OVER everything AS used, sum(u.cost) OVER everything AS key_cost,
               coalesce(n.charged, 0) AS charged, coalesce(n.billed, 0) AS billed,
               coalesce(sum(u.quantity) OVER (
                   key ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
        FROM u
        LEFT JOIN n ON n.in_play AND u.facility_id = n.facility_id AND u.enc = n.enc
                   AND u.cdm_code = n.cdm_code
        WINDOW key AS (PARTITION BY u.facility_id, u.enc, u.cdm_code ORDER BY u.used_at, u.id),
               everything AS (key ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    )""",
    """INSERT INTO verdicts
    WITH ur AS (
        SELECT 'usage' AS side, id AS line_id, facility_id, enc AS encounter_key, cdm_code,
               used_at AS line_at, quantity,
               CASE WHEN covered = 0 AND quantity <> 0 THEN 'usage_without_charge'
                    WHEN quantity - covered <> 0 THEN 'quantity_mismatch'
                    WHEN charged >= used AND billed < key_cost THEN 'charge_below_cost'
                    ELSE 'matched' END AS outcome,
               quantity - covered AS unbilled
        FROM uc
    ), cr AS (
        SELECT 'charge' AS side, c.id AS line_id, c.facility_id, c.enc AS encounter_key,
               c.cdm_code, c.service_at AS line_at, c.q AS quantity,
               CASE WHEN NOT c.in_play THEN
                        CASE WHEN n.charged > 0 THEN 'charge_without_usage' ELSE 'credited' END
                    WHEN n.charged <= 0 THEN 'credited'
                    WHEN n.charged <> c.used THEN 'quantity_mismatch'
                    WHEN n.billed < c.cost THEN 'charge_below_cost'
                    ELSE 'matched' END AS outcome,
               0 AS unbilled
        FROM c
        JOIN n ON c.facility_id = n.facility_id AND c.enc = n.enc AND c.cdm_code = n.cdm_code
              AND c.in_play = n.in_play
    ), v AS (SELECT * FROM ur UNION ALL SELECT * FROM cr)
    SELECT v.*,
           CASE WHEN v.unbilled = 0 THEN 0 ELSE round_even(v.unbilled * ps.unit_price, 2) END
    FROM v
    LEFT JOIN price_segments ps
      ON v.unbilled <> 0 AND ps.facility_id = v.facility_id AND ps.cdm_code = v.cdm_code
     AND CAST(v.line_at AS DATE) >= ps.s AND (ps.e IS NULL OR CAST(v.line_at AS DATE) < ps.e)
    WHERE {keep}""",
    "DROP TABLE u",
    "DROP TABLE k",
    "DROP TABLE c",
    "DROP TABLE n",
    "DROP TABLE uc",
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
                _prepare(con)
                if out_dir is None:
                    counts = self._summary(con, window, report_from, report_to, step)
                    written: list[Path] = []
                else:
                    counts, written = self._files(
                        con, window, report_from, report_to, out_dir, step=step,
                        include_matched=include_matched,
                    )  # fmt: skip
            finally:
                con.close()
        return BatchSummary(report_from, report_to, None, counts, written)

    @staticmethod
    def _summary(
        con: duckdb.DuckDBPyConnection,
        window: timedelta,
        start: datetime | None,
        end: datetime | None,
        step: _Steps,
    ) -> dict[tuple[Side, Outcome], OutcomeCount]:
        """Without files: every line judged and tallied as it is judged, nothing stored."""
        where = _period(start, end)
        counts = _judge_pairs(con, window, start, end)
        if counts is None:
            tally = _judge_general(con, window, where, include_matched=False, store=False)
            step()
            counts = _counts(con, where, tally, "verdicts", include_matched=False)
        else:
            step()
        step()
        return counts

    @staticmethod
    def _files(
        con: duckdb.DuckDBPyConnection,
        window: timedelta,
        start: datetime | None,
        end: datetime | None,
        out_dir: Path,
        *,
        step: _Steps,
        include_matched: bool,
    ) -> tuple[dict[tuple[Side, Outcome], OutcomeCount], list[Path]]:
        """With files: the lines written, and the summary. On the one-join path the lines are
        judged once, as they are written (the statement testing itself that the path applies),
        and the summary is tallied from the file written (and the lines of the period, less
        those); where the path does not apply, what it wrote is removed and the hashed path runs.
        """
        where = _period(start, end)
        first = None
        if not _several_lines_seen(con):
            first = _export_pairs(con, window, start, end, out_dir, include_matched=include_matched)
        if first is None:
            _judge_general(con, window, where, include_matched=include_matched, store=True)
            step()
            counts = _counts(con, where, [], "verdicts", include_matched=include_matched)
            step()
            written = _export(con, out_dir, include_matched=include_matched)
            step()
            return counts, written
        step()
        written = _derive(con, first, include_matched=include_matched)
        step()
        # The lines written hold every unmatched line (with ``include_matched``, every line);
        # the credited ones, not written unless every line is, are counted apart.
        source = written[-1] if include_matched else written[0]
        tally: list[tuple[Any, ...]] = []
        credited = 0 if include_matched else _credited(con, start, end)
        if credited:
            tally.append((Side.CHARGE.value, Outcome.CREDITED.value, credited, ZERO, ZERO, 0))
        counts = _counts(
            con, where, tally, f"read_parquet('{_quoted(source)}')",
            include_matched=include_matched,
        )  # fmt: skip
        step()
        return counts, written

    def _configure(self, con: duckdb.DuckDBPyConnection, scratch: Path) -> None:
        con.execute(f"SET memory_limit = '{self.memory_limit}'")
        con.execute(f"SET temp_directory = '{scratch / 'spill'}'")
        con.execute("SET preserve_insertion_order = false")
        # DuckDB's own progress bar would draw on the terminal over the CLI's (rich) one.
        con.execute("SET enable_progress_bar = false")
        if self.threads is not None:
            con.execute(f"SET threads = {int(self.threads)}")


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    """The enum types and the chargemaster's segments, which both paths use."""
    for statement in (*_TYPES, _PRICE_SEGMENTS):
        con.execute(statement)


def _interval(window: timedelta) -> str:
    return f"to_microseconds({int(window / timedelta(microseconds=1))})"


def _constants() -> dict[str, str]:
    """The outcomes and sides as constants of the enum types, so that no line's text is cast."""
    constants = {o.value: f"'{o.value}'::recon_outcome" for o in Outcome}
    return constants | {f"{side.value}_side": f"'{side.value}'::recon_side" for side in Side}


def _judge_pairs(
    con: duckdb.DuckDBPyConnection,
    window: timedelta,
    start: datetime | None,
    end: datetime | None,
) -> dict[tuple[Side, Outcome], OutcomeCount] | None:
    """The one-join path without files (``_PAIRS_SUMMARY``): the summary by side and outcome,
    counted by the comparisons each row makes and judged here by group, or None when a key has
    several lines on a side that one row cannot judge."""
    if _several_lines_seen(con):
        return None
    rows = con.execute(_pairs_summary(window, start, end)).fetchall()
    periods = start is not None or end is not None
    counts: dict[tuple[Side, Outcome], OutcomeCount] = {}
    met = [0, 0]
    for code, *flags, n, used, charged, at_risk, priced in rows:
        if code is None:
            return None
        usage, charge, doubtful = _pair_verdicts(int(code))
        usage_in, charge_in = flags if periods else (True, True)
        if doubtful:
            return None
        if usage is not None:
            met[0] += n
            if usage_in:
                count = _usage_count(usage, n, (used, charged, at_risk, priced))
                _add(counts, (Side.USAGE, usage), count)
        if charge is not None:
            met[1] += n
            if charge_in:
                _add(counts, (Side.CHARGE, charge), OutcomeCount(int(n), ZERO, ZERO, 0))
    if tuple(met) != _lines(con):
        return None
    return counts


def _pairs_summary(window: timedelta, start: datetime | None, end: datetime | None) -> str:
    """``_PAIRS_SUMMARY`` for a window and period: without a period, the rows are grouped by
    their code alone (a perfect hash aggregate), else by the in-period flags too."""
    flags = period_flags = ""
    if start is not None or end is not None:
        flags = "usage_in, charge_in,"
        period_flags = (
            f"{_period(start, end).replace('line_at', 'used_at')} AS usage_in, "
            f"{_period(start, end).replace('line_at', 'service_at')} AS charge_in,"
        )
    return _PAIRS_SUMMARY.format(
        window_us=int(window / timedelta(microseconds=1)), flags=flags, period_flags=period_flags
    )


def _pair_verdicts(code: int) -> tuple[Outcome | None, Outcome | None, bool]:
    """The usage line's and the charge's verdicts of a row of ``_PAIRS_SUMMARY`` from its code
    (None where the row has no such line), and whether the row is doubtful: a line alone that
    is not positive, which may belong to a key of several lines on its side. The rule
    specialised to one line a side (``_PAIRS``): a charge counts when in play; the usage line
    is covered up to the charged quantity, if positive."""
    bit = [bool(code >> i & 1) for i in range(7)]
    if code >= 192:  # a charge alone: never in play
        return None, Outcome.CHARGE_WITHOUT_USAGE if bit[0] else Outcome.CREDITED, not bit[0]
    if code >= 128:  # a usage line alone: nothing charged
        return _unbilled_usage(used_positive=bit[0], cost_positive=bit[1]), None, not bit[0]
    in_play, below, equal, cheaper, used_positive, cost_positive, positive = bit
    if not in_play:
        usage = _unbilled_usage(used_positive=used_positive, cost_positive=cost_positive)
        charge = Outcome.CHARGE_WITHOUT_USAGE if positive else Outcome.CREDITED
        return usage, charge, False
    if used_positive and not positive:
        usage = Outcome.USAGE_WITHOUT_CHARGE
    elif used_positive and below:
        usage = Outcome.QUANTITY_MISMATCH
    else:  # covered in full (or nothing to cover): below cost if charged enough for less
        usage = Outcome.CHARGE_BELOW_COST if not below and cheaper else Outcome.MATCHED
    if not positive:
        charge = Outcome.CREDITED
    elif not equal:
        charge = Outcome.QUANTITY_MISMATCH
    else:
        charge = Outcome.CHARGE_BELOW_COST if cheaper else Outcome.MATCHED
    return usage, charge, False


def _unbilled_usage(*, used_positive: bool, cost_positive: bool) -> Outcome:
    """A usage line's verdict with nothing charged in play."""
    if used_positive:
        return Outcome.USAGE_WITHOUT_CHARGE
    return Outcome.CHARGE_BELOW_COST if cost_positive else Outcome.MATCHED


def _usage_count(usage: Outcome, lines: int, sums: tuple[Any, ...]) -> OutcomeCount:
    """A group of usage lines of ``_PAIRS_SUMMARY`` (``sums``: of the used quantities, of the
    charged ones, of the revenue at risk, and the lines priced): unbilled, the whole quantity
    when nothing is covered, the used less the charged one when partly covered; priced where
    unbilled (the sums at the scale of DuckDB's, as the other paths give them)."""
    used, charged, at_risk, priced = sums
    if usage is Outcome.USAGE_WITHOUT_CHARGE:
        unbilled = Decimal(used)
    elif usage is Outcome.QUANTITY_MISMATCH:
        unbilled = Decimal(used) - Decimal(charged)
    else:
        return OutcomeCount(int(lines), _NO_QUANTITY, _NO_AMOUNT, 0)
    risk = _NO_AMOUNT if at_risk is None else Decimal(at_risk)
    return OutcomeCount(int(lines), unbilled, risk, int(lines) - int(priced))


def _pairs(window: timedelta, start: datetime | None, end: datetime | None) -> str:
    return _PAIRS.format(
        window_us=int(window / timedelta(microseconds=1)),
        usage_period=_period(start, end).replace("line_at", "used_at"),
        charge_period=_period(start, end).replace("line_at", "charged_at"),
        **_constants(),
    )


def _lines(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Each input's lines, all of them (Parquet's are counted from its metadata)."""
    found = con.execute("SELECT (SELECT count(*) FROM usage_in), (SELECT count(*) FROM charges_in)")
    usages, charges = found.fetchone() or (0, 0)
    return int(usages), int(charges)


def _export_pairs(
    con: duckdb.DuckDBPyConnection,
    window: timedelta,
    start: datetime | None,
    end: datetime | None,
    out_dir: Path,
    *,
    include_matched: bool,
) -> Path | None:
    """The one-join path's lines (``_PAIRS_LINES``), judged as they are copied to the first
    file (``unmatched.parquet``, or with ``include_matched`` ``lines.parquet``): that file, or
    None, the file removed, when the join's rows show a key that one row cannot judge (or
    DuckDB's profiler did not count them)."""
    kept = "true" if include_matched else f"{{}} IN ({_UNMATCHED_TEXT})"
    query = _PAIRS_LINES.format(
        pairs=_pairs(window, start, end),
        keep_usage=kept.format("usage_outcome"),
        keep_charge=kept.format("charge_outcome"),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    first = out_dir / ("lines.parquet" if include_matched else "unmatched.parquet")
    con.execute("SET enable_profiling = 'no_output'")
    try:
        _copy(con, query, first, "PARQUET")
        elements = _unnested(con)
    finally:
        con.execute("RESET enable_profiling")
    if elements is None or elements != sum(_lines(con)):
        first.unlink()
        return None
    return first


def _unnested(con: duckdb.DuckDBPyConnection) -> int | None:
    """The elements of the last statement's one unnest, as DuckDB's profiler counted them
    (every thread's), or None if it holds no such count."""
    profile = json.loads(con.get_profiling_information(format="json"))
    pending = list(profile.get("operator", [])) if isinstance(profile, dict) else []
    counts: list[Any] = []
    while pending:
        node = pending.pop()
        if node.get("type") == "UNNEST":
            counts.append(node.get("intermediate_rows"))
        pending.extend(node.get("children", []))
    return counts[0] if len(counts) == 1 and isinstance(counts[0], int) else None


def _credited(con: duckdb.DuckDBPyConnection, start: datetime | None, end: datetime | None) -> int:
    """The charges of the period the one-join path finds credited (``_CREDITED``)."""
    charge_period = _period(start, end).replace("line_at", "service_at")
    found = con.execute(_CREDITED.format(charge_period=charge_period)).fetchone()
    return int(found[0]) if found is not None else 0


def _several_lines_seen(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the first ``_SAMPLE_LINES`` lines of either input hold a key twice: then the
    one-join path would likely be judged in vain, and the hashed path is taken at once."""
    found = con.execute(_SAMPLE.format(lines=int(_SAMPLE_LINES))).fetchone()
    return found is not None and found[0] > 0


def _add(
    counts: dict[tuple[Side, Outcome], OutcomeCount],
    key: tuple[Side, Outcome],
    more: OutcomeCount,
) -> None:
    before = counts.get(key, OutcomeCount(0, ZERO, ZERO, 0))
    counts[key] = OutcomeCount(
        before.lines + more.lines,
        before.unbilled + more.unbilled,
        before.revenue_at_risk + more.revenue_at_risk,
        before.unpriced + more.unpriced,
    )


def _judge_general(
    con: duckdb.DuckDBPyConnection,
    window: timedelta,
    where: str,
    *,
    include_matched: bool,
    store: bool,
) -> list[tuple[Any, ...]]:
    """The hashed path: judge the period's lines, those not matched (or all, with
    ``include_matched``) going to ``verdicts``; without ``store`` those of the paired keys are
    only tallied (``_TALLY``), and the tally is returned."""
    interval = _interval(window)
    period = where.replace("line_at", "v.line_at")
    keep = f"{period} AND v.outcome <> 'matched'" if not include_matched else period
    keys = {"usage_key": _USAGE_KEY, "charge_key": _CHARGE_KEY}
    for statement in (_VERDICTS, _SHARED.format(**keys)):
        con.execute(statement)
    found = con.execute("SELECT count(*) FROM shared_keys").fetchone()
    shared = found is not None and found[0] > 0
    usage, charges = (
        (line.format(**keys) for line in _SINGLE_LINES) if shared else ("usage_in", "charges_in")
    )
    paired = _PAIRED.format(
        window=interval, keep=keep, usage=usage, charges=charges, **keys, **_constants()
    )
    tally: list[tuple[Any, ...]] = []
    if store:
        con.execute(f"INSERT INTO verdicts {paired}")
    else:
        tally = con.execute(_TALLY.format(lines=f"({paired})")).fetchall()
    if shared:
        for statement in (*_SHARED_LINES, *_GENERAL):
            con.execute(statement.format(window=interval, keep=keep, **keys))
    return tally


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


def _counts(
    con: duckdb.DuckDBPyConnection,
    where: str,
    tally: list[tuple[Any, ...]],
    source: str,
    *,
    include_matched: bool,
) -> dict[tuple[Side, Outcome], OutcomeCount]:
    """Lines by side and outcome, of ``source`` (``verdicts``, or a file just written) and of
    ``tally`` (the lines ``_judge_general`` tallied without storing them). They
    hold the period's lines that are not matched (or all of them): the matched ones are the
    period's lines of a side less those."""
    counts: dict[tuple[Side, Outcome], OutcomeCount] = {}
    for side, outcome, lines, unbilled, at_risk, unpriced in [
        *tally,
        *con.execute(_TALLY.format(lines=source)).fetchall(),
    ]:
        key = (Side(side), Outcome(outcome))
        before = counts.get(key, OutcomeCount(0, Decimal(0), Decimal(0), 0))
        counts[key] = OutcomeCount(
            before.lines + int(lines),
            before.unbilled + Decimal(unbilled),
            before.revenue_at_risk + Decimal(at_risk),
            before.unpriced + int(unpriced),
        )
    if include_matched:
        return counts
    period = where.replace("line_at", "ts")
    totals = con.execute(
        f"""SELECT (SELECT count(*) FROM (SELECT used_at AS ts FROM usage_in) WHERE {period}),
                   (SELECT count(*) FROM (SELECT service_at AS ts FROM charges_in)
                    WHERE {period})"""  # noqa: S608 - see docstring
    ).fetchone()
    assert totals is not None
    for side, total in zip((Side.USAGE, Side.CHARGE), totals, strict=True):
        matched = int(total) - sum(count.lines for (of, _), count in counts.items() if of is side)
        if matched:
            counts[(side, Outcome.MATCHED)] = OutcomeCount(matched, Decimal(0), Decimal(0), 0)
    return counts


def _export(con: duckdb.DuckDBPyConnection, out_dir: Path, *, include_matched: bool) -> list[Path]:
    """The hashed path's lines, copied from the table ``verdicts`` to the first file
    (``unmatched.parquet``, or with ``include_matched`` every line to ``lines.parquet``), then
    the others from it (``_derive``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    columns = _COLUMNS.replace("side,", "CAST(side AS VARCHAR) AS side,").replace(
        "outcome,", "CAST(outcome AS VARCHAR) AS outcome,"
    )
    select = f"SELECT {columns} FROM verdicts"  # noqa: S608 - see the module docstring
    if include_matched:
        first = out_dir / "lines.parquet"
        _copy(con, select, first, "PARQUET")
    else:
        first = out_dir / "unmatched.parquet"
        _copy(con, f"{select} WHERE outcome IN ({_UNMATCHED_TEXT})", first, "PARQUET")
    return _derive(con, first, include_matched=include_matched)


def _derive(con: duckdb.DuckDBPyConnection, first: Path, *, include_matched: bool) -> list[Path]:
    """The files written from the first one, in no particular order: sorting 3 M lines would
    cost about as much again as writing them (docs/workflows.md, "Batch"). The lines are read
    from that Parquet file, which is cheaper than judging them again: with ``include_matched``
    the unmatched ones to ``unmatched.parquet``; then ``unmatched.csv``."""
    parquet, csv, lines = (
        first.parent / name for name in ("unmatched.parquet", "unmatched.csv", "lines.parquet")
    )
    if include_matched:
        _copy(con, f"FROM read_parquet('{_quoted(lines)}') WHERE outcome IN ({_UNMATCHED_TEXT})",
              parquet, "PARQUET")  # fmt: skip
    _copy(con, f"FROM read_parquet('{_quoted(parquet)}')", csv, "CSV, HEADER")
    return [parquet, csv, lines] if include_matched else [parquet, csv]


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path, options: str) -> None:
    con.execute(f"COPY ({query}) TO '{_quoted(path)}' (FORMAT {options})")


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
