"""Shapes of the Process API (``<Resource><Role>``, STYLE.md naming)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool
from pydantic.config import JsonDict

from suture.domain.crosswalk import CrosswalkKind
from suture.domain.exceptions import ExceptionStatus, ExceptionType


def _json_text(value: object) -> object:
    """Only what JSON Schema calls a string: pydantic alone reads ``0`` as 1970-01-01."""
    if value is not None and not isinstance(value, str | datetime):
        msg = "must be an ISO 8601 date-time string"
        raise ValueError(msg)
    return value


def _json_number(value: object) -> object:
    """Only what JSON Schema calls a number: pydantic alone reads ``"1.5"`` and ``true``."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        msg = "must be a number"
        raise ValueError(msg)
    return value


Instant = Annotated[datetime | None, BeforeValidator(_json_text)]
Number = Annotated[float | None, BeforeValidator(_json_number)]


#: An exception item as the work queue shows it (the examples of the contract share it).
_ITEM_EXAMPLE: JsonDict = {
    "id": "01939f0e-2b1c-7a44-9e51-7d2c3b4a5f60",
    "type": "price_variance",
    "status": "open",
    "facility_id": "fac-1",
    "queue": "accounts-payable",
    "owner": None,
    "opened_at": "2026-11-23T10:15:00Z",
    "sla_due_at": "2026-11-25T10:15:00Z",
    "updated_at": "2026-11-23T10:15:00Z",
    "reason": "INV-88412 line 1: 45.90 over PO price 42.50",
    "message_id": "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b",
    "event_id": None,
    "handler": "three_way_match",
    "delivery_id": None,
    "trace_id": "0193a1b27c3d7e4f8a9b0c1d2e3f4a5b",
    "correlation_id": "PO-1001",
    "dependency": None,
    "resolved_at": None,
    "resolved_by": None,
    "resolution_note": None,
}


class ExceptionItemPublic(BaseModel):
    """An exception work item (DESIGN.md §5): what went wrong, where, who owns it, by when."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [_ITEM_EXAMPLE]},
    )

    id: str
    type: ExceptionType
    status: ExceptionStatus
    facility_id: str | None
    queue: str
    owner: str | None
    opened_at: datetime
    sla_due_at: datetime
    updated_at: datetime
    reason: str = Field(description="What went wrong, naming fields and reasons, never content.")
    message_id: str | None = Field(description="The raw inbound message it came from.")
    event_id: str | None
    handler: str | None
    delivery_id: str | None
    trace_id: str | None
    correlation_id: str | None = Field(description="The business key: PO, invoice, encounter.")
    dependency: str | None = Field(description="What it waits for when parked.")
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None


class ExceptionActionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str = Field(description="opened, assigned, retried, resolved, dismissed, reopened ...")
    at: datetime
    actor: str
    detail: str | None


class ExceptionPage(BaseModel):
    items: list[ExceptionItemPublic]
    next_cursor: str | None = Field(description="Absent on the last page.")


class ExceptionDetailPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "item": _ITEM_EXAMPLE,
                    "actions": [
                        {
                            "kind": "opened",
                            "at": "2026-11-23T10:15:00Z",
                            "actor": "suture",
                            "detail": None,
                        }
                    ],
                }
            ]
        }
    )

    item: ExceptionItemPublic
    actions: list[ExceptionActionPublic] = Field(description="The item's trail, oldest first.")


class DismissRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="Why nothing is to be done.")


class ResolveRequest(BaseModel):
    note: str = Field(min_length=1, max_length=500, description="What was done about it.")


class AssignRequest(BaseModel):
    owner: str | None = Field(max_length=100, description="Who owns it; null to unassign.")


class ReplayRequest(BaseModel):
    """Exactly one selection: event ids, a time range (from ``since``), or the dead letters."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"dead_letter": True, "dry_run": True}]}
    )

    event_ids: list[str] = Field(default_factory=list, max_length=10_000)
    since: Instant = Field(default=None, description="Recorded at or after (aware).")
    until: Instant = Field(default=None, description="Recorded before (aware).")
    event_type: str | None = None
    dead_letter: StrictBool = False
    handler: str | None = Field(default=None, description="Only this handler's work.")
    dry_run: StrictBool = Field(default=True, description="Only say what would be re-driven.")
    rate: Number = Field(default=None, gt=0, description="At most this many items a second.")


class ReplayReport(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dry_run": True,
                    "events": 3,
                    "items": 3,
                    "already_processed": 0,
                    "sample": ["inventory/0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b"],
                }
            ]
        }
    )

    dry_run: bool
    events: int = Field(description="Events the selection matched.")
    items: int = Field(description="Work items re-driven (or, in a dry run, that would be).")
    already_processed: int = Field(description="Work already done: replaying it is a no-op.")
    sample: list[str] = Field(description="Up to 50 of the items, as handler/event id.")


class CrosswalkCreate(BaseModel):
    """A local code of a source system, mapped to a canonical record."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "item",
                    "source_system": "clinical",
                    "facility_id": "fac-1",
                    "local_code": "LOC-77",
                    "canonical_id": "ITM-77B1",
                    "supersede": False,
                }
            ]
        }
    )

    kind: CrosswalkKind
    source_system: str = Field(min_length=1, max_length=64)
    facility_id: str | None = Field(description="Null: the mapping serves every facility.")
    local_code: str = Field(min_length=1, max_length=128)
    canonical_id: str = Field(min_length=1, max_length=128)
    supersede: StrictBool = Field(default=False, description="Replace a different current mapping.")


class CrosswalkResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"outcome": "added", "valid_from": "2026-11-23T10:20:00Z", "redriven": 2}]
        }
    )

    outcome: Literal["added", "unchanged", "superseded"]
    valid_from: datetime
    redriven: int = Field(description="Parked work items re-driven by this mapping.")
