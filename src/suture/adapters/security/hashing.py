"""Client secrets hashed with argon2id (RFC 9106) through argon2-cffi.

The default parameters are argon2-cffi's, RFC 9106's "second recommended option" (t=3,
m=64 MiB, p=4): a hash costs tens of milliseconds and 64 MiB, paid once per token request, not
per API call. Hashes are PHC strings carrying their own parameters, so raising the parameters
later re-hashes each secret at its next successful authentication (``needs_rehash``).
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2SecretHasher:
    """The ``SecretHasher`` port on argon2id."""

    def __init__(
        self, *, time_cost: int = 3, memory_cost_kib: int = 65536, parallelism: int = 4
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            type=Type.ID,
        )

    def hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    def verify(self, secret_hash: str, secret: str) -> bool:
        try:
            return self._hasher.verify(secret_hash, secret)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, secret_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(secret_hash)
        except InvalidHashError:
            return True
