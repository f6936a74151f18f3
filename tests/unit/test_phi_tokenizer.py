"""The hub's patient-identifier tokens (suture.services.phi): HMAC-SHA256, byte for byte.

The tokenizer computes HMAC from two precomputed SHA-256 states instead of the module ``hmac``
(docs/hl7v2.md, "The decoder"); every stored token depends on its output, so it is checked
against ``hmac.new`` for keys shorter than, as long as, and longer than SHA-256's block.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.services.phi import TOKEN_PREFIX, PhiTokenizer


def reference(key: bytes, value: str) -> str:
    digest = hmac.new(key, value.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return TOKEN_PREFIX + digest[:32]


@pytest.mark.parametrize("size", [1, 18, 63, 64, 65, 200])
def test_tokens_are_hmac_sha256_whatever_the_key_length(size: int) -> None:
    key = bytes((7 * i + 3) % 256 for i in range(size))
    tokenizer = PhiTokenizer(key)
    for value in ("12345678", " 12345678 ", "V-0001^^^MAIN", "ü", ""):
        assert tokenizer(value) == reference(key, value)


def test_a_text_secret_is_its_utf8_bytes() -> None:
    assert PhiTokenizer("clé secrète")("A1") == reference("clé secrète".encode(), "A1")


def test_a_known_token_does_not_change() -> None:
    # Stored tokens depend on these exact bytes: any change to the tokenizer breaks matching.
    assert PhiTokenizer("secret")("12345678") == "tok_689fbd53882584ff92c6aec47170fa95"


@given(st.binary(min_size=1, max_size=150), st.text(max_size=40))
def test_any_key_and_value_give_the_hmac_token(key: bytes, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return  # lone surrogates: neither way can encode them
    assert PhiTokenizer(key)(value) == reference(key, value)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="non-empty secret"):
        PhiTokenizer(b"")
