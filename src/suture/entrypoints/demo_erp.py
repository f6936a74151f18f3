"""The demo's ERP when it is Tryton (``suture demo --erp tryton``; docs/demo.md).

Two steps before the day, one after it:

1. **Connect** (:func:`connect`): to the Tryton named by ``--erp-url``/``--erp-database`` (or
   ``SUTURE_ERP_URL``/``SUTURE_ERP_DATABASE``, logging in with ``SUTURE_ERP_USER`` and its
   password), else to the sandbox's running server, else to a sandbox server the demo starts,
   building the sandbox first when it has no snapshot (``adapters/erp/sandbox.py``, about
   90 s once). Each choice is said on standard error.
2. **Set up the ERP's master data, as its administrator would** (:func:`set_up_master_data`):
   the ERP owns the supplier master (DESIGN.md §1), so the health system's suppliers are
   created in Tryton as parties (code = Suture's supplier id), the items the day uses or asks
   for as purchasable products (code = item id), and the cost centers as analytic accounts
   (code = cost-center id). Each kind is looked up first and only the missing ones created,
   in batches. Then the demo pulls the supplier master into Suture with the hub's own pull
   (``services/erp_suppliers.py``), as an integration would after the ERP changed.
3. After the day, ``entrypoints/demo_erp_check.py`` reads back what Tryton shows.

Nothing here runs during the day: the day's purchase orders, receipts, AP vouchers and cost
journals reach Tryton only through the hub's delivery queue and its ``erp:tryton`` transport.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from suture.adapters.erp.sandbox import Sandbox, SandboxServer
from suture.adapters.erp.tryton_rpc import TrytonRpc
from suture.adapters.erp.tryton_setup import CATEGORY_NAME, ensure_cost_center, one, xml_id
from suture.domain.errors import SutureError
from suture.domain.masterdata import CostCenter, Item, Supplier

#: The database a sandbox server the demo starts serves (``suture erp sandbox start``'s too).
SANDBOX_DATABASE = "suture"
#: Records created per ``create`` call (one Tryton transaction): on SQLite, Tryton's check of
#: a hundred new products at once overflows SQLite's parser stack.
_BATCH = 20

Say = Callable[[str], None]


class DemoErpError(SutureError):
    """The demo's ERP cannot be reached or set up; ``field`` names the setting or step."""


@dataclass(frozen=True, slots=True)
class ErpLogin:
    """Where the demo's Tryton is and how to log in (the password is never printed)."""

    url: str
    database: str
    user: str
    password: str = field(repr=False)
    #: What the demo did to have it: ``given`` (settings), ``running`` (the sandbox's server),
    #: ``started`` (a sandbox server the demo started and leaves running).
    how: str
    sandbox: Path | None = None

    def rpc(self, timeout: float = 60.0) -> TrytonRpc:
        return TrytonRpc(self.url, self.database, self.user, self.password, timeout=timeout)


@dataclass(frozen=True, slots=True)
class MasterDataSetUp:
    """How many of each kind the ERP had already and how many the set-up created."""

    suppliers: tuple[int, int]
    products: tuple[int, int]
    cost_centers: tuple[int, int]


def connect(  # noqa: PLR0917 - the settings a person may give, each optional
    url: str | None,
    database: str | None,
    user: str | None,
    password: str | None,
    sandbox_dir: Path,
    say: Say,
) -> ErpLogin:
    """The Tryton to run the day against (module doc, step 1)."""
    if url:
        if not database:
            raise DemoErpError("erp_database", "name the Tryton database (--erp-database)")
        if not user or password is None:
            raise DemoErpError(
                "erp_user",
                "set SUTURE_ERP_USER and SUTURE_ERP_PASSWORD (or _PASSWORD_FILE) for --erp-url",
            )
        say(f"ERP: Tryton at {url}, database {database}, as {user}")
        return ErpLogin(url, database, user, password, "given")
    sandbox = Sandbox(sandbox_dir)
    running = sandbox.status()
    if running is not None:
        say(f"ERP: the sandbox's running Tryton at {running.url}, database {running.database}")
        return _login(running, "running", sandbox.directory)
    if not sandbox.snapshot.exists():
        say(f"ERP: no Tryton sandbox in {sandbox.directory}: creating it (about 90 s once)")
        sandbox.create(say=lambda text: say(f"ERP: {text}"))
    server = sandbox.start(SANDBOX_DATABASE, fresh=True)
    say(
        f"ERP: started the sandbox's Tryton at {server.url}, database {SANDBOX_DATABASE} "
        f"(left running; `suture erp sandbox stop --dir {sandbox.directory}` stops it)"
    )
    return _login(server, "started", sandbox.directory)


def _login(server: SandboxServer, how: str, directory: Path) -> ErpLogin:
    return ErpLogin(server.url, server.database, server.user, server.password, how, directory)


def sandbox_dir(explicit: Path | None) -> Path:
    """``--erp-sandbox``, else ``SUTURE_ERP_SANDBOX_DIR``, else ``./.erp-sandbox`` (as
    ``suture erp sandbox``)."""
    return explicit or Path(os.environ.get("SUTURE_ERP_SANDBOX_DIR", ".erp-sandbox"))


def set_up_master_data(
    rpc: TrytonRpc,
    suppliers: Sequence[Supplier],
    items: Sequence[Item],
    cost_centers: Sequence[CostCenter],
) -> MasterDataSetUp:
    """The suppliers, products and cost centers the day needs, in Tryton (module doc, step 2)."""
    rpc.login()
    parties = _missing(rpc, "party.party", [s.id for s in suppliers])
    _create(
        rpc, "party.party",
        [{"name": s.name, "code": s.id, "addresses": [["create", [{"street": "1 Supply Way"}]]]}
         for s in suppliers if s.id in parties],
    )  # fmt: skip
    products = _missing(rpc, "product.product", [i.id for i in items])
    if products:
        _create(rpc, "product.template", _templates(rpc, [i for i in items if i.id in products]))
    centers = _missing(rpc, "analytic_account.account", [c.id for c in cost_centers])
    for center in cost_centers:
        if center.id in centers:
            ensure_cost_center(rpc, center.id, center.name)
    return MasterDataSetUp(
        suppliers=(len(suppliers) - len(parties), len(parties)),
        products=(len(items) - len(products), len(products)),
        cost_centers=(len(cost_centers) - len(centers), len(centers)),
    )


def _missing(rpc: TrytonRpc, model: str, codes: Iterable[str]) -> set[str]:
    wanted = sorted(set(codes))
    found: set[str] = set()
    for start in range(0, len(wanted), _BATCH * 20):
        chunk = wanted[start : start + _BATCH * 20]
        rows = rpc.call(f"model.{model}.search_read", [("code", "in", chunk)], 0, None, None,
                        ["code"])  # fmt: skip
        found.update(str(row["code"]) for row in rows)
    return set(wanted) - found


def _create(rpc: TrytonRpc, model: str, values: list[dict[str, Any]]) -> None:
    for start in range(0, len(values), _BATCH):
        rpc.call(f"model.{model}.create", values[start : start + _BATCH])


def _templates(rpc: TrytonRpc, items: Sequence[Item]) -> list[dict[str, Any]]:
    """Purchasable goods, counted in units: a PO line's quantity is in the PO's unit of
    measure (a box, a case) at its price, so the ERP's line total is the PO's."""
    category = one(rpc, "product.category", [("name", "=", CATEGORY_NAME)])
    if category is None:
        raise DemoErpError(
            "erp", f"Tryton has no product category {CATEGORY_NAME!r}: set it up as the sandbox "
            "does (adapters/erp/tryton_setup.py)",
        )  # fmt: skip
    unit = xml_id(rpc, "product", "uom_unit")
    return [
        {"name": item.description[:120] or item.id, "code": item.id, "type": "goods",
         "default_uom": unit, "purchasable": True, "purchase_uom": unit,
         "account_category": category,
         "products": [["create", [{"cost_price": item.list_price or Decimal(0)}]]]}
        for item in items
    ]  # fmt: skip
