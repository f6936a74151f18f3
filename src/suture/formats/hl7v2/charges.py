"""DFT^P03 → canonical charges and credits: one :class:`~suture.domain.revenue.Charge` per FT1
(HL7 v2.5.1 §6.4.3, §6.5.1; DESIGN.md §2).

Field by field:

- FT1-4 transaction date (DR; its first TS) → ``service_at``, in UTC; a time without an offset
  is read in the interface's zone;
- FT1-6 transaction type → CG charge or CD credit; any other code of table 0017 (payments,
  adjustments) is not a charge and is refused;
- FT1-7 transaction code, first component → ``cdm_code``;
- FT1-10 quantity → ``quantity`` (1 when empty, as table-driven billing systems assume);
- FT1-11 extended amount, else FT1-12 unit amount × quantity → ``amount``. A clinical system
  often sends no price at all, leaving pricing to the CDM: the line is then ``priced=False``
  with amount 0, and the service prices it;
- FT1-13 department, first component → ``department_id`` (the sender's code, mapped later);
- FT1-25 procedure code → ``hcpcs`` when it is CPT/HCPCS (or says no coding system); FT1-26
  modifiers are on the :class:`ChargeLine`;
- PV1-19 visit number → ``encounter_token``, PID-18 account number → ``account_token``, both
  tokenized by the caller's keyed hash. With no PV1-19 the account stands for the encounter
  (in US billing the PID-18 account is per visit); with neither the message is refused.
- MSH-4 sending facility (else PV1-3.4) → ``facility_id``, raw: mapping it to a canonical
  facility is the service's job.

The message has one PID and one PV1 (HL7 v2.5.1 §6.4.3: neither repeats in a DFT^P03); a
second one is refused (``AE``), since every charge would go to the first patient's visit. Two
FT1s of one type (charge, credit) with one FT1-2 transaction id are refused too (``AE``, table
0357 code 205): FT1-2 is the line's business key, so the second would replace the first.

Signs are kept as sent: a credit is ``transaction_type`` CD whatever the sign of its amount.
Errors name FT1 by occurrence and field and may quote codes and amounts, never the date of
service or anything from PID/PV1 (DESIGN.md §6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from suture.domain.authority import DEFAULT_OWNERS, ObjectType
from suture.domain.revenue import Charge, ChargeType, charge_from_fields
from suture.formats.hl7v2.datatypes import SMALL_NUMBERS as _SMALL_NUMBERS
from suture.formats.hl7v2.datatypes import is_number, parse_time
from suture.formats.hl7v2.errors import (
    ErrorCode,
    Hl7DecodeError,
    field_error,
    missing_segment,
    repeated_segment,
)
from suture.formats.hl7v2.header import MessageHeader
from suture.formats.hl7v2.identifiers import Tokenize, identifier, patient_tokens
from suture.formats.hl7v2.keys import ChargeIds, charge_id_for
from suture.formats.hl7v2.tokenizer import DEFAULT_DELIMITERS, Delimiters, Message, Segment

#: The system charges come from by default: the owner of charges in DESIGN.md §1.
CHARGE_SOURCE: Final = DEFAULT_OWNERS[ObjectType.CHARGE]
_TYPES: Final = {"CG": ChargeType.CHARGE, "CD": ChargeType.CREDIT}
_CHARGE: Final = ChargeType.CHARGE
_CPT_SYSTEMS: Final = frozenset({"", "C4", "C5", "CPT", "CPT4", "CPT-4", "HCPCS", "HCPT", "HPC"})
_HCPCS_LENGTH: Final = 5
_ONE: Final = Decimal(1)
_ZERO: Final = Decimal(0)
_MAX_QUOTED: Final = 24
_NULL: Final = '""'  # HL7's explicit null
_SMALL_LENGTH: Final = 2  # the longest key of SMALL_NUMBERS
#: Charges keep quantities and amounts exactly as NUMERIC(18, 4): 4 decimal places, below 10^14.
#: A number beyond that is the sender's error (AE), not a storage failure to retry for ever.
_PLACES: Final = 4
_QUANTUM: Final = Decimal("0.0001")
_LIMIT_DIGITS: Final = 14
_LIMIT: Final = Decimal(10) ** _LIMIT_DIGITS
#: The segments a DFT^P03 has at most once: one patient, one visit.
_ONCE: Final = ("PID", "PV1")
#: Procedure codes and modifiers are a small vocabulary: each raw FT1-25/26 is read once.
_CACHED_CODES: Final = 4096


@dataclass(slots=True, init=False)
class ChargeLine:
    """One FT1 as a canonical charge, with what the charge model does not carry.

    Not frozen, like :class:`Charge`: a frozen dataclass costs twice as much to build, and one
    is built per FT1 on the decode path measured by ``benchmarks/hl7_decode.py``. Its
    ``__init__`` is written out (``init=False``): mypyc compiles it to C, where the one
    ``dataclass`` generates stays Python (three to four times as dear); a unit test keeps
    its parameters the fields, in order, with their defaults.
    """

    charge: Charge
    set_id: str
    transaction_id: str
    priced: bool
    unit_amount: Decimal | None
    procedure_code: str
    procedure_system: str
    modifiers: tuple[str, ...]

    def __init__(  # noqa: PLR0917 - the fields, as dataclass would take them
        self,
        charge: Charge,
        set_id: str,
        transaction_id: str,
        priced: bool,
        unit_amount: Decimal | None = None,
        procedure_code: str = "",
        procedure_system: str = "",
        modifiers: tuple[str, ...] = (),
    ) -> None:
        self.charge = charge
        self.set_id = set_id
        self.transaction_id = transaction_id
        self.priced = priced
        self.unit_amount = unit_amount
        self.procedure_code = procedure_code
        self.procedure_system = procedure_system
        self.modifiers = modifiers


@dataclass(slots=True, init=False)
class DecodedCharges:
    """A DFT^P03: its header, the tokens it was attributed to, and one line per FT1.

    Treat it as read-only; not frozen, and ``__init__`` written out, for the reasons
    :class:`ChargeLine`'s are.
    """

    header: MessageHeader
    facility_code: str
    location_facility: str
    encounter_token: str
    account_token: str | None
    lines: tuple[ChargeLine, ...]

    def __init__(  # noqa: PLR0917 - the fields, as dataclass would take them
        self,
        header: MessageHeader,
        facility_code: str,
        location_facility: str,
        encounter_token: str,
        account_token: str | None,
        lines: tuple[ChargeLine, ...],
    ) -> None:
        self.header = header
        self.facility_code = facility_code
        self.location_facility = location_facility
        self.encounter_token = encounter_token
        self.account_token = account_token
        self.lines = lines

    @property
    def charges(self) -> list[Charge]:
        return [line.charge for line in self.lines]


def _unattributed(message: Message) -> Hl7DecodeError:
    """The error for charges that name neither a visit nor an account."""
    pv1, pid = message.segment("PV1"), message.segment("PID")
    if pv1 is not None:
        reason = "no visit number, and no PID-18 account number"
        return field_error(pv1, 19, reason, ErrorCode.REQUIRED_FIELD_MISSING)
    if pid is not None:
        reason = "no account number, and no PV1 segment with a PV1-19 visit number"
        return field_error(pid, 18, reason, ErrorCode.REQUIRED_FIELD_MISSING)
    return missing_segment("PID", "no PID-18 account number and no PV1-19 visit number")


def _repeated(segment: Segment) -> Hl7DecodeError:
    """The error for a second PID or PV1 (see the module docstring)."""
    return repeated_segment(
        segment,
        f"a DFT^P03 has one {segment.id} (one patient, one visit): the charges would go to the "
        "first; two messages in one?",
    )


def _quoted(text: str) -> str:
    return repr(text) if len(text) <= _MAX_QUOTED else repr(text[:_MAX_QUOTED] + "…")


def decode_charges(
    message: Message,
    header: MessageHeader,
    *,
    tokenize: Tokenize,
    zone: tzinfo,
    source_system: str = CHARGE_SOURCE,
) -> DecodedCharges:
    """The charges of a DFT^P03 whose header is valid; field-level ``AE`` errors otherwise.

    ``source_system`` is the system the charges are recorded as coming from (the authority
    registry checks it; DESIGN.md §1): the revenue cycle unless the interface says otherwise.
    """
    ft1s = message.all("FT1")
    if not ft1s:
        raise missing_segment("FT1", "a DFT^P03 needs at least one FT1 segment")
    for segment_id in _ONCE:
        repeated = message.all(segment_id)
        if len(repeated) > 1:
            raise _repeated(repeated[1])
    tokens = patient_tokens(message, tokenize)
    encounter = tokens.encounter_token or tokens.account_token
    if encounter is None:
        raise _unattributed(message)
    facility = header.sending_facility or tokens.location_facility
    if not facility:
        raise missing_segment("MSH", "no sending facility in MSH-4 and none in PV1-3.4")
    context = _Context(header, facility, encounter, tokens.account_token, zone, source_system)
    lines = tuple(_line(ft1, context) for ft1 in ft1s)
    if len(lines) > 1:
        _check_keys(lines, ft1s)
    return DecodedCharges(
        header=header,
        facility_code=facility,
        location_facility=tokens.location_facility,
        encounter_token=encounter,
        account_token=tokens.account_token,
        lines=lines,
    )


def _check_keys(lines: tuple[ChargeLine, ...], ft1s: list[Segment]) -> None:
    """Refuse a second line with the first one's FT1-2 and type (see the module docstring)."""
    first: dict[tuple[str, str], int] = {}
    for index, line in enumerate(lines):
        if not line.transaction_id:
            continue
        kind = str(line.charge.transaction_type)
        earlier = first.setdefault((line.transaction_id, kind), index)
        if earlier != index:
            reason = (
                f"the same transaction id as FT1 #{ft1s[earlier].occurrence}, both {kind}: "
                "each line needs its own, or one charge would replace the other"
            )
            raise field_error(ft1s[index], 2, reason, ErrorCode.DUPLICATE_KEY)


class _Context:
    """What every FT1 of one message shares (a plain class: mypyc compiles its ``__init__``)."""

    __slots__ = (
        "account",
        "by_transaction",
        "encounter",
        "facility",
        "header",
        "source_system",
        "time",
        "time_text",
        "zone",
    )

    def __init__(  # noqa: PLR0917 - one call per message, positional
        self,
        header: MessageHeader,
        facility: str,
        encounter: str,
        account: str | None,
        zone: tzinfo,
        source_system: str,
    ) -> None:
        self.header = header
        self.facility = facility
        self.encounter = encounter
        self.account = account
        self.zone = zone
        self.source_system = source_system
        #: The ids of lines with an FT1-2, the message's part of the key hashed once.
        self.by_transaction = _transaction_ids(facility, header.sending_application)
        #: The last FT1-4 read and its time: the FT1 of one message mostly share their date.
        self.time_text = ""
        self.time: datetime | None = None

    def time_of(self, text: str) -> datetime | None:
        """:func:`parse_time` of an FT1-4, the previous FT1's without a call."""
        if text != self.time_text:
            self.time_text, self.time = text, parse_time(text, self.zone)
        return self.time


#: ``tuple[int, ...]``, not the inferred fixed-length tuple, which mypyc keeps as a C struct and
#: boxes into a new tuple at every call.
#: The ids of lines with an FT1-2 per facility and sending application (values unescaped, so
#: a tuple, not a joined string): one interface's messages share one. Emptied when full.
_TRANSACTION_IDS: Final[dict[tuple[str, str], ChargeIds]] = {}
_CACHED_SENDERS: Final = 1024


def _transaction_ids(facility: str, application: str) -> ChargeIds:
    """``ChargeIds(facility, application, "FT1-2")``, hashed once per sender, not per message
    (a :class:`ChargeIds` is not changed by use: each id hashes a copy of its state)."""
    key = (facility, application)
    ids = _TRANSACTION_IDS.get(key)
    if ids is None:
        ids = ChargeIds(facility, application, "FT1-2")
        if len(_TRANSACTION_IDS) >= _CACHED_SENDERS:
            _TRANSACTION_IDS.clear()
        _TRANSACTION_IDS[key] = ids
    return ids


_FT1_FIELDS: Final[tuple[int, ...]] = (1, 2, 4, 6, 7, 10, 11, 12, 13)


def _line(ft1: Segment, c: _Context) -> ChargeLine:
    fields = ft1.fields  # split whole first: FT1-25 and FT1-26 are read as written below
    set_id, transaction_id, when_text, type_code, cdm, qty, ext, unit_text, department = ft1.atoms(
        _FT1_FIELDS
    )
    if not when_text:
        raise field_error(ft1, 4, "transaction date is empty", ErrorCode.REQUIRED_FIELD_MISSING)
    when = c.time_of(when_text)
    if when is None:  # the date of service is PHI: not quoted
        raise field_error(ft1, 4, "not an HL7 time (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ])")
    kind = _charge_type(type_code)
    if kind is None:
        reason = (
            f"transaction type {_quoted(type_code)} is not a charge (CG) or a credit (CD)"
            if type_code
            else "transaction type is empty"
        )
        raise field_error(ft1, 6, reason, ErrorCode.TABLE_VALUE_NOT_FOUND)
    if not cdm or cdm == _NULL:
        raise field_error(
            ft1, 7, "transaction code (CDM) is empty", ErrorCode.REQUIRED_FIELD_MISSING
        )
    quantity = _SMALL_NUMBERS.get(qty)  # "0" to "99", without a call
    if quantity is None:
        quantity = _number(ft1, 10, qty, "quantity")
        if quantity is None:
            quantity = _ONE
    amount = _number(ft1, 11, ext, "extended amount")
    unit = _number(ft1, 12, unit_text, "unit amount")
    priced = amount is not None or unit is not None
    if amount is None:  # unit x quantity, to the 4 places a charge keeps
        amount = (unit * quantity).quantize(_QUANTUM, ROUND_HALF_UP) if unit is not None else _ZERO
    size = len(fields)  # FT1-25 and FT1-26 as written, read together
    codes = _codes(ft1, fields[25] if size > 25 else "", fields[26] if size > 26 else "")
    if isinstance(codes, str):
        raise field_error(ft1, 25, codes, component=1)
    procedure, system, hcpcs, modifiers = codes
    if transaction_id == _NULL:
        transaction_id = ""
    if transaction_id:
        charge_id = c.by_transaction.id_for(transaction_id)
    else:
        header = c.header
        charge_id = charge_id_for(
            c.facility, header.sending_application, header.control_id, str(ft1.occurrence)
        )
    return ChargeLine(  # positional: the cheapest calls, on the hot path
        charge_from_fields(
            charge_id,
            c.facility,
            c.encounter,
            cdm,
            quantity,
            amount,
            when,
            kind,
            c.account,
            department if department and department != _NULL else None,
            hcpcs,
            None,
            c.source_system,
        ),
        set_id,
        transaction_id,
        priced,
        unit,
        procedure,
        system,
        modifiers,
    )


def _charge_type(code: str) -> ChargeType | None:
    """FT1-6 as a charge type; a charge (CG, the usual) by a comparison, not a hash."""
    if code == "CG":
        return _CHARGE
    return _TYPES.get(code) or _TYPES.get(code.upper())


def _number(ft1: Segment, number: int, text: str, what: str) -> Decimal | None:
    if not text or text == _NULL:
        return None
    if len(text) <= _SMALL_LENGTH:  # "0" to "99" shared; amounts are seldom that short
        small = _SMALL_NUMBERS.get(text)
        if small is not None:
            return small
    if not is_number(text):
        raise field_error(ft1, number, f"{what} {_quoted(text)} is not a number")
    value = Decimal(text)  # parse_number, but the small numbers already looked up
    # The text rules out the usual amounts before any arithmetic: fewer than 15 characters
    # cannot reach 10^14, and at most 4 after the point are 4 places.
    if len(text) > _LIMIT_DIGITS and abs(value) >= _LIMIT:
        raise field_error(ft1, number, f"{what} must be less than 10^14")
    point = text.find(".")
    if point >= 0 and len(text) - point > _PLACES + 1 and value.quantize(_QUANTUM) != value:
        raise field_error(ft1, number, f"{what} has more than {_PLACES} decimal places")
    return value


_Codes = tuple[str, str, str | None, tuple[str, ...]]
_NO_CODES: Final[_Codes] = ("", "", None, ())
#: FT1-25 and FT1-26 as written ("|"-joined) → what :func:`_plain_codes` read from them, for
#: messages with the default delimiters; a plain dict (emptied when full) costs a quarter of
#: ``lru_cache``.
_CODES: Final[dict[str, _Codes | str]] = {}


def _codes(ft1: Segment, procedure: str, modifiers: str) -> _Codes | str:
    """FT1-25's code, coding system and HCPCS code, and FT1-26's modifiers; or the reason
    FT1-25 is not a procedure code."""
    if not procedure and not modifiers:
        return _NO_CODES
    d = ft1.delimiters
    if d.escape not in procedure and d.escape not in modifiers:
        if d is not DEFAULT_DELIMITERS:
            return _plain_codes(procedure, modifiers, d.repetition, d.component, d.subcomponent)
        # the usual case: codes from a small vocabulary, each pair read once; "|" cannot be
        # part of a field, so it keys the pair without ambiguity
        key = procedure + "|" + modifiers
        known = _CODES.get(key)
        if known is None:
            known = _plain_codes(procedure, modifiers, "~", "^", "&")
            if len(_CODES) >= _CACHED_CODES:
                _CODES.clear()
            _CODES[key] = known
        return known
    found = _procedure(ft1, procedure)
    if isinstance(found, str):
        return found
    return (*found, _modifiers(ft1, modifiers))


def _plain_codes(
    procedure: str, modifiers: str, repetition: str, component: str, subcomponent: str
) -> _Codes | str:
    found = (
        _read_procedure(_parts(procedure, repetition, component, subcomponent))
        if procedure
        else _NO_CODES[:3]
    )
    if isinstance(found, str):
        return found
    return (*found, _plain_modifiers(modifiers, repetition, component, subcomponent))


def _procedure(ft1: Segment, raw: str) -> tuple[str, str, str | None] | str:
    if not raw:
        return "", "", None
    d = ft1.delimiters
    if d.escape in raw:
        return _read_procedure([ft1.unescape(part) for part in _procedure_parts(raw, d)])
    return _read_procedure(_parts(raw, d.repetition, d.component, d.subcomponent))


def _procedure_parts(raw: str, d: Delimiters) -> list[str]:
    return _parts(raw, d.repetition, d.component, d.subcomponent)


def _parts(raw: str, repetition: str, component: str, subcomponent: str) -> list[str]:
    """The first sub-components of the first four components of the first repetition."""
    return [p.partition(subcomponent)[0] for p in raw.partition(repetition)[0].split(component, 3)]


def _read_procedure(parts: list[str]) -> tuple[str, str, str | None] | str:
    """FT1-25's code, coding system and HCPCS code, or the reason it is not one."""
    code = identifier(parts[0]).upper()
    if not code:
        return "", "", None
    system = identifier(parts[2]).upper() if len(parts) > 2 else ""
    if system not in _CPT_SYSTEMS:
        return code, system, None
    if len(code) != _HCPCS_LENGTH or not code.isascii() or not code.isalnum():
        return f"procedure code {_quoted(code)} is not a CPT/HCPCS code (five letters or digits)"
    return code, system, code


def _modifiers(ft1: Segment, raw: str) -> tuple[str, ...]:
    if not raw:
        return ()
    d = ft1.delimiters
    if d.escape not in raw:
        return _plain_modifiers(raw, d.repetition, d.component, d.subcomponent)
    codes = (
        part.partition(d.component)[0].partition(d.subcomponent)[0]
        for part in raw.split(d.repetition)
    )
    return tuple(
        code
        for text in codes
        if (code := identifier(ft1.unescape(text) if d.escape in text else text).upper())
    )


def _plain_modifiers(
    raw: str, repetition: str, component: str, subcomponent: str
) -> tuple[str, ...]:
    codes = (
        part.partition(component)[0].partition(subcomponent)[0] for part in raw.split(repetition)
    )
    return tuple(code for text in codes if (code := identifier(text).upper()))
