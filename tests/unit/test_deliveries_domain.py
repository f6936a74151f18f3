"""A delivery as the queue keeps it: what it must name, and how errors are kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from suture.domain.deliveries import (
    MAX_ERROR_LENGTH,
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    error_text,
    target_kind,
)
from suture.domain.errors import DomainError

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def new(**changes: object) -> Delivery:
    fields: dict[str, object] = {
        "id": "d-1", "target": "erp:tryton", "operation": "purchase_order.create",
        "payload": '{"po": "PO-1"}', "idempotency_key": "po-1-create", "at": AT,
    }  # fmt: skip
    fields.update(changes)
    return Delivery.new(**fields)  # type: ignore[arg-type]


def test_a_new_delivery_is_pending_due_at_once_and_stores_text_as_utf8() -> None:
    delivery = new(payload='{"vendor": "Ørsted"}')

    assert (delivery.status, delivery.next_attempt_at, delivery.attempts, delivery.payload) == (
        DeliveryStatus.PENDING,
        AT,
        0,
        '{"vendor": "Ørsted"}'.encode(),
    )


def test_the_payload_is_left_out_of_repr() -> None:
    assert "PO-1" not in repr(new())


def test_the_kind_of_a_target_is_the_part_before_the_colon() -> None:
    assert (new(target="x12:supplier-SUP-0001").kind, target_kind("webhook:a:b")) == (
        "x12",
        "webhook",
    )


@pytest.mark.parametrize("target", ["tryton", "ERP:tryton", "erp:", "erp: tryton", ""])
def test_a_target_must_read_kind_colon_name(target: str) -> None:
    with pytest.raises(DomainError) as refused:
        new(target=target)

    assert refused.value.field == "target"


@pytest.mark.parametrize("field", ["operation", "idempotency_key", "id"])
def test_a_delivery_must_name_its_operation_key_and_id(field: str) -> None:
    with pytest.raises(DomainError) as refused:
        new(**{field: " "})

    assert refused.value.field == field


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        new(at=datetime(2025, 3, 1, 12, 0))  # noqa: DTZ001 - the point of the test

    assert refused.value.field == "created_at"


def test_an_attempt_counts_from_one() -> None:
    with pytest.raises(DomainError) as refused:
        DeliveryAttempt(delivery_id="d-1", attempt=0, at=AT, outcome=AttemptOutcome.FAILED)

    assert refused.value.field == "attempt"


def test_an_error_is_kept_on_one_line_and_cut_to_the_maximum_length() -> None:
    kept = error_text("HTTP 503\nService Unavailable " + "x" * 2000)

    assert (kept[:29], len(kept), kept[-1]) == (
        "HTTP 503 Service Unavailable ",
        MAX_ERROR_LENGTH,
        "…",
    )
