"""Column profiles: how one legacy export's headers and value formats map to canonical fields.

Legacy item masters, vendor masters and contract files all differ in headers ("Mfr Catalog No",
"MFG_CAT_NBR"), delimiters, date formats and Y/N conventions. A profile (YAML) states them once
per export, so the codec stays generic. Built-in profiles for each kind ship in ``profiles/``.

Profiles are read with ``yaml.compose`` rather than ``safe_load``: scalars stay text (YAML 1.1
would turn an unquoted ``Y`` default into a boolean and ``0278`` into a number) and every node
keeps its line, so an error names the file, the line, the key and the reason.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from importlib import resources
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from suture.domain.units import KNOWN_UOMS
from suture.formats.csv.errors import ProfileError
from suture.formats.csv.fields import FEED_KINDS, FIELDS, RULES, ImportKind

DEFAULT_TRUE = frozenset({"Y", "YES", "TRUE", "T", "1", "X"})
DEFAULT_FALSE = frozenset({"N", "NO", "FALSE", "F", "0"})
_BOOLEAN_WORDS = {"true": True, "yes": True, "false": False, "no": False}
_TOP_KEYS = (
    "kind", "source_system", "delimiter", "quotechar", "encoding", "date_format",
    "decimal_comma", "true_values", "false_values", "uom_aliases", "columns", "defaults",
    "packaging", "time_format", "time_zone",
)  # fmt: skip
_LEVEL_KEYS = ("uom", "uom_column", "each_per_unit", "each_per_unit_column", "gtin_column")


@dataclass(frozen=True, slots=True)
class PackagingColumns:
    """One packaging level of an item row: the unit and how many eaches it holds, each fixed in
    the profile or read from a column, and the column that holds the level's GTIN.

    A level whose unit or quantity cell is blank is absent from that row, so one profile serves
    items sold only by the each and items with box and case levels.
    """

    uom: str | None = None
    uom_column: str | None = None
    each_per_unit: int | None = None
    each_per_unit_column: str | None = None
    gtin_column: str | None = None

    @property
    def headers(self) -> tuple[str, ...]:
        found = (self.uom_column, self.each_per_unit_column, self.gtin_column)
        return tuple(header for header in found if header)


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """A validated profile; ``columns`` maps canonical field -> CSV header."""

    kind: ImportKind
    source: str
    columns: Mapping[str, str]
    defaults: Mapping[str, str] = field(default_factory=dict)
    packaging: tuple[PackagingColumns, ...] = ()
    delimiter: str = ","
    quotechar: str = '"'
    encoding: str = "utf-8-sig"
    date_format: str = "%Y-%m-%d"
    decimal_comma: bool = False
    true_values: frozenset[str] = DEFAULT_TRUE
    false_values: frozenset[str] = DEFAULT_FALSE
    uom_aliases: Mapping[str, str] = field(default_factory=dict)
    source_system: str | None = None
    #: Usage and charge feeds: how a date-time cell is written, and the zone of a time written
    #: without an offset (an IANA name in the YAML). Times are returned in UTC.
    time_format: str = "%Y-%m-%d %H:%M"
    time_zone: tzinfo = UTC

    def header_for(self, name: str) -> str | None:
        return self.columns.get(name)

    def is_mapped(self, name: str) -> bool:
        return name in self.columns or name in self.defaults

    def field_headers(self) -> dict[str, str]:
        """Field -> header, with each fixed-unit packaging GTIN column as ``gtin.<UOM>``, so a
        check made after decoding (a GTIN already on another item) can name its column."""
        found = dict(self.columns)
        for level in self.packaging:
            if level.uom and level.gtin_column:
                found[f"gtin.{level.uom}"] = level.gtin_column
        return found

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header the file must have, in profile order, without repeats."""
        found = list(self.columns.values())
        for level in self.packaging:
            found.extend(level.headers)
        return tuple(dict.fromkeys(found))


def default_profile(kind: ImportKind) -> ColumnProfile:
    """The built-in profile of ``kind``, shipped as package data."""
    name = f"{kind.value}.yaml"
    text = resources.files("suture.formats.csv").joinpath("profiles", name).read_text("utf-8")
    return load_profile(text, f"built-in profile {name}")


def load_profile(text: str, source: str) -> ColumnProfile:
    """Parse and validate a profile; raises :class:`ProfileError` naming source, line and key."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise ProfileError(source, "", f"not valid YAML: {error.problem}", line) from None
    except yaml.YAMLError as error:
        raise ProfileError(source, "", f"not valid YAML: {error}") from None
    if not isinstance(root, yaml.MappingNode):
        raise ProfileError(source, "", "must be a mapping of keys (kind:, columns:, ...)")
    return _ProfileParser(source).parse(root)


_Entries = dict[str, tuple[yaml.Node, yaml.Node]]
_T = TypeVar("_T")


class _ProfileParser:
    """Walks the composed YAML tree; every check raises with the offending node's line."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, reason: str, node: yaml.Node) -> ProfileError:
        return ProfileError(self.source, key, reason, node.start_mark.line + 1)

    def parse(self, root: yaml.MappingNode) -> ColumnProfile:
        top = self.entries(root, "", _TOP_KEYS)
        if "kind" not in top:
            raise self.fail("kind", f"is required: one of {_choices()}", root)
        kind_text = self.text(top["kind"][1], "kind")
        if kind_text not in {kind.value for kind in ImportKind}:
            raise self.fail("kind", f"{kind_text!r} is not {_choices()}", top["kind"][1])
        kind = ImportKind(kind_text)
        if "columns" not in top:
            raise self.fail("columns", "is required: canonical field -> CSV header", root)
        columns = self.field_map(top["columns"][1], "columns", kind)
        defaults = self.field_map(top["defaults"][1], "defaults", kind) if "defaults" in top else {}
        self.check_required(kind, columns, defaults, top["columns"][0])
        aliases = self.uom_aliases(top["uom_aliases"][1]) if "uom_aliases" in top else {}
        get = self.optional
        profile = ColumnProfile(
            kind=kind,
            source=self.source,
            columns=columns,
            defaults=defaults,
            packaging=self.packaging(kind, top, root, aliases),
            delimiter=get(top, "delimiter", self.character, ","),
            quotechar=get(top, "quotechar", self.character, '"'),
            encoding=get(top, "encoding", self.encoding, "utf-8-sig"),
            date_format=get(top, "date_format", self.date_format, "%Y-%m-%d"),
            decimal_comma=get(top, "decimal_comma", self.boolean, False),
            true_values=get(top, "true_values", self.words, DEFAULT_TRUE),
            false_values=get(top, "false_values", self.words, DEFAULT_FALSE),
            uom_aliases=aliases,
            source_system=get(top, "source_system", self.text, None),
            time_format=get(top, "time_format", self.time_format, "%Y-%m-%d %H:%M"),
            time_zone=self.time_zone(kind, top, root),
        )
        if profile.delimiter == profile.quotechar:
            at = top.get("quotechar", top.get("delimiter", (root, root)))[1]
            raise self.fail("quotechar", "must differ from the delimiter", at)
        if overlap := profile.true_values & profile.false_values:
            at = top.get("false_values", top.get("true_values", (root, root)))[1]
            raise self.fail("false_values", f"{sorted(overlap)} are also true values", at)
        return profile

    def optional(
        self, top: _Entries, key: str, parse: Callable[[yaml.Node, str], _T], default: _T
    ) -> _T:
        return parse(top[key][1], key) if key in top else default

    def character(self, node: yaml.Node, key: str) -> str:
        """One character, not stripped: a tab delimiter is whitespace."""
        value = str(node.value) if isinstance(node, yaml.ScalarNode) else ""
        if len(value) != 1 or value in "\r\n":
            raise self.fail(key, f"must be one character, got {value!r}", node)
        return value

    def entries(self, node: yaml.Node, key: str, allowed: tuple[str, ...] | None) -> _Entries:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(key, "must be a mapping", node)
        found: _Entries = {}
        for key_node, value_node in node.value:
            name = self.text(key_node, key)
            path = f"{key}.{name}" if key else name
            if allowed is not None and name not in allowed:
                raise self.fail(
                    path, f"unknown key; expected one of {', '.join(allowed)}", key_node
                )
            if name in found:
                raise self.fail(path, "is given twice", key_node)
            found[name] = (key_node, value_node)
        return found

    def text(self, node: yaml.Node, key: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            raise self.fail(key, "must be a non-empty text value", node)
        return str(node.value).strip()

    def field_map(self, node: yaml.Node, key: str, kind: ImportKind) -> dict[str, str]:
        known = FIELDS[kind]
        mapping = {}
        for name, (key_node, value_node) in self.entries(node, key, None).items():
            if name not in known:
                raise self.fail(
                    f"{key}.{name}", f"unknown field; expected one of {', '.join(known)}", key_node
                )
            mapping[name] = self.text(value_node, f"{key}.{name}")
        return mapping

    def check_required(
        self, kind: ImportKind, columns: dict[str, str], defaults: dict[str, str], at: yaml.Node
    ) -> None:
        mapped = columns.keys() | defaults.keys()
        for spec in FIELDS[kind].values():
            if spec.required and spec.name not in mapped:
                raise self.fail(
                    f"columns.{spec.name}", "is required: map a column or a default", at
                )
        for rule in RULES.get(kind, ()):
            if set(rule.when) <= mapped and not any(set(g) <= mapped for g in rule.one_of):
                groups = " or ".join("+".join(group) for group in rule.one_of)
                raise self.fail("columns", f"{rule.why} needs {groups} mapped", at)

    def time_zone(self, kind: ImportKind, top: _Entries, root: yaml.Node) -> tzinfo:
        """The zone of a feed's local times; required for feeds, since a wrong guess moves
        every usage and charge by hours without an error."""
        if kind not in FEED_KINDS:
            for key in ("time_zone", "time_format"):
                if key in top:
                    raise self.fail(
                        key, f"applies to usage and charges only, not {kind}", top[key][0]
                    )
            return UTC
        if "time_zone" not in top:
            raise self.fail(
                "time_zone", f"is required for {kind}: the IANA zone of the file's times", root
            )
        node = top["time_zone"][1]
        name = self.text(node, "time_zone")
        try:
            return UTC if name.upper() == "UTC" else ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(
                "time_zone",
                f"unknown time zone {name!r}; use an IANA name like America/Chicago",
                node,
            ) from None

    def time_format(self, node: yaml.Node, key: str) -> str:
        """A strptime format that round-trips a date with hours and minutes."""
        value = self.text(node, key)
        probe = datetime(2024, 1, 31, 13, 45, tzinfo=UTC)
        try:
            parsed = datetime.strptime(probe.strftime(value), value).replace(tzinfo=None)  # noqa: DTZ007 - a probe of the format, compared naive
        except ValueError:
            parsed = None
        if parsed != probe.replace(tzinfo=None):
            raise self.fail(
                key, f"{value!r} is not a strptime format of a date with hours and minutes", node
            )
        return value

    def packaging(
        self, kind: ImportKind, top: _Entries, root: yaml.Node, aliases: Mapping[str, str]
    ) -> tuple[PackagingColumns, ...]:
        if kind is not ImportKind.ITEMS:
            if "packaging" in top:
                raise self.fail(
                    "packaging", f"applies to items only, not {kind}", top["packaging"][0]
                )
            return ()
        if "packaging" not in top:
            raise self.fail("packaging", "is required for items: a list of levels", root)
        node = top["packaging"][1]
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.fail("packaging", "must be a non-empty list of levels", node)
        return tuple(
            self.level(item, f"packaging[{n}]", aliases) for n, item in enumerate(node.value)
        )

    def level(self, node: yaml.Node, key: str, aliases: Mapping[str, str]) -> PackagingColumns:
        found = self.entries(node, key, _LEVEL_KEYS)
        values = {name: self.text(value, f"{key}.{name}") for name, (_, value) in found.items()}
        for fixed, column in (("uom", "uom_column"), ("each_per_unit", "each_per_unit_column")):
            if (fixed in values) == (column in values):
                raise self.fail(key, f"needs exactly one of {fixed} and {column}", node)
        uom = values.get("uom")
        if uom is not None:
            uom = aliases.get(uom.upper(), uom.upper())
            if uom not in KNOWN_UOMS:
                raise self.fail(f"{key}.uom", f"unknown unit {uom!r}; known: {_uoms()}", node)
        each = values.get("each_per_unit")
        if each is not None and (not each.isdecimal() or not each.isascii() or int(each) < 1):
            raise self.fail(
                f"{key}.each_per_unit", f"must be a whole number >= 1, got {each!r}", node
            )
        return PackagingColumns(
            uom=uom,
            uom_column=values.get("uom_column"),
            each_per_unit=int(each) if each is not None else None,
            each_per_unit_column=values.get("each_per_unit_column"),
            gtin_column=values.get("gtin_column"),
        )

    def uom_aliases(self, node: yaml.Node) -> dict[str, str]:
        aliases = {}
        for name, (_, value_node) in self.entries(node, "uom_aliases", None).items():
            target = self.text(value_node, f"uom_aliases.{name}").upper()
            if target not in KNOWN_UOMS:
                raise self.fail(
                    f"uom_aliases.{name}", f"unknown unit {target!r}; known: {_uoms()}", value_node
                )
            aliases[name.upper()] = target
        return aliases

    def words(self, node: yaml.Node, key: str) -> frozenset[str]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.fail(key, "must be a non-empty list", node)
        return frozenset(self.text(item, key).upper() for item in node.value)

    def boolean(self, node: yaml.Node, key: str) -> bool:
        value = self.text(node, key).lower()
        if value not in _BOOLEAN_WORDS:
            raise self.fail(key, f"must be true or false, got {value!r}", node)
        return _BOOLEAN_WORDS[value]

    def encoding(self, node: yaml.Node, key: str) -> str:
        value = self.text(node, key)
        try:
            codecs.lookup(value)
        except LookupError:
            raise self.fail("encoding", f"unknown encoding {value!r}", node) from None
        return value

    def date_format(self, node: yaml.Node, key: str) -> str:
        """A strptime format that round-trips a date, so "YYYY-MM-DD" is caught here."""
        value = self.text(node, key)
        probe = date(2024, 1, 31)
        try:
            parsed = datetime.strptime(probe.strftime(value), value).date()  # noqa: DTZ007 - dates only
        except ValueError:
            parsed = None
        if parsed != probe:
            raise self.fail(
                "date_format", f"{value!r} is not a strptime format of a whole date", node
            )
        return value


def _choices() -> str:
    return ", ".join(kind.value for kind in ImportKind)


def _uoms() -> str:
    return ", ".join(sorted(KNOWN_UOMS))
