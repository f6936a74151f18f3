"""The root Typer application and the helpers every command shares."""

from __future__ import annotations

import inspect

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import make_url

from suture.adapters.db.errors import StorageError
from suture.adapters.observability.logs import configure_logging
from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.errors import SutureError

app = typer.Typer(
    name="suture",
    help="Suture: the integration hub between revenue cycle, supply chain, inventory and ERP.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

console = Console()
errors = Console(stderr=True)


def print_table(table: Table) -> None:
    """``table`` on the console when the terminal holds it whole; narrower, a row a block: the
    first column's value on a line of its own, then the others as ``heading: value``, joined by
    `` · `` and wrapped to the terminal, indented. Rich would squeeze a table into a narrower
    terminal by folding and cutting its cells (in 80 columns an id of 36 characters leaves the
    other columns a few letters a line, and ids end in "…"), which no one can read or copy."""
    needed = Measurement.get(console, console.options.update_width(1_000_000), table)
    if needed.maximum <= console.width:
        console.print(table)
        return
    if table.title:
        console.print(table.title)
    columns = [(str(column.header), list(column.cells)) for column in table.columns]
    for row in range(table.row_count):
        first = columns[0][1][row]
        console.print()
        console.print(Text.from_markup(first, style="bold") if isinstance(first, str) else first)
        fields = Text(" · ").join(
            Text.assemble(f"{heading}: ", _text(cells[row])) for heading, cells in columns[1:]
        )
        console.print(Padding(fields, (0, 0, 0, 2)))


def _text(cell: object) -> Text:
    """A table cell as text: a string is markup, as in a table."""
    text = cell if isinstance(cell, Text) else Text.from_markup(str(cell))
    return text if text.plain.strip() else Text("-")


def reflow_help(application: typer.Typer) -> None:
    """Each command's help, of ``application`` and of its groups, as paragraphs of one line, so
    that ``--help`` wraps them to the terminal. The help comes from docstrings wrapped at 100
    columns; Typer keeps their line breaks and wraps each line again to the terminal, which
    leaves a ragged text (a line of 90 characters in an 80-column terminal becomes one long
    line and one short one)."""
    for command in application.registered_commands:
        text = command.help if isinstance(command.help, str) else inspect.getdoc(command.callback)
        command.help = reflowed(text)
    for group in application.registered_groups:
        if group.typer_instance is None:
            continue
        info = group.typer_instance.info
        if isinstance(info.help, str):
            info.help = reflowed(info.help)
        reflow_help(group.typer_instance)


def reflowed(text: str | None) -> str | None:
    """``text`` with the line breaks inside each paragraph made spaces (paragraphs, split by an
    empty line, kept apart)."""
    if text is None:
        return None
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in part.splitlines()) for part in paragraphs)


def load_settings() -> Settings:
    """Settings from the environment, or exit 2 with each bad field named."""
    try:
        return Settings()
    except ValidationError as error:
        for problem in error.errors():
            message = str(problem["msg"]).removeprefix("Value error, ")
            if problem["loc"]:
                where = "_".join(str(part) for part in problem["loc"]).upper()
                message = f"SUTURE_{where}: {message}"
            errors.print(f"configuration error: {message}", markup=False)
        raise typer.Exit(2) from None


def open_hub(*, migrate: bool = True) -> Hub:
    """The wired hub, or exit 2 naming what in the configuration is wrong; logging configured."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        return build(settings, migrate=migrate)
    except StorageError as error:
        raise database_failure(settings, error) from None
    except SutureError as error:
        errors.print(f"configuration error: {error}", markup=False)
        raise typer.Exit(2) from None


def database_failure(settings: Settings, error: StorageError) -> typer.Exit:
    """Say that the database SUTURE_DATABASE_URL names failed (unreachable, refused, wrong
    name), its URL without the password; the exit (2) to raise."""
    where = safe_url(settings.database_url)
    errors.print(f"database error: SUTURE_DATABASE_URL ({where}): {error}", markup=False)
    return typer.Exit(2)


def safe_url(url: str) -> str:
    """The database URL with any password hidden."""
    return make_url(url).render_as_string(hide_password=True)
