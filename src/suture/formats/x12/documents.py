"""Decoding a whole document: the envelope, then each transaction set by its decoder.

The supply-chain sets of DESIGN.md §2 are supported: 850, 855, 856, 810 and 832. Any other set
(an 837 claim, an 835 remittance that reached the wrong mailbox) is refused with "unsupported
transaction set 837", naming its ST; the raw bytes stay in the inbox (DESIGN.md §3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from suture.domain.errors import DomainError
from suture.formats.x12.elements import check_elements
from suture.formats.x12.envelope import Interchange, TransactionSet, read_interchange
from suture.formats.x12.errors import X12DecodeError
from suture.formats.x12.invoice_810 import Invoice810, decode_810
from suture.formats.x12.po_acknowledgment_855 import PurchaseOrderAcknowledgment855, decode_855
from suture.formats.x12.price_catalog_832 import PriceCatalog832, decode_832
from suture.formats.x12.purchase_order_850 import PurchaseOrder850, decode_850
from suture.formats.x12.ship_notice_856 import ShipNotice856, decode_856

X12Record = (
    PurchaseOrder850 | PurchaseOrderAcknowledgment855 | ShipNotice856 | Invoice810 | PriceCatalog832
)

DECODERS: dict[str, Callable[[TransactionSet], X12Record]] = {
    "810": decode_810,
    "832": decode_832,
    "850": decode_850,
    "855": decode_855,
    "856": decode_856,
}
"""The transaction sets Suture reads, by ST01."""


@dataclass(frozen=True, slots=True)
class X12Document:
    """A decoded interchange: its envelope and one record per transaction set, in order."""

    interchange: Interchange
    records: tuple[X12Record, ...]


def decode_transaction_set(transaction_set: TransactionSet) -> X12Record:
    """The record of one transaction set; raises :class:`X12DecodeError` when it cannot be
    read, including "unsupported transaction set" for a set Suture does not read, and an
    element longer than any the hub reads or holding a NUL
    (:func:`~.elements.check_elements`)."""
    decoder = DECODERS.get(transaction_set.id)
    if decoder is None:
        raise X12DecodeError(
            f"unsupported transaction set {transaction_set.id}; "
            f"supported: {', '.join(sorted(DECODERS))}",
            position=transaction_set.position,
            segment="ST",
            element="ST01",
            code="1",
        )
    check_elements(transaction_set.body)
    try:
        return decoder(transaction_set)
    except DomainError as error:  # a canonical rule broken by a value the decoder passed on
        raise X12DecodeError(
            error.reason, position=transaction_set.position, segment="ST", element=error.field
        ) from None


def decode_document(data: bytes | str) -> X12Document:
    """Every transaction set of the interchange in ``data``, decoded; the first problem raises
    :class:`X12DecodeError` (envelope, unsupported set, or a set's content)."""
    interchange = read_interchange(data)
    records = tuple(decode_transaction_set(ts) for _, ts in interchange.transaction_sets())
    return X12Document(interchange, records)
