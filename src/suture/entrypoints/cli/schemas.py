"""``suture schemas export|check``: the committed event-schema registry (DESIGN.md §3).

``schemas/events.json`` is the JSON Schema of every event (type, version) the code registers, as
:func:`~suture.eventlog.schemas.export` writes it. It is the memory of what was ever promised to
the log: ``check`` compares it with the code and fails when a committed version would no longer
read what it read, when a new version has no upcaster, or when the file merely lags behind the
code (an uncommitted schema is a promise nobody recorded). ``docs/event-schemas.md`` states the
rules and the workflow.

Exit codes: 0 compatible and up to date; 1 a breaking change, or a file to refresh; 2 the file
is missing or is not a registry. Neither command needs a database or settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from suture.eventlog.compatibility import Schema, registry_diff
from suture.eventlog.events import build_registry
from suture.eventlog.schemas import SchemaRegistry, export

#: The committed registry, relative to the repository root (where ``make`` and CI run).
DEFAULT_REGISTRY = Path("schemas") / "events.json"

EXIT_BREAKING = 1
EXIT_UNREADABLE = 2

schemas_app = typer.Typer(
    help="The versioned event schemas and their committed registry.", no_args_is_help=True
)


class RegistryFileError(Exception):
    """The committed registry cannot be read; ``reason`` says why."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def render(schemas: dict[str, Schema]) -> str:
    """The registry as committed: indented, keys sorted, one trailing newline.

    Sorted keys make the bytes a function of the content alone, so a diff of the file shows
    exactly the schema change and nothing else.
    """
    return json.dumps(schemas, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def read_registry(path: Path) -> dict[str, Schema]:
    """The committed registry at ``path``, or :class:`RegistryFileError` naming the reason."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RegistryFileError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RegistryFileError(path, f"cannot be read ({error})") from None
    try:
        document: Any = json.loads(text)
    except json.JSONDecodeError as error:
        reason = f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        raise RegistryFileError(path, reason) from None
    if not isinstance(document, dict):
        raise RegistryFileError(path, "not a JSON object of 'type/vN' keys")
    for key, schema in document.items():
        if not isinstance(schema, dict):
            raise RegistryFileError(path, f"{key!r}: the schema is not a JSON object")
    return document


def _split(key: str) -> tuple[str, int]:
    event_type, _, version = key.rpartition("/v")
    return (event_type, int(version)) if version.isdigit() and event_type else (key, 0)


def _label(key: str) -> str:
    event_type, version = _split(key)
    return f"{event_type} v{version}" if version else key


def _fix_new_version(key: str, known: set[str]) -> str:
    event_type, version = _split(key)
    if f"{event_type}/v{version - 1}" not in known:
        return f"register every version of {event_type} from v1 up to v{version}, none skipped"
    return f"register an upcaster from v{version - 1} to v{version}"


def _breaking(committed: dict[str, Schema], registry: SchemaRegistry) -> list[tuple[str, str, str]]:
    """(``type/vN``, what broke, how to fix it) for each breaking difference and catalog gap."""
    current = export(registry)
    known = committed.keys() | current.keys()
    found: list[tuple[str, str, str]] = []
    for problem in registry_diff(committed, current):
        key, _, reason = problem.partition(": ")
        event_type, version = _split(key)
        if key not in current:
            fix = f"restore the model of {key}: its payloads stay in the log"
        elif key in committed:
            latest = registry.latest(event_type)
            fix = (
                f"raise the version: restore v{version} as committed, put the change in "
                f"v{latest + 1} and register an upcaster from v{latest}"
            )
        else:
            fix = _fix_new_version(key, known)
        found.append((key, reason, fix))
    reported = {key for key, _, _ in found}
    for problem in registry.problems():
        key, _, reason = problem.partition(": ")
        if key in reported:
            continue
        if key in current:
            fix = _fix_new_version(key, known)
        else:
            fix = f"register a model for {key}: versions must not skip"
        found.append((key, reason, fix))
    return found


def _stale(committed: dict[str, Schema], current: dict[str, Schema]) -> list[str]:
    """Each ``type/vN`` whose committed schema differs from the code's, said how."""
    notes = [f"{key}: new, not yet committed" for key in sorted(current.keys() - committed.keys())]
    notes += [
        f"{key}: changed compatibly, not yet committed"
        for key in sorted(current.keys() & committed.keys())
        if current[key] != committed[key]
    ]
    return notes


RegistryOption = Annotated[
    Path,
    typer.Option(
        "--registry",
        help="The committed registry (default: schemas/events.json under the current directory).",
        dir_okay=False,
    ),
]
OutOption = Annotated[
    Path,
    typer.Option(
        "--out",
        help="Where to write the registry (default: schemas/events.json under the current "
        "directory).",
        dir_okay=False,
    ),
]


@schemas_app.command("export")
def export_command(out: OutOption = DEFAULT_REGISTRY) -> None:
    """Write the code's event schemas to the registry file; commit it with the change."""
    schemas = export(build_registry())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(schemas), encoding="utf-8", newline="\n")
    typer.echo(f"wrote {len(schemas)} event schemas to {out}")


@schemas_app.command("check")
def check_command(registry: RegistryOption = DEFAULT_REGISTRY) -> None:
    """Fail unless the code can read every payload the committed registry promised.

    Exits 1 listing each breaking change and its fix, or asking for a fresh export when the
    file lags behind the code; exits 2 when the file is missing or malformed.
    """
    try:
        committed = read_registry(registry)
    except RegistryFileError as error:
        typer.echo(f"schemas check: {error.path}: {error.reason}", err=True)
        raise typer.Exit(EXIT_UNREADABLE) from None
    code = build_registry()
    breaking = _breaking(committed, code)
    if breaking:
        typer.echo(
            f"schemas check: {len(breaking)} breaking change(s) against {registry}", err=True
        )
        for key, reason, fix in breaking:
            typer.echo(f"{_label(key)}: {reason}", err=True)
            typer.echo(f"  fix: {fix}", err=True)
        raise typer.Exit(EXIT_BREAKING)
    current = export(code)
    stale = _stale(committed, current)
    if stale:
        typer.echo(f"schemas check: {registry} is behind the code", err=True)
        for note in stale:
            typer.echo(f"  {note}", err=True)
        typer.echo("run `suture schemas export` and commit the file", err=True)
        raise typer.Exit(EXIT_BREAKING)
    types = len({event_type for event_type, _ in code.versions()})
    typer.echo(
        f"schemas check: {registry} matches the code ({types} event types, {len(current)} "
        "versions); no breaking change"
    )
