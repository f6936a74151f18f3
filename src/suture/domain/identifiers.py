"""Product, location and classification identifiers, checked before anything trusts them.

A mistyped or misread identifier is the commonest way a wrong item reaches a patient's bill or a
purchase order, so every identifier entering the canonical model passes through here first:

- **GTIN** (GTIN-8, -12, -13 and -14) and **GLN** carry a GS1 mod-10 check digit, computed as
  in the GS1 General Specifications §7.9 ("Check digit calculation"): weights 3 and 1
  alternate from the rightmost body digit. Every GTIN is normalised to the 14-digit form in
  which AI (01) carries it (left-padded with zeros), so one item has one key.
- **HIBC** primary codes carry a mod-43 check character, as in HIBC LIC (ANSI/HIBC 2.x, the
  Supplier Labeling Standard): the sum of the values of every character, the leading '+'
  included, modulo 43, indexes :data:`HIBC_CHARSET`.
- **UNSPSC** commodity codes are 8 digits whose first two name a segment from 10 to 95.

Every failure raises :class:`~suture.domain.errors.InvalidIdentifierError` naming the field and a
reason a person can act on ("check digit is 3, expected 7"). Character positions in reasons are
1-based, counted from the start of the value (or of the part the reason names).

GTIN, GLN and UNSPSC values lose surrounding whitespace, as they arrive from spreadsheets and
ERP exports. HIBC codes do not: the space is one of the 43 check characters, so stripping it
would corrupt a valid code.
"""

from __future__ import annotations

from dataclasses import dataclass

from suture.domain.errors import InvalidIdentifierError

__all__ = [
    "HIBC_CHARSET",
    "HibcPrimary",
    "gs1_check_digit",
    "hibc_check_character",
    "is_valid_gtin",
    "make_gln",
    "make_gtin",
    "make_hibc_primary",
    "parse_hibc_primary",
    "validate_gln",
    "validate_gtin",
    "validate_unspsc",
]

_DIGITS = frozenset("0123456789")
_UPPER_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")

_GTIN_LENGTHS = (8, 12, 13, 14)
_GTIN_BODY_LENGTHS = (7, 11, 12, 13)
_GLN_LENGTH = 13
_UNSPSC_LENGTH = 8
_UNSPSC_SEGMENTS = range(10, 96)

HIBC_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"
"""The 43 characters of HIBC (Code 39's set); a character's value is its index here."""

_HIBC_VALUES = {char: value for value, char in enumerate(HIBC_CHARSET)}
_HIBC_LABELER_LENGTH = 4
_HIBC_PRODUCT_MAX = 18
# '+', labeler (4), product (at least 1), unit of measure, check character.
_HIBC_PRIMARY_MIN = 1 + _HIBC_LABELER_LENGTH + 1 + 1 + 1


def _first_non_digit(value: str) -> tuple[int, str] | None:
    """The 1-based position and character of the first non-ASCII-digit, if any.

    ``str.isdigit`` is not used: it accepts superscripts and other scripts' digits.
    """
    for position, char in enumerate(value, start=1):
        if char not in _DIGITS:
            return position, char
    return None


def _require_digits(value: str, field: str) -> None:
    found = _first_non_digit(value)
    if found is not None:
        position, char = found
        raise InvalidIdentifierError(
            field, f"must contain only digits 0-9, got {char!r} at position {position}"
        )


def _mod10(body: str) -> str:
    total = sum(int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(body[::-1]))
    return str(-total % 10)


def _check_digit(body: str, field: str) -> str:
    if not body:
        raise InvalidIdentifierError(field, "body must not be empty")
    _require_digits(body, field)
    return _mod10(body)


def _verify_check_digit(code: str, field: str) -> None:
    expected = _mod10(code[:-1])
    if code[-1] != expected:
        raise InvalidIdentifierError(field, f"check digit is {code[-1]}, expected {expected}")


def _lengths_phrase(lengths: tuple[int, ...]) -> str:
    return ", ".join(str(length) for length in lengths[:-1]) + f" or {lengths[-1]}"


def gs1_check_digit(body: str) -> str:
    """The GS1 mod-10 check digit of ``body`` (GS1 General Specifications §7.9).

    Works for any GS1 key body (GTIN, GLN, SSCC); the caller checks the length.
    """
    return _check_digit(body, "gs1")


def make_gtin(body: str) -> str:
    """A GTIN-8, -12, -13 or -14: ``body`` of 7, 11, 12 or 13 digits plus its check digit."""
    if len(body) not in _GTIN_BODY_LENGTHS:
        raise InvalidIdentifierError(
            "gtin",
            f"body must be {_lengths_phrase(_GTIN_BODY_LENGTHS)} digits, "
            f"got {len(body)} characters",
        )
    return body + _check_digit(body, "gtin")


def validate_gtin(code: str, field: str = "gtin") -> str:
    """The GTIN-14 form of a GTIN-8, -12, -13 or -14 whose check digit is right.

    Surrounding whitespace is ignored; anything else that is not a digit is refused.
    """
    code = code.strip()
    if not code:
        raise InvalidIdentifierError(field, "must not be empty")
    if len(code) not in _GTIN_LENGTHS:
        raise InvalidIdentifierError(
            field,
            f"must be {_lengths_phrase(_GTIN_LENGTHS)} digits, got {len(code)} characters",
        )
    _require_digits(code, field)
    _verify_check_digit(code, field)
    return code.zfill(14)


def is_valid_gtin(code: str) -> bool:
    """Whether :func:`validate_gtin` accepts ``code``."""
    try:
        validate_gtin(code)
    except InvalidIdentifierError:
        return False
    return True


def make_gln(body: str) -> str:
    """A GLN: a 12-digit ``body`` plus its GS1 check digit."""
    if len(body) != _GLN_LENGTH - 1:
        raise InvalidIdentifierError(
            "gln", f"body must be {_GLN_LENGTH - 1} digits, got {len(body)} characters"
        )
    return body + _check_digit(body, "gln")


def validate_gln(code: str, field: str = "gln") -> str:
    """A 13-digit GLN whose GS1 check digit is right, without surrounding whitespace."""
    code = code.strip()
    if not code:
        raise InvalidIdentifierError(field, "must not be empty")
    if len(code) != _GLN_LENGTH:
        raise InvalidIdentifierError(
            field, f"must be {_GLN_LENGTH} digits, got {len(code)} characters"
        )
    _require_digits(code, field)
    _verify_check_digit(code, field)
    return code


def hibc_check_character(data: str) -> str:
    """The HIBC mod-43 check character of ``data``, which includes the leading '+'."""
    if not data:
        raise InvalidIdentifierError("hibc", "data must not be empty")
    total = 0
    for position, char in enumerate(data, start=1):
        value = _HIBC_VALUES.get(char)
        if value is None:
            hint = " (HIBC letters are upper case)" if char.upper() in _HIBC_VALUES else ""
            raise InvalidIdentifierError(
                "hibc",
                f"character {char!r} at position {position} is not in the HIBC character set"
                + hint,
            )
        total += value
    return HIBC_CHARSET[total % 43]


def _require_upper_alnum(value: str, part: str, field: str) -> None:
    for position, char in enumerate(value, start=1):
        if char not in _UPPER_ALNUM:
            hint = " (HIBC letters are upper case)" if char.upper() in _UPPER_ALNUM else ""
            raise InvalidIdentifierError(
                field,
                f"{part} must contain only A-Z and 0-9, got {char!r} at position {position}" + hint,
            )


def _validate_labeler(labeler: str, field: str) -> None:
    part = "labeler identification code"
    if len(labeler) != _HIBC_LABELER_LENGTH:
        raise InvalidIdentifierError(
            field, f"{part} must be {_HIBC_LABELER_LENGTH} characters, got {len(labeler)}"
        )
    _require_upper_alnum(labeler, part, field)
    if labeler[0] in _DIGITS:
        raise InvalidIdentifierError(field, f"{part} must start with a letter, got {labeler[0]!r}")


def _validate_product(product: str, field: str) -> None:
    part = "product code"
    if not 1 <= len(product) <= _HIBC_PRODUCT_MAX:
        raise InvalidIdentifierError(
            field, f"{part} must be 1 to {_HIBC_PRODUCT_MAX} characters, got {len(product)}"
        )
    _require_upper_alnum(product, part, field)


def _validate_unit_of_measure(unit_of_measure: int, field: str) -> None:
    if isinstance(unit_of_measure, bool) or not 0 <= unit_of_measure <= 9:
        raise InvalidIdentifierError(
            field, f"unit of measure must be a digit 0-9, got {unit_of_measure!r}"
        )


@dataclass(frozen=True, slots=True)
class HibcPrimary:
    """The HIBC primary data structure: who labelled it, what it is, and in which packaging.

    ``unit_of_measure`` is HIBC's packaging index: 0 is the unit of use, higher digits are
    larger packagings as the labeler defines them. Construction validates every part, so
    :attr:`code` cannot fail.
    """

    labeler: str
    product: str
    unit_of_measure: int

    def __post_init__(self) -> None:
        _validate_labeler(self.labeler, "hibc")
        _validate_product(self.product, "hibc")
        _validate_unit_of_measure(self.unit_of_measure, "hibc")

    @property
    def code(self) -> str:
        """The full primary code: '+', labeler, product, unit of measure, check character."""
        return make_hibc_primary(self.labeler, self.product, self.unit_of_measure)


def make_hibc_primary(labeler: str, product: str, unit_of_measure: int) -> str:
    """The HIBC primary code for these parts, check character included (without '*')."""
    _validate_labeler(labeler, "hibc")
    _validate_product(product, "hibc")
    _validate_unit_of_measure(unit_of_measure, "hibc")
    data = f"+{labeler}{product}{unit_of_measure}"
    return data + hibc_check_character(data)


def _strip_barcode_delimiters(code: str, field: str) -> str:
    starts, ends = code.startswith("*"), code.endswith("*")
    if starts and ends and len(code) >= 2:
        return code[1:-1]
    if starts or ends:
        raise InvalidIdentifierError(
            field, "has a '*' barcode delimiter at one end only; expected both or neither"
        )
    return code


def parse_hibc_primary(code: str, field: str = "hibc") -> HibcPrimary:
    """The parts of a primary-only HIBC code, optionally wrapped in '*' delimiters.

    Combined primary/secondary codes ('+LIC…/$$…') and secondary-only codes ('+$…') are refused
    here: reading lot, expiry and serial belongs to UDI parsing. Lower-case letters are refused,
    as HIBC has none; folding a keyboard-wedge scanner's case is the caller's decision.
    """
    code = _strip_barcode_delimiters(code, field)
    if not code:
        raise InvalidIdentifierError(field, "must not be empty")
    if not code.startswith("+"):
        raise InvalidIdentifierError(field, f"must start with '+', got {code[0]!r}")
    if code.startswith("+$"):
        raise InvalidIdentifierError(
            field, "is secondary data only ('+$'); a primary code starts with '+' and a labeler"
        )
    # The last character is the check character, and '/' is one of the 43 it can be.
    slash = code.find("/", 0, len(code) - 1)
    if slash != -1:
        raise InvalidIdentifierError(
            field,
            f"has secondary data after '/' at position {slash + 1}; combined primary and "
            "secondary codes are not supported here",
        )
    if len(code) < _HIBC_PRIMARY_MIN:
        raise InvalidIdentifierError(
            field,
            f"must be at least {_HIBC_PRIMARY_MIN} characters ('+', labeler, product, "
            f"unit of measure, check character), got {len(code)}",
        )
    labeler = code[1 : 1 + _HIBC_LABELER_LENGTH]
    product = code[1 + _HIBC_LABELER_LENGTH : -2]
    unit_char, check = code[-2], code[-1]
    _validate_labeler(labeler, field)
    _validate_product(product, field)
    if unit_char not in _DIGITS:
        raise InvalidIdentifierError(
            field, f"unit of measure must be a digit 0-9, got {unit_char!r}"
        )
    if check not in _HIBC_VALUES:
        raise InvalidIdentifierError(
            field, f"check character {check!r} is not in the HIBC character set"
        )
    expected = hibc_check_character(code[:-1])
    if check != expected:
        raise InvalidIdentifierError(field, f"check character is {check!r}, expected {expected!r}")
    return HibcPrimary(labeler=labeler, product=product, unit_of_measure=int(unit_char))


def validate_unspsc(code: str, field: str = "unspsc") -> str:
    """An 8-digit UNSPSC code whose segment (first two digits) is 10 to 95."""
    code = code.strip()
    if len(code) != _UNSPSC_LENGTH:
        raise InvalidIdentifierError(
            field, f"must be {_UNSPSC_LENGTH} digits, got {len(code)} characters"
        )
    _require_digits(code, field)
    segment = int(code[:2])
    if segment not in _UNSPSC_SEGMENTS:
        raise InvalidIdentifierError(
            field, f"segment (first two digits) must be between 10 and 95, got {code[:2]}"
        )
    return code
