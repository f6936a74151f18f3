"""Property-based tests of the UDI codec: any text decodes or fails with UdiDecodeError, and a
GS1 element string or HIBC code built from random parts decodes back to exactly those parts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from suture.domain.identifiers import (
    HIBC_CHARSET,
    HibcPrimary,
    hibc_check_character,
    make_gtin,
    make_hibc_primary,
)
from suture.formats.udi import Issuer, Udi, UdiDecodeError, parse_udi
from suture.formats.udi.dates import last_day_of_month

TODAY = date(2026, 6, 15)
GS = "\x1d"
# GS1 §7.12 around 2026: two-digit years read as 1977-2076.
DATES = st.dates(min_value=date(1977, 1, 1), max_value=date(2076, 12, 31))
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# A-Z, a-z, 0-9 and some of GS1's 82-character set (no '(' or ')': HRI could not carry them).
GS1_CHARS = ALNUM + "abcxyz-./_!%&*+,:;<=>?'\""
SWALLOWED_DATE = re.compile(r".(11|15|17)[0-9]{6}$")


def never_crashes(text: str) -> None:
    try:
        result = parse_udi(text, today=TODAY)
    except UdiDecodeError as error:
        named = (error.field, error.reason)
    else:
        assert isinstance(result, Udi)
        return
    assert all(named)


@settings(max_examples=400)
@given(st.text())
def test_any_text_decodes_or_raises_udi_decode_error(text: str) -> None:
    never_crashes(text)


@settings(max_examples=600)
@given(
    st.sampled_from(["", "+", "+$", "+$$", "+$$+", "(01)", "01", "]d2", "]C1", "*+", GS, "]X9"]),
    st.text(alphabet=HIBC_CHARSET + "()*]" + GS + "abc", max_size=40),
)
def test_barcode_like_text_decodes_or_raises_udi_decode_error(prefix: str, rest: str) -> None:
    never_crashes(prefix + rest)


@settings(max_examples=300)
@given(st.data())
def test_a_valid_hibc_code_with_one_character_changed_is_never_a_crash(data: st.DataObject) -> None:
    code = make_hibc_primary("A999", "1234", 5)[:-1] + "/$$52001510X3/16D20111212/S77DEFG45"
    code += hibc_check_character(code)
    index = data.draw(st.integers(0, len(code) - 1))
    char = data.draw(st.characters())
    never_crashes(code[:index] + char + code[index + 1 :])


# --- GS1 round trip ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gs1Parts:
    gtin: str
    lot: str | None
    serial: str | None
    expiry: date | None
    manufactured: date | None
    quantity: int | None

    def elements(self) -> list[tuple[str, str, bool]]:
        """(AI, value, variable length) in a canonical order."""
        found = [("01", self.gtin, False)]
        if self.expiry:
            found.append(("17", self.expiry.strftime("%y%m%d"), False))
        if self.manufactured:
            found.append(("11", self.manufactured.strftime("%y%m%d"), False))
        if self.lot is not None:
            found.append(("10", self.lot, True))
        if self.serial is not None:
            found.append(("21", self.serial, True))
        if self.quantity is not None:
            found.append(("30", str(self.quantity), True))
        return found

    def udi(self, raw: str) -> Udi:
        return Udi(
            issuer=Issuer.GS1,
            device_identifier=self.gtin,
            raw=raw,
            lot=self.lot,
            serial=self.serial,
            expiry=self.expiry,
            manufacture_date=self.manufactured,
            quantity=self.quantity,
        )


gs1_parts = st.builds(
    Gs1Parts,
    gtin=st.text(alphabet="0123456789", min_size=13, max_size=13).map(make_gtin),
    lot=st.none() | st.text(alphabet=GS1_CHARS, min_size=1, max_size=20),
    serial=st.none() | st.text(alphabet=GS1_CHARS, min_size=1, max_size=20),
    expiry=st.none() | DATES,
    manufactured=st.none() | DATES,
    quantity=st.none() | st.integers(0, 99_999_999),
)


def hri(elements: list[tuple[str, str, bool]]) -> str:
    return "".join(f"({ai}){value}" for ai, value, _ in elements)


def raw_data(elements: list[tuple[str, str, bool]]) -> str:
    """Element strings with GS after every variable-length one that is not last (§7.8.5)."""
    text = ""
    for index, (ai, value, variable) in enumerate(elements):
        text += ai + value
        if variable and index < len(elements) - 1:
            text += GS
    return text


@settings(max_examples=300)
@given(gs1_parts, st.randoms(use_true_random=False))
def test_gs1_human_readable_form_decodes_to_its_parts(parts: Gs1Parts, order: object) -> None:
    elements = parts.elements()
    tail = elements[1:]
    order.shuffle(tail)  # type: ignore[attr-defined]
    text = hri([elements[0], *tail])
    assert parse_udi(text, today=TODAY) == parts.udi(text)


@settings(max_examples=300)
@given(gs1_parts, st.sampled_from(["", "]C1", "]d2", "]Q3", "]e0", GS]))
def test_gs1_raw_data_decodes_to_its_parts(parts: Gs1Parts, prefix: str) -> None:
    elements = parts.elements()
    text = prefix + raw_data(elements)
    _, last_value, last_variable = elements[-1]
    if GS not in text and last_variable:
        # Without any GS a final lot ending in a date AI and a date is refused as ambiguous.
        assume(not SWALLOWED_DATE.search(last_value))
    assert parse_udi(text, today=TODAY) == parts.udi(text)


@given(gs1_parts)
def test_gs1_gtin_with_a_wrong_check_digit_names_the_expected_digit(parts: Gs1Parts) -> None:
    wrong = str((int(parts.gtin[-1]) + 1) % 10)
    elements = [("01", parts.gtin[:-1] + wrong, False), *parts.elements()[1:]]
    with pytest.raises(UdiDecodeError) as caught:
        parse_udi(hri(elements), today=TODAY)
    assert (caught.value.field, caught.value.reason) == (
        "(01) GTIN",
        f"check digit is {wrong}, expected {parts.gtin[-1]}",
    )


# --- HIBC round trip -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HibcParts:
    primary: HibcPrimary
    # "$$" with a date flag, "$$+" (serial), "$", "$+", or "julian"
    form: str
    flag: str
    quantity: int | None
    expiry: date
    hour: int
    value: str
    manufactured: date | None
    extra_serial: str | None

    def secondary(self) -> str:
        """The secondary data (without '+', link or check) and the parts it encodes."""
        if self.form in ("$", "$+"):
            text = self.form + self.value
        elif self.form == "julian":
            text = self.expiry.strftime("%y%j") + self.value
        else:
            text = self.form
            if self.quantity is not None:
                text += (
                    "8" + f"{self.quantity:02d}"
                    if self.quantity < 100
                    else ("9" + f"{self.quantity:05d}")
                )
            text += self.date_field() + self.value
        if self.manufactured:
            text += "/16D" + self.manufactured.strftime("%Y%m%d")
        if self.extra_serial:
            text += "/S" + self.extra_serial
        return text

    def date_field(self) -> str:
        e, hh = self.expiry, f"{self.hour:02d}"
        return {
            "MMYY": e.strftime("%m%y"),
            "2": "2" + e.strftime("%m%d%y"),
            "3": "3" + e.strftime("%y%m%d"),
            "4": "4" + e.strftime("%y%m%d") + hh,
            "5": "5" + e.strftime("%y%j"),
            "6": "6" + e.strftime("%y%j") + hh,
            "7": "7",
        }[self.flag]

    def udi(self, raw: str) -> Udi:
        is_serial = self.form in ("$+", "$$+")
        dated = self.form == "julian" or (self.form.startswith("$$") and self.flag != "7")
        expiry = None
        if dated:
            expiry = (
                last_day_of_month(self.expiry.year, self.expiry.month)
                if self.flag == "MMYY" and self.form != "julian"
                else self.expiry
            )
        value = self.value or None
        return Udi(
            issuer=Issuer.HIBCC,
            device_identifier=self.primary.code[1:-1],
            raw=raw,
            lot=None if is_serial else value,
            serial=value if is_serial else self.extra_serial,
            expiry=expiry,
            manufacture_date=self.manufactured,
            quantity=self.quantity if self.form.startswith("$$") else None,
            hibc=self.primary,
        )


hibc_primaries = st.builds(
    HibcPrimary,
    labeler=st.text(alphabet=ALNUM[10:], min_size=1, max_size=1).flatmap(
        lambda first: st.text(alphabet=ALNUM, min_size=3, max_size=3).map(first.__add__)
    ),
    product=st.text(alphabet=ALNUM, min_size=1, max_size=18),
    unit_of_measure=st.integers(0, 9),
)


@st.composite
def hibc_parts(draw: st.DrawFn) -> HibcParts:
    form = draw(st.sampled_from(["$$", "$$+", "$", "$+", "julian"]))
    is_serial = form in ("$+", "$$+")
    return HibcParts(
        primary=draw(hibc_primaries),
        form=form,
        flag=draw(st.sampled_from(["MMYY", "2", "3", "4", "5", "6", "7"])),
        quantity=draw(st.none() | st.integers(0, 99) | st.integers(100, 99_999)),
        expiry=draw(DATES),
        hour=draw(st.integers(0, 23)),
        value=draw(st.text(alphabet=ALNUM, min_size=0 if form != "julian" else 1, max_size=18)),
        manufactured=draw(st.none() | st.dates(date(1990, 1, 1), date(2040, 12, 31))),
        extra_serial=None
        if is_serial
        else draw(st.none() | st.text(ALNUM, min_size=1, max_size=18)),
    )


def with_check(data: str) -> str:
    return data + hibc_check_character(data)


@settings(max_examples=400)
@given(hibc_parts(), st.booleans())
def test_hibc_combined_code_decodes_to_its_parts(parts: HibcParts, delimited: bool) -> None:
    code = with_check(parts.primary.code[:-1] + "/" + parts.secondary())
    text = f"*{code}*" if delimited else code
    assert parse_udi(text, today=TODAY) == parts.udi(text)


@settings(max_examples=400)
@given(hibc_parts(), st.booleans())
def test_hibc_primary_and_linked_secondary_decode_together(
    parts: HibcParts, secondary_first: bool
) -> None:
    primary = parts.primary.code
    secondary = with_check("+" + parts.secondary() + primary[-1])
    text = secondary + primary if secondary_first else primary + secondary
    assert parse_udi(text, today=TODAY) == parts.udi(text)


@given(hibc_parts())
def test_hibc_secondary_with_another_labels_link_is_refused(parts: HibcParts) -> None:
    primary = parts.primary.code
    link = HIBC_CHARSET[(HIBC_CHARSET.index(primary[-1]) + 1) % 43]
    text = primary + with_check("+" + parts.secondary() + link)
    with pytest.raises(UdiDecodeError) as caught:
        parse_udi(text, today=TODAY)
    assert caught.value.field == "HIBC secondary: link character"


@given(hibc_primaries)
def test_hibc_primary_alone_decodes_to_its_device_identifier(primary: HibcPrimary) -> None:
    assert parse_udi(primary.code, today=TODAY) == Udi(
        issuer=Issuer.HIBCC,
        device_identifier=primary.code[1:-1],
        raw=primary.code,
        hibc=primary,
    )


def test_date_strategy_stays_inside_the_two_digit_year_window() -> None:
    assert TODAY - timedelta(days=366 * 50) > date(1976, 1, 1)
