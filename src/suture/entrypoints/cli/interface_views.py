"""How ``suture interfaces`` shows the inventory: JSON documents and rich tables.

The JSON shapes are the ones a script can rely on (``--json``); the tables are for people.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from suture.domain.interfaces import Governance, GovernanceStatus, Interface, UnmanagedSource
from suture.services.interfaces import GovernanceKpi

_STYLE = {
    GovernanceStatus.GOVERNED: "green",
    GovernanceStatus.NEEDS_ATTENTION: "yellow",
    GovernanceStatus.UNGOVERNED: "red",
}


def interface_json(interface: Interface, governance: Governance | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "name": interface.name,
        "description": interface.description,
        "direction": interface.direction.value,
        "format": interface.format.value,
        "channel": interface.channel,
        "source_system": interface.source_system,
        "target_system": interface.target_system,
        "authoritative_objects": [each.value for each in interface.authoritative_objects],
        "owner": interface.owner,
        "sla_latency_minutes": interface.sla_latency_minutes,
        "sla_availability": interface.sla_availability,
        "contract": interface.contract,
        "schema_version": interface.schema_version,
        "authentication": interface.authentication,
        "api_client": interface.api_client,
        "mode": interface.mode.value,
        "modernization": None if interface.modernization is None else interface.modernization,
        "sunset_on": _iso(interface.sunset_on),
        "facility_ids": list(interface.facility_ids),
        "retired_on": _iso(interface.retired_on),
        "registered_at": _iso(interface.registered_at),
        "updated_at": _iso(interface.updated_at),
    }
    if governance is not None:
        found["governance"] = governance_json(governance)
    return found


def governance_json(governance: Governance) -> dict[str, Any]:
    return {
        "status": governance.status.value,
        "findings": [
            {"field": f.field, "reason": f.reason, "required": f.required}
            for f in governance.findings
        ],
    }


def unmanaged_json(source: UnmanagedSource) -> dict[str, Any]:
    return {
        "channel": source.channel,
        "source_system": source.source_system,
        "format": source.format,
        "first_seen": source.first_seen.isoformat(),
        "last_seen": source.last_seen.isoformat(),
        "message_count": source.message_count,
    }


def kpi_json(kpi: GovernanceKpi) -> dict[str, Any]:
    return {
        "registered": kpi.registered,
        "governed": kpi.governed,
        "needs_attention": kpi.needs_attention,
        "ungoverned": kpi.ungoverned,
        "governed_share": kpi.governed_share,
        "window_days": kpi.window_days,
        "messages": kpi.messages,
        "governed_messages": kpi.governed_messages,
        "unmanaged_messages": kpi.unmanaged_messages,
        "governed_traffic_share": kpi.governed_traffic_share,
    }


def inventory_table(rows: list[tuple[Interface, Governance]], title: str) -> Table:
    table = Table(title=title)
    for heading in ("name", "dir", "format", "channel", "source → target", "owner", "mode",
                    "class", "governance"):  # fmt: skip
        table.add_column(heading, overflow="fold")
    for interface, governance in rows:
        retired = f" (retired {interface.retired_on})" if interface.is_retired else ""
        table.add_row(
            escape(interface.name) + retired,
            "in" if interface.direction == "inbound" else "out",
            interface.format.value,
            escape(interface.channel),
            escape(f"{interface.source_system} → {interface.target_system}"),
            escape(interface.owner or "-"),
            interface.mode.value,
            interface.modernization or "-",
            status_text(governance.status),
        )
    return table


def governance_table(rows: list[tuple[Interface, Governance]]) -> Table:
    table = Table(title="Governance")
    table.add_column("interface", overflow="fold")
    table.add_column("status")
    table.add_column("failed checks", ratio=1, overflow="fold")
    for interface, governance in rows:
        checks = "; ".join(
            f"{f.field}: {f.reason}" + ("" if f.required else " (advisory)")
            for f in governance.findings
        )
        table.add_row(escape(interface.name), status_text(governance.status), escape(checks))
    return table


def kpi_lines(kpi: GovernanceKpi) -> list[str]:
    traffic = (
        "no inbound messages"
        if kpi.governed_traffic_share is None
        else f"{kpi.governed_traffic_share:.1%} of {kpi.messages:,} inbound messages"
    )
    return [
        f"governed interfaces: {kpi.governed:,} of {kpi.registered:,} "
        f"({percent(kpi.governed_share)}); needs attention {kpi.needs_attention:,}, "
        f"ungoverned {kpi.ungoverned:,}",
        f"governed traffic, last {kpi.window_days} days: {traffic}; "
        f"unmanaged {kpi.unmanaged_messages:,}",
    ]


def unmanaged_table(sources: list[UnmanagedSource]) -> Table:
    table = Table(title=f"{len(sources)} unmanaged sources")
    for heading in ("channel", "source system", "format", "first seen", "last seen"):
        table.add_column(heading, overflow="fold")
    table.add_column("messages", justify="right")
    for source in sources:
        table.add_row(
            escape(source.channel),
            escape(source.source_system),
            escape(source.format),
            source.first_seen.isoformat(timespec="seconds"),
            source.last_seen.isoformat(timespec="seconds"),
            f"{source.message_count:,}",
        )
    return table


def status_text(status: GovernanceStatus) -> str:
    return f"[{_STYLE[status]}]{status.value}[/{_STYLE[status]}]"


def percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())
