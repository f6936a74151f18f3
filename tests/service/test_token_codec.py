"""The JWT codec: HS256 on a derived key, RS256 and ES256 on PEM key files made in the test;
the algorithm is pinned, the ``typ`` must be ``at+jwt``, and keys that do not fit stop start-up."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from suture.adapters.security.tokens import JwtCodec, derive_key
from suture.services.tokens import InvalidTokenError

CLAIMS = {
    "iss": "suture",
    "aud": "suture-api",
    "sub": "client-1",
    "scope": "system:read",
    "iat": 1_740_000_000,
    "exp": 1_740_000_900,
    "jti": "j1",
}
#: PyJWT's own checks of time and audience are off: only the signature is compared here.
UNTIMED = {"verify_exp": False, "verify_iat": False, "verify_aud": False}
SECRET = "a-test-secret-of-at-least-32-characters!"


def write_keys(directory: Path, algorithm: str) -> tuple[Path, Path]:
    """A PEM private key and its public key for ``algorithm``, as files."""
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if algorithm == "RS256"
        else ec.generate_private_key(ec.SECP256R1())
    )
    private = directory / f"{algorithm}.key"
    public = directory / f"{algorithm}.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def test_hs256_signs_with_a_key_derived_from_the_secret_not_the_secret_itself() -> None:
    token = JwtCodec.hs256(SECRET).encode(CLAIMS)

    assert jwt.decode(token, derive_key(SECRET), algorithms=["HS256"], options=UNTIMED) == CLAIMS
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, SECRET, algorithms=["HS256"], options=UNTIMED)


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_key_files_sign_and_verify(tmp_path: Path, algorithm: str) -> None:
    private, public = write_keys(tmp_path, algorithm)
    codec = JwtCodec.from_key_files(algorithm, private, public)

    token = codec.encode(CLAIMS)

    assert jwt.get_unverified_header(token) == {"alg": algorithm, "typ": "at+jwt"}
    assert codec.decode(token) == CLAIMS


def test_the_public_key_is_derived_from_the_private_key_when_not_given(tmp_path: Path) -> None:
    private, public = write_keys(tmp_path, "RS256")
    signer = JwtCodec.from_key_files("RS256", private)

    assert JwtCodec.from_key_files("RS256", private, public).decode(signer.encode(CLAIMS)) == CLAIMS


def test_a_public_key_of_another_pair_stops_start_up(tmp_path: Path) -> None:
    private, _ = write_keys(tmp_path, "RS256")
    other = tmp_path / "other"
    other.mkdir()
    _, foreign_public = write_keys(other, "RS256")

    with pytest.raises(InvalidTokenError) as refused:
        JwtCodec.from_key_files("RS256", private, foreign_public)

    assert refused.value.field == "jwt_public_key_file"


def test_a_key_of_the_wrong_kind_stops_start_up(tmp_path: Path) -> None:
    private, _ = write_keys(tmp_path, "ES256")

    with pytest.raises(InvalidTokenError) as refused:
        JwtCodec.from_key_files("RS256", private)

    assert refused.value.field == "jwt_private_key_file"


def test_a_missing_key_file_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(InvalidTokenError) as refused:
        JwtCodec.from_key_files("ES256", tmp_path / "absent.key")

    assert refused.value.field == "jwt_private_key_file"


def test_a_token_of_another_algorithm_is_refused_even_with_the_right_key(tmp_path: Path) -> None:
    private, public = write_keys(tmp_path, "RS256")
    rs256 = JwtCodec.from_key_files("RS256", private, public)
    # Key confusion: an HS256 token handed to an RS256 verifier must not reach a key check.
    confused = jwt.api_jws.PyJWS().encode(
        json.dumps(CLAIMS).encode(),
        b"x" * 32,
        algorithm="HS256",
        headers={"typ": "at+jwt"},
    )

    with pytest.raises(InvalidTokenError) as refused:
        rs256.decode(confused)

    assert refused.value.reason == "signed with another algorithm"


def test_a_jwt_that_is_not_an_access_token_is_refused() -> None:
    token = jwt.encode(CLAIMS, derive_key(SECRET), algorithm="HS256")  # typ "JWT"

    with pytest.raises(InvalidTokenError) as refused:
        JwtCodec.hs256(SECRET).decode(token)

    assert refused.value.reason == "not an access token"


def test_a_token_missing_a_required_claim_is_refused() -> None:
    claims = {name: value for name, value in CLAIMS.items() if name != "jti"}
    token = jwt.encode(claims, derive_key(SECRET), algorithm="HS256", headers={"typ": "at+jwt"})

    with pytest.raises(InvalidTokenError) as refused:
        JwtCodec.hs256(SECRET).decode(token)

    assert refused.value.reason == "the jti claim is missing"
