"""The tokenizer agrees with python-hl7 (DESIGN.md §9): same segments, fields, repetitions,
components and sub-components on the public samples and on generated messages, and the same
values once python-hl7 unescapes the delimiter and hex sequences."""

from __future__ import annotations

from pathlib import Path

import hl7  # python-hl7, the cross-check reference (a dev dependency)
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suture.formats.hl7v2 import Delimiters, Message, escape, parse_message, split_batch

SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "hl7v2"

Tree = list[list[list[list[str]]]]


def expand(node: object, depth: int) -> object:
    """python-hl7 nests a level only where a separator occurs; expand to full depth."""
    if depth == 0:
        return str(node)
    if isinstance(node, str):
        return [expand(node, depth - 1)]
    return [expand(child, depth - 1) for child in node]  # type: ignore[attr-defined]


def reference_tree(text: str) -> list[tuple[str, object]]:
    parsed = hl7.parse(text)
    out: list[tuple[str, object]] = []
    for segment in parsed:
        name = str(segment[0])
        fields: list[object] = []
        for number, field in enumerate(segment[1:], start=1):
            atomic = name == "MSH" and number <= 2
            fields.append([[[str(field)]]] if atomic else expand(field, 3))
        out.append((name, fields))
    return out


def our_tree(message: Message) -> list[tuple[str, object]]:
    return [(segment.id, segment.tree()) for segment in message.segments]


def as_cr(message: bytes) -> str:
    return message.decode("latin-1").replace("\r\n", "\r").replace("\n", "\r").strip()


SAMPLE_MESSAGES = [
    pytest.param(message, id=f"{path.stem}#{index}")
    for path in sorted(SAMPLES.glob("*.hl7"))
    for index, message in enumerate(split_batch(path.read_bytes()).messages)
]


@pytest.mark.parametrize("message", SAMPLE_MESSAGES)
def test_samples_tokenize_as_python_hl7_does(message: bytes) -> None:
    text = as_cr(message)

    assert our_tree(parse_message(text)) == reference_tree(text)


@pytest.mark.parametrize("message", SAMPLE_MESSAGES)
def test_samples_give_python_hl7_values(message: bytes) -> None:
    text = as_cr(message)
    reference = hl7.parse(text)
    ours = parse_message(text)

    for (_, fields), segment in zip(reference_tree(text), ours.segments, strict=True):
        for number, parts in enumerate(fields, start=1):  # type: ignore[arg-type]
            if number > 2 or segment.id != "MSH":
                assert segment.value(number) == reference.unescape(parts[0][0][0])


# no blanks: a segment's trailing blanks are stripped here and kept by python-hl7
atoms = st.text(alphabet="AZaz09.-_éFSTRE", max_size=6)
component = st.lists(atoms, min_size=1, max_size=3).map("&".join)
repetition = st.lists(component, min_size=1, max_size=3).map("^".join)
field = st.lists(repetition, min_size=1, max_size=3).map("~".join)
segment_ids = st.sampled_from(["PID", "PV1", "FT1", "ZX1", "NTE", "OBX"])
segments = st.tuples(segment_ids, st.lists(field, max_size=12)).map(
    lambda s: "|".join([s[0], *s[1]])
)


@settings(max_examples=100)
@given(st.lists(segments, max_size=8), st.sampled_from(["\r", "\n", "\r\n"]))
def test_generated_messages_tokenize_as_python_hl7_does(body: list[str], end: str) -> None:
    text = end.join(["MSH|^~\\&|APP|FAC|||20240101||ADT^A01|1|P|2.5", *body])

    assert our_tree(parse_message(text)) == reference_tree(
        text.replace("\r\n", "\r").replace("\n", "\r")
    )


escapable = st.text(alphabet="ab|^~&\\", max_size=10)


@given(st.lists(escapable, min_size=1, max_size=4))
def test_escaped_values_unescape_as_python_hl7_does(values: list[str]) -> None:
    written = [escape(value, Delimiters()) for value in values]
    text = "MSH|^~\\&|A\rNTE|" + "|".join(written)
    reference = hl7.parse(text)
    nte = parse_message(text).segments[1]

    ours = [nte.value(n) for n in range(1, len(values) + 1)]
    assert ours == values == [reference.unescape(w) for w in written]
