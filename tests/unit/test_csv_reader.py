"""Reading rows: streamed, each with the line an editor shows, after the header is checked."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from typing import TextIO, cast

import pytest

from suture.formats.csv import ColumnProfile, CsvFileError, Row, load_profile, read_rows

PROFILE = load_profile(
    "kind: suppliers\ncolumns:\n  vendor_number: Vendor Number\n  name: Vendor Name\n",
    "vendors.yaml",
)


def rows(text: str, profile: ColumnProfile = PROFILE) -> list[Row]:
    return list(read_rows(io.StringIO(text, newline=""), profile))


def file_error(text: str, profile: ColumnProfile = PROFILE) -> tuple[str, str, int | None]:
    with pytest.raises(CsvFileError) as caught:
        rows(text, profile)
    return caught.value.field, caught.value.reason, caught.value.line


def test_each_row_carries_its_line_and_its_cells_by_header() -> None:
    assert rows("Vendor Number,Vendor Name\r\nV1002,Owens & Minor\r\nV1003,Medline\r\n") == [
        Row(2, {"Vendor Number": "V1002", "Vendor Name": "Owens & Minor"}),
        Row(3, {"Vendor Number": "V1003", "Vendor Name": "Medline"}),
    ]


def test_a_quoted_field_over_several_lines_does_not_shift_later_line_numbers() -> None:
    text = 'Vendor Number,Vendor Name\nV1,"Acme\nSurgical\nSupply"\nV2,Medline\n'

    assert [(row.line_number, row.values["Vendor Name"]) for row in rows(text)] == [
        (2, "Acme\nSurgical\nSupply"),
        (5, "Medline"),
    ]


def test_blank_lines_and_lines_of_empty_cells_are_skipped_but_counted() -> None:
    text = "\nVendor Number,Vendor Name\n\nV1,Acme\n , \n,,\nV2,Medline\n"

    assert [row.line_number for row in rows(text)] == [4, 7]


def test_a_byte_order_mark_and_spaces_around_header_names_are_ignored() -> None:
    assert rows("\ufeff Vendor Number , Vendor Name\nV1,Acme\n") == [
        Row(2, {"Vendor Number": "V1", "Vendor Name": "Acme"})
    ]


def test_a_utf8_file_with_a_bom_reads_the_same_through_utf8_sig() -> None:
    data = "\ufeffVendor Number,Vendor Name\nV1,Hôpital Supply\n".encode()
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")

    assert list(read_rows(stream, PROFILE)) == [
        Row(2, {"Vendor Number": "V1", "Vendor Name": "Hôpital Supply"})
    ]


def test_columns_the_profile_does_not_map_are_kept() -> None:
    assert rows("Vendor Name,Notes,Vendor Number\nAcme,call first,V1\n") == [
        Row(2, {"Vendor Name": "Acme", "Notes": "call first", "Vendor Number": "V1"})
    ]


def test_a_short_row_reads_its_missing_trailing_cells_as_empty() -> None:
    assert rows("Vendor Number,Vendor Name,Notes\nV1,Acme\n") == [
        Row(2, {"Vendor Number": "V1", "Vendor Name": "Acme", "Notes": ""})
    ]


def test_a_short_last_row_where_the_file_ends_without_a_line_break_is_marked_cut_short() -> None:
    text = "Vendor Number,Vendor Name,Notes\nV1,Acme,ok\nV2,Medl"

    assert rows(text) == [
        Row(2, {"Vendor Number": "V1", "Vendor Name": "Acme", "Notes": "ok"}),
        Row(
            3, {"Vendor Number": "V2", "Vendor Name": "Medl", "Notes": ""}, cut_short=True, cells=2
        ),
    ]


@pytest.mark.parametrize(
    "text",
    ["Vendor Number,Vendor Name,Notes\nV1,Acme\n", "Vendor Number,Vendor Name\nV1,Acme"],
    ids=["short-with-a-line-break", "whole-without-one"],
)
def test_a_short_row_with_its_line_break_or_a_whole_last_row_is_not_cut_short(text: str) -> None:
    assert [row.cut_short for row in rows(text)] == [False]


def test_a_long_row_keeps_its_extra_cells_for_the_decoder_to_reject() -> None:
    assert rows("Vendor Number,Vendor Name\nV1,Gauze, 4x4,\n") == [
        Row(2, {"Vendor Number": "V1", "Vendor Name": "Gauze"}, overflow=(" 4x4", ""))
    ]


def test_trailing_empty_cells_beyond_the_header_are_not_an_overflow() -> None:
    assert rows("Vendor Number,Vendor Name\nV1,Acme,,\n") == [
        Row(2, {"Vendor Number": "V1", "Vendor Name": "Acme"})
    ]


def test_the_profile_delimiter_and_quote_are_used() -> None:
    profile = load_profile(
        "kind: suppliers\ndelimiter: ';'\nquotechar: \"'\"\n"
        "columns: {vendor_number: Nr, name: Name}\n",
        "x",
    )

    assert rows("Nr;Name\nV1;'Müller; Söhne'\n", profile) == [
        Row(2, {"Nr": "V1", "Name": "Müller; Söhne"})
    ]


def test_a_mapped_column_missing_from_the_header_is_a_file_error_listing_the_header() -> None:
    assert file_error("Vendor No,Vendor Name,Terms\nV1,Acme,NET30\n") == (
        "Vendor Number",
        "missing column 'Vendor Number' named in vendors.yaml; "
        "the header has 'Vendor No', 'Vendor Name', 'Terms'",
        1,
    )


def test_a_utf16_file_read_as_utf8_is_pointed_out() -> None:
    data = "Vendor Number,Vendor Name\nV1,Acme\n".encode("utf-16")
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", errors="surrogateescape")

    with pytest.raises(CsvFileError) as caught:
        read_rows(stream, PROFILE)

    assert caught.value.reason.endswith(
        "; it holds NUL characters, so the file is likely UTF-16, not utf-8-sig: set encoding: "
        "utf-16 in the profile"
    )


def test_a_header_differing_only_in_case_is_pointed_out() -> None:
    assert file_error("\n\nVENDOR NUMBER,vendor name\n") == (
        "Vendor Number",
        "missing columns 'Vendor Number' (the file has 'VENDOR NUMBER'), "
        "'Vendor Name' (the file has 'vendor name') named in vendors.yaml; "
        "the header has 'VENDOR NUMBER', 'vendor name'",
        3,
    )


def test_a_mapped_column_given_twice_is_ambiguous() -> None:
    assert file_error("Vendor Number,Vendor Name,Vendor Name\n") == (
        "Vendor Name",
        "appears more than once in the header",
        1,
    )


def test_an_empty_file_has_no_header() -> None:
    assert file_error("\n \n") == ("", "the file is empty: expected a header line", None)


def test_the_header_is_checked_before_the_first_row_is_asked_for() -> None:
    with pytest.raises(CsvFileError):
        read_rows(io.StringIO("Name\n"), PROFILE)  # not iterated


def test_bytes_not_in_the_declared_encoding_stop_the_file() -> None:
    data = b"Vendor Number,Vendor Name\nV1,H\xf4pital\n"
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")

    with pytest.raises(CsvFileError) as caught:
        list(read_rows(stream, PROFILE))

    assert (caught.value.field, caught.value.reason) == (
        "encoding",
        "not valid utf-8: byte 0xf4 (invalid continuation byte)",
    )


def test_a_quote_never_closed_stops_the_file_where_its_record_starts() -> None:
    text = 'Vendor Number,Vendor Name\nV1,Acme\nV2,"Medline\nV3,Cardinal\nV4,Stryker\n'

    assert file_error(text) == (
        "",
        "malformed CSV in the record starting here (a quoted value runs to the end of the "
        "file, line 5); is a quote unclosed?",
        3,
    )


def test_a_last_row_without_a_line_break_is_not_an_unclosed_quote() -> None:
    text = 'Vendor Number,Vendor Name\nV1,"Acme\nSurgical"\nV2,"Medline"'

    assert [row.values["Vendor Name"] for row in rows(text)] == ["Acme\nSurgical", "Medline"]


def test_rows_are_read_lazily_so_memory_does_not_grow_with_the_file() -> None:
    def endless() -> Iterator[str]:
        yield "Vendor Number,Vendor Name\n"
        for number in itertools.count():
            yield f"V{number},Vendor {number}\n"

    first = list(itertools.islice(read_rows(cast(TextIO, endless()), PROFILE), 3))

    assert [row.line_number for row in first] == [2, 3, 4]
