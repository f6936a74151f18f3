"""The HL7 v2 tokenizer: grammar, delimiters, escapes, character sets, batches, and the promise
that any input yields a message or an :class:`Hl7DecodeError`, never another exception."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suture.formats.hl7v2 import (
    Delimiters,
    Disposition,
    Hl7DecodeError,
    build_ack,
    decode_message,
    escape,
    parse_message,
    peek_header,
    split_batch,
    unescape,
)
from suture.formats.hl7v2.charsets import DEFAULT_CHARSET, codec_for
from suture.formats.hl7v2.tokenizer import _DEFAULT_CODEC

SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "hl7v2"
NOW = datetime(2024, 1, 1, tzinfo=UTC)
MSH = "MSH|^~\\&|APP|FAC|HUB|HUB|20240102030405||DFT^P03|C1|P|2.5"


def test_field_numbers_are_hl7_field_numbers_with_msh_1_and_2_atomic() -> None:
    message = parse_message(MSH + "\rPID|1||MRN^^^H^MR~X^^^Y||Doe^Jane")

    msh, pid = message.segments
    assert (msh.raw(1), msh.raw(2), msh.atom(9), msh.value(9, 2)) == ("|", "^~\\&", "DFT", "P03")
    assert (pid.atom(3), pid.value(3, 4, repetition=2), pid.value(5, 2)) == ("MRN", "Y", "Jane")
    assert pid.repetitions(3) == ["MRN^^^H^MR", "X^^^Y"]
    assert (pid.raw(40), pid.value(40, 2)) == ("", "")


@given(
    st.lists(
        st.sampled_from(["", "A", "B^C", "D~E", "F&G", " H ", "\\T\\I", "é٣", "J K", "\\X41\\"]),
        max_size=30,
    ),
    st.lists(st.integers(0, 35), min_size=1, max_size=4),
)
def test_fields_read_by_number_before_a_split_are_those_of_the_split(
    values: list[str], numbers: list[int]
) -> None:
    text = "|".join(["PV1", *values])
    read = parse_message(MSH + "\r" + text).segments[1]  # fields read before any split
    split = parse_message(MSH + "\r" + text).segments[1]
    every = split.fields
    assert read.atoms(tuple(numbers)) == [split.atom(n).strip() for n in numbers]
    assert [read.raw(n) for n in numbers] == [every[n] if n < len(every) else "" for n in numbers]
    assert read.value(numbers[0], 2) == split.value(numbers[0], 2)
    assert read.fields == every == split.text.split("|")


@pytest.mark.parametrize("terminator", ["\r", "\n", "\r\n", "\r\n\r\n", "\n \t\n"])
def test_segments_end_with_cr_lf_or_crlf_and_blank_lines_are_skipped(terminator: str) -> None:
    message = parse_message(terminator.join([MSH, "EVN|P03", "PID|1  ", ""]))

    assert [(s.id, s.position, s.text) for s in message.segments] == [
        ("MSH", 1, MSH),
        ("EVN", 2, "EVN|P03"),
        ("PID", 3, "PID|1"),
    ]


def test_occurrences_count_segments_of_the_same_id() -> None:
    message = parse_message(f"{MSH}\rFT1|1\rPR1|1\rFT1|2")

    assert [(s.id, s.occurrence) for s in message.all("FT1")] == [("FT1", 1), ("FT1", 2)]
    assert message.segment("ZZZ") is None


def test_other_delimiters_are_read_from_msh_1_and_2() -> None:
    message = parse_message("MSH#$*!@#A#F\rPID#1##X$Y*Z@S!F!#")

    pid = message.segment("PID")
    assert pid is not None
    assert message.delimiters == Delimiters("#", "$", "*", "!", "@")
    assert (pid.value(3), pid.value(3, 2), pid.value(3, 2, repetition=2)) == ("X", "Y", "")
    assert (pid.value(3, 1, 2, 2), pid.value(4)) == ("S#", "")


def test_escapes_are_decoded_only_in_values() -> None:
    written = r"A\F\B\S\C\T\D\R\E\E\E\.br\F\X0D0A\G\H\I\N" + "\\"
    message = parse_message(MSH + "\rNTE|1||" + written)

    nte = message.segment("NTE")
    assert nte is not None
    assert nte.raw(3) == written
    assert nte.atom(3) == "A|B^C&D~E\\E\nF\r\nGI"


@pytest.mark.parametrize(
    "written",
    [
        "\\.in+4\\x", "\\C2842\\x", "\\Zfoo\\", "open\\F", "\\X0\\", "\\XZZ\\", "\\\\", "\\Q\\",
        "CDM\\X00\\100", "\\X4100\\",  # a NUL: no HL7 text holds one (nor PostgreSQL text)
    ],
)  # fmt: skip
def test_escape_sequences_it_cannot_interpret_are_kept_as_written(written: str) -> None:
    assert unescape(written, Delimiters()) == written


@given(st.text(), st.sampled_from([Delimiters(), Delimiters("#", "$", "*", "!", "@", "%")]))
def test_escape_then_unescape_round_trips(text: str, delimiters: Delimiters) -> None:
    escaped = escape(text, delimiters)

    assert unescape(escaped, delimiters) == text
    assert not {delimiters.field, delimiters.component, "\r"} & set(escaped)


def test_hex_escapes_are_read_in_the_declared_character_set() -> None:
    data = (MSH + "||||||8859/1\rNTE|1||Ren\\XE9\\ \xe9").encode("latin-1")

    nte = parse_message(data).segment("NTE")
    assert nte is not None
    assert nte.atom(3) == "René é"


@pytest.mark.parametrize(
    ("charset", "encoding", "text"),
    [
        ("8859/1", "latin-1", "Chât"),
        ("UNICODE UTF-8", "utf-8", "Chât 東京"),
        ("", "utf-8", "Chât"),
        ("BIG-5", "big5", "許功蓋"),  # second bytes are 0x5C '\\' and 0x7C '|'
        ("8859/15", "iso8859-15", "€uro"),
    ],
)
def test_bytes_are_decoded_in_the_msh_18_character_set(
    charset: str, encoding: str, text: str
) -> None:
    data = (MSH + f"||||||{charset}\rNTE|1||{text}|end").encode(encoding)

    message = parse_message(data)
    nte = message.segment("NTE")
    assert nte is not None
    assert (message.charset, nte.atom(3), nte.atom(4)) == (charset, text, "end")


def test_utf8_byte_order_mark_is_skipped() -> None:
    assert parse_message(b"\xef\xbb\xbf" + MSH.encode()).header.atom(10) == "C1"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            (MSH + "||||||ASCII\rNTE|1||\xe9").encode("latin-1"),
            f"MSH-18: byte 0xe9 at offset {len(MSH) + 19} is not valid in the message's "
            "character set (MSH-18 declares ASCII)",
        ),
        (
            (MSH + "\rNTE|1||\xe9").encode("latin-1"),
            f"MSH-18: byte 0xe9 at offset {len(MSH) + 8} is not valid in the message's "
            "character set (no MSH-18, read as UNICODE UTF-8)",
        ),
        ((MSH + "||||||EBCDIC").encode(), "MSH-18: character set 'EBCDIC' is not supported"),
        (b"", "segment 1: does not start with an MSH segment"),
        (b"PID|1", "segment 1: does not start with an MSH segment"),
        (b"BHS|^~\\&\rMSH|^~\\&", "segment 1: starts with a batch header"),
        (b"MSH", "MSH-1: the field separator must be"),
        (b"MSHA^~\\&", "MSH-1: the field separator must be"),
        (b"MSH||", "MSH-2: needs one to five encoding characters"),
        (b"MSH|^~\\&#@!|", "MSH-2: needs one to five encoding characters"),
        (b"MSH|^^\\&|", "MSH-2: encoding characters must be distinct"),
        ((MSH + "\rpid|1").encode(), "segment 2: does not start with a three-character"),
        ((MSH + "\rPIDX|1").encode(), "segment 2: does not start with a three-character"),
        ((MSH + "\r" + MSH).encode(), "segment 2: a second message header (MSH)"),
        (
            (MSH + "\rPID|1\rFT1|1|T1||20240101||CG|CDM\x00100").encode(),
            "FT1 #1, FT1-7: holds a NUL byte (0x00), which HL7 v2 text never carries",
        ),
        (
            MSH.replace("|APP|", "|A\x00P|").encode(),
            "MSH-3: holds a NUL byte (0x00), which HL7 v2 text never carries",
        ),
    ],
)
def test_what_the_tokenizer_refuses_it_names(data: bytes, expected: str) -> None:
    with pytest.raises(Hl7DecodeError) as caught:
        parse_message(data)

    assert str(caught.value).startswith(expected)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (  # the first message's last segment had no terminator
            f"{MSH}\rFT1|1|T1{MSH.replace('C1', 'C2')}\rFT1|1|T2\r",
            "FT1 #1, FT1-2: a second message header (MSH) begins inside this segment: two "
            "messages run together; one message per MLLP frame or request, and a file is split "
            "on MSH",
        ),
        (
            f"{MSH}{MSH.replace('C1', 'C2')}",
            "MSH-12: a second message header (MSH) begins inside this segment: two messages "
            "run together; one message per MLLP frame or request, and a file is split on MSH",
        ),
        (  # two files, each with its byte-order mark, one after the other
            f"\ufeff{MSH}\rPID|1\r\ufeff{MSH}\rPID|1\r",
            "segment 3: a second message header (MSH) in one message: one message per MLLP "
            "frame or request; split a file or batch first",
        ),
        (
            f"{MSH}\rPID|1\r{MSH}\rPID|1\r",
            "segment 3: a second message header (MSH) in one message: one message per MLLP "
            "frame or request; split a file or batch first",
        ),
    ],
    ids=["inside-a-segment", "inside-the-header", "after-a-bom", "at-a-segment-start"],
)
def test_two_messages_in_one_are_rejected_naming_where_the_second_begins(
    data: str, expected: str
) -> None:
    for written in (data, data.encode()):
        with pytest.raises(Hl7DecodeError) as caught:
            parse_message(written)

        assert (str(caught.value), caught.value.disposition) == (expected, Disposition.REJECT)


def test_a_bad_header_is_a_reject_and_a_bad_later_segment_an_error() -> None:
    dispositions = []
    for data in (b"MSH||", (MSH + "\r1AB|x").encode(), (MSH + "\rNTE|1|\x00x").encode()):
        with pytest.raises(Hl7DecodeError) as caught:
            parse_message(data)
        dispositions.append(caught.value.disposition)
    assert dispositions == [Disposition.REJECT, Disposition.ERROR, Disposition.ERROR]


def test_batch_envelope_splits_into_messages_and_checks_counts() -> None:
    data = (
        "FHS|^~\\&|APP\rBHS|^~\\&|APP\r"
        f"{MSH}\rPID|1\n{MSH.replace('C1', 'C2')}\r\nFT1|1\rBTS|2\rBHS|^~\\&\r{MSH}\rBTS|1\rFTS|2\r"
    )

    batch = split_batch(data)

    assert [parse_message(m).header.atom(10) for m in batch.messages] == ["C1", "C2", "C1"]
    assert batch.messages[0] == f"{MSH}\rPID|1\r"
    assert [s.id for s in batch.envelope] == ["FHS", "BHS", "BTS", "BHS", "BTS", "FTS"]
    assert split_batch(data.encode()).messages[1] == f"{MSH.replace('C1', 'C2')}\rFT1|1\r".encode()


@pytest.mark.parametrize("end", ["\x1a", "\r\n\x1a", "\r\x1a\x1a"], ids=["sub", "crlf-sub", "subs"])
def test_a_dos_end_of_file_mark_is_not_a_segment_of_the_last_message(end: str) -> None:
    data = f"{MSH}\rFT1|1|T1\r{MSH.replace('C1', 'C2')}\rFT1|1|T2{end}"

    messages = split_batch(data.encode()).messages

    assert messages[1] == f"{MSH.replace('C1', 'C2')}\rFT1|1|T2\r".encode()


@pytest.mark.parametrize(
    "glue",
    ["", "\ufeff", "\r\ufeff", "\n\ufeff"],
    ids=["no-terminator", "bom", "cr-bom", "lf-bom"],
)
def test_messages_run_together_in_a_file_are_split_on_each_msh(glue: str) -> None:
    second = MSH.replace("C1", "C2")
    data = f"\ufeff{MSH}\rFT1|1|T1{glue}{second}\rFT1|1|T2"

    expected = (f"{MSH}\rFT1|1|T1\r", f"{second}\rFT1|1|T2\r")
    assert split_batch(data).messages == expected
    assert split_batch(data.encode()).messages == tuple(m.encode() for m in expected)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (f"BHS|^~\\&\r{MSH}\rBTS|3", "BTS-1: count '3' does not match the 1 messages present"),
        (f"FHS|^~\\&\rBHS|^~\\&\r{MSH}\rFTS|2", "FTS-1: count '2' does not match the 1 batches"),
        ("BHS|^~\\&\rBTS|0", "segment 1: holds no MSH segment"),
        (f"PID|1\r{MSH}", "segment 1: a segment before any MSH"),
        (f"BHS||\r{MSH}", "BHS-2: needs one to five encoding characters"),
        (
            "\ufeff" + MSH,  # encoded as UTF-16 below
            "segment 1: UTF-16 text (byte-order mark FF FE); HL7 v2 is read as UTF-8 or the "
            "character set MSH-18 names: save it as UTF-8",
        ),
        (
            f"FHS|^~\\&\rBHS|^~\\&\r{MSH}\rFT1|1",
            "BHS: the batch that begins at segment 2 has no BTS trailer: was the file cut short?",
        ),
        (
            f"BHS|^~\\&\r{MSH}\rBHS|^~\\&\r{MSH}\rBTS|1",
            "BHS: the batch that begins at segment 1 has no BTS trailer: was the file cut short?",
        ),
        (
            f"FHS|^~\\&\rBHS|^~\\&\r{MSH}\rFT1|1\rBTS|1",
            "FHS: the file that begins at segment 1 has no FTS trailer: was the file cut short?",
        ),
    ],
)
def test_batch_envelope_errors_name_the_segment(data: str, expected: str) -> None:
    with pytest.raises(Hl7DecodeError) as caught:
        split_batch(data.encode("utf-16-le") if data.startswith("\ufeff") else data)

    assert str(caught.value).startswith(expected)


def noop(value: str) -> str:
    return "t"


def decode_anything(data: bytes) -> None:
    """Decode ``data`` the way the MLLP listener and file ingest will; only our error may leave."""
    try:
        messages = split_batch(data).messages
    except Hl7DecodeError:
        messages = (data,)
    for message in messages:
        try:
            decode_message(message, tokenize=noop)
        except Hl7DecodeError as error:
            ack = build_ack(peek_header(message), "AE", error, "ACK1", NOW)
            assert b"\rMSA" in ack


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_decode_or_raise_hl7_decode_error(data: bytes) -> None:
    decode_anything(data)
    decode_anything(MSH.encode() + b"\r" + data)


REAL = [p.read_bytes() for p in sorted(SAMPLES.glob("*.hl7"))]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(REAL),
    st.lists(st.tuples(st.integers(0, 2000), st.binary(max_size=6), st.integers(0, 6)), max_size=6),
)
def test_mutated_real_messages_decode_or_raise_hl7_decode_error(
    original: bytes, edits: list[tuple[int, bytes, int]]
) -> None:
    data = bytearray(original)
    for offset, insert, delete in edits:
        at = offset % (len(data) + 1)
        data[at : at + delete] = insert
    decode_anything(bytes(data))


@settings(max_examples=300)
@given(
    st.lists(
        st.lists(st.text(alphabet="ab|^~\\&\r\n é#", max_size=12), min_size=1, max_size=8),
        max_size=6,
    )
)
def test_delimiter_soup_decodes_or_raises_hl7_decode_error(rows: list[list[str]]) -> None:
    text = MSH.replace("DFT^P03", "ADT^A01") + "\r" + "\r".join("PID|" + "|".join(r) for r in rows)
    decode_anything(text.encode())


def test_the_default_character_set_taken_without_a_look_up_is_the_one_looked_up() -> None:
    assert codec_for(DEFAULT_CHARSET) == _DEFAULT_CODEC
