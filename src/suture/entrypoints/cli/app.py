"""The root Typer application and the helpers every command shares."""

from __future__ import annotations

import inspect

import typer
from pydantic import ValidationError
from rich.console import Console

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
    except SutureError as error:
        errors.print(f"configuration error: {error}", markup=False)
        raise typer.Exit(2) from None
