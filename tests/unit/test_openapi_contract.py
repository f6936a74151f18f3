"""Breaking changes between two OpenAPI documents (``suture api check``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from suture.entrypoints.api.contract import openapi_diff
from suture.entrypoints.cli import app
from suture.entrypoints.cli.api import current_document, render


def document(version: str = "1.0.0") -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": version},
        "paths": {
            "/orders": {
                "get": {
                    "parameters": [
                        {"in": "query", "name": "limit", "required": False,
                         "schema": {"type": "integer", "maximum": 500}},
                    ],
                    "responses": {"200": {"content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/OrderPage"}}}}},
                },
                "post": {
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/OrderCreate"}}}},
                    "responses": {"201": {"content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Order"}}}}},
                },
            }
        },
        "components": {"schemas": {
            "Order": {"type": "object", "required": ["id", "total"], "properties": {
                "id": {"type": "string"}, "total": {"type": "string"},
                "note": {"anyOf": [{"type": "string"}, {"type": "null"}]}}},
            "OrderPage": {"type": "object", "required": ["items"], "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Order"}}}},
            "OrderCreate": {"type": "object", "required": ["total"], "properties": {
                "total": {"type": "string"}, "note": {"type": "string"}}},
        }},
    }  # fmt: skip


def changed(edit: Any) -> list[str]:
    new = copy.deepcopy(document())
    edit(new)
    return openapi_diff(document(), new)


def test_an_identical_document_has_no_breaking_change() -> None:
    assert openapi_diff(document(), document()) == []


def test_adding_an_operation_an_optional_parameter_and_a_response_field_is_compatible() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["paths"]["/items"] = {"get": {"responses": {"200": {}}}}
        d["paths"]["/orders"]["get"]["parameters"].append(
            {"in": "query", "name": "status", "required": False, "schema": {"type": "string"}}
        )
        d["components"]["schemas"]["Order"]["properties"]["currency"] = {"type": "string"}

    assert changed(edit) == []


def test_a_removed_operation_is_breaking() -> None:
    assert changed(lambda d: d["paths"]["/orders"].pop("post")) == ["POST /orders: removed"]


def test_a_removed_response_field_is_breaking_even_inside_a_list() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["components"]["schemas"]["Order"]["properties"].pop("note")

    assert changed(edit) == [
        "GET /orders: 200 response: removed field 'items[].note'",
        "POST /orders: 201 response: removed field 'note'",
    ]


def test_a_retyped_response_field_is_breaking() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["components"]["schemas"]["Order"]["properties"]["total"] = {"type": "number"}

    assert "POST /orders: 201 response: changed type of 'total' from string to number" in changed(
        edit
    )


def test_a_response_field_that_may_now_be_absent_is_breaking() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["components"]["schemas"]["Order"]["required"] = ["id"]

    assert "POST /orders: 201 response: field 'total' may now be absent" in changed(edit)


def test_a_new_required_parameter_is_breaking() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["paths"]["/orders"]["get"]["parameters"].append(
            {"in": "query", "name": "facility", "required": True, "schema": {"type": "string"}}
        )

    assert changed(edit) == ["GET /orders: new required query parameter 'facility'"]


def test_a_new_required_request_field_is_breaking() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["components"]["schemas"]["OrderCreate"]["required"] = ["total", "note"]

    assert changed(edit) == ["POST /orders: request body: field 'note' became required"]


def test_a_tighter_parameter_bound_is_breaking() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["paths"]["/orders"]["get"]["parameters"][0]["schema"]["maximum"] = 100

    assert changed(edit) == [
        "GET /orders: query parameter 'limit': lowered maximum of the payload to 100"
    ]


def test_a_new_major_version_may_break() -> None:
    new = document("2.0.0")
    new["paths"].pop("/orders")
    assert openapi_diff(document(), new) == []


def words(output: str) -> str:
    """The CLI's output with its whitespace normalised: rich wraps lines at the terminal's
    width (the console is built once, at import), so a phrase may break across lines."""
    return " ".join(output.split())


def test_the_check_command_fails_on_a_breaking_change_and_names_it(tmp_path: Path) -> None:
    committed = current_document()
    committed["paths"]["/api/v1/retired"] = {"get": {"responses": {"200": {}}}}
    path = tmp_path / "openapi.json"
    path.write_text(render(committed), encoding="utf-8")
    result = CliRunner().invoke(app, ["api", "check", "--file", str(path)])
    assert result.exit_code == 1
    assert "breaking: GET /api/v1/retired: removed" in words(result.output)


def test_the_check_command_fails_when_the_committed_file_lags_behind(tmp_path: Path) -> None:
    committed = current_document()
    committed["paths"].pop("/healthz")
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(committed), encoding="utf-8")
    result = CliRunner().invoke(app, ["api", "check", "--file", str(path)])
    assert result.exit_code == 1
    assert "out of date" in words(result.output)


@pytest.mark.parametrize("text", ["", "{not json"])
def test_an_unreadable_committed_file_exits_2(tmp_path: Path, text: str) -> None:
    path = tmp_path / "openapi.json"
    path.write_text(text, encoding="utf-8")
    assert CliRunner().invoke(app, ["api", "check", "--file", str(path)]).exit_code == 2
