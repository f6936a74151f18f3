"""Whatever JSON arrives, the codec answers with a record or an OperationOutcome, never a crash."""

from __future__ import annotations

import json
from typing import Any

from fhir_support import decoding, golden
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suture.formats.fhir import FhirDecodeError, decode_bundle, decode_resource

TYPES = ["ChargeItem", "Device", "Invoice", "Procedure", "SupplyDelivery", "SupplyRequest"]
KEYS = [
    "status", "code", "subject", "context", "quantity", "priceOverride", "occurrenceDateTime",
    "udiCarrier", "focalDevice", "contained", "lineItem", "itemReference", "_status", "value",
    "reference", "currency", "coding", "resourceType", "entry", "resource", "request",
]  # fmt: skip
SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.sampled_from(TYPES)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


def status_of(body: bytes, *, as_bundle: bool = False) -> int:
    """200 when decoded, else the refusal's status (which needs at least one issue)."""
    try:
        if as_bundle:
            decode_bundle(body, decoding())
        else:
            decode_resource(body, decoding())
    except FhirDecodeError as error:
        return error.http_status if error.issues else 500
    return 200


def answer(body: Any, *, as_bundle: bool = False) -> None:
    assert status_of(json.dumps(body).encode(), as_bundle=as_bundle) in (200, 400, 422)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(kind=st.sampled_from(TYPES), fields=st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6))
def test_any_resource_shaped_json_decodes_or_is_refused(kind: str, fields: dict[str, Any]) -> None:
    answer({"resourceType": kind, **fields})


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(entries=st.lists(JSON, max_size=4), kind=st.sampled_from(["batch", "transaction", 3]))
def test_any_bundle_shaped_json_decodes_or_is_refused(entries: list[Any], kind: Any) -> None:
    answer({"resourceType": "Bundle", "type": kind, "entry": entries}, as_bundle=True)


@settings(max_examples=200, deadline=None)
@given(path=st.sampled_from(["status", "quantity", "subject", "code", "context"]), value=JSON)
def test_any_value_in_a_real_charge_item_decodes_or_is_refused(path: str, value: Any) -> None:
    answer(golden("chargeitem-example.json") | {path: value})


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=64))
def test_any_bytes_decode_or_are_refused(body: bytes) -> None:
    assert status_of(body) in (200, 400)
