"""Pydantic error locations read as FHIRPath."""

from __future__ import annotations

import pytest

from suture.formats.fhir.paths import choice_stem, fhirpath


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        ((), "ChargeItem"),
        (("quantity", "value"), "ChargeItem.quantity.value"),
        (("note", 0, "text"), "ChargeItem.note[0].text"),
        (("_status",), "ChargeItem.status"),
        (("subject", "root"), "ChargeItem.subject"),
        (("resource_type",), "ChargeItem.resourceType"),
    ],
)
def test_a_location_is_the_element_path_with_repetition_indexes(
    loc: tuple[int | str, ...], path: str
) -> None:
    assert fhirpath("ChargeItem", loc) == path


def test_a_nested_resource_path_is_prefixed_by_where_it_sits() -> None:
    assert fhirpath("Bundle.entry[2].resource", ("status",)) == "Bundle.entry[2].resource.status"


def test_the_stem_of_a_choice_is_the_common_prefix_of_its_names() -> None:
    message = (
        "Value error, Any of one field value is expected from this list "
        "['occurrenceDateTime', 'occurrencePeriod', 'occurrenceTiming'], but got multiple!"
    )
    assert choice_stem(message) == "occurrence"


def test_a_message_without_a_list_has_no_stem() -> None:
    assert choice_stem("Value error, something else") is None
