"""Deterministic ids for charges decoded from HL7, so that a re-sent message finds its charges.

An FT1 is identified by the sending system's transaction id (FT1-2) when it gives one, else by
the message control id (MSH-10) and the FT1's place in the message: a sender that retries a
message re-uses its control id (v2.5.1 §2.10.1), so the retry yields the same ids and the
store's unique key drops the duplicate. The key is hashed with BLAKE2b, which is fast enough
for tens of thousands of charges a second; the personalisation string must never change, as
every stored charge id depends on it.
"""

from __future__ import annotations

from hashlib import blake2b
from typing import Final

_PERSON: Final = b"suture.hl7v2.ft1"
_SEPARATOR: Final = "\x1f"  # ASCII unit separator: never part of an HL7 value


class ChargeIds:
    """:func:`charge_id_for` of ``prefix`` and one more part, for many last parts: the prefix is
    hashed once (BLAKE2b reads its input as a stream, so the ids are the same)."""

    __slots__ = ("_prefix",)

    def __init__(self, *prefix: str) -> None:
        key = (_SEPARATOR.join(prefix) + _SEPARATOR).encode("utf-8", "surrogatepass")
        self._prefix = blake2b(key, digest_size=10, person=_PERSON)

    def __call__(self, last: str) -> str:
        return self.id_for(last)

    def id_for(self, last: str) -> str:
        """The id of ``last`` (what calling the object gives; a direct C call under mypyc,
        where ``__call__`` goes through the generic call protocol)."""
        hashed = self._prefix.copy()
        # ASCII (the usual id) encodes the same either way, without the error handler
        hashed.update(last.encode() if last.isascii() else last.encode("utf-8", "surrogatepass"))
        return "CHG-" + hashed.hexdigest().upper()


def charge_id_for(*parts: str) -> str:
    """``CHG-`` and 20 hex digits derived from the natural key ``parts``."""
    key = _SEPARATOR.join(parts).encode("utf-8", "surrogatepass")
    return "CHG-" + blake2b(key, digest_size=10, person=_PERSON).hexdigest().upper()
