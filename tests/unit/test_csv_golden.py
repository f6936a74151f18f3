"""The golden sample files decode as a person reading them would expect, bad rows included.

``tests/golden/masterdata/`` holds one export of each kind in the built-in profile's layout,
with deliberately bad rows; the codec must accept the good rows and name every bad cell.
The items file is a Windows export: UTF-8 with a byte-order mark, CRLF line ends, a quoted
description over two lines, and a blank line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from suture.formats.csv import (
    Decoded,
    ImportKind,
    RowError,
    decode_rows,
    default_profile,
    read_rows,
)

GOLDEN = Path(__file__).parent.parent / "golden" / "masterdata"


def decode_golden(kind: ImportKind) -> tuple[list[int], list[tuple[int, str]]]:
    """The lines that decoded and the (line, column) of every problem, in file order."""
    profile = default_profile(kind)
    good: list[int] = []
    bad: list[tuple[int, str]] = []
    with (GOLDEN / f"{kind.value}.csv").open(encoding="utf-8-sig", newline="") as stream:
        for result in decode_rows(read_rows(stream, profile), profile):
            if isinstance(result, Decoded):
                good.append(result.line)
            else:
                bad += [(error.line, error.column) for error in result.errors]
    return good, bad


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (
            ImportKind.ITEMS,
            [2, 3, 4, 5, 11, 13],
            [
                (7, "GTIN EA"),
                (8, "UOM"),
                (8, "Implant Y/N"),
                (9, "Description"),
                (9, "CDM"),
                (12, "List Price"),
            ],
        ),
        (
            ImportKind.SUPPLIERS,
            [2, 3, 4, 8],
            [
                (5, "GLN"),
                (6, "Remit Zip"),
                (7, "Vendor Name"),
                (9, "Remit City"),
                (9, "Active Y/N"),
            ],
        ),
        (
            ImportKind.CONTRACT_PRICES,
            [2, 3, 4, 5, 6, 7, 8, 9],
            [(10, "GTIN"), (11, "Contract Start"), (11, "UOM"), (11, "Contract Price"), (12, "")],
        ),
        (
            ImportKind.CROSSWALKS,
            [2, 3, 4, 5, 6, 9, 10],
            [(7, "Code Type"), (8, "Local Code")],
        ),
    ],
)
def test_a_golden_file_decodes_its_good_rows_and_names_each_bad_cell(
    kind: ImportKind, good: list[int], bad: list[tuple[int, str]]
) -> None:
    assert decode_golden(kind) == (good, bad)


def test_a_description_over_two_lines_keeps_its_line_break() -> None:
    profile = default_profile(ImportKind.ITEMS)
    with (GOLDEN / "items.csv").open(encoding="utf-8-sig", newline="") as stream:
        catheter = next(
            result
            for result in decode_rows(read_rows(stream, profile), profile)
            if not isinstance(result, RowError) and result.line == 5
        )

    item = getattr(catheter.value, "item", None)
    assert getattr(item, "description", None) == ("CATHETER FOLEY 16FR\r\n5CC BALLOON, SILICONE")
