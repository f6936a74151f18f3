"""The audit entry and the chaining rule (``domain/audit.py``): pure, no storage.

A chain is built here with :meth:`AuditKey.seal` and handed to :class:`ChainWalk` row by row,
the way the service streams it from the database, intact or tampered in each way the walk must
name.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone

import pytest

from suture.domain.audit import (
    EMPTY_HEAD,
    GENESIS_HASH,
    KEY_LABEL,
    MAX_TEXT,
    Actor,
    AuditEntry,
    AuditEntryError,
    AuditKey,
    AuditRecord,
    BreakReason,
    ChainBreak,
    ChainHead,
    ChainWalk,
    Outcome,
    canonical_bytes,
)

AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
ANA = Actor("ana", "cli")
KEY = AuditKey.from_secret("a-secret-of-the-hub-that-is-long-enough")


def entry(n: int = 0, **changes: object) -> AuditEntry:
    values: dict[str, object] = {
        "actor": ANA,
        "action": "exception.retry",
        "at": AT + timedelta(seconds=n),
        "target_type": "exception",
        "target_id": f"EX-{n}",
        "before": "status=open",
        "after": "status=in_progress",
    }
    return AuditEntry(**(values | changes))  # type: ignore[arg-type]


def chain(length: int, key: AuditKey = KEY) -> tuple[list[AuditRecord], ChainHead]:
    records, previous = [], GENESIS_HASH
    for n in range(1, length + 1):
        record = key.seal(entry(n), n, previous)
        records.append(record)
        previous = record.hash
    last = records[-1] if records else None
    head = key.head(last.seq, last.hash) if last else EMPTY_HEAD
    return records, head


def walk(records: list[AuditRecord], head: ChainHead, key: AuditKey = KEY) -> ChainBreak | None:
    walker = ChainWalk(key, head)
    for record in records:
        walker.feed(record)
    return walker.finish()


def test_each_row_hash_is_an_hmac_over_the_previous_hash_and_the_canonical_row() -> None:
    secret = b"a-secret-of-the-hub-that-is-long-enough"
    key = hmac.new(secret, KEY_LABEL, hashlib.sha256).digest()

    first = KEY.seal(entry(1), 1, GENESIS_HASH)

    expected = hmac.new(
        key, GENESIS_HASH.encode() + b"\n" + canonical_bytes(1, entry(1)), hashlib.sha256
    ).hexdigest()
    assert first.hash == expected


def test_the_canonical_form_is_sorted_compact_json_with_the_utc_instant() -> None:
    paris = timezone(timedelta(hours=1))
    at = AT.astimezone(paris).astimezone(UTC)

    text = canonical_bytes(7, entry(at=at, reason=None)).decode()

    assert text == (
        '{"action":"exception.retry","actor":"ana","after":"status=in_progress",'
        '"at":"2025-03-01T08:00:00.000000+00:00","before":"status=open","client_id":"cli",'
        '"outcome":"success","reason":null,"scope":null,"seq":7,"target_id":"EX-0",'
        '"target_type":"exception","v":1}'
    )


def test_the_audit_key_is_derived_from_the_secret_not_the_secret_itself() -> None:
    """So the chain's key differs from the PHI tokenizer's, which keys with the secret as is."""
    secret = "a-secret-of-the-hub-that-is-long-enough"
    message = GENESIS_HASH.encode() + b"\n" + canonical_bytes(1, entry(1))

    record = AuditKey.from_secret(secret).seal(entry(1), 1, GENESIS_HASH)

    assert record.hash != hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def test_the_key_never_shows_in_its_repr() -> None:
    assert repr(KEY) == "AuditKey(<secret>)"


def test_an_intact_chain_walks_to_its_head() -> None:
    records, head = chain(5)

    walker = ChainWalk(KEY, head)
    breaks = [walker.feed(record) for record in records]

    assert (breaks, walker.finish(), walker.checked) == ([None] * 5, None, 5)


def test_an_empty_chain_with_the_migrations_head_is_intact() -> None:
    assert walk([], EMPTY_HEAD) is None


def test_a_changed_column_breaks_the_chain_at_that_row() -> None:
    records, head = chain(5)
    changed = dataclasses.replace(records[2].entry, after="status=resolved")
    records[2] = dataclasses.replace(records[2], entry=changed)

    assert walk(records, head) == ChainBreak(
        3, BreakReason.CHANGED, "row 3 does not match its hash: changed, forged or moved"
    )


def test_a_deleted_row_leaves_a_gap_named_by_its_sequence_number() -> None:
    records, head = chain(5)
    del records[1:3]

    assert walk(records, head) == ChainBreak(2, BreakReason.DELETED, "row 2 to 3 missing: deleted")


def test_rows_deleted_from_the_end_disagree_with_the_head() -> None:
    records, head = chain(5)

    broken = walk(records[:3], head)

    assert (broken and broken.seq, broken and broken.reason) == (4, BreakReason.HEAD)


def test_swapped_rows_break_the_chain_at_the_first_of_them() -> None:
    records, head = chain(5)
    second, third = records[1], records[2]
    records[1] = dataclasses.replace(third, seq=2)
    records[2] = dataclasses.replace(second, seq=3)

    broken = walk(records, head)

    assert (broken and broken.seq, broken and broken.reason) == (2, BreakReason.CHANGED)


def test_a_row_forged_without_the_key_does_not_match_its_hash() -> None:
    records, head = chain(3)
    forger = AuditKey.from_secret("the forger's guess at the secret, long enough")
    records[1] = forger.seal(entry(9), 2, records[0].hash)

    broken = walk(records, head)

    assert (broken and broken.seq, broken and broken.reason) == (2, BreakReason.CHANGED)


def test_a_row_appended_after_the_head_is_an_insertion() -> None:
    records, head = chain(3)
    records.append(KEY.seal(entry(4), 4, records[-1].hash))  # even a correctly keyed one

    broken = walk(records, head)

    assert (broken and broken.seq, broken and broken.reason) == (4, BreakReason.INSERTED)


def test_a_genuine_row_that_does_not_follow_its_predecessor_is_relinked() -> None:
    records, _ = chain(3)
    records[2] = KEY.seal(entry(3), 3, records[0].hash)  # two rows claiming the same predecessor
    head = KEY.head(3, records[2].hash)

    broken = walk(records, head)

    assert (broken and broken.seq, broken and broken.reason) == (3, BreakReason.RELINKED)


def test_a_head_rewound_without_the_key_is_refused() -> None:
    records, head = chain(5)
    rewound = ChainHead(3, records[2].hash, head.mac)

    broken = walk(records[:3], rewound)

    assert (broken and broken.seq, broken and broken.reason) == (3, BreakReason.HEAD)


def test_a_head_reset_to_empty_leaves_every_row_after_it() -> None:
    records, _ = chain(2)

    broken = walk(records, EMPTY_HEAD)

    assert (broken and broken.seq, broken and broken.reason) == (1, BreakReason.INSERTED)


def test_a_chain_checked_with_another_key_fails_at_its_head() -> None:
    records, head = chain(2)

    broken = walk(records, KEY.head(head.seq, head.hash), AuditKey.from_secret("x" * 40))

    assert (broken and broken.seq, broken and broken.reason) == (2, BreakReason.HEAD)


def test_a_row_altered_into_an_invalid_entry_still_reaches_the_hash_check() -> None:
    records, head = chain(2)
    values = {f.name: getattr(records[0].entry, f.name) for f in dataclasses.fields(AuditEntry)}
    bogus = AuditEntry.restore(**(values | {"outcome": "bogus", "action": "NOT AN ACTION"}))
    records[0] = dataclasses.replace(records[0], entry=bogus)

    broken = walk(records, head)

    assert (broken and broken.seq, broken and broken.reason) == (1, BreakReason.CHANGED)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"actor": Actor(" ", "cli")}, "actor"),
        ({"actor": Actor("ana", "")}, "client_id"),
        ({"action": "Retry"}, "action"),
        ({"action": "exception"}, "action"),
        ({"at": datetime(2025, 3, 1, 8, 0)}, "at"),  # noqa: DTZ001 - a naive time, refused
        ({"at": AT.astimezone(timezone(timedelta(hours=2)))}, "at"),
        ({"outcome": Outcome.DENIED}, "reason"),
        ({"outcome": Outcome.FAILED, "reason": "  "}, "reason"),
        ({"before": "x" * (MAX_TEXT + 1)}, "before"),
        ({"target_id": "EX\x00"}, "target_id"),
    ],
)
def test_an_entry_without_who_what_or_why_is_refused_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(AuditEntryError) as refused:
        entry(**changes)

    assert refused.value.field == field


def test_a_denied_action_with_its_reason_is_an_entry() -> None:
    denied = entry(outcome=Outcome.DENIED, reason="scope process:execute required")

    assert (denied.outcome, denied.reason) == (Outcome.DENIED, "scope process:execute required")


def test_sequence_numbers_start_at_one() -> None:
    with pytest.raises(AuditEntryError) as refused:
        KEY.seal(entry(), 0, GENESIS_HASH)

    assert refused.value.field == "seq"
