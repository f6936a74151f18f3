"""Importing master data into a real SQLite database: good rows kept, bad rows named, re-runs idle.

The golden exports in ``tests/golden/masterdata/`` are loaded in the order a go-live would
load them: the vendor master, the item master, contracts, then crosswalks.
"""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.authority import AuthorityRegistry
from suture.domain.contracts import ContractMembership, ContractPrice
from suture.domain.crosswalk import CrosswalkEntry, CrosswalkKey, CrosswalkKind
from suture.domain.errors import DomainError, NotAuthoritativeError
from suture.domain.masterdata import Facility, Supplier
from suture.eventlog.envelope import Envelope
from suture.eventlog.errors import MissingDependencyError
from suture.formats.csv import (
    ColumnProfile,
    Decoded,
    ImportKind,
    RowError,
    contract_id_for,
    decode_rows,
    default_profile,
    load_profile,
    read_rows,
    supplier_id_for,
)
from suture.services.event_store import WorkStatus
from suture.services.handlers import Handler, HandlerContext
from suture.services.masterdata_import import ImportSummary, import_masterdata
from suture.services.messagebus import MessageBus, Processing
from suture.services.redrive import gtin_dependency, mapping_dependency
from suture.services.unit_of_work import UnitOfWork

GOLDEN = Path(__file__).parent.parent / "golden" / "masterdata"
AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2025, 4, 1, 9, 30, tzinfo=UTC)
#: As bootstrap wires it: Suture loads the ERP's and the materials system's masters for them.
AUTHORITY = AuthorityRegistry(
    delegates={"erp": frozenset({"suture"}), "materials": frozenset({"suture"})}
)
Uow = Callable[[], SqlAlchemyUnitOfWork]

SMALL_ITEMS = load_profile(
    """
    kind: items
    columns: {id: Item, description: Description, manufacturer: Mfr, catalog_number: Cat,
              purchase_uom: UOM, list_price: Price}
    packaging: [{uom: EA, each_per_unit: 1, gtin_column: GTIN}]
    """,
    "small-items.yaml",
)
SMALL_HEADER = "Item,Description,Mfr,Cat,UOM,Price,GTIN\n"
CROSSWALK_HEADER = "Source System,Facility,Code Type,Local Code,Canonical ID,Supersede Y/N\n"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'suture.db'}")
    ensure_schema(engine)
    with SqlAlchemyUnitOfWork(engine) as uow:
        uow.facilities.add(Facility(id="FAC-MAIN", code="MAIN", name="St Mary's Main"))
        uow.facilities.add(Facility(id="FAC-NORTH", code="NORTH", name="St Mary's North"))
        uow.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def uow(engine: sa.Engine) -> Uow:
    return lambda: SqlAlchemyUnitOfWork(engine)


@pytest.fixture
def masters(uow: Uow) -> Uow:
    """A database holding the golden vendor and item masters."""
    load(uow, ImportKind.SUPPLIERS)
    load(uow, ImportKind.ITEMS)
    return uow


def rows(text: str, profile: ColumnProfile) -> Iterator[Decoded[object] | RowError]:
    return decode_rows(read_rows(io.StringIO(text, newline=""), profile), profile)


def run(
    uow: Uow,
    text: str,
    profile: ColumnProfile,
    *,
    at: datetime = AT,
    batch_size: int = 1000,
    source_system: str | None = None,
) -> ImportSummary:
    return import_masterdata(
        uow,
        profile.kind,
        rows(text, profile),
        source_system=source_system or profile.source_system or "suture",
        authority=AUTHORITY,
        at=at,
        batch_size=batch_size,
    )


def load(uow: Uow, kind: ImportKind, *, batch_size: int = 1000) -> ImportSummary:
    text = (GOLDEN / f"{kind.value}.csv").read_text(encoding="utf-8-sig")
    return run(uow, text, default_profile(kind), batch_size=batch_size)


def counts(summary: ImportSummary) -> tuple[int, int, int, int, int]:
    """(read, inserted, updated, unchanged, rejected)."""
    return (
        summary.rows_read,
        summary.inserted,
        summary.updated,
        summary.unchanged,
        summary.rejected,
    )


def problems(summary: ImportSummary) -> list[tuple[int, str, str]]:
    return [(error.line, error.column, error.reason) for error in summary.errors]


# Good rows beside bad ones


def test_valid_rows_are_written_beside_rejected_ones(uow: Uow) -> None:
    load(uow, ImportKind.SUPPLIERS)

    summary = load(uow, ImportKind.ITEMS)

    with uow() as work:
        stored = work.items.ids()
    assert (counts(summary), stored) == (
        (10, 5, 0, 0, 5),
        {"100234", "100235", "100236", "100237", "100241"},
    )


def test_an_item_whose_vendor_is_not_in_the_vendor_master_is_rejected(uow: Uow) -> None:
    load(uow, ImportKind.SUPPLIERS)

    summary = load(uow, ImportKind.ITEMS)

    assert problems(summary)[-1] == (
        13,
        "Vendor Number",
        "no supplier with vendor number 'V9999': "
        "import the vendor master or map it in the supplier crosswalk",
    )


# Supplier references: a vendor number is resolved, wherever the supplier came from

VENDOR_ITEMS = load_profile(
    """
    kind: items
    source_system: materials
    columns: {id: Item, description: Description, manufacturer: Mfr, catalog_number: Cat,
              purchase_uom: UOM, vendor_number: Vendor}
    packaging: [{uom: EA, each_per_unit: 1}]
    """,
    "vendor-items.yaml",
)


def import_item_of_vendor(uow: Uow, vendor_number: str) -> tuple[ImportSummary, str | None]:
    """Import item 1 naming ``vendor_number``; the summary and the item's stored supplier."""
    text = f"Item,Description,Mfr,Cat,UOM,Vendor\n1,Glove,Acme,G,EA,{vendor_number}\n"
    summary = run(uow, text, VENDOR_ITEMS)
    with uow() as work:
        item = work.items.get("1")
    return summary, item and item.supplier_id


def add_supplier(uow: Uow, supplier: Supplier, *mappings: CrosswalkEntry) -> None:
    with uow() as work:
        work.suppliers.add(supplier)
        for entry in mappings:
            work.crosswalks.add(entry)
        work.commit()


def supplier_mapping(source_system: str, vendor_number: str, supplier_id: str) -> CrosswalkEntry:
    key = CrosswalkKey(source_system, None, CrosswalkKind.SUPPLIER, vendor_number)
    return CrosswalkEntry(key=key, canonical_id=supplier_id, valid_from=AT)


def test_an_item_finds_a_supplier_synced_from_the_erp_by_its_vendor_id(uow: Uow) -> None:
    add_supplier(uow, Supplier(id="SUP-000042", name="Acme Surgical", erp_vendor_id="V100042"))

    summary, supplier_id = import_item_of_vendor(uow, "V100042")

    assert (counts(summary), supplier_id) == ((1, 1, 0, 0, 0), "SUP-000042")


def test_an_item_finds_a_supplier_mapped_only_in_the_supplier_crosswalk(uow: Uow) -> None:
    add_supplier(
        uow,
        Supplier(id="SUP-000042", name="Acme Surgical"),
        supplier_mapping("materials", "MM-77", "SUP-000042"),
    )

    summary, supplier_id = import_item_of_vendor(uow, "MM-77")

    assert (counts(summary), supplier_id) == ((1, 1, 0, 0, 0), "SUP-000042")


def test_the_supplier_crosswalk_wins_over_the_erp_vendor_id(uow: Uow) -> None:
    add_supplier(uow, Supplier(id="SUP-ERP", name="Acme Surgical", erp_vendor_id="V7"))
    add_supplier(
        uow,
        Supplier(id="SUP-MAPPED", name="Acme"),
        supplier_mapping("materials", "V7", "SUP-MAPPED"),
    )

    _, supplier_id = import_item_of_vendor(uow, "V7")

    assert supplier_id == "SUP-MAPPED"


def test_a_mapping_of_another_source_system_is_not_used(uow: Uow) -> None:
    add_supplier(
        uow, Supplier(id="SUP-000042", name="Acme"), supplier_mapping("epic", "MM-77", "SUP-000042")
    )

    summary, _ = import_item_of_vendor(uow, "MM-77")

    assert [(column, reason) for _, column, reason in problems(summary)] == [
        (
            "Vendor",
            "no supplier with vendor number 'MM-77': "
            "import the vendor master or map it in the supplier crosswalk",
        )
    ]


def test_a_mapping_to_a_supplier_that_does_not_exist_is_a_row_error(uow: Uow) -> None:
    with uow() as work:
        work.crosswalks.add(supplier_mapping("materials", "MM-77", "SUP-GONE"))
        work.commit()

    summary, _ = import_item_of_vendor(uow, "MM-77")

    assert [(column, reason) for _, column, reason in problems(summary)] == [
        (
            "Vendor",
            "vendor number 'MM-77' maps to supplier SUP-GONE in the supplier crosswalk, "
            "but there is no such supplier",
        )
    ]


def test_a_vendor_number_respelled_finds_the_vendor_master_supplier(uow: Uow) -> None:
    load(uow, ImportKind.SUPPLIERS)

    _, supplier_id = import_item_of_vendor(uow, "v1002")

    assert supplier_id == supplier_id_for("V1002")


def test_a_vendor_master_import_records_the_vendor_number_as_the_erp_vendor_id(uow: Uow) -> None:
    load(uow, ImportKind.SUPPLIERS)

    with uow() as work:
        supplier = work.suppliers.by_erp_vendor_id("V1002")

    assert supplier is not None
    assert supplier.id == supplier_id_for("V1002")


def test_an_item_claiming_another_items_gtin_is_rejected(uow: Uow) -> None:
    run(uow, SMALL_HEADER + "1,Glove M,Acme,G-M,EA,1.00,00812345000108\n", SMALL_ITEMS)

    summary = run(uow, SMALL_HEADER + "2,Glove L,Acme,G-L,EA,1.00,00812345000108\n", SMALL_ITEMS)

    assert problems(summary) == [(2, "GTIN", "GTIN 00812345000108 already identifies item 1")]


# Idempotence


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (ImportKind.SUPPLIERS, (8, 0, 0, 4, 4)),
        (ImportKind.ITEMS, (10, 0, 0, 5, 5)),
        (ImportKind.CONTRACT_PRICES, (11, 0, 0, 7, 4)),
    ],
)
def test_importing_the_same_file_again_changes_nothing(
    masters: Uow, kind: ImportKind, expected: tuple[int, ...]
) -> None:
    load(masters, kind)

    assert counts(load(masters, kind)) == expected


def test_importing_the_same_crosswalks_again_changes_nothing(masters: Uow) -> None:
    text = CROSSWALK_HEADER + "lawson,,item,4471020,100234,N\nepic,FAC-MAIN,item,E-9,100235,Y\n"
    run(masters, text, default_profile(ImportKind.CROSSWALKS))

    summary = run(masters, text, default_profile(ImportKind.CROSSWALKS), at=LATER)

    assert counts(summary) == (2, 0, 0, 2, 0)


def test_a_changed_row_updates_that_item_only(uow: Uow) -> None:
    before = SMALL_HEADER + "1,Glove M,Acme,G-M,EA,1.00,\n2,Glove L,Acme,G-L,EA,1.00,\n"
    run(uow, before, SMALL_ITEMS)

    after = SMALL_HEADER + "1,Glove M,Acme,G-M,EA,1.10,\n2,Glove L,Acme,G-L,EA,1.0,\n"
    summary = run(uow, after, SMALL_ITEMS)

    with uow() as work:
        price = work.items.get("1")
    assert (counts(summary), price and price.list_price) == ((2, 0, 1, 1, 0), Decimal("1.10"))


def test_rows_of_one_item_in_one_file_count_as_an_insert_then_an_update(uow: Uow) -> None:
    text = SMALL_HEADER + "1,Glove,Acme,G,EA,1.00,\n1,Glove,Acme,G,EA,2.00,\n"

    assert counts(run(uow, text, SMALL_ITEMS)) == (2, 1, 1, 0, 0)


# Authority


def test_a_source_that_does_not_own_the_kind_is_refused_before_any_row_is_read(uow: Uow) -> None:
    def untouchable() -> Iterator[Decoded[object] | RowError]:
        raise AssertionError("rows were read")
        yield  # pragma: no cover - makes this a generator

    with pytest.raises(NotAuthoritativeError) as caught:
        import_masterdata(
            uow,
            ImportKind.ITEMS,
            untouchable(),
            source_system="epic",
            authority=AUTHORITY,
            at=AT,
        )

    assert caught.value.reason == "'epic' may not write item: 'materials' is authoritative"


def test_an_import_time_without_a_timezone_is_refused(uow: Uow) -> None:
    naive = datetime(2025, 3, 1, 12, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(DomainError) as caught:
        import_masterdata(
            uow, ImportKind.ITEMS, [], source_system="suture", authority=AUTHORITY, at=naive
        )

    assert (caught.value.field, caught.value.reason) == ("at", "must be timezone-aware")


# Contract prices


def test_contract_rows_merge_into_one_contract_across_batches(masters: Uow) -> None:
    summary = load(masters, ImportKind.CONTRACT_PRICES, batch_size=2)

    with masters() as work:
        contract = work.contracts.by_number("VZ-2024-001")
    assert contract is not None
    assert (counts(summary), contract.id, contract.memberships, contract.prices) == (
        (11, 7, 0, 0, 4),
        contract_id_for("VZ-2024-001"),
        [
            ContractMembership(facility_id="FAC-MAIN", tier="T1", effective_from=date(2024, 1, 1)),
            ContractMembership(facility_id="FAC-NORTH", tier="T2", effective_from=date(2024, 7, 1)),
        ],
        [
            ContractPrice(item_id="100234", tier="T1", uom="BX", unit_price=Decimal("212.40")),
            ContractPrice(item_id="100234", tier="T2", uom="BX", unit_price=Decimal("218.00")),
            ContractPrice(item_id="100236", tier="T1", uom="CS", unit_price=Decimal("31.75")),
        ],
    )


def test_price_lines_find_their_item_by_gtin_or_catalog_number(masters: Uow) -> None:
    load(masters, ImportKind.CONTRACT_PRICES)

    with masters() as work:
        contract = work.contracts.by_number("LOC-ORTHO-7")
    assert contract is not None
    assert [(p.item_id, p.unit_price, p.effective_from) for p in contract.prices] == [
        ("100235", Decimal("3895.00"), date(2024, 3, 1)),
        ("100235", Decimal("3795.00"), date(2025, 3, 1)),
    ]


CONTRACT_HEADER = (
    "Contract Number,Contract Name,Vendor Number,GPO,Contract Start,Contract End,Tier,"
    "Facility,Member From,Member To,Item Number,GTIN,Mfr Name,Mfr Catalog No,UOM,"
    "Contract Price,Price Start,Price End\n"
)
VIZIENT = "VZ-2024-001,Vizient Wound Closure,V1002,Vizient,01/01/2024,12/31/2026"


def test_a_later_file_adds_and_changes_prices_and_keeps_the_others(masters: Uow) -> None:
    load(masters, ImportKind.CONTRACT_PRICES)
    text = CONTRACT_HEADER + (
        f"{VIZIENT},T1,,,,100236,,,,CS,30.95,,\n"  # changed
        f"{VIZIENT},T1,,,,100237,,,,BX,98.00,,\n"  # new
        f"{VIZIENT},T2,FAC-NORTH,07/01/2024,,,,,,,,,\n"  # unchanged
    )

    summary = run(masters, text, default_profile(ImportKind.CONTRACT_PRICES))

    with masters() as work:
        contract = work.contracts.by_number("VZ-2024-001")
    assert contract is not None
    assert (counts(summary), len(contract.memberships)) == ((3, 1, 1, 1, 0), 2)
    assert [(p.item_id, p.tier, p.unit_price) for p in contract.prices] == [
        ("100234", "T1", Decimal("212.40")),
        ("100234", "T2", Decimal("218.00")),
        ("100236", "T1", Decimal("30.95")),
        ("100237", "T1", Decimal("98.00")),
    ]


def test_rows_disagreeing_on_their_contracts_header_are_rejected(masters: Uow) -> None:
    text = CONTRACT_HEADER + (
        f"{VIZIENT},T1,FAC-MAIN,,,,,,,,,,\n"
        "VZ-2024-001,Vizient Sutures,V1002,Vizient,01/01/2024,12/31/2026,T1,,,,100234,,,,BX,1,,\n"
    )

    summary = run(masters, text, default_profile(ImportKind.CONTRACT_PRICES))

    assert problems(summary) == [
        (
            3,
            "Contract Name",
            "Vizient Sutures differs from Vizient Wound Closure on line 2 for contract VZ-2024-001",
        )
    ]


@pytest.mark.parametrize(
    ("line", "column", "reason"),
    [
        (",T1,,,,100234,,,,CS,1,,", "UOM", "item 100234 is not sold by CS; its units are EA, BX"),
        (
            ",T1,,,,100234,00881304123455,,,EA,1,,",
            "Item Number",
            "names different items: 100234, 100235",
        ),
        (
            ",T1,,,,,,Ethicon,J999,EA,1,,",
            "Mfr Catalog No",
            "no item Ethicon J999 in the item master",
        ),
        (",T1,FAC-SOUTH,,,,,,,,,,", "Facility", "no facility FAC-SOUTH"),
    ],
)
def test_a_price_line_the_item_master_cannot_honour_is_a_row_error(
    masters: Uow, line: str, column: str, reason: str
) -> None:
    text = CONTRACT_HEADER + VIZIENT + line + "\n"

    summary = run(masters, text, default_profile(ImportKind.CONTRACT_PRICES))

    assert problems(summary) == [(2, column, reason)]


def test_a_contract_of_an_unknown_vendor_is_rejected(masters: Uow) -> None:
    text = CONTRACT_HEADER + "C-9,Local,V9999,,01/01/2024,,T1,FAC-MAIN,,,,,,,,,,\n"

    summary = run(masters, text, default_profile(ImportKind.CONTRACT_PRICES))

    assert [(line, column) for line, column, _ in problems(summary)] == [(2, "Vendor Number")]


def test_a_contract_finds_a_supplier_synced_from_the_erp(masters: Uow) -> None:
    add_supplier(masters, Supplier(id="SUP-000042", name="Acme Surgical", erp_vendor_id="V100042"))
    text = CONTRACT_HEADER + "C-42,Local,V100042,,01/01/2024,,T1,FAC-MAIN,,,,,,,,,,\n"

    summary = run(masters, text, default_profile(ImportKind.CONTRACT_PRICES))

    with masters() as work:
        contract = work.contracts.by_number("C-42")
    assert (counts(summary), contract and contract.supplier_id) == ((1, 1, 0, 0, 0), "SUP-000042")


# Crosswalks


def test_crosswalk_rows_are_checked_against_what_they_map_to(masters: Uow) -> None:
    summary = load(masters, ImportKind.CROSSWALKS)

    assert (counts(summary), problems(summary)) == (
        (9, 4, 1, 0, 4),
        [
            (6, "Canonical ID", "no item 100999 to map to"),
            (
                7,
                "Code Type",
                "'widget' is not a crosswalk kind; expected one of item, supplier, department, "
                "cost_center, charge_code, location",
            ),
            (8, "Local Code", "is required but empty"),
            (
                9,
                "Canonical ID",
                "lawson/*/item/4471020 already maps to 100234; "
                "refusing to remap it to 100236 without supersede",
            ),
        ],
    )


def test_a_conflicting_mapping_leaves_the_current_one_in_place(masters: Uow) -> None:
    load(masters, ImportKind.CROSSWALKS)

    with masters() as work:
        current = work.crosswalks.current(
            CrosswalkKey("lawson", None, CrosswalkKind.ITEM, "4471020")
        )

    assert current is not None
    assert current.canonical_id == "100234"


def test_supersede_closes_the_old_mapping_and_keeps_it_as_history(masters: Uow) -> None:
    profile = default_profile(ImportKind.CROSSWALKS)
    run(masters, CROSSWALK_HEADER + "epic,FAC-MAIN,item,E-9,100234,N\n", profile, at=AT)

    summary = run(
        masters, CROSSWALK_HEADER + "epic,FAC-MAIN,item,E-9,100236,Y\n", profile, at=LATER
    )

    key = CrosswalkKey("epic", "FAC-MAIN", CrosswalkKind.ITEM, "E-9")
    with masters() as work:
        history = work.crosswalks.history(key)
    assert (counts(summary), history) == (
        (1, 0, 1, 0, 0),
        [
            CrosswalkEntry(
                key=key, canonical_id="100234", valid_from=AT, valid_to=LATER, recorded_by="suture"
            ),
            CrosswalkEntry(key=key, canonical_id="100236", valid_from=LATER, recorded_by="suture"),
        ],
    )


def test_a_mapping_at_an_unknown_facility_is_rejected(masters: Uow) -> None:
    text = CROSSWALK_HEADER + "epic,FAC-X,item,E-1,100234,N\n"

    summary = run(masters, text, default_profile(ImportKind.CROSSWALKS))

    assert problems(summary) == [(2, "Facility", "no facility FAC-X")]


# Reporting


def test_every_error_is_counted_and_passed_on_but_only_the_first_thousand_are_kept(
    uow: Uow,
) -> None:
    text = SMALL_HEADER + "1,,Acme,G,EA,x,\n" * 1500
    seen: list[RowError] = []

    summary = import_masterdata(
        uow,
        ImportKind.ITEMS,
        rows(text, SMALL_ITEMS),
        source_system="suture",
        authority=AUTHORITY,
        at=AT,
        on_error=seen.append,
    )

    assert (summary.rejected, summary.errors_total, len(summary.errors), len(seen)) == (
        1500,
        3000,
        1000,
        3000,
    )


def test_progress_reports_the_rows_read_after_each_batch(uow: Uow) -> None:
    reported: list[int] = []
    text = (GOLDEN / "suppliers.csv").read_text(encoding="utf-8")
    profile = default_profile(ImportKind.SUPPLIERS)

    import_masterdata(
        uow,
        ImportKind.SUPPLIERS,
        rows(text, profile),
        source_system="erp",
        authority=AUTHORITY,
        at=AT,
        batch_size=3,
        progress=reported.append,
    )

    assert reported == [3, 6, 8]


# Streaming


def generated_items(path: Path, count: int, prefix: str) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        stream.write(SMALL_HEADER)
        for number in range(count):
            stream.write(f"{prefix}{number},Item {number},Acme,{prefix}-{number},EA,1.25,\n")
    return path


def peak_memory_of_import(uow: Uow, path: Path) -> int:
    tracemalloc.start()
    try:
        with path.open(encoding="utf-8", newline="") as stream:
            summary = import_masterdata(
                uow,
                ImportKind.ITEMS,
                decode_rows(read_rows(stream, SMALL_ITEMS), SMALL_ITEMS),
                source_system="suture",
                authority=AUTHORITY,
                at=AT,
                batch_size=250,
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.inserted == summary.rows_read
    return peak


def test_memory_stays_flat_when_the_file_grows_five_times(uow: Uow, tmp_path: Path) -> None:
    run(uow, generated_items(tmp_path / "warm-up.csv", 300, "W").read_text(), SMALL_ITEMS)
    small = peak_memory_of_import(uow, generated_items(tmp_path / "1k.csv", 1_000, "S"))

    large = peak_memory_of_import(uow, generated_items(tmp_path / "5k.csv", 5_000, "L"))

    assert large / small < 1.5


# --- what was parked on the master data is re-driven by its import (DESIGN.md §3, guarantee 4) --

EPIC_E9 = CrosswalkKey("epic", "FAC-MAIN", CrosswalkKind.ITEM, "E-9")


def mapping_handler(envelope: Envelope, work: UnitOfWork, context: HandlerContext) -> None:
    """Parks until epic's item E-9 at FAC-MAIN maps to an item, as a usage handler would."""
    found = work.crosswalks.candidates("epic", CrosswalkKind.ITEM, "E-9", "FAC-MAIN")
    if not found:
        raise MissingDependencyError(mapping_dependency(EPIC_E9), "no item for epic code E-9")


def gtin_handler(envelope: Envelope, work: UnitOfWork, context: HandlerContext) -> None:
    """Parks until an item carries the scanned GTIN."""
    gtin = str(envelope.payload["gtin"])
    if work.items.by_gtin(gtin) is None:
        raise MissingDependencyError(gtin_dependency(gtin), "no item with the scanned GTIN")


def parked_bus(uow: Uow, handler: Handler, payload: dict[str, object]) -> tuple[MessageBus, str]:
    bus = MessageBus(uow, {"usage": handler}, {"test.*": ["usage"]}, clock=lambda: AT)
    envelope = bus.envelope(
        "test.usage.recorded", payload, idempotency_key=uuid4().hex, correlation_id="ENC-1"
    )
    with uow() as work:
        bus.publish(work, envelope)
        work.commit()
    assert bus.process("usage", str(envelope.id)) is Processing.PARKED
    return bus, str(envelope.id)


def usage_work(uow: Uow, event_id: str) -> tuple[WorkStatus, ...]:
    with uow() as work:
        return tuple(item.status for item in work.events.work_of(event_id))


@pytest.mark.parametrize("facility", ["FAC-MAIN", ""], ids=["facility", "system-wide"])
def test_importing_the_missing_mapping_redrives_the_work_parked_on_it(
    masters: Uow, facility: str
) -> None:
    bus, event_id = parked_bus(masters, mapping_handler, {})

    run(masters, CROSSWALK_HEADER + f"epic,{facility},item,E-9,100234,N\n",
        default_profile(ImportKind.CROSSWALKS))  # fmt: skip

    assert usage_work(masters, event_id) == (WorkStatus.PENDING,)
    assert bus.process("usage", event_id) is Processing.DONE


def test_importing_an_item_with_the_scanned_gtin_redrives_the_work_parked_on_it(
    uow: Uow,
) -> None:
    bus, event_id = parked_bus(uow, gtin_handler, {"gtin": "00614141000012"})
    assert usage_work(uow, event_id) == (WorkStatus.PARKED,)

    run(uow, SMALL_HEADER + "1,Glove M,Acme,G-M,EA,1.00,00614141000012\n", SMALL_ITEMS)

    assert usage_work(uow, event_id) == (WorkStatus.PENDING,)
    assert bus.process("usage", event_id) is Processing.DONE
