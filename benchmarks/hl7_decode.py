"""DFT^P03 messages decoded per second on one core, beside python-hl7 parsing the same bytes.

DESIGN.md §10 sets the target: at least 30,000 DFT^P03 messages a second decoded to canonical
charges on one core. This script generates ``--messages`` synthetic DFT^P03 messages (seeded;
synthetic names and numbers, no real PHI) with ``--ft1`` FT1 segments each (MSH, EVN, PID, PV1,
FT1…, PR1), then times, in one process pinned to one CPU, best of ``--rounds``:

- **suture decode**: ``decode_message(bytes)``: charset, tokenizer, header validation and every
  FT1 to a ``Charge`` (Decimal amounts, UTC times, HMAC-SHA256 tokens of PID-18 and PV1-19 by
  the hub's own tokenizer, ``PhiTokenizer``);
- **suture tokenize**: ``parse_message(bytes)`` alone;
- **python-hl7 parse** (the baseline): ``hl7.parse(bytes)``, which only tokenizes: no header
  checks, no charges, no escapes decoded.

Each rate is printed per second of wall time and per CPU second of this process
(``time.process_time``, which leaves out the time spent waiting for the CPU on a busy machine),
each beside its ratio over python-hl7's. The first line says whether the codec's hot
modules run compiled (mypyc, built by ``pip install``) or as pure Python (``SUTURE_COMPILE=0``,
or sources on ``PYTHONPATH`` never built). The machine may be shared: run it when it is quiet,
or read the figures as a lower bound.

    .venv/bin/python benchmarks/hl7_decode.py --messages 20000 --ft1 4
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

import hl7

from suture.formats.hl7v2 import DecodedCharges, decode_message, native, parse_message
from suture.services.phi import PhiTokenizer

_FAMILY = ("TESTER", "SAMPLE", "EXAMPLE", "SYNTHETIC", "DUMMY", "PLACEHOLDER")
_GIVEN = ("ALEX", "SAM", "ROBIN", "JORDAN", "CASEY", "TAYLOR")
_CDM = (("27800123", "C1776"), ("27200456", "A4649"), ("36000789", "99070"), ("25001001", ""))
_DEPARTMENTS = ("OR", "CATH", "IR", "ED")


def synthetic_dft(rng: random.Random, index: int, ft1_count: int) -> bytes:
    """One DFT^P03 with ``ft1_count`` charges; identifiers are random digits, names fake."""
    stamp = f"2024{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 23):02d}3000"
    mrn, account, visit = (str(rng.randint(10**7, 10**8 - 1)) for _ in range(3))
    segments = [
        f"MSH|^~\\&|EPICADT|MAIN_HOSP|SUTURE|HUB|{stamp}||DFT^P03^DFT_P03|MSG{index:08d}|P|2.5"
        "||||AL|US|UNICODE UTF-8",
        f"EVN|P03|{stamp}",
        f"PID|1||{mrn}^^^MAIN^MR||{rng.choice(_FAMILY)}^{rng.choice(_GIVEN)}^Q||19700101|F"
        f"|||1 MAIN ST^^SPRINGFIELD^IL^62701|||||||{account}",
        f"PV1|1|O|OR^01^A^MAIN_HOSP||||1234^SURGEON^TEST|||SUR|||||||||{visit}"
        f"|||||||||||||||||||||||||{stamp}",
    ]
    for n in range(1, ft1_count + 1):
        cdm, hcpcs = rng.choice(_CDM)
        quantity = rng.randint(1, 3)
        unit = Decimal(rng.randint(1000, 900000)) / 100
        segments.append(
            f"FT1|{n}|TX{index:08d}{n:02d}||{stamp}|{stamp}|CG|{cdm}^IMPLANT \\T\\ SUPPLY^CDM"
            f"|||{quantity}|{unit * quantity}|{unit}|{rng.choice(_DEPARTMENTS)}^SURGERY"
            f"||||||||||||{hcpcs}^^HCPCS|{'RT~LT' if n % 2 else ''}"
        )
    segments.append(f"PR1|1|CPT|27447^ARTHROPLASTY KNEE^CPT||{stamp}")
    return ("\r".join(segments) + "\r").encode()


def rate(
    work: Callable[[bytes], object], messages: list[bytes], rounds: int
) -> tuple[float, float]:
    """Messages per second of wall time and per CPU second of this process, each the best of
    ``rounds`` passes over ``messages``. On a busy machine the process waits for its CPU and
    the wall rate drops; the CPU rate leaves the waiting out."""
    best = best_cpu = float("inf")
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        for message in messages:
            work(message)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    return len(messages) / best, len(messages) / max(best_cpu, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--ft1", type=int, default=4, help="FT1 segments per message")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    rng = random.Random(args.seed)
    messages = [synthetic_dft(rng, i, args.ft1) for i in range(args.messages)]
    tokenize = PhiTokenizer(b"benchmark-only-key")
    zone = ZoneInfo("America/Chicago")

    def decode(message: bytes) -> object:
        return decode_message(message, tokenize=tokenize, zone=zone)

    sample = decode(messages[0])
    assert isinstance(sample, DecodedCharges)
    assert len(sample.lines) == args.ft1
    assert str(hl7.parse(messages[0]).segment("FT1")) == messages[0].decode().split("\r")[4]

    baseline = rate(hl7.parse, messages, args.rounds)
    rows = [
        ("suture decode (DFT -> charges)", rate(decode, messages, args.rounds)),
        ("suture tokenize only", rate(parse_message, messages, args.rounds)),
        ("python-hl7 parse (baseline)", baseline),
    ]
    size = sum(map(len, messages)) // len(messages)
    compiled = native.compiled_modules()
    print(
        "codec: compiled (mypyc)"
        if len(compiled) == len(native.COMPILED)
        else f"codec: pure Python ({len(compiled)} of {len(native.COMPILED)} modules compiled)"
    )
    print(
        f"{args.messages} DFT^P03 messages x {args.ft1} FT1, {size} bytes on average, "
        f"best of {args.rounds}, one CPU"
    )
    print(
        f"{'path':<34} {'msg/s':>10} {'FT1/s':>10} {'x python-hl7':>13}"
        f" {'msg/CPU s':>10} {'x (CPU)':>8}"
    )
    for name, (value, cpu) in rows:
        print(
            f"{name:<34} {value:>10,.0f} {value * args.ft1:>10,.0f} {value / baseline[0]:>13.2f}"
            f" {cpu:>10,.0f} {cpu / baseline[1]:>8.2f}"
        )
    print("target (DESIGN.md §10): suture decode >= 30,000 msg/s (on a quiet machine)")
    if hasattr(os, "getloadavg"):
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
        print(f"load average {load} on {os.cpu_count()} CPUs (a busy machine lowers every row)")


if __name__ == "__main__":
    main()
