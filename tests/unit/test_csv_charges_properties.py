"""Any cell text yields a charge line or a row error, never a crash or a leaked identifier."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from suture.formats.csv import ChargeLine, ImportKind, Row, RowError, decode_charge, default_profile

PROFILE = default_profile(ImportKind.CHARGES)
HEADERS = PROFILE.headers

cells = st.text(max_size=30)
identifiers = st.from_regex(r"[A-Z]{0,3}[0-9]{6,10}", fullmatch=True)


def tokenize(value: str) -> str:
    return f"tok{len(value)}"


def outcome(row: Row) -> ChargeLine | RowError:
    try:
        return decode_charge(row, PROFILE, tokenize=tokenize)
    except RowError as error:
        return error


@given(st.fixed_dictionaries(dict.fromkeys(HEADERS, cells)))
def test_any_cells_decode_to_a_charge_line_or_a_row_error(values: dict[str, str]) -> None:
    line = outcome(Row(2, values))
    if isinstance(line, RowError):
        assert [problem.line for problem in line.errors] == [2] * len(line.errors) != []
    else:
        assert line.charge.service_at.utcoffset() is not None


@given(
    st.fixed_dictionaries(dict.fromkeys(HEADERS, cells)),
    st.tuples(identifiers, identifiers),
    st.lists(st.sampled_from(HEADERS), max_size=4),
)
def test_an_error_never_contains_an_account_or_encounter_number(
    values: dict[str, str], ids: tuple[str, str], shifted_into: list[str]
) -> None:
    values = values | {"Account Number": ids[0], "Encounter Number": ids[1]}
    for header in shifted_into:
        values[header] = ids[len(header) % 2]
    error = outcome(Row(2, values, (ids[0],)))
    assert isinstance(error, RowError)  # the extra cell alone is an error
    text = " ".join(str(problem) for problem in error.errors)
    assert not any(identifier in text for identifier in ids)
