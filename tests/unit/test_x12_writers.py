"""Writers: an 850 from a canonical PO that decodes back to the same PO, and 997/999
acknowledgments that accept, reject and point at errors as X12 says."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.domain.purchasing import (
    PurchaseOrder,
    PurchaseOrderKind,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from suture.formats.x12 import (
    ControlNumbers,
    PurchaseOrder850,
    TradingPartnerProfile,
    X12EncodeError,
    decode_document,
    purchase_order_from_850,
    read_interchange,
    write_850,
    write_997,
    write_999,
)

SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "x12"
AT = datetime(2024, 3, 1, 14, 30, tzinfo=UTC)
NUMBERS = ControlNumbers(interchange=42, group=7, transaction_set=1)
PARTNER = TradingPartnerProfile(
    sender_qualifier="ZZ",
    sender_id="GENHOSP",
    receiver_qualifier="01",
    receiver_id="123456789",
    version="004010",
)


def a_po(**changes: object) -> PurchaseOrder:
    po = PurchaseOrder(
        id="po-1",
        number="PO-1001",
        facility_id="FAC-1",
        supplier_id="SUP-7",
        order_date=date(2024, 3, 1),
        kind=PurchaseOrderKind.BILL_ONLY,
        status=PurchaseOrderStatus.SENT,
        department_id="OR-2",
        requisition_id="REQ-9",
        lines=[
            PurchaseOrderLine(
                line_number=1,
                item_id="KNEE-100",
                quantity=Decimal(1),
                uom="EA",
                unit_price=Decimal("1200.00"),
                contract_id="GPO-2024",
            ),
            PurchaseOrderLine(
                line_number=2,
                item_id="GAUZE",
                quantity=Decimal(12),
                uom="BX",
                unit_price=Decimal("3.5"),
            ),
        ],
    )
    return dataclasses.replace(po, **changes)  # type: ignore[arg-type]


def decode_850_back(data: bytes, po: PurchaseOrder) -> PurchaseOrder:
    (order,) = decode_document(data).records
    assert isinstance(order, PurchaseOrder850)
    return purchase_order_from_850(
        order, id=po.id, status=po.status, source_system=po.source_system
    )


def test_written_850_reads_back_as_the_same_purchase_order() -> None:
    po = a_po()
    assert decode_850_back(write_850(po, PARTNER, NUMBERS, AT), po) == po


def test_written_850_has_the_partner_envelope() -> None:
    data = write_850(a_po(), PARTNER, NUMBERS, AT)
    interchange = read_interchange(data)
    assert (interchange.sender_id, interchange.receiver_qualifier, interchange.version) == (
        "GENHOSP",
        "01",
        "00401",
    )
    assert (interchange.date, interchange.time, interchange.control_number) == (
        "240301",
        "1430",
        "000000042",
    )
    assert data.startswith(b"ISA*00*          *00*          *ZZ*GENHOSP        *01*123456789      ")
    assert len(data.split(b"~")[0]) == 105  # ISA is fixed width: 106 with its terminator


def test_writer_converts_the_time_to_utc() -> None:
    eastern = AT.astimezone(timezone(timedelta(hours=-5)))
    assert read_interchange(write_850(a_po(), PARTNER, NUMBERS, eastern)).time == "1430"


def test_a_value_containing_a_delimiter_is_refused_naming_the_element() -> None:
    po = a_po(number="PO*1")
    with pytest.raises(X12EncodeError) as caught:
        write_850(po, PARTNER, NUMBERS, AT)
    assert caught.value.field == "BEG03"


def test_profiles_refuse_clashing_delimiters_and_unknown_versions() -> None:
    with pytest.raises(X12EncodeError, match="delimiters must differ"):
        dataclasses.replace(PARTNER, component_separator="*")
    with pytest.raises(X12EncodeError) as caught:
        dataclasses.replace(PARTNER, version="003050")
    assert caught.value.field == "version"


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(X12EncodeError) as caught:
        write_850(a_po(), PARTNER, NUMBERS, datetime(2024, 3, 1))  # noqa: DTZ001
    assert caught.value.field == "at"


_TEXT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-./#", min_size=1, max_size=20)
_LINE = st.builds(
    PurchaseOrderLine,
    line_number=st.integers(1, 99999),
    item_id=_TEXT,
    quantity=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(99999), places=2),
    uom=st.sampled_from(["EA", "BX", "CS", "PK"]),
    unit_price=st.decimals(min_value=Decimal(0), max_value=Decimal(999999), places=4),
    contract_id=st.none() | _TEXT,
)
_PROFILES = st.builds(
    TradingPartnerProfile,
    sender_qualifier=st.just("ZZ"),
    sender_id=_TEXT.map(lambda value: value[:15]),
    receiver_qualifier=st.just("12"),
    receiver_id=_TEXT.map(lambda value: value[:15]),
    version=st.sampled_from(["004010", "005010"]),
    element_separator=st.sampled_from(["*", "|", "^"]),
    component_separator=st.sampled_from([":", ">"]),
    repetition_separator=st.just("!"),
    segment_terminator=st.sampled_from(["~", "~\r\n", "\n", "…", "\x1c"]),
)


@given(
    number=_TEXT,
    facility=_TEXT,
    supplier=_TEXT,
    order_date=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    kind=st.sampled_from(list(PurchaseOrderKind)),
    department=st.none() | _TEXT,
    lines=st.lists(_LINE, min_size=1, max_size=6, unique_by=lambda line: line.line_number),
    partner=_PROFILES,
)
def test_any_purchase_order_round_trips_through_850(  # noqa: PLR0917 - one per strategy
    number: str,
    facility: str,
    supplier: str,
    order_date: date,
    kind: PurchaseOrderKind,
    department: str | None,
    lines: list[PurchaseOrderLine],
    partner: TradingPartnerProfile,
) -> None:
    po = a_po(
        number=number,
        facility_id=facility,
        supplier_id=supplier,
        order_date=order_date,
        kind=kind,
        department_id=department,
        requisition_id=None,
        lines=lines,
    )
    assert decode_850_back(write_850(po, partner, NUMBERS, AT), po) == po


# --- 997 / 999 ---------------------------------------------------------------------------------


def segments(data: bytes) -> list[str]:
    return [segment.strip() for segment in data.decode().split("~") if segment.strip()]


def test_997_accepts_both_sets_of_a_clean_group() -> None:
    group = read_interchange((SAMPLES / "855_4010_ssimmons_oopfactory.txt").read_bytes()).groups[0]
    body = segments(write_997(group, PARTNER, NUMBERS, AT))[3:-3]
    assert body == ["AK1*PR*76417", "AK2*855*0001", "AK5*A", "AK2*855*0002", "AK5*A", "AK9*A*2*2*2"]


def test_997_rejects_an_unsupported_set_with_code_1() -> None:
    data = (SAMPLES / "837I_5010_spec_3.1.1_oopfactory.txt").read_bytes()
    group = read_interchange(data).groups[0]
    body = segments(write_997(group, PARTNER, NUMBERS, AT))[3:-3]
    assert body == ["AK1*HC*1", "AK2*837*987654", "AK5*R*1", "AK9*R*1*1*0"]


def test_997_points_at_the_bad_element_and_rejects_a_miscounted_set() -> None:
    po = write_850(a_po(), PARTNER, NUMBERS, AT).decode()
    broken = po.replace("PO1*2*12*BX*3.5", "PO1*2*twelve*BX*3.5")
    miscounted = broken.replace("ST*850*0001", "ST*850*0001~REF*ZZ*extra", 1)
    group = read_interchange(broken, strict=False).groups[0]
    assert segments(write_997(group, PARTNER, NUMBERS, AT))[4:-4] == [
        "AK2*850*0001",
        "AK3*PO1*11**8",  # ST is 1: BEG, REF, REF, N9, MSG (bill only), N1, N1, PO1, REF, PO1
        "AK4*2**6",
        "AK5*R*5",
    ]
    group = read_interchange(miscounted, strict=False).groups[0]
    assert segments(write_997(group, PARTNER, NUMBERS, AT))[4:-4] == ["AK2*850*0001", "AK5*R*4"]


def recount(x12: str) -> str:
    """``x12`` with SE01 counting the set's segments again, so only the change made is wrong."""
    parts = x12.split("~")
    st = next(i for i, segment in enumerate(parts) if segment.startswith("ST*"))
    se = next(i for i, segment in enumerate(parts) if segment.startswith("SE*"))
    parts[se] = f"SE*{se - st + 1}*" + parts[se].split("*")[2]
    return "~".join(parts)


@pytest.mark.parametrize(
    ("old", "new", "ak3"),
    [
        # a second BEG: the segment exceeds its maximum use (AK304 code 5)
        ("~REF*DP*", "~BEG*00*SA*X**20240301~REF*DP*", "AK3*BEG*3**5"),
        # no BEG: a mandatory segment missing (code 3), where it was expected (after ST)
        ("~BEG*00*CN*PO-1001**20240301", "", "AK3*BEG*2**3"),
        # a line after the summary: a segment not in proper sequence (code 7)
        ("~CTT*2~", "~CTT*2~PO1*3*1*EA*1.00**IN*GAUZE~", "AK3*PO1*13**7"),
    ],
)
def test_997_names_the_syntax_error_of_a_misplaced_repeated_or_missing_segment(
    old: str, new: str, ak3: str
) -> None:
    po = write_850(a_po(), PARTNER, NUMBERS, AT).decode()
    assert old in po
    group = read_interchange(recount(po.replace(old, new, 1)), strict=False).groups[0]

    body = segments(write_997(group, PARTNER, NUMBERS, AT))[4:-4]

    assert body == ["AK2*850*0001", ak3, "AK5*R*5"]


def test_999_uses_ik_segments_and_the_implementation_guide() -> None:
    group = read_interchange((SAMPLES / "855_4010_ssimmons_oopfactory.txt").read_bytes()).groups[0]
    partner = dataclasses.replace(PARTNER, version="005010")
    data = segments(write_999(group, partner, NUMBERS, AT))
    assert data[1].endswith("*X*005010X231A1")
    assert data[2] == "ST*999*0001*005010X231A1"
    assert data[3:6] == ["AK1*PR*76417*004010", "AK2*855*0001*004010", "IK5*A"]
    (written,) = read_interchange("~".join(data) + "~").groups
    assert (written.functional_id, written.transaction_sets[0].id) == ("FA", "999")
