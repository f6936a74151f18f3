"""The DuckDB reconciler with files, on its one-join path, against the pure rule and itself.

With files, the one-join path judges the lines as it writes them, in one statement that is
also its own test (DuckDB's profiler counts the lines of the join's rows), and tallies the
summary from the file just written (the credited charges, which are not written, counted
apart). These tests hold that summary to the one the same batch gives without files and with
every line written, and the files to ``reconcile()``; they check that the batches the one-join
path cannot judge go to the hashed path, its file removed, and that the keys of several lines
it does judge (on one side only, every line positive) get the hashed path's verdicts. The
property tests of ``test_duckdb_reconciler.py`` cover both paths on drawn data.
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


def test_with_files_the_one_join_path_tests_the_key_itself_not_its_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A key hash colliding on every key of a facility would send every batch to the hashed
    # path if the test joined on it; the one-join statement joins on the key itself.
    monkeypatch.setattr(reconciler_module, "_USAGE_KEY", "hash(facility_id)")
    monkeypatch.setattr(reconciler_module, "_CHARGE_KEY", "hash(facility_id)")

    def hashed(*_: object, **__: object) -> None:
        raise AssertionError("the hashed path ran: every key here has one line a side")

    monkeypatch.setattr(reconciler_module, "_judge_general", hashed)
    results, found = summaries(tmp_path, parquet=True, cut=None)

    for summary in found:
        assert {key: count.lines for key, count in summary.counts.items()} == dict(
            Counter((r.side, r.outcome) for r in results)
        )
    assert read_verdicts(tmp_path / "out" / "unmatched.parquet") == {
        expected(r) for r in results if r.outcome in UNMATCHED
    }


# Keys of several lines on one side only, every line positive: each line alone in its row of
# the join, which counts them once, so the one-join path judges them (E1, two usages never
# billed; E2, two charges of nothing), beside a key of one line a side (E3).
SINGLE_SIDED = (
    [("F1", "E1", "CDM-A", "1", "100", T0), ("F1", "E1", "CDM-A", "2", "100", T0),
     ("F1", "E3", "CDM-A", "1", "100", T0)],
    [("F2", "E2", "CDM-B", "1", "250", T0, False),
     ("F2", "E2", "CDM-B", "3", "250", T0 + timedelta(hours=1), False),
     ("F1", "E3", "CDM-A", "1", "250", T0, False)],
)  # fmt: skip


@pytest.mark.parametrize("include_matched", [False, True])
def test_keys_of_several_lines_on_one_side_get_the_hashed_paths_verdicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, include_matched: bool
) -> None:
    monkeypatch.setattr(reconciler_module, "_SAMPLE_LINES", 0)
    usages, charges = build(*SINGLE_SIDED)
    files = write_inputs(tmp_path, usages, charges, parquet=True)
    reconciler = DuckDbReconciler(memory_limit="256MB", threads=2)
    name = "lines.parquet" if include_matched else "unmatched.parquet"

    def hashed(*_: object, **__: object) -> None:
        raise AssertionError("the hashed path ran: the one-join path judges these keys")

    with monkeypatch.context() as patch:
        patch.setattr(reconciler_module, "_judge_general", hashed)
        one_join = reconciler.reconcile_files(
            files, window=WINDOW, out_dir=tmp_path / "join", include_matched=include_matched
        )
    # The same batch sent straight to the hashed path, as a sample showing such keys would.
    monkeypatch.setattr(reconciler_module, "_several_lines_seen", lambda _: True)
    general = reconciler.reconcile_files(
        files, window=WINDOW, out_dir=tmp_path / "hashed", include_matched=include_matched
    )

    assert one_join.counts == general.counts
    assert read_verdicts(tmp_path / "join" / name) == read_verdicts(tmp_path / "hashed" / name)
    results = reconcile(usages, charges, window=WINDOW, price=price)
    assert read_verdicts(tmp_path / "join" / "unmatched.parquet") == {
        expected(r) for r in results if r.outcome in UNMATCHED
    }
    assert {key: count.lines for key, count in one_join.counts.items()} == {
        (Side.USAGE, Outcome.USAGE_WITHOUT_CHARGE): 2,
        (Side.USAGE, Outcome.MATCHED): 1,
        (Side.CHARGE, Outcome.CHARGE_WITHOUT_USAGE): 2,
        (Side.CHARGE, Outcome.MATCHED): 1,
    }


def test_with_files_no_count_from_the_profiler_sends_the_batch_to_the_hashed_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Should DuckDB's profiler not count the unnest (another version), the one-join path's
    # file is not trusted: it is written again by the hashed path.
    monkeypatch.setattr(reconciler_module, "_unnested", lambda _: None)
    calls: list[bool] = []
    general = reconciler_module._judge_general

    def hashed(*args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        calls.append(kwargs["store"])
        return general(*args, **kwargs)

    monkeypatch.setattr(reconciler_module, "_judge_general", hashed)
    results, (tallied, unmatched, every) = summaries(tmp_path, parquet=True, cut=None)

    assert calls == [True, True]  # with files, the unmatched lines and every line
    for found in (unmatched, every):
        assert found.counts == tallied.counts
    assert read_verdicts(tmp_path / "out" / "unmatched.parquet") == {
        expected(r) for r in results if r.outcome in UNMATCHED
    }
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "unmatched.csv", "unmatched.parquet"
    ]  # fmt: skip
