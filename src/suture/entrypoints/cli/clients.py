"""``suture clients``: the API's OAuth2 clients (docs/api-security.md).

``create`` prints the new client's id and its secret, the only time the secret is shown: Suture
keeps only its argon2id hash. ``list`` never shows secrets. ``revoke`` is final: the client gets
no new tokens and its unexpired ones are refused (within ``SUTURE_AUTH_REVOCATION_CACHE_SECONDS``
in running API processes). Exit codes: 0 done; 1 no such client; 2 bad input (an unknown
scope, a rule of the client broken).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn, Protocol, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from suture.domain.access import (
    ALL_FACILITIES,
    AccessError,
    ApiClient,
    Scope,
    format_scopes,
    parse_scopes,
)
from suture.domain.errors import SutureError
from suture.entrypoints.cli.app import console, errors, open_hub, print_table
from suture.services.clients import ClientRegistry

_T = TypeVar("_T")

clients_app = typer.Typer(
    help="OAuth2 clients of the HTTP API: create (secret shown once), list, revoke.",
    no_args_is_help=True,
)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


class ClientsHub(Protocol):
    """What these commands need of the hub."""

    clients: ClientRegistry

    def close(self) -> None: ...


@contextmanager
def _hub() -> Iterator[ClientsHub]:
    hub: ClientsHub = open_hub()
    try:
        yield hub
    finally:
        hub.close()


@clients_app.command("create")
def create_command(
    *,
    name: Annotated[str, typer.Option(help="Who the client is, e.g. 'Acme supplier portal'.")],
    scopes: Annotated[
        str,
        typer.Option(help=f"Comma-separated scopes: {', '.join(s.value for s in Scope)}."),
    ],
    facility: Annotated[
        list[str],
        typer.Option(
            help=f"A facility id the client may see; repeat it; {ALL_FACILITIES} for all."
        ),
    ],
    supplier: Annotated[
        str | None, typer.Option(help="Bind the client to this supplier id (self-service).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Register a client and print its id and secret (shown once, never again)."""
    with _hub() as hub:
        created = _run(
            lambda: hub.clients.create(name, parse_scopes(scopes), facility, supplier_id=supplier)
        )
        unknown = hub.clients.unknown_bindings(created.client)
    if unknown:  # created all the same: the master data may be imported after its clients
        named = "; ".join(
            f"{field}: no {field.removesuffix('_ids').removesuffix('_id')} {value!r} on record"
            for field, value in unknown
        )
        errors.print(
            f"[yellow]warning[/yellow] {escape(named)}. The client sees none of their records "
            "until they are.",
            soft_wrap=True,
        )
    if as_json:
        console.print_json(
            json.dumps(_client_json(created.client) | {"client_secret": created.secret})
        )
        return
    console.print(f"client_id:     {created.client.id}", soft_wrap=True)
    console.print(f"client_secret: {created.secret}", soft_wrap=True, markup=False)
    console.print("The secret is shown once; Suture keeps only its hash.")


@clients_app.command("list")
def list_command(
    *,
    active: Annotated[bool, typer.Option("--active", help="Leave revoked clients out.")] = False,
    after: Annotated[str | None, typer.Option(help="The page after this client id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 100,
    as_json: AsJson = False,
) -> None:
    """Clients in the order they were created; never their secrets."""
    with _hub() as hub:
        found = _run(lambda: hub.clients.list(include_revoked=not active, after=after, limit=limit))
    if as_json:
        console.print_json(json.dumps([_client_json(client) for client in found]))
        return
    table = Table(title=f"{len(found)} API clients")
    for heading in ("id", "name", "scopes", "facilities", "supplier", "created", "revoked"):
        table.add_column(heading, no_wrap=heading == "id", overflow="fold")
    for client in found:
        table.add_row(
            client.id,
            escape(client.name),
            format_scopes(client.scopes),
            escape(" ".join(sorted(client.facility_ids))),
            escape(client.supplier_id or "-"),
            client.created_at.isoformat(timespec="seconds"),
            client.revoked_at.isoformat(timespec="seconds") if client.revoked_at else "-",
        )
    print_table(table)


@clients_app.command("revoke")
def revoke_command(
    client_id: Annotated[str, typer.Argument(help="The client's id.")],
) -> None:
    """Revoke a client: no new tokens, and its unexpired tokens are refused."""
    with _hub() as hub:
        client = _run(lambda: hub.clients.revoke(client_id))
    at = client.revoked_at.isoformat(timespec="seconds") if client.revoked_at else "-"
    console.print(f"{client.id} revoked at {at}")


def _client_json(client: ApiClient) -> dict[str, Any]:
    return {
        "client_id": client.id,
        "name": client.name,
        "scopes": sorted(scope.value for scope in client.scopes),
        "facility_ids": sorted(client.facility_ids),
        "supplier_id": client.supplier_id,
        "created_at": client.created_at.isoformat(),
        "revoked_at": client.revoked_at.isoformat() if client.revoked_at else None,
    }


def _run(call: Callable[[], _T]) -> _T:
    try:
        return call()
    except AccessError as error:
        _fail(str(error), 2)
    except SutureError as error:
        _fail(str(error), 1)


def _fail(message: str, code: int) -> NoReturn:
    errors.print(f"[red]error[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)
