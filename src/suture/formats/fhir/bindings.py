"""Required bindings the fhir.resources models do not check, and that the mapping relies on.

The R4B models type a ``code`` as a string: ``"status": "bogus"`` validates. FHIR R4 binds
these elements *required* to a closed value set, and the mapping branches on them (a billable
ChargeItem is a charge, a planned one is not), so an unknown code is refused here with
``code-invalid`` and HTTP 422, naming the element and the codes it may take (codes of FHIR's
own value sets, never the value sent).

Sources: FHIR R4 (4.0.1) chargeitem-status, supplydelivery-status, invoice-status,
supplyrequest-status, request-priority, event-status, device-status, udi-entry-type,
invoice-priceComponentType, bundle-type, http-verb.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from suture.formats.fhir.errors import Issue

_Spec = tuple[tuple[str, ...], tuple[str, ...]]

#: Per resource type: (path of the coded element, "*" for every repetition) -> allowed codes.
REQUIRED_CODES: Mapping[str, tuple[_Spec, ...]] = {
    "ChargeItem": (
        (
            ("status",),
            (
                "planned",
                "billable",
                "not-billable",
                "aborted",
                "billed",
                "entered-in-error",
                "unknown",
            ),
        ),
    ),
    "SupplyDelivery": (
        (("status",), ("in-progress", "completed", "abandoned", "entered-in-error")),
    ),
    "Invoice": (
        (("status",), ("draft", "issued", "balanced", "cancelled", "entered-in-error")),
        (
            ("lineItem", "*", "priceComponent", "*", "type"),
            ("base", "surcharge", "deduction", "discount", "tax", "informational"),
        ),
        (
            ("totalPriceComponent", "*", "type"),
            ("base", "surcharge", "deduction", "discount", "tax", "informational"),
        ),
    ),
    "SupplyRequest": (
        (
            ("status",),
            (
                "draft",
                "active",
                "suspended",
                "cancelled",
                "completed",
                "entered-in-error",
                "unknown",
            ),
        ),
        (("priority",), ("routine", "urgent", "asap", "stat")),
    ),
    "Procedure": (
        (
            ("status",),
            (
                "preparation",
                "in-progress",
                "not-done",
                "on-hold",
                "stopped",
                "completed",
                "entered-in-error",
                "unknown",
            ),
        ),
    ),
    "Device": (
        (("status",), ("active", "inactive", "entered-in-error", "unknown")),
        (
            ("udiCarrier", "*", "entryType"),
            ("barcode", "rfid", "manual", "card", "self-reported", "unknown"),
        ),
    ),
}


def check_required_codes(resource_type: str, data: Mapping[str, Any]) -> list[Issue]:
    """One ``code-invalid`` issue per coded element whose value is outside its value set."""
    issues: list[Issue] = []
    for steps, allowed in REQUIRED_CODES.get(resource_type, ()):
        for path, value in _walk(data, steps, resource_type):
            if isinstance(value, str) and value not in allowed:
                issues.append(
                    Issue(
                        "code-invalid",
                        f"{path} must be one of {'|'.join(allowed)} (required binding)",
                        path,
                    )
                )
    return issues


def _walk(node: Any, steps: tuple[str, ...], path: str) -> Iterator[tuple[str, Any]]:
    if not steps:
        yield path, node
        return
    step, rest = steps[0], steps[1:]
    if step == "*":
        if isinstance(node, list):
            for index, item in enumerate(node):
                yield from _walk(item, rest, f"{path}[{index}]")
        return
    if isinstance(node, Mapping) and step in node:
        yield from _walk(node[step], rest, f"{path}.{step}")
