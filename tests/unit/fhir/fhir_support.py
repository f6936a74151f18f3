"""Shared setup of the FHIR codec tests: the edge's settings, a visible tokenizer, UDI reading."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from suture.formats.fhir import Decoding, DeviceIdentification, Settings
from suture.formats.udi import parse_udi

GOLDEN = Path(__file__).parents[2] / "golden" / "fhir"
CHICAGO = ZoneInfo("America/Chicago")
TODAY = date(2026, 11, 25)


def tokenize(value: str) -> str:
    """A stand-in for the keyed hash: reversible here, so tests can see what was tokenized."""
    return f"tok({value})"


def decoding(
    currency: str = "EUR",
    *,
    cdm_system: str | None = None,
    known_devices: Mapping[str, DeviceIdentification] | None = None,
    **settings: Any,
) -> Decoding:
    """The edge's context for a client of facility FAC-1 in Chicago."""
    return Decoding(
        settings=Settings(facility_id="FAC-1", zone=CHICAGO, currency=currency, **settings),
        tokenize=tokenize,
        read_udi=partial(parse_udi, today=TODAY),
        cdm_system=cdm_system,
        known_devices=known_devices or {},
    )


def golden(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
    return loaded


def expressions(outcome: dict[str, Any]) -> list[str]:
    return [issue["expression"][0] for issue in outcome["issue"]]
