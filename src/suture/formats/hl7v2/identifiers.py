"""Patient identifiers (PID-18 account, PV1-19 visit) turned into tokens at the first read.

The codec never returns an account or visit number: it hands each to the caller's ``tokenize``
(a keyed hash whose secret the codec must not know, DESIGN.md §6) and returns the token. Errors
about these fields name the field only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from suture.formats.hl7v2.tokenizer import Message

#: Turns a patient identifier into a token; supplied by the caller (a keyed hash).
Tokenize = Callable[[str], str]

_NULL: Final = '""'  # HL7's explicit null (v2.5.1 §2.5.3)
_PV1_FIELDS: Final[tuple[int, ...]] = (2, 19)  # patient class, visit number (not boxed per call)


def identifier(text: str) -> str:
    """A CX identifier's id, stripped; the explicit null reads as empty."""
    if not text:
        return text
    text = text.strip()
    return "" if text == _NULL else text


@dataclass(slots=True, init=False)
class PatientTokens:
    """The tokens of a message's account (PID-18) and encounter (PV1-19); None when absent.

    Read-only by convention: built once per message, and a frozen dataclass costs twice as much.
    ``__init__`` is written out so that mypyc compiles it (the generated one stays Python).
    """

    account_token: str | None
    encounter_token: str | None
    location_facility: str
    patient_class: str

    def __init__(
        self,
        account_token: str | None,
        encounter_token: str | None,
        location_facility: str,
        patient_class: str,
    ) -> None:
        self.account_token = account_token
        self.encounter_token = encounter_token
        self.location_facility = location_facility
        self.patient_class = patient_class


def patient_tokens(message: Message, tokenize: Tokenize) -> PatientTokens:
    """Read PID-18.1 and PV1-19.1 and tokenize them; PV1-3.4 and PV1-2 come along as codes."""
    pid = message.segment("PID")
    pv1 = message.segment("PV1")
    account = identifier(pid.atom(18)) if pid is not None else ""
    visit = location = patient_class = ""
    if pv1 is not None:
        patient_class, visit = pv1.atoms(_PV1_FIELDS)
        visit, patient_class = identifier(visit), identifier(patient_class).upper()
        location = identifier(pv1.value(3, 4))
    return PatientTokens(  # positional: the cheaper call, once per message
        tokenize(account) if account else None,
        tokenize(visit) if visit else None,
        location,
        patient_class,
    )
