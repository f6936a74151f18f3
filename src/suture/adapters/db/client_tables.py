"""Table of the API clients of the OAuth2 client-credentials flow (``domain/access.py``).

One row per client. ``scopes`` is the space-separated form of RFC 6749 §3.3 (a scope never
contains a space); ``facility_ids`` a JSON array, since facility ids are free text. The secret
is kept only as its argon2id hash (PHC string format), never in clear. Rows are never deleted:
revoking sets ``revoked_at``, so a token's ``sub`` always names a client that can be looked up.

Imported by the client repository, and so by the unit of work.
"""

from __future__ import annotations

import sqlalchemy as sa

from suture.adapters.db.tables import KEY, metadata
from suture.adapters.db.types import UtcDateTime

api_clients = sa.Table(
    "api_clients", metadata,
    sa.Column("id", KEY, primary_key=True),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("scopes", sa.String(), nullable=False),
    sa.Column("facility_ids", sa.String(), nullable=False),
    sa.Column("supplier_id", sa.String(), nullable=True),
    sa.Column("secret_hash", sa.String(), nullable=False),
    sa.Column("created_at", UtcDateTime("created_at"), nullable=False),
    sa.Column("revoked_at", UtcDateTime("revoked_at"), nullable=True),
)  # fmt: skip
