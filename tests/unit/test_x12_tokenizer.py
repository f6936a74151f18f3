"""Delimiters come from the ISA header, whatever they are, and whitespace around segments is
forgiven: the same document written with each exotic delimiter set decodes the same."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from suture.formats.x12 import (
    X12DecodeError,
    decode_document,
    read_interchange,
    split_interchanges,
    tokenize,
)
from suture.formats.x12.tokenizer import Delimiters, decode_text

SEGMENTS = [
    "ISA|00|          |00|          |ZZ|SENDER         |ZZ|RECEIVER       "
    "|240105|1200|U|00401|000000007|0|P|" + "{component}",
    "GS|PO|SENDER|RECEIVER|20240105|1200|7|X|004010",
    "ST|850|0001",
    "BEG|00|SA|PO 1001||20240105",
    "N1|ST|GENERAL HOSPITAL|92|FAC-1",
    "PO1|1|2|EA|3.50||IN|ITEM-1",
    "PID|F||||GAUZE, 4X4 STERILE",
    "CTT|1",
    "SE|7|0001",
    "GE|1|7",
    "IEA|1|000000007",
]


def document(element: str, component: str, terminator: str, *, indent: str = "") -> str:
    lines = [SEGMENTS[0].replace("{component}", component), *SEGMENTS[1:]]
    return "".join(indent + line.replace("|", element) + terminator for line in lines)


# element, component, terminator as written, terminator as read (line breaks after it are
# whitespace; a line break alone is the terminator; a space takes its line break along).
MATRIX = [
    ("*", ">", "~", "~"),
    ("*", ":", "~\r\n", "~"),
    ("~", ">", "*", "*"),
    ("^", ">", "~", "~"),
    ("*", "~", "|", "|"),
    ("*", ":", "\r\n", "\r"),
    ("*", ":", "\n", "\n"),
    ("*", ">", " \r\n", " \r\n"),
    ("*", ":", "…", "…"),
    ("|", "^", "\x1c", "\x1c"),
]


@pytest.mark.parametrize(("element", "component", "terminator", "read_as"), MATRIX)
def test_the_same_document_decodes_the_same_under_every_delimiter_set(
    element: str, component: str, terminator: str, read_as: str
) -> None:
    reference = decode_document(document("*", ">", "~")).records
    result = decode_document(document(element, component, terminator, indent="  "))
    assert result.records == reference
    assert result.interchange.delimiters == Delimiters(element, component, read_as)


def test_spaces_inside_data_survive_a_space_terminator() -> None:
    (record,) = decode_document(document("*", ">", " \r\n")).records
    assert record.parties[0].name == "GENERAL HOSPITAL"  # type: ignore[union-attr]


def test_bom_blank_lines_and_indentation_are_forgiven() -> None:
    text = "\r\n\r\n" + document("*", ">", "~\r\n", indent="\t  ")
    data = codecs.BOM_UTF8 + text.encode("utf-8")
    delimiters, segments = tokenize(data)
    assert delimiters.segment == "~"
    assert [segment.id for segment in segments][:3] == ["ISA", "GS", "ST"]


@pytest.mark.parametrize(
    "padding",
    ["\x1a", "\x00" * 40, "\r\n\x1a", "\x00\x1a"],
    ids=["ctrl-z", "nul", "crlf-ctrl-z", "both"],
)
def test_padding_and_an_end_of_file_mark_after_the_iea_are_forgiven(padding: str) -> None:
    for terminator in ("~", "\r\n", " \r\n"):
        data = (document("*", ">", terminator) + padding).encode()

        _, segments = tokenize(data)

        assert [segment.id for segment in segments][-2:] == ["GE", "IEA"]


def test_utf16_text_is_refused_saying_so() -> None:
    data = document("*", ">", "~").encode("utf-16")

    with pytest.raises(X12DecodeError) as caught:
        tokenize(data)

    assert str(caught.value) == (
        "segment 1: UTF-16 text (byte-order mark FF FE); X12 is read as UTF-8 (or Latin-1): "
        "save it as UTF-8"
    )


def test_a_multi_byte_terminator_is_one_character_of_utf8_text() -> None:
    data = document("*", ":", "…").encode("utf-8")
    delimiters, segments = tokenize(data)
    assert (delimiters.segment, len(segments)) == ("…", 11)


def test_bytes_that_are_not_utf8_are_read_as_latin1() -> None:
    data = document("*", ">", "~").replace("GAUZE", "GAZE\xe9").encode("latin-1")
    assert "GAZEé" in decode_text(data)
    (record,) = decode_document(data).records
    assert record.lines[0].description == "GAZEé, 4X4 STERILE"  # type: ignore[union-attr]


def test_repetition_separator_is_read_from_isa11_in_5010() -> None:
    text = (
        document("*", ":", "~").replace("|U|00401|", "|^|00501|").replace("*U*00401*", "*^*00501*")
    )
    delimiters, _ = tokenize(text)
    assert delimiters.repetition == "^"


def test_positions_count_from_the_isa() -> None:
    _, segments = tokenize(document("*", ">", "~"))
    assert [(segment.position, segment.id) for segment in segments[:3]] == [
        (1, "ISA"),
        (2, "GS"),
        (3, "ST"),
    ]
    assert segments[4].get(4) == "FAC-1"
    assert segments[4].get(9) == ""
    assert segments[4].name(4) == "N104"


@pytest.mark.parametrize(
    ("text", "element"),
    [
        ("ISAA00", "ISA"),
        ("ISA*00*  *00*  *ZZ*S*ZZ*R*240105*1200*U*00401*1*0*P*", "ISA16"),
        ("ISA*00*  *00*  *ZZ*S*ZZ*R*240105*1200*U*00401*1*0*P**~", "ISA16"),
        ("ISA*00*  *00*  *ZZ*S*ZZ*R*240105*1200*U*00401*1*0*P*:*", "ISA16"),
    ],
)
def test_unusable_delimiters_are_refused_naming_the_isa_element(text: str, element: str) -> None:
    with pytest.raises(X12DecodeError) as caught:
        tokenize(text)
    assert caught.value.segment == "ISA"
    assert (caught.value.element or "ISA") == element


SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "x12"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("855_4010_ssimmons_oopfactory.txt", "810_4010_walmart_oopfactory.txt"),  # ~, then CRLF
        ("856_4010_example3_oopfactory.txt", "850_4010_adobe_clp_oopfactory.txt"),  # …, then *
        ("832_4010_hibcc_example1_oopfactory.txt", "832_4010_hibcc_example1_oopfactory.txt"),
    ],
)
def test_interchanges_one_after_another_in_a_file_split_into_their_own_bytes(
    first: str, second: str
) -> None:
    one, two = (SAMPLES / first).read_bytes(), (SAMPLES / second).read_bytes()
    one = one.removeprefix(codecs.BOM_UTF8)
    two = two.removeprefix(codecs.BOM_UTF8)

    parts = split_interchanges(one + b"\r\n" + two + b"\x1a")

    assert [read_interchange(part).control_number for part in parts] == [
        read_interchange(one).control_number, read_interchange(two).control_number,
    ]  # fmt: skip
    assert parts[0].strip() == one.strip()


@pytest.mark.parametrize(
    "data",
    [b"", b"not x12 at all", b"ISA*00*cut", SAMPLES.joinpath("810_4010_walmart_oopfactory.txt")
     .read_bytes() + b"garbage after the IEA"],
    ids=["empty", "not-x12", "cut-isa", "junk-after"],
)  # fmt: skip
def test_what_is_not_several_interchanges_comes_back_whole(data: bytes) -> None:
    assert split_interchanges(data) == [data]
