"""FHIR resources decoded per second, beside bare fhir.resources validation of the same bytes.

Decoding a FHIR resource is mostly validating it: the R4B pydantic models check every element.
This script shows what the codec adds on top (required bindings, null and modifier-extension
checks, references, tokens, money, the mapping to canonical records), timing in one process
pinned to one CPU, best of ``--rounds``:

- **ChargeItem**: ``--resources`` synthetic ChargeItems (seeded; synthetic identifiers, no PHI),
  each decoded by ``decode_resource(bytes)`` to a canonical Charge, beside
  ``ChargeItem.model_validate_json(bytes)`` (the baseline: validation only);
- **Bundle**: ``--bundles`` transaction Bundles of ``--entries`` entries (two ChargeItems to
  each Device + Procedure pair, the Procedure naming its Device by ``urn:uuid``), decoded by
  ``decode_bundle(bytes)``, beside ``Bundle.model_validate_json(bytes)``.

The paths take turns within each round. The last column is the codec's rate over the bare
model's: the share of the time that is validation. The machine may be shared: run it when it
is quiet, or read the figures as lower bounds.

    .venv/bin/python benchmarks/fhir_decode.py --resources 2000 --bundles 20 --entries 100
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import time
import uuid
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.chargeitem import ChargeItem

from suture.formats.fhir import (
    DecodedChargeItem,
    Decoding,
    Settings,
    decode_bundle,
    decode_resource,
)
from suture.formats.udi import parse_udi

_CDM = (("27800123", "C1776"), ("27200456", "A4649"), ("36000789", "99070"))
_GTINS = ("00844588003288", "09504000059118", "00380740000011")


def charge_item(rng: random.Random, index: int) -> dict[str, Any]:
    cdm, hcpcs = rng.choice(_CDM)
    return {
        "resourceType": "ChargeItem",
        "identifier": [{"system": "urn:oid:1.2.3.4", "value": f"CI-{index:08d}"}],
        "status": "billable",
        "code": {
            "coding": [
                {"system": "http://hospital.example.org/cdm", "code": cdm},
                {"system": "http://www.ama-assn.org/go/cpt", "code": hcpcs},
            ]
        },
        "subject": {"reference": f"Patient/{rng.randint(10**6, 10**7)}"},
        "context": {"identifier": {"value": f"V{rng.randint(10**7, 10**8)}"}},
        "account": [{"identifier": {"value": f"A{rng.randint(10**7, 10**8)}"}}],
        "occurrenceDateTime": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:15:00Z",
        "quantity": {"value": rng.randint(1, 3)},
        "priceOverride": {"value": rng.randint(100, 900_000) / 100, "currency": "USD"},
        "performingOrganization": {"identifier": {"value": "ORTHO"}},
    }


def implant_pair(rng: random.Random, index: int) -> list[dict[str, Any]]:
    device_url = f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}"
    hrf = f"(01){rng.choice(_GTINS)}(17)281120(10)L{index:06d}(21)S{rng.randint(10**5, 10**6)}"
    device = {"resourceType": "Device", "udiCarrier": [{"carrierHRF": hrf}], "status": "active"}
    procedure = {
        "resourceType": "Procedure",
        "identifier": [{"value": f"CASE-{index:08d}"}],
        "status": "completed",
        "subject": {"reference": f"Patient/{rng.randint(10**6, 10**7)}"},
        "encounter": {"identifier": {"value": f"V{rng.randint(10**7, 10**8)}"}},
        "performedDateTime": "2026-11-24T09:00:00Z",
        "location": {"identifier": {"value": "OR-3"}},
        "focalDevice": [{"manipulated": {"reference": device_url}}],
    }
    return [
        {"fullUrl": device_url, "resource": device, "request": {"method": "POST", "url": "Device"}},
        {"resource": procedure, "request": {"method": "POST", "url": "Procedure"}},
    ]


def transaction(rng: random.Random, first: int, size: int) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    index = first
    while len(entries) < size:
        if len(entries) % 4 == 2 and size - len(entries) >= 2:
            entries.extend(implant_pair(rng, index))
        else:
            entries.append(
                {
                    "resource": charge_item(rng, index),
                    "request": {"method": "POST", "url": "ChargeItem"},
                }
            )
        index += 1
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def rates(
    paths: dict[str, tuple[Callable[[bytes], object], list[bytes]]], rounds: int
) -> dict[str, float]:
    """Bodies per second of each path, best of ``rounds``; the paths take turns within each
    round, so a neighbour's load on the shared machine weighs on all of them alike."""
    best = dict.fromkeys(paths, float("inf"))
    for _ in range(rounds):
        for name, (work, bodies) in paths.items():
            start = time.perf_counter()
            for body in bodies:
                work(body)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: len(paths[name][1]) / best[name] for name in paths}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=2000)
    parser.add_argument("--bundles", type=int, default=20)
    parser.add_argument("--entries", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    rng = random.Random(args.seed)
    items = [json.dumps(charge_item(rng, i)).encode() for i in range(args.resources)]
    bundles = [
        json.dumps(transaction(rng, i * args.entries, args.entries)).encode()
        for i in range(args.bundles)
    ]
    key = b"benchmark-only-key"

    def tokenize(value: str) -> str:
        return "tok_" + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]

    decoding = Decoding(
        settings=Settings(facility_id="FAC-1", zone=ZoneInfo("America/Chicago")),
        tokenize=tokenize,
        read_udi=partial(parse_udi, today=date(2026, 11, 25)),
    )
    sample = decode_resource(items[0], decoding)
    assert isinstance(sample.record, DecodedChargeItem)
    assert sample.record.charge is not None
    sample_bundle = decode_bundle(bundles[0], decoding)
    assert sample_bundle.ok
    assert len(sample_bundle.entries) == args.entries

    found = rates(
        {
            "item": (partial(decode_resource, decoding=decoding), items),
            "item_base": (ChargeItem.model_validate_json, items),
            "bundle": (partial(decode_bundle, decoding=decoding), bundles),
            "bundle_base": (Bundle.model_validate_json, bundles),
        },
        args.rounds,
    )
    item_rate, item_base = found["item"], found["item_base"]
    bundle_rate, bundle_base = found["bundle"], found["bundle_base"]
    print(
        f"{args.resources} ChargeItems, {args.bundles} transaction Bundles x {args.entries} "
        f"entries; best of {args.rounds}, one CPU"
    )
    print(f"{'path':<46} {'per s':>9} {'resources/s':>12} {'x bare model':>13}")
    rows = [
        ("ChargeItem: suture decode -> Charge", item_rate, 1, item_base),
        ("ChargeItem: fhir.resources validation (baseline)", item_base, 1, item_base),
        (f"Bundle of {args.entries}: suture decode_bundle", bundle_rate, args.entries, bundle_base),
        ("Bundle: fhir.resources validation (baseline)", bundle_base, args.entries, bundle_base),
    ]
    for name, value, per, base in rows:
        print(f"{name:<46} {value:>9,.0f} {value * per:>12,.0f} {value / base:>13.2f}")
    if hasattr(os, "getloadavg"):
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
        print(f"load average {load} on {os.cpu_count()} CPUs (a busy machine lowers every row)")


if __name__ == "__main__":
    main()
