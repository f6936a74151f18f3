"""Patient identifiers turned into tokens: a keyed hash, so matching works and the value does not.

DESIGN.md §6: patient identifiers are PHI, tokenized where matching does not need them and never
logged. A token is ``"tok_"`` and the first 32 hex digits (128 bits) of HMAC-SHA256 over the
identifier, keyed with the hub's secret (``SUTURE_SECRET_KEY``): the same visit number always
gives the same token, so charges and usage of one encounter meet, while without the key a
token cannot be reversed nor recomputed from a guessed identifier (a plain hash could be, over
the small space of visit numbers). The codecs receive the tokenizer as a plain callable
(:data:`suture.formats.hl7v2.Tokenize`) and never see the key.

Rotating the key changes every token: tokens stored before a rotation no longer match new ones.
"""

from __future__ import annotations

import hashlib
import hmac

#: What every token starts with, so a token is never mistaken for an identifier.
TOKEN_PREFIX = "tok_"  # noqa: S105 - a marker, not a secret
_HEX_DIGITS = 32


class PhiTokenizer:
    """``tokenizer(value) -> "tok_…"``: a keyed hash of one identifier (stripped first)."""

    __slots__ = ("_keyed",)

    def __init__(self, secret: str | bytes) -> None:
        key = secret.encode("utf-8") if isinstance(secret, str) else secret
        if not key:
            raise ValueError("the tokenizer needs a non-empty secret")
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)

    def __call__(self, value: str) -> str:
        keyed = self._keyed.copy()  # the key schedule is computed once, at construction
        keyed.update(value.strip().encode("utf-8"))
        return TOKEN_PREFIX + keyed.hexdigest()[:_HEX_DIGITS]

    def __repr__(self) -> str:
        return "PhiTokenizer(<secret>)"
