"""Feed profiles: the zone of the file's times must be stated, and its formats must parse."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from suture.formats.csv import ImportKind, ProfileError, default_profile, load_profile

USAGE = """\
kind: usage
time_zone: {zone}
columns:
  facility: Facility
  location: Location
  quantity: Qty
  uom: UOM
  used_at: Used At
  gtin: GTIN
"""


def error_of(text: str) -> tuple[str, str, int | None]:
    with pytest.raises(ProfileError) as caught:
        load_profile(text, "feed.yaml")
    return caught.value.field, caught.value.reason, caught.value.line


@pytest.mark.parametrize("kind", [ImportKind.USAGE, ImportKind.CHARGES])
def test_the_built_in_feed_profiles_load_with_their_zone(kind: ImportKind) -> None:
    assert default_profile(kind).time_zone == ZoneInfo("America/Chicago")


def test_utc_is_a_zone() -> None:
    assert load_profile(USAGE.format(zone="UTC"), "feed.yaml").time_zone is UTC


def test_a_feed_profile_without_a_zone_is_refused() -> None:
    text = USAGE.replace("time_zone: {zone}\n", "")
    assert error_of(text) == (
        "time_zone",
        "is required for usage: the IANA zone of the file's times",
        1,
    )


def test_an_unknown_zone_is_refused() -> None:
    field, reason, line = error_of(USAGE.format(zone="Mars/Olympus"))
    assert (field, line) == ("time_zone", 2)
    assert reason.startswith("unknown time zone 'Mars/Olympus'")


def test_a_time_format_without_hours_and_minutes_is_refused() -> None:
    text = USAGE.format(zone="UTC") + 'time_format: "%m/%d/%Y"\n'
    assert error_of(text)[:2] == (
        "time_format",
        "'%m/%d/%Y' is not a strptime format of a date with hours and minutes",
    )


def test_a_usage_profile_must_map_a_way_to_name_the_item() -> None:
    text = USAGE.format(zone="UTC").replace("  gtin: GTIN\n", "")
    assert error_of(text)[:2] == (
        "columns",
        "the item of a usage line needs item_id or item_number or gtin or udi mapped",
    )


def test_a_time_zone_on_a_master_data_profile_is_refused() -> None:
    text = "kind: crosswalks\ntime_zone: UTC\ncolumns:\n  source_system: S\n  kind: K\n"
    text += "  local_code: L\n  canonical_id: C\n"
    assert error_of(text) == ("time_zone", "applies to usage and charges only, not crosswalks", 2)
