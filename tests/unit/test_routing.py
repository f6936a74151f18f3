"""The routing policy: loading and validating the YAML, and routing envelopes with it.

St Mary's (``fac-1``) is migrating off its legacy materials system; Riverside (``fac-2``) is not.
"""

from __future__ import annotations

import textwrap
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.eventlog.envelope import Envelope
from suture.eventlog.errors import RoutingPolicyError
from suture.eventlog.events import build_registry
from suture.eventlog.routing import (
    AmountRange,
    RoutingPolicy,
    Rule,
    default_policy_text,
    load_policy,
)

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
EVENT_TYPES = sorted({event_type for event_type, _ in build_registry().versions()})
DEFAULT_DESTINATIONS = {
    "decode",
    "inventory",
    "cost_attribution",
    "charge_reconciliation",
    "legacy_mms_export",
    "revenue_integrity_review",
    "erp_item_sync",
    "parked_redrive",
    "three_way_match",
    "requisition_approval",
    "purchase_ordering",
    "purchase_order_dispatch",
}


def event(event_type: str, payload: dict[str, Any], facility: str | None = "fac-1") -> Envelope:
    return Envelope(
        id=uuid.UUID("01953a7c-5000-7000-8000-000000000001"),
        type=event_type,
        schema_version=1,
        occurred_at=AT,
        recorded_at=AT,
        source_system="epic",
        source_facility=facility,
        trace_id="trace-1",
        correlation_id="corr-1",
        causation_id=None,
        idempotency_key="key-1",
        payload=payload,
    )


def policy(text: str, destinations: set[str] | None = None) -> RoutingPolicy:
    return load_policy(
        textwrap.dedent(text),
        "policies/test.yaml",
        destinations=destinations or {"inventory", "review", "legacy"},
        event_types=EVENT_TYPES,
    )


def refusal(text: str) -> str:
    with pytest.raises(RoutingPolicyError) as caught:
        policy(text)
    return str(caught.value)


def default_policy() -> RoutingPolicy:
    return load_policy(
        default_policy_text(),
        "default.yaml",
        destinations=DEFAULT_DESTINATIONS,
        event_types=EVENT_TYPES,
    )


USAGE_AT_ST_MARYS = {"facility_id": "fac-1", "item_category": "42132203", "quantity": "2"}


# The shipped policy


def test_the_default_policy_loads_against_the_catalog() -> None:
    assert [rule.name for rule in default_policy().rules] == [
        "inbound-messages-to-decode",
        "usage-to-inventory",
        "stocked-usage-to-cost",
        "costed-usage-to-reconciliation",
        "requisitions-to-approval",
        "approved-requisitions-to-purchase-orders",
        "purchase-orders-to-suppliers",
        "medical-supply-usage-to-legacy-materials-system",
        "charges-to-reconciliation",
        "high-value-charges-to-revenue-integrity",
        "invoices-and-receipts-to-three-way-match",
        "master-data-to-erp",
        "master-data-redrives-parked-messages",
    ]


@pytest.mark.parametrize(
    "event_type", ["purchasing.invoice.received", "purchasing.receipt.recorded"]
)
def test_invoices_and_receipts_go_to_the_three_way_match(event_type: str) -> None:
    assert default_policy().route(event(event_type, {"facility_id": "fac-1"})) == [
        "three_way_match"
    ]


def test_medical_supply_usage_at_st_marys_also_goes_to_the_legacy_system() -> None:
    assert default_policy().route(event("supply.usage.recorded", USAGE_AT_ST_MARYS)) == [
        "inventory",
        "legacy_mms_export",
    ]


def test_usage_at_riverside_does_not_go_to_the_legacy_system() -> None:
    usage = USAGE_AT_ST_MARYS | {"facility_id": "fac-2"}
    assert default_policy().route(event("supply.usage.recorded", usage)) == ["inventory"]


def test_a_usage_taken_from_stock_goes_on_to_cost_attribution() -> None:
    applied = event("inventory.usage.applied", USAGE_AT_ST_MARYS)
    assert default_policy().route(applied) == ["cost_attribution"]


def test_a_costed_usage_goes_to_charge_reconciliation() -> None:
    costed = event("finance.usage.costed", USAGE_AT_ST_MARYS)
    assert default_policy().route(costed) == ["charge_reconciliation"]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("999.99", ["charge_reconciliation"]),
        ("1000", ["charge_reconciliation", "revenue_integrity_review"]),
    ],
)
def test_charges_of_1000_or_more_also_go_to_revenue_integrity(
    amount: str, expected: list[str]
) -> None:
    charge = event("charge.posted", {"facility_id": "fac-2", "amount": amount})
    assert default_policy().route(charge) == expected


def test_an_item_change_goes_to_the_erp_and_re_drives_parked_messages() -> None:
    change = event("masterdata.item.changed", {"item_id": "item-gloves"}, facility=None)
    assert default_policy().route(change) == ["erp_item_sync", "parked_redrive"]


# Matching


def test_the_envelopes_facility_counts_when_the_payload_names_none() -> None:
    rules = policy("""
        - name: st-marys
          match: {type: "supply.*", facility: [fac-1]}
          destinations: [legacy]
    """)
    assert rules.route(event("supply.usage.recorded", {}, facility="fac-1")) == ["legacy"]


def test_the_payloads_facility_wins_over_the_envelopes() -> None:
    rules = policy("""
        - name: st-marys
          match: {type: "supply.*", facility: [fac-1]}
          destinations: [legacy]
    """)
    assert rules.route(event("supply.usage.recorded", {"facility_id": "fac-2"})) == []


def test_one_policy_routes_each_event_of_a_type_by_its_own_payload() -> None:
    # The rules of a type are found once per type; the payload predicates run every time.
    rules = policy("""
        - name: st-marys
          match: {type: "supply.*", facility: [fac-1]}
          destinations: [legacy]
        - name: every-usage
          match: {type: "supply.usage.*"}
          destinations: [inventory]
    """)
    routed = [
        rules.route(event("supply.usage.recorded", {"facility_id": facility}))
        for facility in ("fac-1", "fac-2", "fac-1")
    ]
    assert (routed, rules.route(event("supply.request.raised", {}))) == (
        [["legacy", "inventory"], ["inventory"], ["legacy", "inventory"]],
        ["legacy"],
    )


def test_a_predicate_on_a_missing_payload_key_does_not_match() -> None:
    rules = policy("""
        - name: one-supplier
          match: {type: supply.usage.recorded, supplier: ["sup-*"]}
          destinations: [review]
    """)
    assert rules.route(event("supply.usage.recorded", {"item_id": "item-gloves"})) == []


def test_every_matching_rule_contributes_each_destination_once_in_rule_order() -> None:
    rules = policy("""
        - name: all-usage
          match: {type: "supply.usage.*"}
          destinations: [inventory, review]
        - name: big-usage
          match: {type: "supply.usage.*", amount: {gt: 100}}
          destinations: [review, legacy]
    """)
    assert rules.route(event("supply.usage.recorded", {"amount": "150"})) == [
        "inventory",
        "review",
        "legacy",
    ]


def test_scalars_are_read_as_written_so_no_is_a_facility_not_false() -> None:
    rules = policy("""
        - name: norway
          match: {type: supply.usage.recorded, facility: [no]}
          destinations: [legacy]
    """)
    assert rules.route(event("supply.usage.recorded", {"facility_id": "no"})) == ["legacy"]


def test_a_loaded_rule_keeps_its_predicates_and_line() -> None:
    rules = policy("""
        # first line is a comment
        - name: big
          description: big usage
          match:
            type: [supply.usage.recorded, charge.posted]
            item_category: "42*"
            amount: {gte: 1_000, lt: 5000.50}
          destinations: review
    """)
    assert rules.rules == (
        Rule(
            name="big",
            description="big usage",
            types=("supply.usage.recorded", "charge.posted"),
            item_categories=("42*",),
            amount=AmountRange(gte=Decimal("1000"), lt=Decimal("5000.50")),
            destinations=("review",),
            line=3,
        ),
    )


def test_matching_rules_explains_a_route() -> None:
    rules = policy("""
        - name: usage
          match: {type: "supply.*"}
          destinations: [inventory]
        - name: charges
          match: {type: "charge.*"}
          destinations: [review]
    """)
    charge = event("charge.posted", {})
    assert [rule.name for rule in rules.matching_rules(charge)] == ["charges"]


# Validation names file, line, key and reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            """
            - name: usage
              match: {type: "supply.*", colour: blue}
              destinations: [inventory]
            """,
            "policies/test.yaml:3: rules[0].match.colour: unknown key; expected one of "
            "amount, facility, item_category, supplier, type",
        ),
        (
            """
            - name: usage
              match: {type: "supply.*"}
              destinations: [inventory, warehouse]
            """,
            "policies/test.yaml:4: rules[0].destinations[1]: unknown destination 'warehouse'; "
            "known: inventory, legacy, review",
        ),
        (
            """
            - name: usage
              match: {type: "supply.*"}
              destinations:
                - inventory
                - warehouse
            """,
            "policies/test.yaml:6: rules[0].destinations[1]: unknown destination 'warehouse'; "
            "known: inventory, legacy, review",
        ),
        (
            """
            - match: {type: "supply.*"}
              destinations: [inventory]
            """,
            "policies/test.yaml:2: rules[0].name: missing",
        ),
        (
            """
            - name: usage
              name: usage-again
              match: {type: "supply.*"}
              destinations: [inventory]
            """,
            "policies/test.yaml:3: rules[0].name: duplicate key",
        ),
        (
            """
            - name: usage
              match: {type: "supply.*"}
              destinations: [inventory]
            - name: usage
              match: {type: "charge.*"}
              destinations: [review]
            """,
            "policies/test.yaml:5: rules[1].name: rule 'usage' is defined twice",
        ),
        (
            """
            - name: usage
              match: {type: "suply.*"}
              destinations: [inventory]
            """,
            "policies/test.yaml:3: rules[0].match.type: 'suply.*' matches no known event type",
        ),
        (
            """
            - name: usage
              match: {type: "Supply.Usage"}
              destinations: [inventory]
            """,
            "policies/test.yaml:3: rules[0].match.type: 'Supply.Usage' is not a glob over "
            "dotted lowercase event types",
        ),
        (
            """
            - name: big
              match: {type: charge.posted, amount: {gte: lots}}
              destinations: [review]
            """,
            "policies/test.yaml:3: rules[0].match.amount.gte: 'lots' is not a number",
        ),
        (
            """
            - name: big
              match: {type: charge.posted, amount: {gte: 5000, lte: 1000}}
              destinations: [review]
            """,
            "policies/test.yaml:3: rules[0].match.amount: the range is empty: 5000 is above 1000",
        ),
        (
            """
            - name: big
              match: {type: charge.posted, amount: {gte: 1, gt: 2}}
              destinations: [review]
            """,
            "policies/test.yaml:3: rules[0].match.amount: give gte or gt, and lte or lt, not both",
        ),
        (
            """
            - name: usage
              match: {type: "supply.*", facility: [fac-1, ~]}
              destinations: [inventory]
            """,
            "policies/test.yaml:3: rules[0].match.facility[1]: is empty",
        ),
        (
            """
            - name: usage
              match: {type: "supply.*"}
              destinations: []
            """,
            "policies/test.yaml:4: rules[0].destinations: is an empty list",
        ),
        (
            """
            - name: usage
              match: {type: "supply.*"}
              destinations: [inventory, inventory]
            """,
            "policies/test.yaml:4: rules[0].destinations[1]: 'inventory' is listed twice",
        ),
        (
            """
            rules:
              - name: usage
            """,
            "policies/test.yaml:2: rules: must be a list",
        ),
        (
            """
            - name: usage
              match: {type: "supply.*"
              destinations: [inventory]
            """,
            "policies/test.yaml:4: yaml: expected ',' or '}', but got '<scalar>'",
        ),
        ("", "policies/test.yaml:1: rules: the document is empty"),
    ],
)
def test_an_invalid_policy_is_refused_with_source_line_key_and_reason(
    text: str, expected: str
) -> None:
    assert refusal(text) == expected


def test_the_error_keeps_field_reason_and_location_apart() -> None:
    with pytest.raises(RoutingPolicyError) as caught:
        policy("- name: usage\n  match: {type: x.y}\n  destinations: [inventory]\n")
    error = caught.value
    assert (error.source, error.line, error.field, error.reason) == (
        "policies/test.yaml",
        2,
        "rules[0].match.type",
        "'x.y' matches no known event type",
    )


def test_an_empty_list_is_a_policy_that_routes_nothing() -> None:
    assert policy("[]").route(event("charge.posted", {})) == []


# Routing never raises

payload_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["NaN", "Infinity", "-0", "1e999999", "42132203"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)
    ),
    max_leaves=6,
)
payloads = st.dictionaries(
    st.sampled_from(["facility_id", "supplier_id", "item_category", "amount", "other"]),
    payload_values,
)


@given(payloads, st.sampled_from(EVENT_TYPES), st.none() | st.text(min_size=1))
def test_routing_never_raises_whatever_the_payload(
    payload: dict[str, Any], event_type: str, facility: str | None
) -> None:
    rules = policy("""
        - name: everything
          match:
            type: "*"
            facility: ["fac-*"]
            supplier: ["sup-*"]
            item_category: ["42*"]
            amount: {gte: 1000}
          destinations: [review]
    """)
    assert rules.route(event(event_type, payload, facility)) in ([], ["review"])
