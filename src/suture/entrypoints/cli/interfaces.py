"""``suture interfaces``: the integration inventory from the terminal (DESIGN.md §6).

``add``, ``update``, ``retire`` and ``import`` change the inventory; ``list``, ``show``,
``governance`` and ``unmanaged`` read it (``--json`` for scripts). Every command works on
``hub.interfaces`` (:class:`~suture.services.interfaces.InterfaceInventory`), the object the
HTTP API uses too. Exit codes:

- 0: done;
- 1: refused: no such interface, the name is taken or retired, the route is another's;
- 2: bad input: a field the domain refuses, an inventory file that does not validate.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.markup import escape

from suture.bootstrap import Hub
from suture.domain.authority import ObjectType
from suture.domain.errors import DomainError, SutureError
from suture.domain.interfaces import (
    Direction,
    GovernanceStatus,
    Interface,
    InterfaceFormat,
    Mode,
    ModernizationClass,
    assess,
)
from suture.entrypoints.cli import interface_views as views
from suture.entrypoints.cli.app import console, errors, open_hub, print_table
from suture.services.interfaces import CHANGEABLE
from suture.services.inventory_file import InventoryFileError, load_inventory

_T = TypeVar("_T")

interfaces_app = typer.Typer(
    help="The integration inventory: owners, contracts, SLAs, governance, unmanaged traffic.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="The interface's name (its key).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Day = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="A date, YYYY-MM-DD.")]
Objects = Annotated[
    list[ObjectType] | None,
    typer.Option("--object", help="An authoritative object type it carries; repeat for more."),
]
Facilities = Annotated[
    list[str] | None, typer.Option("--facility", help="A facility id it serves; repeat.")
]
Text = Annotated[str | None, typer.Option()]


@contextmanager
def _hub() -> Iterator[Hub]:
    hub = open_hub()
    try:
        yield hub
    finally:
        hub.close()


@interfaces_app.command("add")
def add_command(  # noqa: PLR0917  (a Typer command's options are its parameters)
    name: Name,
    direction: Annotated[Direction, typer.Option(help="inbound or outbound.")],
    format: Annotated[InterfaceFormat, typer.Option("--format", help="Message format.")],
    channel: Annotated[
        str, typer.Option(help="Inbound: the inbox interface it arrives on; outbound: target.")
    ],
    source_system: Annotated[str, typer.Option("--source", help="The sending system.")],
    target_system: Annotated[str, typer.Option("--target", help="The receiving system.")],
    description: Annotated[str, typer.Option(help="What it carries, for people.")] = "",
    objects: Objects = None,
    owner: Annotated[str | None, typer.Option(help="The accountable team or role.")] = None,
    sla_latency_minutes: Annotated[int | None, typer.Option(min=1, help="SLA: minutes.")] = None,
    sla_availability: Annotated[str | None, typer.Option(help="SLA: e.g. '24x7'.")] = None,
    contract: Annotated[str | None, typer.Option(help="Schema or specification.")] = None,
    schema_version: Annotated[str | None, typer.Option(help="The contract's version.")] = None,
    authentication: Annotated[str | None, typer.Option(help="e.g. mutual-tls, oauth2.")] = None,
    api_client: Annotated[str | None, typer.Option(help="The OAuth2 client id.")] = None,
    mode: Annotated[Mode, typer.Option(help="legacy, shadow or live.")] = Mode.LIVE,
    modernization: Annotated[ModernizationClass | None, typer.Option()] = None,
    sunset_on: Day = None,
    facilities: Facilities = None,
    as_json: AsJson = False,
) -> None:
    """Register a new interface; prints its governance status."""
    try:
        draft = Interface(
            name=name, direction=direction, format=format, channel=channel,
            source_system=source_system, target_system=target_system, description=description,
            authoritative_objects=tuple(objects or ()), owner=owner,
            sla_latency_minutes=sla_latency_minutes, sla_availability=sla_availability,
            contract=contract, schema_version=schema_version, authentication=authentication,
            api_client=api_client, mode=mode, modernization=modernization,
            sunset_on=None if sunset_on is None else sunset_on.date(),
            facility_ids=tuple(facilities or ()),
        )  # fmt: skip
    except DomainError as error:
        _fail(str(error), 2)
    with _hub() as hub:
        added = _run(lambda: hub.interfaces.add(draft))
        _print_one(added, hub.interfaces.today(), as_json, "registered")


@interfaces_app.command("update")
def update_command(
    name: Name,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="FIELD=VALUE; repeat. Lists are comma-separated."),
    ] = None,
    clear: Annotated[
        list[str] | None, typer.Option(help="An optional FIELD to empty; repeat.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Change fields of an active interface, e.g. ``--set owner=supply-chain-it``.

    Fields: see ``suture interfaces show NAME --json``; dates are YYYY-MM-DD.
    """
    changes: dict[str, Any] = {}
    for assignment in set_ or []:
        field, sep, value = assignment.partition("=")
        if not sep:
            _fail(f"--set {assignment!r}: expected FIELD=VALUE", 2)
        changes[field.strip()] = _value(field.strip(), value.strip())
    for field in clear or []:
        changes[field] = () if field in {"authoritative_objects", "facility_ids"} else None
    if not changes:
        _fail("nothing to change: give --set FIELD=VALUE or --clear FIELD", 2)
    with _hub() as hub:
        changed = _run(lambda: hub.interfaces.update(name, changes))
        _print_one(changed, hub.interfaces.today(), as_json, "updated")


@interfaces_app.command("retire")
def retire_command(name: Name, on: Day = None) -> None:
    """Retire an interface (default: today). It stays readable with ``list --all``; its route is
    free again, and traffic still arriving on it is reported as unmanaged."""
    with _hub() as hub:
        retired = _run(lambda: hub.interfaces.retire(name, None if on is None else on.date()))
    console.print(f"{escape(retired.name)} retired on {retired.retired_on}")


@interfaces_app.command("import")
def import_command(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Inventory YAML.")
    ],
    as_json: AsJson = False,
) -> None:
    """Register or update every interface of FILE, all in one transaction.

    An interface already registered is updated when the file differs from it. An invalid file
    changes nothing and names the file, line, key and reason.
    """
    try:
        declared = load_inventory(file.read_text(encoding="utf-8"), str(file))
    except InventoryFileError as error:
        _fail(str(error), 2)
    with _hub() as hub:
        summary = _run(lambda: hub.interfaces.import_interfaces(declared))
    if as_json:
        console.print_json(json.dumps(dataclasses.asdict(summary)))
        return
    console.print(
        f"{file.name}: {len(declared)} interfaces: {summary.added} added, "
        f"{summary.updated} updated, {summary.unchanged} unchanged",
        markup=False,
    )


@interfaces_app.command("list")
def list_command(
    include_retired: Annotated[bool, typer.Option("--all", help="Retired ones too.")] = False,
    status: Annotated[
        GovernanceStatus | None, typer.Option(help="Only this governance status.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Every interface with its governance status, by name."""
    with _hub() as hub:
        rows = _run(lambda: hub.interfaces.governance(include_retired=include_retired))
    rows = [row for row in rows if status is None or row[1].status is status]
    if as_json:
        console.print_json(json.dumps([views.interface_json(i, g) for i, g in rows]))
        return
    print_table(views.inventory_table(rows, f"{len(rows)} interfaces"))


@interfaces_app.command("show")
def show_command(name: Name, as_json: AsJson = False) -> None:
    """Every field of one interface and its governance findings."""
    with _hub() as hub:
        interface = _run(lambda: hub.interfaces.get(name))
        _print_one(interface, hub.interfaces.today(), as_json, None)


@interfaces_app.command("governance")
def governance_command(
    days: Annotated[int, typer.Option(min=1, help="Traffic window of the KPI, in days.")] = 7,
    as_json: AsJson = False,
) -> None:
    """Each interface's governance status and failed checks, and the governed share (KPI)."""
    with _hub() as hub:
        rows = _run(hub.interfaces.governance)
        kpi = _run(lambda: hub.interfaces.governed_share(days=days))
    if as_json:
        payload = {
            "kpi": views.kpi_json(kpi),
            "interfaces": [{"name": i.name, **views.governance_json(g)} for i, g in rows],
        }
        console.print_json(json.dumps(payload))
        return
    print_table(views.governance_table(rows))
    for line in views.kpi_lines(kpi):
        console.print(line, markup=False)


@interfaces_app.command("unmanaged")
def unmanaged_command(
    include_registered: Annotated[
        bool, typer.Option("--all", help="Also routes registered since they were seen.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Inbound traffic from routes (channel, source system) no active interface has."""
    with _hub() as hub:
        sources = _run(lambda: hub.interfaces.unmanaged(include_registered=include_registered))
    if as_json:
        console.print_json(json.dumps([views.unmanaged_json(s) for s in sources]))
        return
    print_table(views.unmanaged_table(sources))


def _print_one(interface: Interface, today: date, as_json: bool, verb: str | None) -> None:
    governance = assess(interface, today)
    if as_json:
        console.print_json(json.dumps(views.interface_json(interface, governance)))
        return
    if verb is not None:
        console.print(f"{escape(interface.name)} {verb}: {views.status_text(governance.status)}")
        for finding in governance.findings:
            kind = "" if finding.required else " (advisory)"
            console.print(f"  {finding.field}: {escape(finding.reason)}{kind}")
        return
    for key, value in views.interface_json(interface, governance).items():
        if key != "governance" and value not in (None, "", []):
            console.print(f"{key:>22}: {escape(str(value))}", soft_wrap=True)
    console.print(f"{'governance':>22}: {views.status_text(governance.status)}")
    for finding in governance.findings:
        kind = "" if finding.required else " (advisory)"
        console.print(f"{'':>24}{finding.field}: {escape(finding.reason)}{kind}", soft_wrap=True)


def _value(field: str, text: str) -> Any:
    """A ``--set`` value as the domain takes it: lists, minutes and dates converted."""
    if field not in CHANGEABLE:
        _fail(f"--set {field}: not a field that can be changed", 2)
    if field in {"authoritative_objects", "facility_ids"}:
        return tuple(part.strip() for part in text.split(",") if part.strip())
    if field == "sla_latency_minutes":
        if not text.isdigit():
            _fail(f"--set {field}: {text!r} is not a whole number of minutes", 2)
        return int(text)
    if field == "sunset_on":
        try:
            return date.fromisoformat(text)
        except ValueError:
            _fail(f"--set {field}: {text!r} is not a date like 2027-06-30", 2)
    return text


def _run(call: Callable[[], _T]) -> _T:
    try:
        return call()
    except DomainError as error:
        _fail(str(error), 2)
    except SutureError as error:
        _fail(str(error), 1)


def _fail(message: str, code: int) -> NoReturn:
    errors.print(f"[red]error[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)
