"""The decoder's records write their ``__init__`` out (so that mypyc compiles it): each must
take exactly the dataclass fields, in order, by position or keyword, with the declared defaults,
as the ``__init__`` ``dataclass`` would generate."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from suture.formats.hl7v2 import DecodedCharges, decode_message, parse_message
from suture.formats.hl7v2.charges import ChargeLine
from suture.formats.hl7v2.identifiers import patient_tokens

MESSAGE = (
    b"MSH|^~\\&|EPIC|MAIN|SUTURE|HUB|20240315100000||DFT^P03^DFT_P03|MSG1|P|2.5\r"
    b"PID|1||MRN1^^^H^MR||NAME^GIVEN||||||||||||||ACCT9\r"
    b"PV1|1|O|OR^01^A^CAMPUS||||||||||||||||VIS5\r"
    b"FT1|1|TX1||20240315093000||CG|27800123^KNEE^CDM|||2||2100.00|OR^SURGERY"
    b"||||||||||||99213^^CPT|RT~LT\r"
)
#: Defaults as the classes declared them when ``dataclass`` generated their ``__init__``.
DEFAULTS: dict[str, dict[str, object]] = {
    "ChargeLine": {
        "unit_amount": None,
        "procedure_code": "",
        "procedure_system": "",
        "modifiers": (),
    },
}


def _records() -> list[Any]:
    decoded = decode_message(MESSAGE, tokenize=lambda value: f"tok({value})")
    assert isinstance(decoded, DecodedCharges)
    tokens = patient_tokens(parse_message(MESSAGE), lambda value: f"tok({value})")
    return [decoded, decoded.lines[0], decoded.header, tokens]


RECORDS = _records()


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_positional_and_keyword_arguments_set_each_field(record: Any) -> None:
    values = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    # the fields differ from one another, so a field set from the wrong parameter is caught
    distinct = [v for v in values.values() if v is not None and v != ""]
    assert len({repr(v) for v in distinct}) == len(distinct)
    by_position = type(record)(*values.values())
    by_keyword = type(record)(**values)
    assert {name: getattr(by_position, name) for name in values} == values
    assert by_position == record
    assert by_keyword == record
    first = next(iter(values))
    assert dataclasses.replace(record, **{first: values[first]}) == record


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_defaults_are_the_declared_ones_and_nothing_more_is_taken(record: Any) -> None:
    cls = type(record)
    defaults = DEFAULTS.get(cls.__name__, {})
    values = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    required = {k: v for k, v in values.items() if k not in defaults}
    built = cls(**required)
    assert {name: getattr(built, name) for name in defaults} == defaults
    with pytest.raises(TypeError):
        cls(*values.values(), values[next(iter(values))])
    with pytest.raises(TypeError):
        cls(*list(required.values())[:-1])


def test_the_charge_line_read_every_field() -> None:
    line = RECORDS[1]
    assert isinstance(line, ChargeLine)
    assert (line.set_id, line.transaction_id, line.priced, str(line.unit_amount)) == (
        "1",
        "TX1",
        True,
        "2100.00",
    )
    assert (line.procedure_code, line.procedure_system, line.modifiers) == (
        "99213",
        "CPT",
        ("RT", "LT"),
    )
