"""JWT signing and signature checks with PyJWT: the ``TokenCodec`` port of ``services/tokens.py``.

Three algorithms (RFC 7518 §3.1): HS256 with a shared key, or RS256 / ES256 with a PEM key pair,
whose public half lets other services verify tokens without the signing key. Decoding pins the
one configured algorithm (never the token's own ``alg`` choice, so no ``none`` or key-confusion
attack) and the ``typ`` header ``at+jwt`` of RFC 9068 §2.1, so no other JWT signed with the same
key passes as an access token. Time, issuer, audience and revocation are checked by the service
on its injectable clock, not here.

The HS256 key is derived from ``SUTURE_SECRET_KEY`` with HMAC-SHA256 under a label
(:func:`derive_key`), so the same secret never directly keys both tokens and the PHI tokenizer.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from suture.services.tokens import InvalidTokenError

ALGORITHMS = ("HS256", "RS256", "ES256")
TOKEN_TYPE = "at+jwt"  # noqa: S105 - the JWT typ header of RFC 9068, not a password
_CLAIMS = ["iss", "aud", "sub", "scope", "iat", "exp", "jti"]


def derive_key(secret: str, label: str = "suture oauth2 hs256") -> bytes:
    """A 256-bit key for one purpose from the configured secret."""
    return hmac.new(secret.encode(), label.encode(), hashlib.sha256).digest()


class JwtCodec:
    def __init__(self, algorithm: str, signing_key: Any, verifying_key: Any) -> None:
        if algorithm not in ALGORITHMS:
            raise InvalidTokenError("algorithm", f"must be one of {', '.join(ALGORITHMS)}")
        self.algorithm = algorithm
        self._signing_key = signing_key
        self._verifying_key = verifying_key
        self._check_keys()

    @classmethod
    def hs256(cls, secret: str) -> JwtCodec:
        key = derive_key(secret)
        return cls("HS256", key, key)

    @classmethod
    def from_key_files(
        cls, algorithm: str, private_key_file: Path | None, public_key_file: Path | None = None
    ) -> JwtCodec:
        """A codec on PEM files; without a public key file it is derived from the private key."""
        if private_key_file is None:
            raise InvalidTokenError("jwt_private_key_file", f"{algorithm} needs a private key file")
        try:
            private_pem = private_key_file.read_bytes()
            private_key = load_pem_private_key(private_pem, password=None)
            public_pem = (
                public_key_file.read_bytes()
                if public_key_file is not None
                else private_key.public_key()
            )
        except (OSError, ValueError, TypeError) as error:
            raise InvalidTokenError("jwt_private_key_file", f"unusable key: {error}") from None
        return cls(algorithm, private_key, public_pem)

    def encode(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode(
            dict(claims), self._signing_key, algorithm=self.algorithm, headers={"typ": TOKEN_TYPE}
        )

    def decode(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("typ") != TOKEN_TYPE:
                raise InvalidTokenError("token", "not an access token")
            return jwt.decode(
                token,
                self._verifying_key,
                algorithms=[self.algorithm],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                    "verify_iss": False,
                    "require": _CLAIMS,
                },
            )
        except jwt.InvalidSignatureError:
            raise InvalidTokenError("token", "bad signature") from None
        except jwt.InvalidAlgorithmError:
            raise InvalidTokenError("token", "signed with another algorithm") from None
        except jwt.MissingRequiredClaimError as error:
            raise InvalidTokenError("token", f"the {error.claim} claim is missing") from None
        except jwt.PyJWTError:
            raise InvalidTokenError("token", "malformed") from None

    def _check_keys(self) -> None:
        """Sign and verify a probe now, so a key that does not fit the algorithm, or a public
        key that is not the private key's, stops start-up instead of every request."""
        probe = dict.fromkeys(_CLAIMS, "probe")
        try:
            token = self.encode(probe)
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise InvalidTokenError(
                "jwt_private_key_file", f"not a {self.algorithm} key: {error}"
            ) from None
        try:
            self.decode(token)
        except InvalidTokenError:
            raise InvalidTokenError(
                "jwt_public_key_file", f"does not verify {self.algorithm} tokens of the private key"
            ) from None
