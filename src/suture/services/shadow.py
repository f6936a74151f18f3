"""Shadow mode: withhold what a shadow interface would send, and report how it compares.

Two halves (``domain/shadow.py`` holds the comparison rule):

- :class:`ShadowGate` wraps the transports of the delivery worker. Before a delivery is sent it
  asks :class:`TargetModes` for the mode of the outbound interface the target belongs to; in
  ``shadow`` or ``legacy`` mode it raises :class:`DeliveryWithheldError`, and the worker records
  the delivery ``shadowed`` (final, payload kept) instead of sending it. A target no interface
  claims is ``live``: the inventory flags unregistered flows, it does not stop them.
- :class:`ShadowReports` reads the shadowed deliveries of an interface back into output lines
  (a journal CSV by its columns, an X12 850 line by line, any other CSV by its header), and
  compares them with the legacy system's output lines under a :class:`ComparisonProfile`.

An interface's ``channel`` names the target it leaves by: the exact target (``x12:sup-0001``)
or a kind of target (``erp`` covers ``erp:file`` and ``erp:tryton``); the exact name wins.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from suture.domain.deliveries import Delivery, DeliveryStatus, target_kind
from suture.domain.errors import DomainError, SutureError
from suture.domain.interfaces import Direction, Interface, Mode
from suture.domain.shadow import ComparisonProfile, OutputLine, ShadowDiff, compare
from suture.formats.x12 import PurchaseOrder850, X12Error, decode_document
from suture.formats.x12.purchase_order_850 import purchase_order_from_850
from suture.services.clock import Clock
from suture.services.deliveries import DeliveryWithheldError, Transport
from suture.services.unit_of_work import UnitOfWork

#: How long a looked-up mode is trusted; a mode change reaches the workers within it.
MODE_TTL = timedelta(seconds=5)
_PAGE = 500


class ShadowProfileError(SutureError):
    """A comparison profile file is wrong: ``field`` names the key, the reason says why."""


class TargetModes:
    """The migration mode of each delivery target, from the integration inventory (cached)."""

    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], clock: Clock, *, ttl: timedelta = MODE_TTL
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._loaded_at: datetime | None = None
        self._by_channel: dict[str, Interface] = {}

    def interface_of(self, target: str) -> Interface | None:
        """The active outbound interface ``target`` leaves by, or None."""
        by_channel = self._channels()
        return by_channel.get(target) or by_channel.get(target_kind(target))

    def mode_of(self, target: str) -> Mode:
        interface = self.interface_of(target)
        return Mode.LIVE if interface is None else interface.mode

    def _channels(self) -> dict[str, Interface]:
        now = self._clock()
        with self._lock:
            if (
                self._loaded_at is None
                or now - self._loaded_at >= self._ttl
                or now < self._loaded_at
            ):
                with self._uow() as uow:
                    interfaces = uow.interfaces.list()
                self._by_channel = {
                    i.channel: i for i in interfaces if i.direction is Direction.OUTBOUND
                }
                self._loaded_at = now
            return self._by_channel


class ShadowGate:
    """A transport that withholds deliveries whose interface is not live (module doc)."""

    def __init__(self, inner: Transport, modes: TargetModes) -> None:
        self._inner = inner
        self._modes = modes

    def send(self, delivery: Delivery) -> None:
        interface = self._modes.interface_of(delivery.target)
        if interface is not None and interface.mode is not Mode.LIVE:
            raise DeliveryWithheldError(
                f"interface {interface.name} is in {interface.mode} mode: computed, not sent"
            )
        self._inner.send(delivery)


@dataclass(frozen=True, slots=True)
class ShadowReport:
    """A comparison of one interface's withheld outputs with the legacy system's."""

    interface: str
    mode: Mode
    deliveries: int
    suture_lines: int
    legacy_lines: int
    unreadable: tuple[str, ...]
    diff: ShadowDiff


class ShadowReports:
    """Builds :class:`ShadowReport` from the shadowed deliveries (module doc)."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow = uow_factory

    def report(
        self,
        interface_name: str,
        legacy: Sequence[OutputLine],
        profile: ComparisonProfile,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> ShadowReport:
        with self._uow() as uow:
            interface = uow.interfaces.get(interface_name)
            if interface is None:
                raise DomainError("interface", f"no interface {interface_name!r}")
            if interface.direction is not Direction.OUTBOUND:
                raise DomainError(
                    "interface", f"{interface_name} is inbound; shadow mode withholds outputs"
                )
            deliveries = [
                d for d in _shadowed(uow, interface.channel)
                if (since is None or d.created_at >= since)
                and (until is None or d.created_at < until)
            ]  # fmt: skip
            loaded = [uow.deliveries.get(d.id, with_payload=True) for d in deliveries]
        ours: list[OutputLine] = []
        unreadable: list[str] = []
        for delivery in loaded:
            if delivery is None or delivery.payload is None:
                continue
            try:
                ours += output_lines(delivery.payload, source=f"delivery {delivery.id}")
            except (SutureError, ValueError):
                unreadable.append(delivery.id)
        return ShadowReport(
            interface=interface.name,
            mode=interface.mode,
            deliveries=len(loaded),
            suture_lines=len(ours),
            legacy_lines=len(legacy),
            unreadable=tuple(unreadable),
            diff=compare(profile, ours, legacy),
        )


def _shadowed(uow: UnitOfWork, channel: str) -> list[Delivery]:
    found: list[Delivery] = []
    after: str | None = None
    while True:
        page = uow.deliveries.list(status=DeliveryStatus.SHADOWED, after=after, limit=_PAGE)
        found += [
            d for d in page if d.target == channel or target_kind(d.target) == channel
        ]  # fmt: skip
        if len(page) < _PAGE:
            return found
        after = page[-1].id


def output_lines(payload: bytes, *, source: str = "") -> list[OutputLine]:
    """What a delivery's payload says, line by line: an X12 850 per PO line, a CSV per row."""
    text = payload.decode("utf-8-sig")
    if text.lstrip().startswith("ISA"):
        return _x12_lines(payload, source)
    return csv_lines(text, source=source)


def csv_lines(
    text: str, *, source: str = "", columns: Mapping[str, str] | None = None
) -> list[OutputLine]:
    """The rows of a CSV with a header row, columns renamed by ``columns``."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise DomainError("header", f"{source or 'the file'} has no header row")
    rename = columns or {}
    lines = []
    for number, row in enumerate(reader, start=2):
        fields = {rename.get(name, name): (value or "") for name, value in row.items() if name}
        lines.append(OutputLine(fields, f"{source} row {number}".strip()))
    return lines


def _x12_lines(payload: bytes, source: str) -> list[OutputLine]:
    try:
        document = decode_document(payload)
    except X12Error as error:
        raise DomainError("payload", f"{source}: {error.reason}") from None
    lines: list[OutputLine] = []
    for record in document.records:
        if not isinstance(record, PurchaseOrder850):
            continue
        po = purchase_order_from_850(record, id=record.number, source_system="suture")
        for line in po.lines:
            fields = {
                "po_number": po.number, "kind": str(po.kind),
                "order_date": po.order_date.isoformat(),
                "facility_id": po.facility_id, "supplier_id": po.supplier_id,
                "requisition_id": po.requisition_id or "", "department_id": po.department_id or "",
                "line": str(line.line_number), "item_id": line.item_id,
                "quantity": f"{line.quantity:f}", "uom": line.uom,
                "unit_price": f"{line.unit_price:f}", "contract_id": line.contract_id or "",
            }  # fmt: skip
            lines.append(OutputLine(fields, f"{source} PO {po.number} line {line.line_number}"))
    return lines


def load_profile(text: str, source: str) -> ComparisonProfile:
    """A :class:`ComparisonProfile` from YAML; errors name the file and the key."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ShadowProfileError(source, f"not YAML: {error}") from None
    if not isinstance(data, dict):
        raise ShadowProfileError(source, "must be a mapping of key, compare, amounts…")
    known = {"key", "compare", "amounts", "tolerance", "aggregate", "columns"}
    unknown = sorted(set(map(str, data)) - known)
    if unknown:
        raise ShadowProfileError(f"{source}: {unknown[0]}", f"unknown key; one of {sorted(known)}")
    try:
        return ComparisonProfile(
            key=_names(data, "key", source),
            compare=_names(data, "compare", source),
            amounts=_names(data, "amounts", source, required=False),
            tolerance=_decimal(data.get("tolerance", "0"), source),
            aggregate=_flag(data.get("aggregate", False), source),
            columns=_columns(data.get("columns", {}), source),
        )
    except DomainError as error:
        raise ShadowProfileError(f"{source}: {error.field}", error.reason) from None


def _names(
    data: Mapping[str, Any], key: str, source: str, *, required: bool = True
) -> tuple[str, ...]:
    value = data.get(key)
    if value is None and not required:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ShadowProfileError(f"{source}: {key}", "must be a list of field names")
    return tuple(value)


def _decimal(value: object, source: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ShadowProfileError(f"{source}: tolerance", f"{value!r} is not a number") from None


def _flag(value: object, source: str) -> bool:
    if not isinstance(value, bool):
        raise ShadowProfileError(f"{source}: aggregate", "must be true or false")
    return value


def _columns(value: object, source: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ShadowProfileError(f"{source}: columns", "must map legacy column names to fields")
    return dict(value)


def legacy_lines(files: Iterable[tuple[str, str]], profile: ComparisonProfile) -> list[OutputLine]:
    """The legacy system's output lines from CSV files given as (name, text)."""
    lines: list[OutputLine] = []
    for name, text in files:
        lines += csv_lines(text, source=name, columns=profile.columns)
    return lines
