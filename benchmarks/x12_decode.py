"""810 invoice lines per second through the X12 codec, beside a bare split of the same bytes.

DESIGN.md §10 asks every figure to stand beside a baseline measured in the same run. This script
builds one synthetic interchange of ``--invoices`` 810s with ``--lines`` IT1 lines each (every
line with a PID description and, on every fifth line, a SAC allowance; TDS totals that verify),
then times, best of ``--repeat``:

1. **codec**: :func:`suture.formats.x12.decode_document`, bytes to checked envelopes and
   :class:`~suture.formats.x12.Invoice810` records with Decimal amounts, totals checked;
2. **bare split**: the same bytes decoded as UTF-8 and cut with ``str.split`` into segments
   and elements, nothing else: the floor any X12 reader pays.

It checks that the codec found every invoice and line with no findings, and prints lines per
second for both and the codec's share of the bare rate.

    .venv/bin/python benchmarks/x12_decode.py --invoices 1000 --lines 50
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal

from suture.formats.x12 import Invoice810, decode_document


def synthetic_810s(invoices: int, lines: int) -> bytes:
    """One interchange, one group, ``invoices`` 810 transaction sets of ``lines`` lines."""
    out = [
        "ISA*00*          *00*          *ZZ*SUPPLIER       *ZZ*GENHOSP        "
        "*240301*1200*U*00401*000000001*0*P*>",
        "GS*IN*SUPPLIER*GENHOSP*20240301*1200*1*X*004010",
    ]
    for number in range(1, invoices + 1):
        control = f"{number:04d}"
        body = [
            f"ST*810*{control}",
            f"BIG*20240301*INV-{number}*20240215*PO-{number}",
            "N1*ST*GENERAL HOSPITAL*92*FAC-1",
            "N1*RE*MED SUPPLY CO*92*SUP-7",
            "ITD*01*3*2**10**30",
        ]
        total = Decimal(0)
        for line in range(1, lines + 1):
            quantity, price = line % 7 + 1, Decimal(f"{line % 50 + 1}.25")
            total += quantity * price
            body += [
                f"IT1*{line}*{quantity}*EA*{price}**IN*ITEM-{line}*VC*CAT-{line}",
                f"PID*F****SYNTHETIC ITEM {line}",
            ]
            if line % 5 == 0:
                body.append("SAC*A*C310***125")
                total -= Decimal("1.25")
        body += [f"TDS*{int(total * 100)}", f"CTT*{lines}"]
        body.append(f"SE*{len(body) + 1}*{control}")
        out += body
    out += [f"GE*{invoices}*1", "IEA*1*000000001"]
    return ("~\n".join(out) + "~\n").encode("utf-8")


def bare_split(data: bytes) -> int:
    """Segments and elements with str.split only; returns the number of IT1 lines seen."""
    count = 0
    for segment in data.decode("utf-8").split("~"):
        elements = segment.strip().split("*")
        if elements[0] == "IT1":
            count += 1
    return count


def codec(data: bytes) -> int:
    document = decode_document(data)
    lines = 0
    for record in document.records:
        assert isinstance(record, Invoice810)
        assert not record.findings, record.findings
        lines += len(record.lines)
    return lines


def best_of(repeat: int, run: object, data: bytes) -> tuple[float, int]:
    assert callable(run)
    best, result = float("inf"), 0
    for _ in range(repeat):
        started = time.perf_counter()
        result = run(data)
        best = min(best, time.perf_counter() - started)
    return best, result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    data = synthetic_810s(args.invoices, args.lines)
    expected = args.invoices * args.lines
    print(f"synthetic 810s: {args.invoices:,} invoices x {args.lines} lines, {len(data):,} bytes")
    codec_seconds, codec_lines = best_of(args.repeat, codec, data)
    bare_seconds, bare_lines = best_of(args.repeat, bare_split, data)
    seen = {"codec": codec_lines, "bare": bare_lines}
    problems = [f"{name} saw {count} lines" for name, count in seen.items() if count != expected]
    print(f"{'path':<12} {'seconds':>8} {'lines/s':>12} {'invoices/s':>11}")
    for name, seconds in (("codec", codec_seconds), ("bare split", bare_seconds)):
        rate, invoices = expected / seconds, args.invoices / seconds
        print(f"{name:<12} {seconds:>8.3f} {rate:>12,.0f} {invoices:>11,.0f}")
    print(f"codec / bare: {bare_seconds / codec_seconds:.3f}")
    for problem in problems:
        print(f"CHECK FAILED: {problem}")


if __name__ == "__main__":
    main()
