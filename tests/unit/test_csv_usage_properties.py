"""Any cell text yields a usage line or a row error, never a crash or a leaked identifier."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from suture.formats.csv import (
    CsvFileError,
    Decoded,
    ImportKind,
    Row,
    RowError,
    UsageLine,
    decode_usage,
    decode_usage_rows,
    default_profile,
    read_rows,
)

PROFILE = default_profile(ImportKind.USAGE)
HEADERS = PROFILE.headers
IDENTIFIERS = ("Case Number", "Visit Number", "MRN")

cells = st.text(max_size=30)
identifiers = st.from_regex(r"[A-Z]{0,3}[0-9]{6,10}", fullmatch=True)


def tokenize(value: str) -> str:
    return f"tok{len(value)}"


def outcome(row: Row) -> UsageLine | RowError:
    try:
        return decode_usage(row, PROFILE, tokenize=tokenize)
    except RowError as error:
        return error


@given(st.fixed_dictionaries(dict.fromkeys(HEADERS, cells)))
def test_any_cells_decode_to_a_usage_line_or_a_row_error(values: dict[str, str]) -> None:
    line = outcome(Row(2, values))
    if isinstance(line, RowError):
        assert [problem.line for problem in line.errors] == [2] * len(line.errors) != []
    else:
        assert line.quantity > 0
        assert line.used_at.utcoffset() is not None


@given(
    st.fixed_dictionaries(dict.fromkeys(HEADERS, cells)),
    st.tuples(identifiers, identifiers, identifiers),
    st.lists(st.sampled_from(HEADERS), max_size=4),
)
def test_an_error_never_contains_a_patient_identifier_wherever_it_sits(
    values: dict[str, str], ids: tuple[str, str, str], shifted_into: list[str]
) -> None:
    values = values | dict(zip(IDENTIFIERS, ids, strict=True))
    for header in shifted_into:  # a row whose delimiters are off moves identifiers anywhere
        values[header] = ids[len(header) % 3]
    error = outcome(Row(2, values, (ids[2],)))
    assert isinstance(error, RowError)  # the extra cell alone is an error
    text = " ".join(str(problem) for problem in error.errors)
    assert not any(identifier in text for identifier in ids)


@given(st.text(alphabet=st.sampled_from('ab1,"\r\n \x00é/:-.'), max_size=200))
def test_any_file_body_yields_lines_and_row_errors_or_a_file_error(body: str) -> None:
    stream = io.StringIO(",".join(HEADERS) + "\r\n" + body, newline="")
    try:
        rows = read_rows(stream, PROFILE)
        results = list(decode_usage_rows(rows, PROFILE, tokenize=tokenize))
    except CsvFileError:
        return
    assert all(isinstance(result, Decoded | RowError) for result in results)
