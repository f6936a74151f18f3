"""Master data Tryton lacks, by Suture's id through the mapping (docs/erp.md, "Mapping").

The gateway is driven through a scripted RPC (the calls it makes, the rows it gets); the real
Tryton is in ``tests/integration/test_tryton_erp.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from suture.adapters.erp.tryton import TrytonErpGateway, TrytonMapping
from suture.domain.exceptions import ExceptionType
from suture.eventlog.errors import DependencyKey
from suture.services.erp import ErpMissingError, ErpRecord


@dataclass
class ScriptedRpc:
    """Tryton with the product codes in ``codes``: search and search_read by code."""

    codes: dict[str, int] = field(default_factory=dict)
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def call(self, method: str, *params: Any) -> Any:
        self.calls.append((method, params))
        domain = params[0]
        if method.endswith(".search"):
            ((_, _, code),) = domain
            return [self.codes[code]] if code in self.codes else []
        if method.endswith(".search_read"):
            ((_, _, wanted),) = domain
            return [{"id": self.codes[c], "code": c} for c in wanted if c in self.codes]
        raise AssertionError(f"unexpected call {method}")


def gateway(rpc: ScriptedRpc) -> TrytonErpGateway:
    mapping = TrytonMapping(items={"ITEM-42": "100042"})
    return TrytonErpGateway(rpc, mapping)  # type: ignore[arg-type]


def test_a_mapped_product_tryton_lacks_parks_on_suture_s_id_naming_both_codes() -> None:
    with pytest.raises(ErpMissingError) as missing:
        gateway(ScriptedRpc())._product("ITEM-42")

    assert (missing.value.field, missing.value.dependency, missing.value.exception_type) == (
        "item_id", DependencyKey("erp_product", "ITEM-42"), ExceptionType.PRODUCT_NOT_IN_ERP,
    )  # fmt: skip
    assert missing.value.reason == (
        "Tryton has no product with code '100042' (product 'ITEM-42' in Suture)"
    )


def test_a_cost_center_tryton_lacks_is_for_finance() -> None:
    with pytest.raises(ErpMissingError) as missing:
        gateway(ScriptedRpc())._analytic("CC-9")

    assert (missing.value.dependency, missing.value.exception_type) == (
        DependencyKey("erp_cost_center", "CC-9"), ExceptionType.ACCOUNT_NOT_IN_ERP,
    )  # fmt: skip
    assert missing.value.reason == "Tryton has no cost center with code 'CC-9'"


def test_known_records_asks_once_by_code_and_answers_suture_s_ids() -> None:
    rpc = ScriptedRpc(codes={"100042": 7, "ITEM-1": 8})

    known = gateway(rpc).known_records(ErpRecord.PRODUCT, {"ITEM-42", "ITEM-1", "ITEM-9"})

    assert known == {"ITEM-42", "ITEM-1"}
    assert [method for method, _ in rpc.calls] == ["model.product.product.search_read"]
