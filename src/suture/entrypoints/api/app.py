"""The HTTP application: one FastAPI app per hub, built by :func:`create_app`.

The app holds the wired :class:`~suture.bootstrap.Hub` on ``app.state.hub``; routes reach their
collaborators through it (dependencies, never module globals, STYLE.md habit 6). Nothing is
built at import time: ``suture serve`` and the tests call :func:`create_app` with their hub.

Paths: ``/api/v1/system``, ``/api/v1/process``, ``/api/v1/experience`` and ``/fhir/R4``
(DESIGN.md §6), the operations endpoints ``/healthz``, ``/readyz`` and ``/metrics``, and the
interactive docs at ``/docs``. :data:`API_VERSION` is the version of the HTTP contract in
``openapi.json``; the committed copy in ``schemas/openapi.json`` is compared with it in CI, and
a breaking change needs a new version (docs/api.md).
"""

from __future__ import annotations

import threading

from fastapi import FastAPI

from suture.bootstrap import Hub
from suture.entrypoints.api import fhir, health, metrics, oauth, problems
from suture.entrypoints.api.experience import dashboard, department, supplier
from suture.entrypoints.api.process import exceptions as process_exceptions
from suture.entrypoints.api.process import matching as process_matching
from suture.entrypoints.api.process import operations as process_operations
from suture.entrypoints.api.process import receiving as process_receiving
from suture.entrypoints.api.process import reconciliations as process_reconciliations
from suture.entrypoints.api.process import requisitions as process_requisitions
from suture.entrypoints.api.system import (
    finance,
    interfaces,
    masterdata,
    messages,
    purchasing,
    stock,
)
from suture.entrypoints.api.throttling import RateLimitHeadersMiddleware
from suture.entrypoints.api.trailing_slash import AcceptTrailingSlash

#: The version of the HTTP contract (semantic: a breaking change raises the major number).
API_VERSION = "1.0.0"

DESCRIPTION = """\
Suture's governed APIs (DESIGN.md §6).

- **System** (`/api/v1/system`): canonical records and raw message ingest.
- **Process** (`/api/v1/process`): business operations such as approvals, matching, replay.
- **Experience** (`/api/v1/experience`): supplier self-service, departmental requests, dashboards.
- **FHIR R4** (`/fhir/R4`): creates of ChargeItem, SupplyDelivery, Procedure, Device, Invoice and
  SupplyRequest, batch and transaction Bundles, and the CapabilityStatement at `metadata`.

Every error is `application/problem+json` (RFC 9457) with field-level detail, but for the FHIR
content errors, which are FHIR `OperationOutcome`s (`application/fhir+json`).
"""

TAGS = [
    {"name": "oauth", "description": "OAuth2 client credentials: tokens for API clients."},
    {"name": "master data", "description": "System API: facilities, suppliers, items, contracts."},
    {"name": "purchasing", "description": "System API: requisitions, purchase orders, receipts."},
    {"name": "payables", "description": "System API: supplier invoices."},
    {"name": "revenue", "description": "System API: patient charges and credits."},
    {"name": "inventory", "description": "System API: supply and implant usage."},
    {"name": "finance", "description": "System API: cost journals for the ERP."},
    {"name": "ingest", "description": "System API: raw HL7 v2, X12 and CSV messages."},
    {"name": "inventory", "description": "System API: the integration inventory, governance."},
    {"name": "exceptions", "description": "Process API: the exception work queue."},
    {"name": "replay", "description": "Process API: re-drive events, with a dry run."},
    {"name": "crosswalks", "description": "Process API: map a code, re-drive what waited."},
    {"name": "reconciliation", "description": "Process API: reconcile charges to usage."},
    {"name": "receiving", "description": "Process API: receive a ship notice at the dock."},
    {"name": "supplier self-service", "description": "Experience API: a supplier's own POs."},
    {"name": "dashboard", "description": "Experience API: the operations dashboard's figures."},
    {"name": "fhir", "description": "FHIR R4 intake: creates and Bundles (docs/fhir.md)."},
    {"name": "operations", "description": "Liveness, readiness and Prometheus metrics."},
]


def create_app(hub: Hub) -> FastAPI:
    """The HTTP application over ``hub``."""
    app = FastAPI(
        title="Suture",
        version=API_VERSION,
        description=DESCRIPTION,
        openapi_tags=TAGS,
    )
    app.state.hub = hub
    app.state.ingest_lock = threading.Lock()
    problems.install(app)
    app.add_middleware(RateLimitHeadersMiddleware)
    app.state.metrics = metrics.install(app, hub)
    app.include_router(oauth.router)
    for system in (masterdata, purchasing, finance, stock, messages, interfaces):
        app.include_router(system.router)
    app.include_router(process_exceptions.router)
    app.include_router(process_operations.router)
    app.include_router(process_matching.router)
    app.include_router(process_reconciliations.router)
    app.include_router(process_requisitions.router)
    app.include_router(process_receiving.router)
    app.include_router(supplier.router)
    app.include_router(department.router)
    app.include_router(dashboard.router)
    app.include_router(fhir.router)
    app.include_router(health.router)
    # outermost: a write to ``/path/`` is routed as ``/path`` before it is measured or limited
    app.add_middleware(AcceptTrailingSlash, router=app.router)
    return app
