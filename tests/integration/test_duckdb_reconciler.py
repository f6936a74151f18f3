"""The DuckDB batch reconciler against the pure rule (``domain/reconciliation.py``), line by line.

The reconciler judges a key with at most one line a side by one full outer join, and a key
with several lines on a side by the general, stepwise form (``adapters/analytics``). Hypothesis
draws lines over few keys (so both forms run in one batch, and a key moves between them as
lines are added), times on and around the window's edges, credits, usage without an encounter,
a chargemaster with dated prices and a gap; the files are written as CSV or Parquet; the
verdict on every line, the summary (whose matched counts are derived, not stored; with files
and without, when most lines are tallied rather than stored) and the unmatched files must equal
what ``reconcile()`` says.
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from suture.adapters.analytics import duckdb_reconciler as reconciler_module
from suture.adapters.analytics.duckdb_reconciler import DuckDbReconciler
from suture.domain.reconciliation import (
    UNMATCHED,
    ChargeLine,
    ChargemasterPrice,
    LineResult,
    Outcome,
    Side,
    UsageLine,
    price_on,
    reconcile,
)
from suture.services.reconciliation_batch import ReconcileInput

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = timedelta(hours=72)
PRICES = [
    ChargemasterPrice(facility_id="F1", cdm_code="CDM-A", effective_from=date(2026, 1, 1),
                      effective_to=date(2026, 3, 1), unit_price=Decimal("100.0000")),
    ChargemasterPrice(facility_id="F1", cdm_code="CDM-A", effective_from=date(2026, 3, 2),
                      unit_price=Decimal("125.5050")),
    ChargemasterPrice(facility_id="F2", cdm_code="CDM-A", effective_from=date(2026, 2, 1),
                      unit_price=Decimal("99.9950")),
    ChargemasterPrice(facility_id="F1", cdm_code="CDM-B", effective_from=date(2026, 1, 1),
                      effective_to=date(2026, 2, 28), unit_price=Decimal("19.99")),
    ChargemasterPrice(facility_id="F1", cdm_code="CDM-B", effective_from=date(2026, 3, 5),
                      unit_price=Decimal("21.0000")),
]  # fmt: skip

Verdict = tuple[str, str, str, str, Decimal, Decimal, Decimal | None]


def price(facility: str, cdm: str, day: date) -> Decimal | None:
    return price_on((p for p in PRICES if (p.facility_id, p.cdm_code) == (facility, cdm)), day)


def naive(at: datetime) -> str:
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def write_inputs(
    directory: Path, usages: list[UsageLine], charges: list[ChargeLine], *, parquet: bool
) -> ReconcileInput:
    """The three inputs as the database extract writes them (CSV), or converted to Parquet."""
    tables: dict[str, tuple[list[str], list[list[object]]]] = {
        "usage": (
            ["id", "facility_id", "encounter_token", "cdm_code", "quantity", "cost", "used_at"],
            [[u.id, u.facility_id, u.encounter_token, u.cdm_code, u.quantity, u.cost, naive(u.at)]
             for u in usages],
        ),
        "charges": (
            ["id", "facility_id", "encounter_token", "cdm_code", "quantity", "amount",
             "service_at", "transaction_type"],
            [[c.id, c.facility_id, c.encounter_token, c.cdm_code, c.quantity, c.amount,
              naive(c.at), "CD" if c.credit else "CG"] for c in charges],
        ),
        "prices": (
            ["facility_id", "cdm_code", "effective_from", "effective_to", "unit_price"],
            [[p.facility_id, p.cdm_code, p.effective_from, p.effective_to, p.unit_price]
             for p in PRICES],
        ),
    }  # fmt: skip
    paths = {}
    for name, (header, rows) in tables.items():
        path = directory / f"{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        if parquet:
            typed = directory / f"{name}.parquet"
            duckdb.sql(f"COPY (SELECT * FROM read_csv('{path}')) TO '{typed}' (FORMAT PARQUET)")
            path = typed
        paths[name] = path
    return ReconcileInput(usage=paths["usage"], charges=paths["charges"], prices=paths["prices"])


def expected(result: LineResult) -> Verdict:
    return (
        result.side.value, result.line_id, result.encounter_key, result.outcome.value,
        result.quantity, result.unbilled, result.revenue_at_risk,
    )  # fmt: skip


def read_verdicts(path: Path) -> set[Verdict]:
    rows = duckdb.execute(
        "SELECT side, line_id, encounter_key, outcome, quantity, unbilled, revenue_at_risk "
        f"FROM read_parquet('{path}')"
    ).fetchall()
    return {
        (side, line, key, outcome, Decimal(qty), Decimal(unbilled),
         None if risk is None else Decimal(risk))
        for side, line, key, outcome, qty, unbilled, risk in rows
    }  # fmt: skip


hours = st.sampled_from([-150, -73, -72, -71, 0, 0, 1, 24, 71, 72, 73, 200]).map(
    lambda h: T0 + timedelta(hours=h)
)
quantities = st.sampled_from(["0", "1", "1", "2", "3"])
money = st.sampled_from(["0", "100", "250", "250.5"])
facilities = st.sampled_from(["F1", "F1", "F2"])
cdms = st.sampled_from(["CDM-A", "CDM-A", "CDM-B", "NOPRICE"])
usage_specs = st.lists(
    st.tuples(facilities, st.sampled_from(["E1", "E2", "E3", "E4", None]), cdms, quantities,
              money, hours),
    max_size=12,
)  # fmt: skip
charge_specs = st.lists(
    st.tuples(facilities, st.sampled_from(["E1", "E2", "E3", "E4", "E5"]), cdms, quantities,
              money, hours, st.booleans()),
    max_size=12,
)  # fmt: skip
# The reported period: everything, or from a cut (lines before it are read, judged with their
# key, but not reported).
cuts = st.sampled_from([None, T0 - timedelta(hours=72), T0 + timedelta(hours=1)])


def build(
    usage_rows: list[tuple[str, str | None, str, str, str, datetime]],
    charge_rows: list[tuple[str, str, str, str, str, datetime, bool]],
) -> tuple[list[UsageLine], list[ChargeLine]]:
    usages = [
        UsageLine(id=f"U{n}", facility_id=f, encounter_token=e, cdm_code=k,
                  quantity=Decimal(q), cost=Decimal(m), at=at)
        for n, (f, e, k, q, m, at) in enumerate(usage_rows)
    ]  # fmt: skip
    charges = [
        ChargeLine(id=f"C{n}", facility_id=f, encounter_token=e, cdm_code=k,
                   quantity=Decimal(q), amount=Decimal(m), at=at, credit=credit)
        for n, (f, e, k, q, m, at, credit) in enumerate(charge_rows)
    ]  # fmt: skip
    return usages, charges


# Example counts (80, 30 and 40 before; 37, 15 and 23 s of a 17-minute suite): the draws come
# from small pools (5 encounters, 4 CDM codes, 12 hours, up to 12 lines a side), so a few dozen
# batches already mix keys of one and of several lines on both paths, and the @example cases
# pin every edge of the rule (window, tie, credit, cost, no encounter, no price) in every run.
@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(usage_specs, charge_specs, st.booleans(), cuts)
# Planted: one line a side (the join), a tie on time broken by id (the general form), a credit
# netting a charge away, a charge on the window's edge, a usage with no encounter.
@example([("F1", "E1", "CDM-A", "2", "100", T0)], [("F1", "E1", "CDM-A", "1", "50", T0, False)],
         False, None)  # fmt: skip
@example(
    [("F1", "E1", "CDM-A", "1", "100", T0), ("F1", "E1", "CDM-A", "2", "100", T0)],
    [("F1", "E1", "CDM-A", "2", "250", T0, False)], True, None,
)  # fmt: skip
@example(
    [("F1", "E1", "CDM-B", "1", "100", T0)],
    [("F1", "E1", "CDM-B", "1", "250", T0, False), ("F1", "E1", "CDM-B", "1", "250", T0, True)],
    False, None,
)  # fmt: skip
@example([("F1", "E1", "CDM-A", "1", "100", T0)],
         [("F1", "E1", "CDM-A", "1", "250", T0 + WINDOW, False)], True, None)  # fmt: skip
@example([("F2", None, "CDM-A", "3", "100", T0)], [], False, T0 + timedelta(hours=1))
# Charged more than used (one line a side); exactly at cost, and a cent below it (one line a
# side, then several).
@example([("F1", "E1", "CDM-A", "1", "100", T0)], [("F1", "E1", "CDM-A", "2", "250", T0, False)],
         False, None)  # fmt: skip
@example([("F1", "E1", "CDM-A", "1", "250", T0)], [("F1", "E1", "CDM-A", "1", "250", T0, False)],
         False, None)  # fmt: skip
@example([("F1", "E1", "CDM-A", "1", "250.01", T0)],
         [("F1", "E1", "CDM-A", "1", "250", T0, False)], False, None)  # fmt: skip
@example(
    [("F1", "E1", "CDM-A", "1", "100", T0), ("F1", "E1", "CDM-A", "1", "150", T0)],
    [("F1", "E1", "CDM-A", "2", "250", T0, False)], False, None,
)  # fmt: skip
@example(
    [("F1", "E1", "CDM-A", "1", "100", T0), ("F1", "E1", "CDM-A", "1", "150.01", T0)],
    [("F1", "E1", "CDM-A", "2", "250", T0, False)], False, None,
)  # fmt: skip
def test_every_verdict_and_the_summary_equal_the_pure_rule(
    tmp_path_factory: pytest.TempPathFactory,
    usage_rows: list[tuple[str, str | None, str, str, str, datetime]],
    charge_rows: list[tuple[str, str, str, str, str, datetime, bool]],
    parquet: bool,
    cut: datetime | None,
) -> None:
    check(tmp_path_factory.mktemp("batch"), usage_rows, charge_rows, parquet=parquet, cut=cut)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(usage_specs, charge_specs, st.booleans())
# Two keys, one line each, under one hash: paired by the join, and told apart by the key.
@example([("F1", "E1", "CDM-A", "1", "100", T0)], [("F1", "E2", "CDM-A", "1", "250", T0, False)],
         False)  # fmt: skip
def test_the_answer_does_not_depend_on_the_key_hash(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    usage_rows: list[tuple[str, str | None, str, str, str, datetime]],
    charge_rows: list[tuple[str, str, str, str, str, datetime, bool]],
    parquet: bool,
) -> None:
    # The hash finds keys with several lines a side and pairs the others; make it collide on
    # every key of a facility.
    monkeypatch.setattr(reconciler_module, "_USAGE_KEY", "hash(facility_id)")
    monkeypatch.setattr(reconciler_module, "_CHARGE_KEY", "hash(facility_id)")
    check(tmp_path_factory.mktemp("hash"), usage_rows, charge_rows, parquet=parquet, cut=None)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(usage_specs, charge_specs, st.booleans(), cuts)
# Keys of several lines that one row a pair would misjudge: a usage billed twice in full (every
# pair matched), a charge and its credit with no usage, two usages of which one is of nothing.
@example(
    [("F1", "E1", "CDM-A", "1", "100", T0)],
    [("F1", "E1", "CDM-A", "1", "250", T0, False), ("F1", "E1", "CDM-A", "1", "250", T0, False)],
    False, None,
)  # fmt: skip
@example(
    [],
    [("F1", "E1", "CDM-A", "1", "250", T0, False), ("F1", "E1", "CDM-A", "1", "250", T0, True)],
    True, None,
)  # fmt: skip
@example([("F1", "E1", "CDM-A", "2", "100", T0), ("F1", "E1", "CDM-A", "0", "100", T0)], [],
         False, None)  # fmt: skip
def test_keys_of_several_lines_are_told_by_the_join_itself(
    tmp_path_factory: pytest.TempPathFactory,
    usage_rows: list[tuple[str, str | None, str, str, str, datetime]],
    charge_rows: list[tuple[str, str, str, str, str, datetime, bool]],
    parquet: bool,
    cut: datetime | None,
) -> None:
    # No sample looked at first: the one-join path runs on every batch, and its own test must
    # send the batches it cannot judge to the hashed path.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reconciler_module, "_SAMPLE_LINES", 0)
        check(tmp_path_factory.mktemp("join"), usage_rows, charge_rows, parquet=parquet, cut=cut)


@pytest.mark.parametrize("several", [False, True])
def test_a_line_before_its_codes_first_price_is_unpriced_on_every_path(
    tmp_path: Path, several: bool
) -> None:
    # Before a code's first price a line has none: F2's CDM-A has one price, from 2026-02-01 (a
    # code of one segment, as in the benchmark's chargemaster), F1's CDM-A from 2026-01-01.
    # Lines the day before, on the first day, and in F1's CDM-B gap;
    # billed short, or not at all. With ``several``, a key of two usage lines sends the batch to
    # the hashed path; without, the one-join path judges it (with files and without). The rule
    # says which lines have no price; every path must say the same.
    before_f2, before_f1 = datetime(2026, 1, 31, 23, tzinfo=UTC), datetime(2025, 12, 31, tzinfo=UTC)
    first_day, gap = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, 12, tzinfo=UTC)
    usage_rows: list[tuple[str, str | None, str, str, str, datetime]] = [
        ("F2", "E1", "CDM-A", "2", "100", before_f2), ("F2", "E2", "CDM-A", "3", "100", first_day),
        ("F1", "E3", "CDM-A", "2", "100", before_f1), ("F1", "E4", "CDM-B", "1", "100", gap),
        ("F2", None, "CDM-A", "1", "100", before_f2),
    ]  # fmt: skip
    charge_rows: list[tuple[str, str, str, str, str, datetime, bool]] = [
        ("F2", "E1", "CDM-A", "1", "250", before_f2, False),
        ("F2", "E2", "CDM-A", "1", "250", first_day, False),
    ]
    if several:
        usage_rows.append(("F2", "E1", "CDM-A", "1", "100", before_f2 - timedelta(hours=1)))

    check(tmp_path, usage_rows, charge_rows, parquet=True, cut=None)
    usages, charges = build(usage_rows, charge_rows)
    unpriced = {
        r.line_id for r in reconcile(usages, charges, window=WINDOW, price=price)
        if r.unbilled and r.revenue_at_risk is None
    }  # fmt: skip
    assert unpriced == {"U0", "U2", "U3", "U4"}  # U5, first in time on E1, is covered


def check(
    directory: Path,
    usage_rows: list[tuple[str, str | None, str, str, str, datetime]],
    charge_rows: list[tuple[str, str, str, str, str, datetime, bool]],
    *,
    parquet: bool,
    cut: datetime | None,
) -> None:
    usages, charges = build(usage_rows, charge_rows)
    files = write_inputs(directory, usages, charges, parquet=parquet)
    results = [
        result
        for result in reconcile(usages, charges, window=WINDOW, price=price)
        if cut is None or result.at >= cut
    ]
    reconciler = DuckDbReconciler(memory_limit="256MB", threads=2)

    every = reconciler.reconcile_files(
        files, window=WINDOW, out_dir=directory / "all", report_from=cut, include_matched=True
    )
    summary = reconciler.reconcile_files(
        files, window=WINDOW, out_dir=directory / "unmatched", report_from=cut
    )
    tallied = reconciler.reconcile_files(files, window=WINDOW, out_dir=None, report_from=cut)

    assert read_verdicts(directory / "all" / "lines.parquet") == {expected(r) for r in results}
    assert read_verdicts(directory / "unmatched" / "unmatched.parquet") == {
        expected(r) for r in results if r.outcome in UNMATCHED
    }
    lines = Counter((r.side, r.outcome) for r in results)
    unbilled: Counter[tuple[Side, Outcome]] = Counter()
    for r in results:
        unbilled[(r.side, r.outcome)] += r.unbilled  # type: ignore[assignment]
    for found in (every, summary, tallied):
        assert {key: count.lines for key, count in found.counts.items()} == dict(lines)
        assert {key: count.unbilled for key, count in found.counts.items()} == {
            key: unbilled[key] for key in lines
        }
        assert found.revenue_at_risk == sum(
            (r.revenue_at_risk or Decimal(0) for r in results), Decimal(0)
        )
        assert found.unpriced == sum(1 for r in results if r.unbilled and r.revenue_at_risk is None)


def test_the_csv_holds_the_same_unmatched_lines_as_the_parquet(tmp_path: Path) -> None:
    # E1: one usage, no charge (the join). E2: two usage lines, one charge of one (the general
    # form): the first line covered, the second not, the charge short. E9: a charge alone.
    usages, charges = build(
        [("F1", "E1", "CDM-A", "2", "100", T0), ("F1", "E2", "CDM-B", "1", "100", T0),
         ("F1", "E2", "CDM-B", "1", "100", T0 + timedelta(hours=1))],
        [("F1", "E2", "CDM-B", "1", "250", T0, False), ("F2", "E9", "CDM-A", "1", "9", T0, False)],
    )  # fmt: skip
    files = write_inputs(tmp_path, usages, charges, parquet=False)

    summary = DuckDbReconciler().reconcile_files(files, window=WINDOW, out_dir=tmp_path / "out")

    from_csv = duckdb.execute(
        "SELECT side, line_id, outcome, unbilled, revenue_at_risk "
        f"FROM read_csv('{tmp_path / 'out' / 'unmatched.csv'}', all_varchar = true)"
    ).fetchall()
    assert set(from_csv) == {
        (s, i, o, str(u), None if r is None else str(r))
        for s, i, _, o, _, u, r in read_verdicts(tmp_path / "out" / "unmatched.parquet")
    }
    assert sorted(from_csv) == [
        ("charge", "C0", "quantity_mismatch", "0.0000", "0.00"),
        ("charge", "C1", "charge_without_usage", "0.0000", "0.00"),
        ("usage", "U0", "usage_without_charge", "2.0000", "251.01"),
        ("usage", "U2", "usage_without_charge", "1.0000", None),
    ]
    assert summary.counts[(Side.USAGE, Outcome.MATCHED)].lines == 1
    assert (Side.CHARGE, Outcome.MATCHED) not in summary.counts
    assert (summary.lines, summary.unpriced) == (5, 1)
    assert summary.files == [
        tmp_path / "out" / "unmatched.parquet",
        tmp_path / "out" / "unmatched.csv",
    ]


@pytest.mark.parametrize("cut", [None, T0 + timedelta(hours=1)])
def test_the_one_join_summary_judges_every_pair_as_the_pure_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cut: datetime | None
) -> None:
    # Without files, the one-join path counts its rows by the comparisons they make and judges
    # the groups (``_pair_verdicts``): every combination of one usage line and one charge on
    # either side of each comparison (usage of nothing or less, cost of nothing, a credit, a
    # charge out of play), lines alone, a code without a price; each key its own encounter.
    answered: list[bool] = []
    judge = reconciler_module._judge_pairs

    def spy(*args: object) -> object:
        counts = judge(*args)  # type: ignore[arg-type]
        answered.append(counts is not None)
        return counts

    monkeypatch.setattr(reconciler_module, "_judge_pairs", spy)
    usage_rows: list[tuple[str, str | None, str, str, str, datetime]] = []
    charge_rows: list[tuple[str, str, str, str, str, datetime, bool]] = []
    n = 0
    for used in ("-1", "0", "1", "2"):
        for cost in ("0", "100"):
            for charged in ("0", "1", "2", "3"):
                for amount in ("50", "100", "250"):
                    for credit in (False, True):
                        for late in (0, 80):
                            n += 1
                            cdm = "NOPRICE" if n % 5 == 0 else "CDM-A"
                            at = T0 + timedelta(hours=n % 3)
                            usage_rows.append(("F1", f"E{n}", cdm, used, cost, at))
                            charge_rows.append(("F1", f"E{n}", cdm, charged, amount,
                                                at + timedelta(hours=late), credit))  # fmt: skip
    usage_rows += [("F1", "ALONE-U", "CDM-A", "2", "100", T0), ("F2", None, "CDM-A", "1", "0", T0)]
    charge_rows.append(("F1", "ALONE-C", "CDM-B", "1", "250", T0, False))
    usages, charges = build(usage_rows, charge_rows)
    files = write_inputs(tmp_path, usages, charges, parquet=True)
    results = [
        r
        for r in reconcile(usages, charges, window=WINDOW, price=price)
        if cut is None or r.at >= cut
    ]

    summary = DuckDbReconciler(threads=2).reconcile_files(
        files, window=WINDOW, out_dir=None, report_from=cut
    )

    assert answered == [True]
    expected_counts: dict[tuple[Side, Outcome], list[object]] = {}
    for r in results:
        tally = expected_counts.setdefault((r.side, r.outcome), [0, Decimal(0), Decimal(0), 0])
        tally[0] += 1  # type: ignore[operator]
        tally[1] += r.unbilled  # type: ignore[operator]
        tally[2] += r.revenue_at_risk or Decimal(0)  # type: ignore[operator]
        tally[3] += 1 if r.unbilled and r.revenue_at_risk is None else 0  # type: ignore[operator]
    assert {
        key: [c.lines, c.unbilled, c.revenue_at_risk, c.unpriced]
        for key, c in summary.counts.items()
    } == expected_counts
    assert len(expected_counts) == 9
