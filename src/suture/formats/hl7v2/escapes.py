"""Escape sequences in HL7 v2 text (v2.5.1 §2.7): reading them and writing them.

Values are unescaped only when read (the tokenizer keeps fields as they came), so a field nobody
reads costs nothing. What each sequence becomes:

- ``\\F\\ \\S\\ \\T\\ \\R\\ \\E\\`` (and ``\\P\\``, v2.7 truncation): the delimiter itself (§2.7.1);
- ``\\Xhh…\\``: the bytes ``hh…`` read in the message's character set (§2.7.4); hex that is
  odd, not hex, not valid in that set, or a NUL (which no HL7 text holds, nor can a
  PostgreSQL text column) is kept as written;
- ``\\.br\\`` and ``\\.sp\\``: a line break, ``"\\n"`` (§2.7.6; python-hl7 writes ``"\\r"``);
- ``\\H\\`` and ``\\N\\``: dropped (highlighting has no meaning in a canonical value, §2.7.3);
- anything else (``\\.in+4\\``, ``\\C2842\\``, ``\\M2442\\``, ``\\Zxx\\``, an unterminated
  ``\\``): kept exactly as written, since only the receiving display could interpret it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from suture.formats.hl7v2.tokenizer import Delimiters

_DROPPED: Final = frozenset({"H", "N"})
_LINE_BREAKS: Final = frozenset({".br", ".sp"})


def unescape(value: str, delimiters: Delimiters, codec: str = "utf-8") -> str:
    """``value`` with its escape sequences replaced; never raises."""
    esc = delimiters.escape
    if esc not in value:
        return value
    parts = value.split(esc)
    out = [parts[0]]
    last = len(parts) - 1
    index = 1
    while index <= last:
        sequence = parts[index]
        if index == last:  # an escape character with no closing one: literal
            out += (esc, sequence)
            break
        out += (_replace(sequence, delimiters, codec), parts[index + 1])
        index += 2
    return "".join(out)


def _replace(sequence: str, d: Delimiters, codec: str) -> str:
    if len(sequence) == 1:
        found = d.named_escapes.get(sequence)
        if found:
            return found
        if sequence in _DROPPED:
            return ""
    elif sequence[:1] == "X" and len(sequence) % 2 == 1:
        try:
            decoded = bytes.fromhex(sequence[1:]).decode(codec)
        except (ValueError, LookupError):
            pass
        else:
            if "\x00" not in decoded:
                return decoded
    elif sequence in _LINE_BREAKS:
        return "\n"
    return f"{d.escape}{sequence}{d.escape}"


def escape(text: str, delimiters: Delimiters) -> str:
    """``text`` written so that :func:`unescape` reads it back unchanged.

    Delimiters become ``\\F\\``-style sequences, a line feed ``\\.br\\``, a carriage return
    ``\\X0D\\`` (a raw one would end the segment).
    """
    d = delimiters
    table = {
        ord(d.escape): f"{d.escape}E{d.escape}",
        ord(d.field): f"{d.escape}F{d.escape}",
        ord(d.component): f"{d.escape}S{d.escape}",
        ord(d.subcomponent): f"{d.escape}T{d.escape}",
        ord(d.repetition): f"{d.escape}R{d.escape}",
        ord("\n"): f"{d.escape}.br{d.escape}",
        ord("\r"): f"{d.escape}X0D{d.escape}",
    }
    if d.truncation:
        table[ord(d.truncation)] = f"{d.escape}P{d.escape}"
    return text.translate(table)
