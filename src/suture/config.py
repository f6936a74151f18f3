"""Settings: one typed object, read from ``SUTURE_*`` environment variables, built once at start-up.

Only the entrypoints and the composition root read settings; adapters receive values through
their constructors (STYLE.md, the dependency rule). Unsafe defaults are refused outside
development mode, as the FastAPI full-stack template does with its secrets.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Literal, Self

from limits import parse_many
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The development placeholder; refused when ``SUTURE_ENVIRONMENT`` is not ``development``.
DEVELOPMENT_SECRET = "change-me-development-only"  # noqa: S105 - a known placeholder, refused in production


class Environment(StrEnum):
    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Suture's configuration. Every field is ``SUTURE_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="SUTURE_", env_file=None, extra="ignore")

    environment: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="development allows the placeholder secret; staging and production do not.",
    )
    database_url: str = Field(
        default="sqlite:///./suture.db",
        description="SQLite file (the embedded default) or postgresql+psycopg://user@host/db.",
    )
    secret_key: str = Field(
        default=DEVELOPMENT_SECRET,
        description="Key for token signing and the keyed hash that tokenizes patient identifiers.",
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    log_format: Literal["console", "json"] = Field(
        default="console", description="console (key=value lines) or json (one object a line)."
    )
    import_batch_size: int = Field(
        default=1000, ge=1, le=100_000, description="Rows written per transaction on bulk paths."
    )

    bus_max_attempts: int = Field(
        default=8, ge=1, le=100, description="Attempts before a handler's work is dead-lettered."
    )
    bus_base_delay_seconds: float = Field(
        default=2.0, gt=0, description="Backoff ceiling after the first failed attempt."
    )
    bus_max_delay_seconds: float = Field(
        default=900.0, gt=0, description="Largest backoff between two attempts."
    )
    routing_policy: Path | None = Field(
        default=None,
        description="A routing policy YAML file; default: the policy shipped with Suture.",
    )
    reconciliation_window_hours: int = Field(
        default=72,
        ge=0,
        le=24 * 366,
        description="Charge-to-cost reconciliation window: how far apart a usage and its charge "
        "may be, and how long an unmatched line waits before it becomes an exception.",
    )
    erp_outbox_dir: Path = Field(
        default=Path("outbox"),
        description="Where the file-based ERP interface writes its batch files.",
    )
    erp_kind: Literal["file", "tryton"] = Field(
        default="file",
        description="The ERP gateway (docs/erp.md): file (interface files in "
        "SUTURE_ERP_OUTBOX_DIR, the embedded default) or tryton (Tryton's JSON-RPC API at "
        "SUTURE_ERP_URL).",
    )
    erp_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="Tryton's base URL, e.g. http://127.0.0.1:8000 (SUTURE_ERP_KIND=tryton).",
    )
    erp_database: str | None = Field(
        default=None, description="The Tryton database Suture posts to (SUTURE_ERP_KIND=tryton)."
    )
    erp_user: str | None = Field(
        default=None, description="The Tryton user Suture logs in as (SUTURE_ERP_KIND=tryton)."
    )
    erp_password: SecretStr | None = Field(
        default=None,
        description="The Tryton user's password; never logged. Or SUTURE_ERP_PASSWORD_FILE.",
    )
    erp_password_file: Path | None = Field(
        default=None,
        description="A secrets file holding the Tryton password (first line), instead of "
        "SUTURE_ERP_PASSWORD.",
    )
    erp_timeout_seconds: float = Field(
        default=30.0, gt=0, le=600, description="How long one ERP call may take before a retry."
    )
    erp_supplier_pull_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How often `suture serve` and `suture worker` pull the ERP's supplier master "
        "and re-drive what is parked on a supplier it now has (docs/erp.md); 0: never. Always "
        "off for the file ERP, which cannot be read.",
    )
    erp_mapping_file: Path | None = Field(
        default=None,
        description="A YAML file of Suture ids -> the ERP's codes where they differ "
        "(cost_centers, gl_accounts, items, suppliers; payment_term), for the Tryton gateway "
        "(docs/erp.md, Mapping); default: every id is its own code.",
    )
    csv_feeds: Path | None = Field(
        default=None,
        description=(
            "A YAML list of CSV feeds (interface, kind usage|charges, profile): how files stored"
            " on each inbox interface are read (docs/csv-feeds.md); default: none."
        ),
    )
    # The three-way match's default tolerances (docs/workflows.md); per facility and supplier
    # with ``suture match tolerances set``. Percent and amount must both hold.
    match_price_percent: Decimal = Field(
        default=Decimal(2), ge=0, max_digits=14, decimal_places=4,
        description="Invoice price over the PO price per each, in percent, still approved.",
    )  # fmt: skip
    match_price_amount: Decimal = Field(
        default=Decimal(25), ge=0, max_digits=14, decimal_places=4,
        description="Invoice price over the PO, in money per line, still approved.",
    )  # fmt: skip
    match_quantity_percent: Decimal = Field(
        default=Decimal(0), ge=0, max_digits=14, decimal_places=4,
        description="Eaches billed over what is received and not yet billed, in percent.",
    )  # fmt: skip
    match_quantity_amount: Decimal = Field(
        default=Decimal(0), ge=0, max_digits=14, decimal_places=4,
        description="Eaches billed over what is received and not yet billed, absolute.",
    )  # fmt: skip
    approval_policy: Path | None = Field(
        default=None,
        description="A requisition approval policy YAML file; default: the policy shipped with "
        "Suture (docs/workflows.md, procure-to-pay).",
    )
    x12_outbox_dir: Path = Field(
        default=Path("outbox/x12"),
        description="Where the embedded default drops outbound X12 (850s), one folder per target.",
    )
    x12_sender_qualifier: str = Field(
        default="ZZ",
        pattern=r"^[0-9A-Z]{2}$",
        description="The hub's ISA05 interchange id qualifier (ZZ: mutually defined).",
    )
    x12_sender_id: str = Field(
        default="SUTURE",
        pattern=r"^[A-Za-z0-9 ._-]{1,15}$",
        description="The hub's ISA06 interchange sender id, as its trading partners know it.",
    )
    x12_application_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9 ._-]{2,15}$",
        description="The hub's GS02 application sender code; default: the ISA sender id.",
    )

    nats_url: str | None = Field(
        default=None,
        description="NATS JetStream (nats://host:4222): scale-out with `suture worker`; unset: "
        "the embedded dispatcher of `suture serve` runs the bus.",
    )
    nats_stream: str = Field(
        default="SUTURE", description="The JetStream stream the relay publishes events to."
    )
    nats_subject_prefix: str = Field(
        default="suture.events",
        description="Subjects are <prefix>.<facility or system>.<event type>.",
    )

    auth_token_lifetime_seconds: int = Field(
        default=900, ge=60, le=86_400, description="How long an access token lives (RFC 6749 §5.1)."
    )
    auth_jwt_algorithm: Literal["HS256", "RS256", "ES256"] = Field(
        default="HS256",
        description="HS256 signs with a key derived from SUTURE_SECRET_KEY; RS256 and ES256 with "
        "SUTURE_AUTH_JWT_PRIVATE_KEY_FILE.",
    )
    auth_jwt_private_key_file: Path | None = Field(
        default=None, description="PEM private key (RS256: RSA, ES256: P-256) that signs tokens."
    )
    auth_jwt_public_key_file: Path | None = Field(
        default=None, description="PEM public key that verifies tokens; default: the private key's."
    )
    auth_jwt_issuer: str = Field(default="suture", min_length=1, description="The iss claim.")
    auth_jwt_audience: str = Field(default="suture-api", min_length=1, description="The aud claim.")
    auth_revocation_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How long a client's 'not revoked' answer is trusted; 0: ask on every request.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis (redis://host:6379/0) shared by every API process for rate limits; "
        "unset: each process limits in memory.",
    )
    rate_limit_client: str = Field(
        default="600/minute", description="Requests each API client may make (moving window)."
    )
    rate_limit_token: str = Field(
        default="30/minute",
        description="Token requests each remote address may make to POST /oauth/token.",
    )

    @field_validator("rate_limit_client", "rate_limit_token")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            items = parse_many(value)
        except ValueError:
            items = []
        if len(items) != 1:
            msg = "one limit such as 600/minute (count/second|minute|hour|day)"
            raise ValueError(msg)
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "redis+unix://")):
            msg = "must start with redis://, rediss:// or redis+unix://"
            raise ValueError(msg)
        return value

    @field_validator("nats_url")
    @classmethod
    def _known_nats(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("nats://", "tls://")):
            msg = "must start with nats:// or tls://"
            raise ValueError(msg)
        return value

    @field_validator("nats_stream")
    @classmethod
    def _stream_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", value):
            msg = "letters, digits, - and _ only (a JetStream stream name)"
            raise ValueError(msg)
        return value

    @field_validator("nats_subject_prefix")
    @classmethod
    def _subject_prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*", value):
            msg = "dot-separated tokens of letters, digits, - and _ (no wildcards)"
            raise ValueError(msg)
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql+psycopg://")):
            msg = "must start with sqlite:/// or postgresql+psycopg://"
            raise ValueError(msg)
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            msg = f"must be DEBUG, INFO, WARNING or ERROR, got {value!r}"
            raise ValueError(msg)
        return level

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Self:
        if self.environment is not Environment.DEVELOPMENT:
            if self.secret_key == DEVELOPMENT_SECRET:
                msg = (
                    "SUTURE_SECRET_KEY: the development placeholder is refused when "
                    f"SUTURE_ENVIRONMENT is {self.environment}; set a secret of 32+ characters"
                )
                raise ValueError(msg)
            if len(self.secret_key) < 32:
                msg = "SUTURE_SECRET_KEY: must be at least 32 characters outside development"
                raise ValueError(msg)
            if self.auth_token_lifetime_seconds > 3600:
                msg = "SUTURE_AUTH_TOKEN_LIFETIME_SECONDS: at most 3600 outside development"
                raise ValueError(msg)
            if self.auth_revocation_cache_seconds > 60:
                msg = "SUTURE_AUTH_REVOCATION_CACHE_SECONDS: at most 60 outside development"
                raise ValueError(msg)
        if self.auth_jwt_algorithm != "HS256" and self.auth_jwt_private_key_file is None:
            msg = (
                f"SUTURE_AUTH_JWT_PRIVATE_KEY_FILE: {self.auth_jwt_algorithm} signs with a key "
                "file; set it or use HS256"
            )
            raise ValueError(msg)
        if self.erp_kind == "tryton":
            for name in ("erp_url", "erp_database", "erp_user"):
                if getattr(self, name) is None:
                    msg = f"SUTURE_{name.upper()}: required when SUTURE_ERP_KIND is tryton"
                    raise ValueError(msg)
            if self.erp_password is None and self.erp_password_file is None:
                msg = (
                    "SUTURE_ERP_PASSWORD: required when SUTURE_ERP_KIND is tryton "
                    "(or SUTURE_ERP_PASSWORD_FILE)"
                )
                raise ValueError(msg)
            self.erp_secret()  # a secrets file that cannot be read stops start-up, named
        if self.bus_max_delay_seconds < self.bus_base_delay_seconds:
            msg = "SUTURE_BUS_MAX_DELAY_SECONDS: must not be shorter than the base delay"
            raise ValueError(msg)
        return self

    def erp_secret(self) -> str:
        """The ERP password, from SUTURE_ERP_PASSWORD or the first line of the secrets file."""
        if self.erp_password is not None:
            return self.erp_password.get_secret_value()
        if self.erp_password_file is None:
            return ""
        where = f"SUTURE_ERP_PASSWORD_FILE: cannot read a password from {self.erp_password_file}"
        try:
            return self.erp_password_file.read_text("utf-8").splitlines()[0].strip()
        except OSError as exc:
            raise ValueError(f"{where}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ValueError(f"{where}: not UTF-8 text") from None
        except IndexError:
            raise ValueError(f"{where}: the file is empty") from None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")
