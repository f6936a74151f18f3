"""Liveness, readiness and metrics: what a load balancer and Prometheus ask the service.

``/healthz`` answers while the process can serve at all; ``/readyz`` answers 200 only when the
database answers and, where NATS is configured, the NATS server does too, so an orchestrator
stops sending traffic to an instance that could not store what it receives (store before
acknowledge, DESIGN.md §3).
"""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from suture.adapters.db.engine import ping
from suture.adapters.db.errors import StorageError
from suture.adapters.nats.probe import nats_reachable
from suture.bootstrap import Hub

router = APIRouter(tags=["operations"])

#: Seconds a readiness probe waits for one dependency.
PROBE_TIMEOUT = 2.0


class Liveness(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"] = Field(description="Always `ok` while the process serves.")


class Check(BaseModel):
    name: str = Field(description="The dependency: `database` or `nats`.")
    ok: bool
    detail: str | None = Field(
        default=None,
        description=(
            "Why it is not ready, in the words of the driver or the server: `cannot connect: "
            "…`, `SELECT 1 failed: …`, `no answer in 2 s`. Never a password or token."
        ),
    )


class Readiness(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "ready", "checks": [{"name": "database", "ok": True, "detail": None}]}
            ]
        }
    )

    status: Literal["ready", "not ready"]
    checks: list[Check]


@router.get("/healthz", summary="Liveness", response_model=Liveness)
async def healthz() -> Liveness:
    """The process is up and serving requests."""
    return Liveness(status="ok")


@router.get(
    "/readyz",
    summary="Readiness",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A dependency does not answer."}},
)
async def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers and, where configured, NATS JetStream does too."""
    hub: Hub = request.app.state.hub
    checks = [await _database(hub)]
    if hub.stream is not None:
        problem = await nats_reachable(hub.stream.url, PROBE_TIMEOUT)
        checks.append(Check(name="nats", ok=problem is None, detail=problem))
    ready = all(check.ok for check in checks)
    body = Readiness(status="ready" if ready else "not ready", checks=checks)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ready else 503)


async def _database(hub: Hub) -> Check:
    try:
        await asyncio.wait_for(run_in_threadpool(ping, hub.engine), PROBE_TIMEOUT)
    except TimeoutError:
        return Check(name="database", ok=False, detail=f"no answer in {PROBE_TIMEOUT:g} s")
    except StorageError as error:
        return Check(name="database", ok=False, detail=error.reason)
    except Exception as error:  # a probe answers; the class names what went wrong
        return Check(name="database", ok=False, detail=type(error).__name__)
    return Check(name="database", ok=True)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "content": {
                CONTENT_TYPE_LATEST: {
                    "example": (
                        "# HELP suture_inbox_messages Inbound messages by status.\n"
                        "# TYPE suture_inbox_messages gauge\n"
                        'suture_inbox_messages{status="processed"} 1532.0\n'
                    )
                }
            },
            "description": "Text exposition.",
        }
    },
)
async def metrics(request: Request) -> Response:
    """Request counts and latency per route template, and the backbone's gauges."""
    registry = request.app.state.metrics.registry
    body = await run_in_threadpool(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
