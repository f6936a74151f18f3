"""``suture … --help``: each paragraph of a command's help is one line, which the terminal wraps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import typer
from typer.testing import CliRunner

from suture.entrypoints.cli import app
from suture.entrypoints.cli.app import reflow_help, reflowed


def commands(command: Any, path: tuple[str, ...] = ("suture",)) -> Iterator[tuple[str, Any]]:
    yield " ".join(path), command
    for name, sub in getattr(command, "commands", {}).items():
        yield from commands(sub, (*path, name))


def test_no_command_help_keeps_the_source_line_breaks() -> None:
    every = list(commands(typer.main.get_command(app)))
    ragged = [name for name, command in every if re.search(r"(?<!\n)\n(?!\n)", command.help or "")]
    assert len(every) > 50
    assert ragged == []


def test_paragraphs_stay_apart_and_lines_join() -> None:
    text = """First line
    goes on.

    Second paragraph,
    over two lines.
    """
    assert reflowed(text) == "First line goes on.\n\nSecond paragraph, over two lines."
    assert reflowed(None) is None


def test_help_of_a_group_and_its_commands_wraps_to_the_terminal() -> None:
    group = typer.Typer(help="A group whose help\nspans two lines.")

    @group.command("run")
    def run() -> None:
        """Run it.

        A second paragraph that the source wrapped
        at some column.
        """

    root = typer.Typer()
    root.add_typer(group, name="group")

    @root.command("other")
    def other() -> None:
        """Another
        command."""

    reflow_help(root)
    result = CliRunner().invoke(root, ["group", "run", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "A second paragraph that the source wrapped at some column." in result.output
    result = CliRunner().invoke(root, ["--help"], terminal_width=200)
    assert "A group whose help spans two lines." in result.output
    assert "Another command." in result.output
