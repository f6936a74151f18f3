"""Pydantic error locations turned into the FHIRPath of the offending element.

fhir.resources reports where a value failed as a pydantic location, a tuple of JSON property
names and list indexes: ``("entry", 2, "resource", "quantity", "value")``. OperationOutcome wants
the FHIRPath of the element (FHIR R4 operationoutcome.html, issue.expression: element names,
repetition indexes and the child accessor): ``Bundle.entry[2].resource.quantity.value``.

Conventions, so a client can find the element in what it sent:

- a list index follows its element: ``ChargeItem.note[0].text``;
- ``_status`` (the JSON home of a primitive's id and extensions) is the element ``status``;
- a choice element keeps its JSON name (``ChargeItem.occurrenceDateTime``), which names the
  type too; when the model complains that several types of one choice are present, the path is
  the choice's stem (``ChargeItem.occurrence``);
- fhir_core's internal ``root`` and ``resource_type`` steps are dropped or renamed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_CHOICE_LIST = re.compile(r"\[([^\]]*)\]")


def fhirpath(root: str, loc: Sequence[int | str]) -> str:
    """``root`` followed by the steps of a pydantic location."""
    path = root
    for step in loc:
        if isinstance(step, int):
            path += f"[{step}]"
            continue
        if step == "root":
            continue
        name = "resourceType" if step == "resource_type" else step
        if name.startswith("_") and len(name) > 1:
            name = name[1:]
        path += "." + name
    return path


def choice_stem(message: str) -> str | None:
    """The common stem of the element names listed in a fhir_core one-of-many message."""
    found = _CHOICE_LIST.search(message)
    if found is None:
        return None
    names = [part.strip().strip("'\"") for part in found.group(1).split(",") if part.strip()]
    if not names:
        return None
    stem = names[0]
    for name in names[1:]:
        while not name.startswith(stem):
            stem = stem[:-1]
    return stem or None
