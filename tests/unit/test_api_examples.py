"""The API contract has an example for every operation, and every example is valid.

Issue 7: "OpenAPI has descriptions and examples for every operation". The committed document
(``schemas/openapi.json``, kept equal to the code by ``suture api check``) is read here; an
operation has an example when its request body or a success response, following ``$ref``s,
carries one. The examples themselves are checked against the models that publish them, and the
FHIR bodies against the FHIR R4 validation the endpoint runs, so no example can drift into a
shape the API would refuse.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import suture.entrypoints.api as api_package
from suture.entrypoints.api import fhir
from suture.formats.fhir.validation import validate_resource

DOCUMENT = Path(__file__).parents[2] / "schemas" / "openapi.json"
METHODS = {"get", "post", "put", "patch", "delete"}


def _has_example(node: Any, schemas: dict[str, Any], seen: set[str]) -> bool:
    if isinstance(node, dict):
        if "example" in node or "examples" in node:
            return True
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name in seen:
                return False
            seen.add(name)
            return _has_example(schemas.get(name, {}), schemas, seen)
        return any(_has_example(value, schemas, seen) for value in node.values())
    if isinstance(node, list):
        return any(_has_example(value, schemas, seen) for value in node)
    return False


def test_every_operation_has_a_description_and_an_example() -> None:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    undescribed, without_example = [], []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            if not operation.get("description"):
                undescribed.append(f"{method.upper()} {path}")
            parts = [operation.get("requestBody", {})] + [
                answer for code, answer in operation["responses"].items() if code.startswith("2")
            ]
            if not any(_has_example(part, schemas, set()) for part in parts):
                without_example.append(f"{method.upper()} {path}")
    assert undescribed == []
    assert without_example == []


def _models_with_examples() -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    root = Path(api_package.__file__).parent
    for path in sorted(root.rglob("*.py")):  # rglob: the sub-packages have no __init__.py
        parts = path.relative_to(root).with_suffix("").parts
        module = importlib.import_module(".".join((api_package.__name__, *parts)))
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
                and isinstance(value.model_config.get("json_schema_extra"), dict)
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


MODELS = _models_with_examples()


def test_the_models_with_examples_are_found() -> None:
    names = {model.__name__ for model in MODELS}
    assert {"PurchaseOrderPublic", "ExceptionItemPublic", "Kpis", "InterfacePublic"} <= names


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_each_published_example_is_valid_for_its_model(model: type[BaseModel]) -> None:
    extra = model.model_config.get("json_schema_extra")
    assert isinstance(extra, dict)
    examples = extra.get("examples")
    assert isinstance(examples, list)
    assert examples
    for example in examples:
        model.model_validate(example)


@pytest.mark.parametrize("kind", sorted(set(fhir._EXAMPLES) - {"Bundle"}))
def test_each_fhir_example_is_a_valid_r4_resource(kind: str) -> None:
    validate_resource(fhir._EXAMPLES[kind], expected=kind)


def test_the_bundle_example_is_a_batch_of_valid_resources() -> None:
    bundle = fhir._EXAMPLES["Bundle"]
    assert bundle["type"] == "batch"
    for entry in bundle["entry"]:
        validate_resource(entry["resource"], expected=entry["request"]["url"])
