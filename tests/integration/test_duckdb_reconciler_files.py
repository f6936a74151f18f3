"""The DuckDB reconciler with files, on its one-join path, against the pure rule and itself.

With files, the one-join path first tests that it applies (one join of the keys, no judging),
then judges the lines as it writes them, and tallies the summary from the file just written
(the credited charges, which are not written, counted by the test). These tests hold that
summary to the one the same batch gives without files and with every line written, and the
files to ``reconcile()``; and they check that the batches the one-join path cannot judge are
sent to the hashed path before anything is written. The property tests of
``test_duckdb_reconciler.py`` cover both paths on drawn data.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from test_duckdb_reconciler import T0, WINDOW, build, expected, price, read_verdicts, write_inputs

from suture.adapters.analytics import duckdb_reconciler as reconciler_module
from suture.adapters.analytics.duckdb_reconciler import DuckDbReconciler
from suture.domain.reconciliation import UNMATCHED, Outcome, Side, reconcile
from suture.services.reconciliation_batch import BatchSummary

# One line a side on every key: E1 a usage and a lone credit (the usage missed, the credit
# credited: counted, never in the unmatched file), E2 billed short, E3 never billed (priced),
# E4 matched, E5 billed below cost, E6 a charge alone; E7 a credit after the cut.
USAGE = [
    ("F1", "E1", "CDM-A", "1", "100", T0),
    ("F1", "E2", "CDM-A", "2", "100", T0),
    ("F1", "E3", "CDM-B", "3", "100", T0 + timedelta(hours=100)),
    ("F2", "E4", "CDM-A", "1", "100", T0),
    ("F1", "E5", "CDM-A", "1", "250.5", T0 + timedelta(hours=2)),
    ("F1", "E7", "CDM-B", "1", "100", T0 + timedelta(hours=2)),
]
CHARGES = [
    ("F1", "E1", "CDM-A", "1", "250", T0, True),
    ("F1", "E2", "CDM-A", "1", "250", T0, False),
    ("F2", "E4", "CDM-A", "1", "250", T0, False),
    ("F1", "E5", "CDM-A", "1", "250", T0 + timedelta(hours=2), False),
    ("F2", "E6", "CDM-A", "2", "250", T0, False),
    ("F1", "E7", "CDM-B", "1", "250", T0 + timedelta(hours=3), True),
]


def summaries(
    directory: Path, *, parquet: bool, cut: datetime | None
) -> tuple[list[Any], list[BatchSummary]]:
    """The rule's verdicts of the period, and the batch without files, with the unmatched lines
    and with every line."""
    usages, charges = build(USAGE, CHARGES)
    files = write_inputs(directory, usages, charges, parquet=parquet)
    results = [
        r
        for r in reconcile(usages, charges, window=WINDOW, price=price)
        if cut is None or r.at >= cut
    ]
    reconciler = DuckDbReconciler(memory_limit="256MB", threads=2)
    found = [
        reconciler.reconcile_files(
            files, window=WINDOW, out_dir=out, report_from=cut, include_matched=every
        )
        for out, every in ((None, False), (directory / "out", False), (directory / "all", True))
    ]
    return results, found


@pytest.mark.parametrize("parquet", [False, True])
@pytest.mark.parametrize("cut", [None, T0 + timedelta(hours=1)])
def test_the_one_join_path_with_files_counts_what_it_does_not_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parquet: bool, cut: datetime | None
) -> None:
    def hashed(*_: object, **__: object) -> None:
        raise AssertionError("the hashed path ran: every key here has one line a side")

    monkeypatch.setattr(reconciler_module, "_judge_general", hashed)
    results, (tallied, unmatched, every) = summaries(tmp_path, parquet=parquet, cut=cut)

    lines = Counter((r.side, r.outcome) for r in results)
    # The credits of E1 (before the cut) and E7 (after it): credited, counted, not written.
    assert lines[(Side.CHARGE, Outcome.CREDITED)] == (2 if cut is None else 1)
    for found in (tallied, unmatched, every):
        assert {key: count.lines for key, count in found.counts.items()} == dict(lines)
        assert found.counts == tallied.counts
        assert found.revenue_at_risk == sum(
            (r.revenue_at_risk or Decimal(0) for r in results), Decimal(0)
        )
    assert tallied.revenue_at_risk > 0
    for out in ("out", "all"):  # with every line asked, unmatched.parquet is read from it
        assert read_verdicts(tmp_path / out / "unmatched.parquet") == {
            expected(r) for r in results if r.outcome in UNMATCHED
        }
    assert read_verdicts(tmp_path / "all" / "lines.parquet") == {expected(r) for r in results}
    assert unmatched.files == [
        tmp_path / "out" / "unmatched.parquet",
        tmp_path / "out" / "unmatched.csv",
    ]
    assert every.files[-1] == tmp_path / "all" / "lines.parquet"


# Keys the one-join path would misjudge: a usage billed twice (a charge met by two rows), a
# charge and its credit with no usage (doubtful), two usages of which one is of nothing.
@pytest.mark.parametrize(
    ("usage", "charges"),
    [
        ([("F1", "E1", "CDM-A", "1", "100", T0)],
         [("F1", "E1", "CDM-A", "1", "250", T0, False),
          ("F1", "E1", "CDM-A", "1", "250", T0, False)]),
        ([],
         [("F1", "E1", "CDM-A", "1", "250", T0, False),
          ("F1", "E1", "CDM-A", "1", "250", T0, True)]),
        ([("F1", "E1", "CDM-A", "2", "100", T0), ("F1", "E1", "CDM-A", "0", "100", T0)], []),
    ],
)  # fmt: skip
def test_with_files_keys_of_several_lines_go_to_the_hashed_path(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    usage: list[tuple[str, str | None, str, str, str, datetime]],
    charges: list[tuple[str, str, str, str, str, datetime, bool]],
) -> None:
    # No sample looked at first: the one-join path's own test must send these batches on.
    monkeypatch.setattr(reconciler_module, "_SAMPLE_LINES", 0)
    calls: list[bool] = []
    general = reconciler_module._judge_general

    def hashed(*args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        calls.append(kwargs["store"])
        return general(*args, **kwargs)

    monkeypatch.setattr(reconciler_module, "_judge_general", hashed)
    usages, lines = build(usage, charges)
    files = write_inputs(tmp_path, usages, lines, parquet=True)
    results = reconcile(usages, lines, window=WINDOW, price=price)

    found = DuckDbReconciler(memory_limit="256MB", threads=2).reconcile_files(
        files, window=WINDOW, out_dir=tmp_path / "out"
    )

    assert calls == [True]
    assert {key: count.lines for key, count in found.counts.items()} == dict(
        Counter((r.side, r.outcome) for r in results)
    )
    assert read_verdicts(tmp_path / "out" / "unmatched.parquet") == {
        expected(r) for r in results if r.outcome in UNMATCHED
    }


def test_with_files_a_key_hash_that_collides_changes_no_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The one-join path's test joins on the key's hash alone: make it collide on every key of a
    # facility, so that its groups hold several keys (the test then fails, never passes wrongly).
    monkeypatch.setattr(reconciler_module, "_USAGE_KEY", "hash(facility_id)")
    monkeypatch.setattr(reconciler_module, "_CHARGE_KEY", "hash(facility_id)")
    results, found = summaries(tmp_path, parquet=True, cut=None)

    for summary in found:
        assert {key: count.lines for key, count in summary.counts.items()} == dict(
            Counter((r.side, r.outcome) for r in results)
        )
    assert read_verdicts(tmp_path / "out" / "unmatched.parquet") == {
        expected(r) for r in results if r.outcome in UNMATCHED
    }
