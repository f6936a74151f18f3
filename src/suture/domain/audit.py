"""The audit trail: who did what, through which client, to what, when, and how it ended.

DESIGN.md §6 and issue 7: every write and every operator action is appended to a log that is
chained by hashes, so that a changed, deleted, inserted or reordered row is detected. This
module holds the entry, the canonical form the hash covers, and the walk that checks a chain;
storage and the clock are the caller's (``services/audit.py``).

The chaining rule. Row ``n`` stores ``hash_n = HMAC-SHA256(K, hash_{n-1} || canonical(n, entry))``
where ``hash_0`` is :data:`GENESIS_HASH` and ``canonical`` is the entry and its sequence number as
sorted, compact UTF-8 JSON (:func:`canonical_bytes`). Because the hash covers the sequence number
and the previous hash, a row moved to another position, a row changed in any column, and a row
inserted between two others all fail the check; a deleted row leaves a gap in the sequence.

Why a *keyed* hash. With a plain SHA-256 chain, anyone who can write to the database could change
a row and recompute every hash after it, and the chain would verify. ``K`` is derived from the
hub's secret (``SUTURE_SECRET_KEY``, never stored in the database) with a label of its own
(:meth:`AuditKey.from_secret`), so the PHI tokenizer's key and the audit key differ. Without the
secret, a forged or altered row cannot be given a valid hash.

The end of the chain. A chain alone cannot show that its last rows were deleted, so the store
keeps a chain head (sequence number, hash, and a MAC of both under ``K``), written with every
append. A head that does not match the last row, or rows beyond the head, are reported. What
remains undetectable without an outside anchor: someone who restores an *older copy* of the
whole log and head together. Record ``suture audit verify``'s head line elsewhere to close that.

Entries never hold message content or patient identifiers: ``before`` and ``after`` are
identifiers or short PHI-free summaries (``status=open``), and ``reason`` is a PHI-free reason.
Errors::

    SutureError
    └── DomainError
        └── AuditEntryError   an entry without who or what, a bad action name, a field too long
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from suture.domain.errors import DomainError

#: The "previous hash" of the first row.
GENESIS_HASH = "0" * 64
#: Label of the audit key derived from the hub's secret (domain separation from other keys).
KEY_LABEL = b"suture.audit-chain.v1"
#: Version of :func:`canonical_bytes`; part of what the hash covers.
CANONICAL_VERSION = 1
#: Longest ``before``, ``after`` or ``reason``: summaries, not documents.
MAX_TEXT = 1000
#: Longest actor, client, scope, action, target type or target id.
MAX_NAME = 200
#: What reading a raw inbound message (which may hold PHI) is recorded as; never its content.
RAW_READ = "message.raw_read"

#: ``area.verb`` or ``area.sub.verb``, lower case: ``exception.retry``, ``masterdata.import``.
_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")


class AuditEntryError(DomainError):
    """An audit entry that cannot be recorded as given."""


class Outcome(StrEnum):
    """How the action ended: done, refused before it started, or tried and failed."""

    SUCCESS = "success"
    DENIED = "denied"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a person or service (``name``), the client it came through, the scope it used.

    CLI actions: the operating-system user, client ``cli``, no scope. API actions: the token's
    subject, its OAuth2 client id and the scope the route required.
    """

    name: str
    client_id: str
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One action as recorded (before it is given a place in the chain)."""

    actor: Actor
    action: str
    at: datetime
    outcome: Outcome = Outcome.SUCCESS
    target_type: str | None = None
    target_id: str | None = None
    before: str | None = None
    after: str | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        for field, value in (("actor", self.actor.name), ("client_id", self.actor.client_id)):
            if not value.strip():
                raise AuditEntryError(field, "must not be empty")
        if not _ACTION.fullmatch(self.action):
            raise AuditEntryError(
                "action", f"{self.action[:MAX_NAME]!r} is not a dotted lower-case name"
            )
        if self.at.tzinfo is None or self.at.utcoffset() != timedelta(0):
            raise AuditEntryError("at", "must be timezone-aware UTC")
        if self.outcome is not Outcome.SUCCESS and not (self.reason or "").strip():
            raise AuditEntryError("reason", f"a {self.outcome} action must say why")
        for field, text, limit in self._texts():
            if text is not None and (len(text) > limit or "\x00" in text):
                raise AuditEntryError(field, f"longer than {limit} characters or holds NUL")

    @classmethod
    def restore(cls, **fields: object) -> AuditEntry:
        """An entry read back from storage, taken as it is, unchecked: a row someone altered
        into something :class:`AuditEntry` would refuse must still reach the hash check (and
        fail it) rather than stop the verification. ``outcome`` may be any string."""
        entry = object.__new__(cls)
        for name in cls.__dataclass_fields__:
            object.__setattr__(entry, name, fields[name])
        return entry

    def _texts(self) -> list[tuple[str, str | None, int]]:
        return [
            ("actor", self.actor.name, MAX_NAME),
            ("client_id", self.actor.client_id, MAX_NAME),
            ("scope", self.actor.scope, MAX_NAME),
            ("action", self.action, MAX_NAME),
            ("target_type", self.target_type, MAX_NAME),
            ("target_id", self.target_id, MAX_NAME),
            ("before", self.before, MAX_TEXT),
            ("after", self.after, MAX_TEXT),
            ("reason", self.reason, MAX_TEXT),
        ]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An entry in its place: sequence number (1, 2, …), the hash before it, and its own hash."""

    seq: int
    entry: AuditEntry
    previous_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last appended row as the store remembers it; ``mac`` is None only for an empty chain
    (the migration that creates the head cannot know the key)."""

    seq: int
    hash: str
    mac: str | None


EMPTY_HEAD = ChainHead(0, GENESIS_HASH, None)


def canonical_bytes(seq: int, entry: AuditEntry) -> bytes:
    """The exact bytes a row's hash covers besides the previous hash: sorted compact JSON."""
    document = {
        "v": CANONICAL_VERSION,
        "seq": seq,
        "actor": entry.actor.name,
        "client_id": entry.actor.client_id,
        "scope": entry.actor.scope,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "before": entry.before,
        "after": entry.after,
        "outcome": str(entry.outcome),
        "reason": entry.reason,
        "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class AuditKey:
    """The chain's HMAC key; its ``repr`` never shows it."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise AuditEntryError("audit_key", "needs at least 32 bytes")
        self._key = key

    @classmethod
    def from_secret(cls, secret: str | bytes) -> AuditKey:
        """``HMAC-SHA256(secret, KEY_LABEL)``: the same secret always gives the same key."""
        raw = secret.encode("utf-8") if isinstance(secret, str) else secret
        if not raw:
            raise AuditEntryError("secret_key", "must not be empty")
        return cls(hmac.new(raw, KEY_LABEL, hashlib.sha256).digest())

    def seal(self, entry: AuditEntry, seq: int, previous_hash: str) -> AuditRecord:
        """The entry as row ``seq`` following ``previous_hash``."""
        if seq < 1:
            raise AuditEntryError("seq", "sequence numbers start at 1")
        return AuditRecord(seq, entry, previous_hash, self._row_hash(seq, entry, previous_hash))

    def matches(self, record: AuditRecord) -> bool:
        """Whether the record's hash is the hash of its content and its stored previous hash."""
        expected = self._row_hash(record.seq, record.entry, record.previous_hash)
        return hmac.compare_digest(expected, record.hash)

    def head(self, seq: int, row_hash: str) -> ChainHead:
        """The chain head naming row ``seq`` with hash ``row_hash``, with its MAC."""
        return ChainHead(seq, row_hash, self._head_mac(seq, row_hash))

    def head_is_genuine(self, head: ChainHead) -> bool:
        if head.mac is None:
            return head == EMPTY_HEAD
        return hmac.compare_digest(self._head_mac(head.seq, head.hash), head.mac)

    def _row_hash(self, seq: int, entry: AuditEntry, previous_hash: str) -> str:
        message = previous_hash.encode("ascii", "replace") + b"\n" + canonical_bytes(seq, entry)
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _head_mac(self, seq: int, row_hash: str) -> str:
        message = f"head\n{seq}\n{row_hash}".encode("ascii", "replace")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "AuditKey(<secret>)"


class BreakReason(StrEnum):
    """Why a chain is broken, as ``suture audit verify`` names it."""

    CHANGED = "changed"  # the row does not match its hash: altered, forged, or renumbered
    DELETED = "deleted"  # a sequence number is missing
    RELINKED = "relinked"  # a genuine row that does not follow the row before it
    INSERTED = "inserted"  # a row after the recorded chain head
    HEAD = "head"  # the head is altered, or names a row that is gone


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first broken link: at which sequence number and why."""

    seq: int
    reason: BreakReason
    detail: str


class ChainWalk:
    """Checks rows fed in sequence order against ``head``; stops caring after the first break.

    Memory is constant: only the previous row's sequence number and hash are kept, so a caller
    can stream the log in pages. ``last_seq`` bounds the walk to the rows that existed when the
    head was read (rows appended since are someone else's concern).
    """

    def __init__(self, key: AuditKey, head: ChainHead) -> None:
        self._key = key
        self._head = head
        self._seq = 0
        self._hash = GENESIS_HASH
        self.checked = 0
        self.broken: ChainBreak | None = None
        if not key.head_is_genuine(head):
            self.broken = ChainBreak(
                head.seq, BreakReason.HEAD, "the chain head does not match its MAC: altered"
            )

    def feed(self, record: AuditRecord) -> ChainBreak | None:
        """Check the next row; returns the chain's first break so far (None: intact so far)."""
        if self.broken is None:
            self.broken = self._check(record)
            if self.broken is None:
                self._seq, self._hash = record.seq, record.hash
                self.checked += 1
        return self.broken

    def finish(self) -> ChainBreak | None:
        """After the last row: the chain must end exactly where the head says."""
        if self.broken is None and (self._seq, self._hash) != (self._head.seq, self._head.hash):
            self.broken = ChainBreak(
                self._seq + 1,
                BreakReason.HEAD,
                f"the chain ends at row {self._seq} but its head names row {self._head.seq}: "
                "rows deleted from the end",
            )
        return self.broken

    def _check(self, record: AuditRecord) -> ChainBreak | None:
        if record.seq > self._head.seq:
            return ChainBreak(
                record.seq,
                BreakReason.INSERTED,
                f"row {record.seq} is after the chain head (row {self._head.seq}): inserted",
            )
        if record.seq != self._seq + 1:
            missing = f"row {self._seq + 1}" + (
                f" to {record.seq - 1}" if record.seq - 1 > self._seq + 1 else ""
            )
            return ChainBreak(self._seq + 1, BreakReason.DELETED, f"{missing} missing: deleted")
        if not self._key.matches(record):
            return ChainBreak(
                record.seq,
                BreakReason.CHANGED,
                f"row {record.seq} does not match its hash: changed, forged or moved",
            )
        if record.previous_hash != self._hash:
            return ChainBreak(
                record.seq,
                BreakReason.RELINKED,
                f"row {record.seq} does not follow row {self._seq}: reordered or spliced in",
            )
        return None
