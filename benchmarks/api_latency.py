"""System API read latency: ``GET`` one purchase order at a fixed rate, beside a bare endpoint.

DESIGN.md §10: System API read (``GET`` one PO), p99 ≤ 20 ms at 200 requests/s. This script
measures, in one run, on the same machine, with the same load generator:

1. **suture**: ``suture serve`` (HTTP only, default logging) over a fresh SQLite file holding
   ``--orders`` purchase orders of three lines; each request carries a real OAuth2 bearer token
   (signature, expiry, revocation check against the client registry with its default cache),
   is charged to the client's rate budget (set high enough not to throttle), is scoped to the
   client's facility, loads the PO and its lines, and is answered as JSON;
2. **bare**: a FastAPI app with one route answering a fixed JSON document of the same size, on
   uvicorn with the same settings: the floor of the framework and server on this machine.

The load is open-loop: request *i* is due at ``start + i / rate`` whatever happened to the ones
before, and its latency runs from when it was due (not from when it was sent), so a stall
shows up in the percentiles instead of hiding behind a slower send rate (no coordinated
omission). Each server runs in its own process; the generator runs here.

    .venv/bin/python benchmarks/api_latency.py [--rate 200] [--seconds 30] [--orders 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx2 as httpx

from suture.bootstrap import build
from suture.config import Settings
from suture.domain.access import Scope
from suture.domain.masterdata import Facility, Supplier
from suture.domain.purchasing import PurchaseOrder, PurchaseOrderLine

FACILITY = "fac-bench"

BARE_APP = """
import sys, uvicorn
from fastapi import FastAPI
from fastapi.responses import Response
body = open(sys.argv[2], "rb").read()
app = FastAPI()

@app.get("/po/{po_id}")
def po(po_id: str) -> Response:
    return Response(body, media_type="application/json")

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False,
            lifespan="off")
"""


@dataclass(frozen=True)
class Result:
    name: str
    latencies_ms: list[float]
    errors: int
    seconds: float

    def line(self) -> str:
        ordered = sorted(self.latencies_ms)

        def pct(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else 0.0

        return (
            f"{self.name:<8} {len(ordered) / self.seconds:>8.1f} {pct(0.5):>8.2f} "
            f"{pct(0.9):>8.2f} {pct(0.99):>8.2f} {max(ordered, default=0):>8.2f} {self.errors:>7}"
        )


def seed(folder: Path, orders: int) -> tuple[str, str, list[str]]:
    """The database URL, a bearer token and the PO ids."""
    url = f"sqlite:///{folder / 'bench.db'}"
    hub = build(Settings(database_url=url, erp_outbox_dir=folder / "out"))
    try:
        with hub.uow_factory() as uow:
            uow.facilities.add(Facility(id=FACILITY, code="BN", name="Bench"))
            uow.suppliers.add(Supplier(id="sup-bench", name="Acme"))
            uow.purchase_orders.add_many(
                PurchaseOrder(
                    id=f"po-{n:06d}", number=f"PO-{n:06d}", facility_id=FACILITY,
                    supplier_id="sup-bench", order_date=date(2026, 3, 1 + n % 28),
                    lines=[PurchaseOrderLine(line_number=k, item_id=f"item-{k}",
                                             quantity=Decimal(k), uom="BX",
                                             unit_price=Decimal("123.4567"))
                           for k in (1, 2, 3)],
                )
                for n in range(orders)
            )  # fmt: skip
            uow.commit()
        created = hub.clients.create("bench", {Scope.SYSTEM_READ}, [FACILITY])
        token = hub.tokens.issue(created.client).access_token
    finally:
        hub.close()
    return url, token, [f"po-{n:06d}" for n in range(orders)]


def start_suture(folder: Path, url: str) -> tuple[subprocess.Popen[str], int]:
    env = {
        **os.environ,
        "SUTURE_DATABASE_URL": url,
        "SUTURE_ERP_OUTBOX_DIR": str(folder / "out"),
        "SUTURE_RATE_LIMIT_CLIENT": "1000000/minute",
        "COLUMNS": "200",
    }
    env.pop("SUTURE_NATS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "suture", "serve", "--port", "0", "--no-mllp"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if found := re.search(r"HTTP service on http://127\.0\.0\.1:(\d+)", line):
            return process, int(found[1])
    raise SystemExit("suture serve did not start")


def start_bare(folder: Path, body: bytes) -> tuple[subprocess.Popen[str], int]:
    import socket  # noqa: PLC0415  (only here: a free port for the bare server)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    (folder / "body.json").write_bytes(body)
    process = subprocess.Popen(  # noqa: S603  (this interpreter, this script's own code)
        [sys.executable, "-c", BARE_APP, str(port), str(folder / "body.json")],
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/po/x", timeout=1)
            return process, port
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the bare server did not start")


async def drive(name: str, base: str, paths: Sequence[str], headers: dict[str, str], *,
                rate: float, seconds: float) -> Result:  # fmt: skip
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=10) as c:
        for path in paths[:20]:  # warm the connection pool and the server's caches
            await c.get(path)
        start = time.perf_counter() + 0.05

        async def one(i: int) -> None:
            nonlocal errors
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            try:
                answer = await c.get(paths[i % len(paths)])
                ok = answer.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append((time.perf_counter() - due) * 1000)
            errors += not ok

        await asyncio.gather(*(one(i) for i in range(total)))
    return Result(name, latencies, errors, seconds)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="Requests per second.")
    parser.add_argument("--seconds", type=float, default=30.0, help="Seconds per server.")
    parser.add_argument("--orders", type=int, default=1000, help="Purchase orders stored.")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        url, token, ids = seed(folder, args.orders)
        suture, port = start_suture(folder, url)
        try:
            auth = {"authorization": f"Bearer {token}"}
            sample = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/system/purchase-orders/{ids[0]}", headers=auth
            )
            assert sample.status_code == 200, sample.text
            bare, bare_port = start_bare(folder, json.dumps(sample.json()).encode())
            try:
                results = [
                    asyncio.run(drive("bare", f"http://127.0.0.1:{bare_port}",
                                      [f"/po/{i}" for i in ids], {}, rate=args.rate,
                                      seconds=args.seconds)),
                    asyncio.run(drive("suture", f"http://127.0.0.1:{port}",
                                      [f"/api/v1/system/purchase-orders/{i}" for i in ids],
                                      auth, rate=args.rate, seconds=args.seconds)),
                ]  # fmt: skip
            finally:
                bare.terminate()
                bare.wait()
        finally:
            suture.terminate()
            suture.wait()
    print(f"GET one purchase order at {args.rate:g} requests/s for {args.seconds:g} s "
          f"({args.orders} POs, SQLite); latency from the due time, ms")  # fmt: skip
    print(f"{'server':<8} {'req/s':>8} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8} {'errors':>7}")
    for result in results:
        print(result.line())
    p99 = sorted(results[1].latencies_ms)[int(0.99 * len(results[1].latencies_ms))]
    print(f"target p99 <= 20 ms: {'met' if p99 <= 20 else 'missed'} ({p99:.2f} ms)")


if __name__ == "__main__":
    main()
