"""The inventory file: interfaces declared in YAML, for ``suture interfaces import``.

::

    interfaces:
      - name: ehr-charges-hl7              # required, the key
        description: DFT^P03 charges from the EHR
        direction: inbound                 # required: inbound | outbound
        format: hl7v2                      # required: hl7v2 x12 fhir csv json erp-jsonrpc file
        channel: mllp                      # required: inbox interface (inbound) or target
        source_system: rcm                 # required
        target_system: suture              # required
        authoritative_objects: [charge]    # object types of DESIGN.md §1
        owner: revenue-integration
        sla_latency_minutes: 5
        sla_availability: 24x7, 99.9%
        contract: HL7 v2.5.1 DFT^P03, docs/hl7v2.md
        schema_version: "2.5.1"
        authentication: vpn-ip-allowlist
        api_client: null
        mode: live                         # legacy | shadow | live (default live)
        modernization: retain              # retain | refactor | replatform | retire
        sunset_on: 2027-06-30
        facility_ids: [FAC-01, FAC-02]

Read like the routing policy (``eventlog/policy_yaml.py``): from YAML nodes, so unknown and
duplicate keys are refused, scalars stay the text written (``no`` is not false, ``0278`` keeps
its zero), and every error is an :class:`InventoryFileError` whose message is
``file:line: interfaces[2].format: reason``. The domain validates each interface; its error is
reported at the line of the key it names.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NoReturn

from yaml.nodes import Node

from suture.domain.errors import DomainError, SutureError
from suture.domain.interfaces import Interface
from suture.eventlog.errors import RoutingPolicyError
from suture.eventlog.policy_yaml import NodeReader, compose

_REQUIRED = frozenset({"name", "direction", "format", "channel", "source_system", "target_system"})
_TEXT = (
    "description", "direction", "format", "channel", "source_system", "target_system",
    "owner", "sla_availability", "contract", "schema_version", "authentication",
    "api_client", "mode", "modernization",
)  # fmt: skip
_LISTS = ("authoritative_objects", "facility_ids")
_KEYS = {*_REQUIRED, *_TEXT, *_LISTS, "name", "sla_latency_minutes", "sunset_on"}
_NULL = "tag:yaml.org,2002:null"


class InventoryFileError(SutureError):
    """An inventory file is invalid; the message starts with ``source:line``."""

    def __init__(self, field: str, reason: str, *, source: str, line: int | None = None) -> None:
        super().__init__(field, reason)
        self.source = source
        self.line = line
        where = source if line is None else f"{source}:{line}"
        self.args = (f"{where}: {field}: {reason}" if field else f"{where}: {reason}",)


class _Reader(NodeReader):
    def fail(self, node: Node, field: str, reason: str) -> NoReturn:
        raise InventoryFileError(field, reason, source=self.source, line=node.start_mark.line + 1)


def load_inventory(text: str, source: str) -> list[Interface]:
    """Every interface of the document, validated; raises :class:`InventoryFileError`."""
    try:
        root = compose(text, source)
    except RoutingPolicyError as error:
        raise InventoryFileError(
            error.field, error.reason, source=source, line=error.line
        ) from error
    reader = _Reader(source)
    top = reader.mapping(root, "inventory", allowed={"interfaces"}, required={"interfaces"})
    nodes = reader.sequence(top["interfaces"][1], "interfaces")
    found: list[Interface] = []
    lines: dict[str, int] = {}
    for index, node in enumerate(nodes):
        field = f"interfaces[{index}]"
        interface = _interface(reader, node, field)
        if interface.name in lines:
            reader.fail(
                node, f"{field}.name", f"{interface.name!r} is listed already, at line "
                f"{lines[interface.name]}",
            )  # fmt: skip
        lines[interface.name] = node.start_mark.line + 1
        found.append(interface)
    return found


def _interface(reader: _Reader, node: Node, field: str) -> Interface:
    entries = reader.mapping(node, field, allowed=_KEYS, required=_REQUIRED)
    values: dict[str, Any] = {}
    for key, (_, value) in entries.items():
        at = f"{field}.{key}"
        if value.tag == _NULL and key not in _REQUIRED:
            continue
        if key in _LISTS:
            values[key] = reader.texts(value, at)
        elif key == "sla_latency_minutes":
            values[key] = _integer(reader, value, at)
        elif key == "sunset_on":
            values[key] = _date(reader, value, at)
        else:
            values[key] = reader.text(value, at)
    try:
        return Interface(**values)
    except DomainError as error:
        where = entries[error.field][1] if error.field in entries else node
        reader.fail(where, f"{field}.{error.field}", error.reason)


def _integer(reader: _Reader, node: Node, field: str) -> int:
    text = reader.text(node, field)
    if not text.isdigit():
        reader.fail(node, field, f"{text!r} is not a whole number of minutes")
    return int(text)


def _date(reader: _Reader, node: Node, field: str) -> date:
    text = reader.text(node, field)
    try:
        return date.fromisoformat(text)
    except ValueError:
        reader.fail(node, field, f"{text!r} is not a date like 2027-06-30")
