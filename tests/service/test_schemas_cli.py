"""``suture schemas export|check``: the committed registry against the code's event catalog.

The committed file is the *old* schema and the code the *new* one, so a change in the code is
simulated by editing a copy of the committed file the other way round: a field the copy has and
the code lacks reads as a field the code removed. No database is involved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from suture.entrypoints.cli import schemas as cli
from suture.eventlog.events import SupplyUsageRecorded, SupplyUsageRecordedV1
from suture.eventlog.schemas import SchemaRegistry, export

COMMITTED = Path(__file__).parents[2] / "schemas" / "events.json"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.schemas_app, list(args))


def committed() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(COMMITTED.read_text(encoding="utf-8"))
    return document


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_the_committed_registry_passes_the_check() -> None:
    result = run("check", "--registry", str(COMMITTED))
    assert (result.exit_code, result.stdout) == (
        0,
        f"schemas check: {COMMITTED} matches the code (13 event types, 14 versions); "
        "no breaking change\n",
    )


def test_the_committed_registry_is_byte_for_byte_what_export_writes(tmp_path: Path) -> None:
    out = tmp_path / "events.json"
    assert run("export", "--out", str(out)).exit_code == 0
    assert out.read_bytes() == COMMITTED.read_bytes()


def test_two_exports_write_identical_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    run("export", "--out", str(first))
    run("export", "--out", str(second))
    assert first.read_bytes() == second.read_bytes()


def test_export_and_check_default_to_schemas_events_json_under_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    exported = run("export")
    checked = run("check")
    assert (exported.exit_code, exported.stdout, checked.exit_code) == (
        0,
        "wrote 14 event schemas to schemas/events.json\n",
        0,
    )


def test_a_field_removed_from_a_committed_version_fails_naming_type_field_and_fix(
    tmp_path: Path,
) -> None:
    old = committed()
    old["supply.usage.recorded/v2"]["properties"]["bin_code"] = {"type": "string"}
    result = run("check", "--registry", str(write(tmp_path / "events.json", old)))
    assert (result.exit_code, result.stderr.splitlines()[1:]) == (
        1,
        [
            "supply.usage.recorded v2: removed field 'bin_code'",
            "  fix: raise the version: restore v2 as committed, put the change in v3 and "
            "register an upcaster from v2",
        ],
    )


def test_a_committed_version_the_code_lacks_fails(tmp_path: Path) -> None:
    old = committed()
    old["supply.usage.recorded/v3"] = old["supply.usage.recorded/v2"]
    result = run("check", "--registry", str(write(tmp_path / "events.json", old)))
    assert (result.exit_code, result.stderr.splitlines()[1:]) == (
        1,
        [
            "supply.usage.recorded v3: removed (payloads of a committed version stay in the log)",
            "  fix: restore the model of supply.usage.recorded/v3: its payloads stay in the log",
        ],
    )


def test_a_version_the_file_lacks_asks_for_an_export(tmp_path: Path) -> None:
    old = committed()
    del old["crosswalk.mapped/v1"]
    result = run("check", "--registry", str(write(tmp_path / "events.json", old)))
    assert (result.exit_code, result.stderr.splitlines()[1:]) == (
        1,
        [
            "  crosswalk.mapped/v1: new, not yet committed",
            "run `suture schemas export` and commit the file",
        ],
    )


def test_a_compatible_change_not_yet_committed_asks_for_an_export(tmp_path: Path) -> None:
    old = committed()
    del old["charge.posted/v1"]["properties"]["hcpcs"]  # as if the code had just added it
    result = run("check", "--registry", str(write(tmp_path / "events.json", old)))
    assert (result.exit_code, result.stderr.splitlines()[1:]) == (
        1,
        [
            "  charge.posted/v1: changed compatibly, not yet committed",
            "run `suture schemas export` and commit the file",
        ],
    )


def test_a_new_version_without_an_upcaster_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_upcaster() -> SchemaRegistry:
        registry = SchemaRegistry()
        registry.register("supply.usage.recorded", 1, SupplyUsageRecordedV1)
        registry.register("supply.usage.recorded", 2, SupplyUsageRecorded)
        return registry

    old = {"supply.usage.recorded/v1": export(no_upcaster())["supply.usage.recorded/v1"]}
    monkeypatch.setattr(cli, "build_registry", no_upcaster)
    result = run("check", "--registry", str(write(tmp_path / "events.json", old)))
    assert (result.exit_code, result.stderr.splitlines()[1:]) == (
        1,
        [
            "supply.usage.recorded v2: new version without an upcaster from v1",
            "  fix: register an upcaster from v1 to v2",
        ],
    )


def test_a_malformed_file_exits_2_naming_the_path_and_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text('{"charge.posted/v1": ', encoding="utf-8")
    result = run("check", "--registry", str(path))
    assert (result.exit_code, result.stderr) == (
        2,
        f"schemas check: {path}: not valid JSON: Expecting value at line 1, column 22\n",
    )


def test_a_file_that_is_not_an_object_of_schemas_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path / "events.json", {"charge.posted/v1": ["not", "a", "schema"]})
    result = run("check", "--registry", str(path))
    assert (result.exit_code, result.stderr) == (
        2,
        f"schemas check: {path}: 'charge.posted/v1': the schema is not a JSON object\n",
    )


def test_a_missing_file_exits_2_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    result = run("check", "--registry", str(path))
    assert (result.exit_code, result.stderr) == (2, f"schemas check: {path}: no such file\n")
