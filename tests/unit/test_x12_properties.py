"""Any input yields records or an :class:`X12DecodeError`, never another exception (issue 4).

Random bytes seldom get past "starts with ISA", so most examples start from the real sample
files and damage them: bytes replaced, deleted, inserted, or the document cut short.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from suture.formats.x12 import (
    X12DecodeError,
    decode_document,
    read_interchange,
    split_interchanges,
)
from suture.formats.x12.functional_acknowledgment_997 import assess_group

SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "x12"
GOLDEN = Path(__file__).parent.parent / "golden" / "x12"
CORPUS = sorted([*SAMPLES.iterdir(), *GOLDEN.iterdir()])
TEXTS = [path.read_bytes() for path in CORPUS]
INTERESTING = b"*~^|:>`\r\n \xe2\x80\xa6ISAGSTSEGEIEA0123456789-."


def decode_or_refuse(data: bytes) -> None:
    assert split_interchanges(data)  # never raises, and loses no interchange
    try:
        decode_document(data)
    except X12DecodeError as error:
        message = str(error)  # every refusal renders a message: where, and why
        assert message
    try:
        interchange = read_interchange(data, strict=False)
    except X12DecodeError:
        return
    for group in interchange.groups:
        assess_group(group)


@given(st.binary(max_size=400))
def test_arbitrary_bytes_decode_or_raise_x12_decode_error(data: bytes) -> None:
    decode_or_refuse(data)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_after_an_isa_prefix_decode_or_raise(data: bytes) -> None:
    decode_or_refuse(TEXTS[0][:110] + data)


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(TEXTS)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["replace", "delete", "insert", "cut"]))
        byte = draw(st.sampled_from(list(INTERESTING)) | st.integers(0, 255))
        if action == "replace":
            data[at] = byte
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif action == "insert":
            data.insert(at, byte)
        else:
            del data[at:]
    return bytes(data)


@settings(max_examples=400)
@given(damaged())
def test_damaged_sample_files_decode_or_raise_x12_decode_error(data: bytes) -> None:
    decode_or_refuse(data)
