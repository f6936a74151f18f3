"""``SUTURE_ERP_MAPPING_FILE``: Suture ids -> the ERP's codes for the Tryton gateway.

docs/erp.md, "Mapping"; the gateway using it against a real Tryton is in
``tests/integration/test_tryton_erp.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from suture.adapters.erp.tryton_mapping import ErpMappingError, TrytonMapping, load_mapping
from suture.bootstrap import erp_mapping
from suture.config import Settings

EXAMPLE = """\
cost_centers: {CC-7010: "OR-1"}
items:
  ITEM-42: "100042"
suppliers:
  SUP-0001: V-1001
payment_term: Net 45
"""


def test_a_mapping_file_overrides_the_codes_it_names_and_keeps_the_rest() -> None:
    mapping = load_mapping(EXAMPLE, "erp-map.yaml")

    assert mapping == TrytonMapping(
        cost_centers={"CC-7010": "OR-1"}, items={"ITEM-42": "100042"},
        suppliers={"SUP-0001": "V-1001"}, payment_term="Net 45",
    )  # fmt: skip


def test_an_empty_file_maps_every_id_to_itself() -> None:
    assert load_mapping("", "erp-map.yaml") == TrytonMapping()


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("vendors: {}", "erp-map.yaml: vendors", "unknown key"),
        ("items: [ITEM-1]", "erp-map.yaml: items", "must map Suture ids"),
        ("items: {ITEM-1: ''}", "erp-map.yaml: items", "must map Suture ids"),
        ("suppliers: {SUP-1: V-1, SUP-2: V-1}", "erp-map.yaml: suppliers", "both map to 'V-1'"),
        ("payment_term: 30", "erp-map.yaml: payment_term", "payment term's name"),
        ("[a", "erp-map.yaml", "not YAML"),
        ("- items", "erp-map.yaml", "must be a mapping"),
    ],
)
def test_a_wrong_mapping_file_names_the_key(text: str, field: str, reason: str) -> None:
    with pytest.raises(ErpMappingError) as raised:
        load_mapping(text, "erp-map.yaml")

    assert raised.value.field == field
    assert reason in raised.value.reason


def test_the_hub_reads_the_file_the_settings_name(tmp_path: Path) -> None:
    path = tmp_path / "erp-map.yaml"
    path.write_text(EXAMPLE, encoding="utf-8")

    assert erp_mapping(Settings(erp_mapping_file=path)).suppliers == {"SUP-0001": "V-1001"}
    with pytest.raises(ErpMappingError, match="cannot read"):
        erp_mapping(Settings(erp_mapping_file=tmp_path / "missing.yaml"))
