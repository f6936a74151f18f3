"""The root Typer application and the helpers every command shares."""

from __future__ import annotations

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
