"""A large CSV usage file streamed through the CSV codec in constant memory, beside a bare read.

DESIGN.md §10: streaming file ingest must read a 1 GB file in at most 300 MB RSS, and every
figure stands beside a baseline measured in the same run. This script writes a synthetic usage
batch in the built-in ``usage`` profile's layout (``--size-mb``, default 1024) into a temporary
directory, in large chunks of a pre-built block of distinct rows (one row in 1,000 deliberately
bad, so the error path is on the measured path too), then runs, each in a fresh process so each
peak memory is its own:

1. **bare read**: ``csv.reader`` over the same file, rows counted, nothing decoded: the floor
   any CSV reader pays;
2. **codec**: :func:`suture.formats.csv.read_rows` and
   :func:`~suture.formats.csv.decode_usage_rows` with the built-in profile: header checked, every
   cell typed (Decimal quantities, units, zoned times to UTC, GTIN check digits, expiry dates),
   three patient identifiers a row tokenized with a keyed BLAKE2b, a ``UsageLine`` or a
   ``RowError`` per row, consumed as a service would and dropped.

It prints rows per second, MB per second and peak memory for both: ``ru_maxrss`` and the
kernel's high-water mark ``VmHWM`` (``--tracemalloc`` adds the Python heap's peak, at a large
cost in speed), and whether the codec met the 300 MB target.

    .venv/bin/python benchmarks/csv_ingest.py               # 1 GB
    .venv/bin/python benchmarks/csv_ingest.py --size-mb 50  # a quick run
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from hashlib import blake2b
from pathlib import Path

from suture.domain.identifiers import make_gtin
from suture.formats.csv import (
    Decoded,
    ImportKind,
    decode_usage_rows,
    default_profile,
    read_rows,
)

TARGET_MB = 300
_BLOCK_ROWS = 20_000
_HEADER = (
    "Case Number,Visit Number,MRN,Procedure Date,Facility,Location,Department,Item Number,"
    "GTIN,UDI,Qty,UOM,Lot,Serial,Expiry\r\n"
)
_UOMS = ("EA", "EA", "EA", "BX", "Each", "CS")


def synthetic_block() -> str:
    """``_BLOCK_ROWS`` distinct usage rows as one string, as an OR case log exports them."""
    out = io.StringIO()
    for n in range(_BLOCK_ROWS):
        gtin = make_gtin(f"00885074{n % 97_000:05d}")
        case, visit, mrn = f"OR24-{n // 8:06d}", f"V{7_000_000 + n // 8}", f"MRN{n * 7919:09d}"
        c = n // 8  # the items of one case share its time
        when = f"{c % 12 + 1:02d}/{c % 28 + 1:02d}/2024 {c % 24:02d}:{c % 60:02d}"
        kind = n % 3
        item = f"{100_000 + n % 5_000}" if kind == 0 else ""
        code = gtin if kind == 1 else ""
        udi = f"(01){gtin}(17)27{n % 12 + 1:02d}28(10)LOT{n % 900}(21)SN{n}" if kind == 2 else ""
        uom = "BOXX" if n % 1_000 == 999 else _UOMS[n % len(_UOMS)]
        lot, serial = (f"LOT{n % 900}", f"SN{n}") if kind == 2 else ("", "")
        expiry = f"{n % 12 + 1:02d}/28/2027" if kind == 2 else ""
        description_free = f"{case},{visit},{mrn},{when},GENHOSP,OR-{n % 12 + 1},SURG,"
        out.write(
            f"{description_free}{item},{code},{udi},{n % 4 + 1},{uom},{lot},{serial},{expiry}\r\n"
        )
    return out.getvalue()


def write_file(path: Path, size_mb: int) -> tuple[int, float]:
    """Write at least ``size_mb`` MiB; returns the data rows written and the seconds taken."""
    started = time.perf_counter()
    block = synthetic_block().encode("utf-8")
    target = size_mb * 1024 * 1024
    rows = 0
    with path.open("wb", buffering=0) as stream:
        stream.write(_HEADER.encode("utf-8"))
        written = len(_HEADER)
        while written < target:
            stream.write(block)
            written += len(block)
            rows += _BLOCK_ROWS
    return rows, time.perf_counter() - started


def _peak() -> dict[str, float]:
    """Peak resident memory in MiB: getrusage (KiB on Linux) and /proc's VmHWM when present."""
    found = {"ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                found["vmhwm_mb"] = int(line.split()[1]) / 1024
    return found


def run_bare(path: Path) -> dict[str, float]:
    rows = 0
    started = time.perf_counter()
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        next(reader)
        for _ in reader:
            rows += 1
    return {"rows": rows, "errors": 0, "seconds": time.perf_counter() - started}


def run_codec(path: Path) -> dict[str, float]:
    profile = default_profile(ImportKind.USAGE)
    key = os.urandom(32)

    def tokenize(value: str) -> str:
        return blake2b(value.encode(), key=key, digest_size=16).hexdigest()

    rows = errors = 0
    started = time.perf_counter()
    with (
        path.open("rb") as raw,
        io.TextIOWrapper(
            raw, encoding=profile.encoding, errors="surrogateescape", newline=""
        ) as text,
    ):
        for result in decode_usage_rows(read_rows(text, profile), profile, tokenize=tokenize):
            if isinstance(result, Decoded):
                rows += 1
            else:
                errors += 1
    return {"rows": rows, "errors": errors, "seconds": time.perf_counter() - started}


def phase(name: str, path: Path, *, trace: bool) -> None:
    """Run one phase in this (fresh) process and print its figures as JSON."""
    if trace:
        tracemalloc.start()
    figures = run_bare(path) if name == "bare" else run_codec(path)
    figures |= _peak()
    if trace:
        figures["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    print(json.dumps(figures))


def _child(name: str, path: Path, *, trace: bool) -> dict[str, float]:
    command = [sys.executable, __file__, "--phase", name, "--file", str(path)]
    if trace:
        command.append("--tracemalloc")
    done = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603 - our own script
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _generate(path: Path, size_mb: int) -> tuple[int, float]:
    """Write the file in a child too, so that no peak of this process reaches the phases'."""
    command = [sys.executable, __file__, "--phase", "generate", "--file", str(path)]
    command += ["--size-mb", str(size_mb)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603 - our own script
    rows, seconds = json.loads(done.stdout.strip().splitlines()[-1])
    return int(rows), float(seconds)


def _line(label: str, figures: dict[str, float], size_mb: float) -> str:
    seconds = figures["seconds"]
    total = figures["rows"] + figures["errors"]
    peak = max(figures.get("vmhwm_mb", 0.0), figures["ru_maxrss_mb"])
    traced = figures.get("tracemalloc_peak_mb")
    extra = f", tracemalloc peak {traced:,.1f} MB" if traced is not None else ""
    return (
        f"{label:<10} {total:>12,.0f} rows in {seconds:7.1f} s: {total / seconds:>10,.0f} rows/s, "
        f"{size_mb / seconds:6.1f} MB/s, peak RSS {peak:6.1f} MB{extra}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="file size in MiB (1024)")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace the heap (slow)")
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument("--phase", choices=("generate", "bare", "codec"), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "generate":
        print(json.dumps(write_file(args.file, args.size_mb)))
        return
    if args.phase:
        phase(args.phase, args.file, trace=args.tracemalloc)
        return
    directory = tempfile.mkdtemp(prefix="suture-csv-ingest-")
    path = Path(directory) / "usage.csv"
    try:
        rows, seconds = _generate(path, args.size_mb)
        size_mb = path.stat().st_size / 1024 / 1024
        print(f"generated {size_mb:,.0f} MB, {rows:,} rows in {seconds:.1f} s: {path}")
        bare = _child("bare", path, trace=args.tracemalloc)
        codec = _child("codec", path, trace=args.tracemalloc)
        print(_line("bare read", bare, size_mb))
        print(_line("codec", codec, size_mb))
        print(
            f"codec decoded {codec['rows']:,.0f} usage lines, refused {codec['errors']:,.0f} rows"
        )
        share = (codec["rows"] + codec["errors"]) / codec["seconds"]
        share /= (bare["rows"]) / bare["seconds"]
        peak = max(codec.get("vmhwm_mb", 0.0), codec["ru_maxrss_mb"])
        verdict = "met" if peak <= TARGET_MB else "MISSED"
        print(f"codec at {share:.2f} of the bare read's rate; {TARGET_MB} MB target {verdict}")
    finally:
        if args.keep:
            print(f"kept {path}")
        else:
            path.unlink(missing_ok=True)
            os.rmdir(directory)


if __name__ == "__main__":
    main()
