"""The envelope is checked as ASC X12.6 defines it, and every error says where and why."""

from __future__ import annotations

import pytest

from suture.formats.x12 import X12DecodeError, read_interchange, tokenize

ISA = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    "*240105*1200*U*00401*000000007*0*P*>~"
)


def interchange(
    *body: str, se01: str = "4", ge01: str = "1", iea01: str = "1", se02: str = "0001"
) -> str:
    return (
        ISA
        + "GS*PO*SENDER*RECEIVER*20240105*1200*7*X*004010~"
        + "ST*850*0001~"
        + "".join(segment + "~" for segment in body)
        + f"SE*{se01}*{se02}~GE*{ge01}*7~IEA*{iea01}*000000007~"
    )


GOOD = interchange("BEG*00*SA*PO-1**20240105", "PO1*1*2*EA*3**IN*ITEM-1")


def test_a_well_formed_interchange_reads_into_groups_and_sets() -> None:
    result = read_interchange(GOOD)
    ((group, transaction_set),) = result.transaction_sets()
    assert (result.sender_id, result.receiver_id, result.control_number) == (
        "SENDER",
        "RECEIVER",
        "000000007",
    )
    assert (group.functional_id, group.control_number, group.version) == ("PO", "7", "004010")
    assert (transaction_set.id, transaction_set.control_number) == ("850", "0001")
    assert [segment.id for segment in transaction_set.body] == ["BEG", "PO1"]


@pytest.mark.parametrize(
    ("document", "element", "reason"),
    [
        (
            interchange("BEG*00*SA*PO-1**20240105", se01="5"),
            "SE01",
            "says 5 segments (ST and SE included), found 3",
        ),
        (
            interchange("BEG*00*SA*PO-1**20240105", se01="3", se02="0002"),
            "SE02",
            "control number '0002' does not match ST02 '0001'",
        ),
        (
            interchange("BEG*00*SA*PO-1**20240105", se01="3", ge01="2"),
            "GE01",
            "says 2 transaction sets, found 1",
        ),
        (
            interchange("BEG*00*SA*PO-1**20240105", se01="3", iea01="3"),
            "IEA01",
            "says 3 functional groups, found 1",
        ),
        (
            interchange("BEG", se01="x"),
            "SE01",
            "count must be a number, got 'x'",
        ),
    ],
)
def test_count_and_control_mismatches_name_the_trailer_element(
    document: str, element: str, reason: str
) -> None:
    with pytest.raises(X12DecodeError) as caught:
        read_interchange(document)
    assert (caught.value.element, caught.value.reason) == (element, reason)
    assert caught.value.segment == element[:-2]


def test_the_error_message_names_position_segment_and_element() -> None:
    with pytest.raises(X12DecodeError) as caught:
        read_interchange(interchange("BEG*00*SA*PO-1**20240105", se01="9"))
    assert str(caught.value) == (
        "segment 5 (SE), SE01: says 9 segments (ST and SE included), found 3"
    )


def test_group_control_number_mismatch_names_ge02() -> None:
    document = GOOD.replace("GE*1*7~", "GE*1*8~")
    with pytest.raises(X12DecodeError) as caught:
        read_interchange(document)
    assert (caught.value.element, caught.value.reason) == (
        "GE02",
        "control number '8' does not match GS06 '7'",
    )


def test_interchange_control_number_mismatch_names_iea02() -> None:
    with pytest.raises(X12DecodeError) as caught:
        read_interchange(GOOD.replace("IEA*1*000000007", "IEA*1*000000008"))
    assert caught.value.element == "IEA02"


def test_lenient_reading_keeps_set_and_group_errors_for_the_acknowledgment() -> None:
    document = interchange("BEG*00*SA*PO-1**20240105", se01="9", ge01="2")
    result = read_interchange(document, strict=False)
    group = result.groups[0]
    assert [(e.element, e.code) for e in group.errors] == [("GE01", "5")]
    assert [(e.element, e.code) for e in group.transaction_sets[0].errors] == [("SE01", "4")]


def test_a_set_without_se_is_an_error_at_the_segment_that_ended_it() -> None:
    document = ISA + "GS*PO*S*R*20240105*1200*7*X*004010~ST*850*0001~BEG*00~GE*1*7~IEA*1*1~"
    with pytest.raises(X12DecodeError) as caught:
        read_interchange(document)
    assert (caught.value.position, caught.value.segment) == (5, "GE")
    assert "has no SE before GE" in caught.value.reason


def test_a_missing_iea_is_reported() -> None:
    with pytest.raises(X12DecodeError, match="no IEA trailer"):
        read_interchange(GOOD.removesuffix("IEA*1*000000007~"))


def test_content_after_iea_is_refused() -> None:
    with pytest.raises(X12DecodeError, match="segment after IEA"):
        read_interchange(GOOD + "GS*PO~")


def test_a_segment_outside_any_group_is_refused() -> None:
    with pytest.raises(X12DecodeError, match="expected GS, TA1 or IEA"):
        read_interchange(ISA + "ST*850*1~IEA*0*000000007~")


def test_a_document_that_is_not_x12_says_so() -> None:
    with pytest.raises(X12DecodeError) as caught:
        read_interchange(b"MSH|^~\\&|LAB")
    assert caught.value.reason == "an interchange starts with ISA, found 'MSH'"


def test_binary_content_is_named_by_position_with_its_bytes_shown_escaped() -> None:
    with pytest.raises(X12DecodeError) as caught:
        read_interchange(bytes(range(8)))
    assert str(caught.value) == (
        "segment 1: an interchange starts with ISA, found '\\x00\\x01\\x02'"
    )


def test_a_truncated_isa_names_the_missing_element() -> None:
    with pytest.raises(X12DecodeError) as caught:
        read_interchange("ISA*00*          *00*")
    assert (caught.value.segment, caught.value.element) == ("ISA", "ISA05")


def test_a_segment_id_that_is_not_letters_and_digits_is_refused() -> None:
    with pytest.raises(X12DecodeError) as caught:
        tokenize(ISA + "GS*PO~be g*1~")
    assert caught.value.position == 3
    assert "is not a segment id" in caught.value.reason


def test_valid_isa12_versions_give_no_finding_and_invalid_ones_one() -> None:
    assert read_interchange(GOOD).findings == ()
    odd = read_interchange(GOOD.replace("*00401*", "*00040*"))
    assert [(f.element, f.reason) for f in odd.findings] == [
        (
            "ISA12",
            "interchange control version '00040' is not an X12 version (00200 to 00999); "
            "each group's GS08 version is used instead",
        )
    ]
