"""The lookups the repository ports name beyond ``get``, on SQLite and on PostgreSQL.

GTIN, catalog number, GLN and ERP vendor id find master data from what a message or a file
carries; contract, purchase-order and invoice numbers find documents by their business key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from storage_samples import (
    contract,
    gtin,
    invoice,
    item,
    new_id,
    purchase_order,
    seed_site,
    site,
    supplier,
)

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.units import Packaging, PackagingLevel

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


def test_item_by_gtin_finds_the_item_of_any_of_its_packaging_levels(uow: UowFactory) -> None:
    with uow() as work:
        where = seed_site(work)

        found = [work.items.by_gtin(code) for code in where.item.gtins]

    assert found == [where.item, where.item]


def test_item_by_an_unknown_gtin_is_none(uow: UowFactory) -> None:
    with uow() as work:
        seed_site(work)

        assert work.items.by_gtin(gtin()) is None


def test_item_by_a_gtin_two_items_carry_is_the_item_with_the_lower_id(uow: UowFactory) -> None:
    shared = gtin()
    with uow() as work:
        where = seed_site(work)
        twins = [
            dataclasses.replace(
                item(where.supplier.id), packaging=Packaging((PackagingLevel("EA", 1, shared),))
            )
            for _ in range(2)
        ]
        work.items.add_many(twins)

        assert work.items.by_gtin(shared) == min(twins, key=lambda i: i.id)


def test_item_by_catalog_number_needs_both_manufacturer_and_number(uow: UowFactory) -> None:
    with uow() as work:
        where = seed_site(work)
        number = where.item.catalog_number

        assert work.items.by_catalog_number("Acme", number) == where.item
        assert work.items.by_catalog_number("Other", number) is None
        assert work.items.by_catalog_number("Acme", new_id("CAT")) is None


def test_items_get_many_reads_each_item_with_its_packaging_as_get_does(uow: UowFactory) -> None:
    with uow() as work:
        where = seed_site(work)
        others = [item(where.supplier.id) for _ in range(3)]
        work.items.add_many(others)
        wanted = [where.item.id, *(i.id for i in others), new_id("ITEM"), others[0].id]

        found = work.items.get_many(wanted)

        assert found == {i.id: work.items.get(i.id) for i in [where.item, *others]}
        assert found[where.item.id].packaging == where.item.packaging
        assert work.items.get_many([]) == {}


def test_supplier_by_gln_and_by_erp_vendor_id(uow: UowFactory) -> None:
    vendor, other = supplier(), supplier()
    with uow() as work:
        work.suppliers.add_many([vendor, other])

        assert work.suppliers.by_gln(vendor.gln or "") == vendor
        assert work.suppliers.by_erp_vendor_id(vendor.erp_vendor_id or "") == vendor
        assert work.suppliers.by_gln("0000000000000") is None
        assert work.suppliers.by_erp_vendor_id(new_id("V")) is None


def test_a_supplier_without_remit_to_address_loads_without_one(uow: UowFactory) -> None:
    vendor = dataclasses.replace(supplier(), remit_to=None, gln=None, erp_vendor_id=None)
    with uow() as work:
        work.suppliers.add(vendor)

        assert work.suppliers.get(vendor.id) == vendor


def test_contracts_for_an_item_are_those_pricing_it_with_memberships_and_prices_whole(
    uow: UowFactory,
) -> None:
    with uow() as work:
        where = seed_site(work)
        other = item(where.supplier.id)
        work.items.add(other)
        both = contract(where, (where.item.id, other.id))
        only_other = contract(where, (other.id,))
        work.contracts.add_many([both, only_other])

        assert work.contracts.for_item(where.item.id) == [both]
        assert work.contracts.for_item(other.id) == sorted([both, only_other], key=lambda c: c.id)
        assert work.contracts.for_item(new_id("item")) == []


def test_contract_by_number(uow: UowFactory) -> None:
    with uow() as work:
        agreement = contract(seed_site(work))
        work.contracts.add(agreement)

        assert work.contracts.by_number(agreement.number) == agreement
        assert work.contracts.by_number(new_id("GPO")) is None


def test_purchase_order_by_number(uow: UowFactory) -> None:
    order = purchase_order(site())
    with uow() as work:
        work.purchase_orders.add(order)

        assert work.purchase_orders.by_number(order.number) == order
        assert work.purchase_orders.by_number(new_id("PO")) is None


def test_invoice_by_number_is_scoped_to_its_supplier(uow: UowFactory) -> None:
    bill = invoice(site())
    same_number_other_supplier = dataclasses.replace(
        invoice(site()), number=bill.number, supplier_id=new_id("sup")
    )
    with uow() as work:
        work.invoices.add_many([bill, same_number_other_supplier])

        assert work.invoices.by_number(bill.supplier_id, bill.number) == bill
        assert work.invoices.by_number(bill.supplier_id, new_id("INV")) is None
