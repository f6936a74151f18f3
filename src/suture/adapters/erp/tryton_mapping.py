"""Suture ids → the ERP's codes, where they differ (docs/erp.md, "Mapping").

The Tryton gateway finds a cost center, GL account, item and supplier by its code in Tryton
(``analytic_account.account``, ``account.account``, ``product.product``, ``party.party``); an id
missing from :class:`TrytonMapping` is its own code. The implementer's table, built from the
crosswalks, is a YAML file named by ``SUTURE_ERP_MAPPING_FILE`` and read at start-up with
:func:`load_mapping`; a wrong file stops the hub naming the file and key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml

from suture.services.erp import ErpError


@dataclass(frozen=True, slots=True, kw_only=True)
class TrytonMapping:
    """Suture ids → Tryton codes where they differ; an id missing here is its own code."""

    cost_centers: Mapping[str, str] = field(default_factory=dict)
    gl_accounts: Mapping[str, str] = field(default_factory=dict)
    items: Mapping[str, str] = field(default_factory=dict)
    suppliers: Mapping[str, str] = field(default_factory=dict)
    payment_term: str = "Net 30"


class ErpMappingError(ErpError):
    """The mapping file (``SUTURE_ERP_MAPPING_FILE``) is wrong: ``field`` names file and key."""


_MAPPING_TABLES = ("cost_centers", "gl_accounts", "items", "suppliers")


def load_mapping(text: str, source: str) -> TrytonMapping:
    """A :class:`TrytonMapping` from YAML: tables ``cost_centers``, ``gl_accounts``, ``items``
    and ``suppliers`` of Suture id → the ERP's code, and ``payment_term`` (a name); every key
    optional. Two Suture suppliers on one ERP code are refused (the pull could not tell which
    one a party is)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ErpMappingError(source, f"not YAML: {error}") from None
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ErpMappingError(source, f"must be a mapping with {', '.join(_MAPPING_TABLES)}")
    unknown = sorted(set(map(str, data)) - {*_MAPPING_TABLES, "payment_term"})
    if unknown:
        raise ErpMappingError(
            f"{source}: {unknown[0]}", f"unknown key; {', '.join(_MAPPING_TABLES)}, payment_term"
        )
    tables: dict[str, dict[str, str]] = {}
    for name in _MAPPING_TABLES:
        table = data.get(name) or {}
        if not isinstance(table, dict) or not all(
            isinstance(v, str | int) and str(v).strip() for v in table.values()
        ):
            raise ErpMappingError(f"{source}: {name}", "must map Suture ids to the ERP's codes")
        tables[name] = {str(k): str(v) for k, v in table.items()}
    codes: dict[str, str] = {}
    for supplier, code in tables["suppliers"].items():
        if code in codes:
            raise ErpMappingError(
                f"{source}: suppliers", f"{codes[code]!r} and {supplier!r} both map to {code!r}"
            )
        codes[code] = supplier
    term = data.get("payment_term", "Net 30")
    if not isinstance(term, str) or not term.strip():
        raise ErpMappingError(f"{source}: payment_term", "must be a payment term's name")
    return TrytonMapping(
        cost_centers=tables["cost_centers"], gl_accounts=tables["gl_accounts"],
        items=tables["items"], suppliers=tables["suppliers"], payment_term=term,
    )  # fmt: skip
