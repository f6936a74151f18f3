"""``suture api export|check``: the committed OpenAPI contract of the HTTP API (DESIGN.md §6).

``schemas/openapi.json`` is the contract clients were promised. ``check`` builds the document
the code serves and fails when it breaks the committed one (removed operation, removed or
retyped response field, new required input; see ``suture.entrypoints.api.contract``) without a
new major ``info.version``, and when the committed file merely lags behind the code, so that
every change to the contract is reviewed as a diff of that file. ``docs/api.md`` has the
workflow.

Exit codes: 0 compatible and up to date; 1 a breaking change, or a file to refresh; 2 the file
is missing or not JSON. Neither command needs a database or settings.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from suture.bootstrap import build
from suture.config import Settings
from suture.entrypoints.api.app import create_app
from suture.entrypoints.api.contract import openapi_diff
from suture.entrypoints.cli.app import console, errors

#: The committed contract, relative to the repository root (where ``make`` and CI run).
DEFAULT_DOCUMENT = Path("schemas") / "openapi.json"

EXIT_BREAKING = 1
EXIT_UNREADABLE = 2

api_app = typer.Typer(help="The HTTP API's committed OpenAPI contract.", no_args_is_help=True)

DocumentOption = Annotated[Path, typer.Option("--file", help="The committed OpenAPI document.")]


def current_document() -> dict[str, Any]:
    """The OpenAPI document the code serves, built without touching a database."""
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(
            database_url="sqlite:///:memory:", erp_outbox_dir=Path(scratch), nats_url=None
        )
        hub = build(settings, migrate=False)
        try:
            return create_app(hub).openapi()
        finally:
            hub.close()


def render(document: dict[str, Any]) -> str:
    """Indented with sorted keys, so a diff of the file shows only the contract change."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@api_app.command("export")
def export_command(path: DocumentOption = DEFAULT_DOCUMENT) -> None:
    """Write the OpenAPI document the code serves to the committed file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(current_document()), encoding="utf-8")
    console.print(f"wrote {path}", markup=False)


@api_app.command("check")
def check_command(path: DocumentOption = DEFAULT_DOCUMENT) -> None:
    """Fail on a breaking change to the committed contract, or a committed file out of date."""
    try:
        committed = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        errors.print(f"{path}: no such file; run `suture api export`", markup=False)
        raise typer.Exit(EXIT_UNREADABLE) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        errors.print(f"{path}: cannot be read ({error})", markup=False)
        raise typer.Exit(EXIT_UNREADABLE) from None
    current = current_document()
    problems = openapi_diff(committed, current)
    for problem in problems:
        errors.print(f"breaking: {problem}", markup=False)
    if problems:
        errors.print(
            f"{len(problems)} breaking change(s) without a new major version "
            f"(committed {committed.get('info', {}).get('version')}, "
            f"code {current['info']['version']})",
            markup=False,
        )
        raise typer.Exit(EXIT_BREAKING)
    if render(committed) != render(current):
        errors.print(
            f"{path} is out of date (compatible changes): run `suture api export` and commit it",
            markup=False,
        )
        raise typer.Exit(EXIT_BREAKING)
    console.print(f"{path}: up to date, no breaking change", markup=False)
