"""The X12 codec: supply-chain EDI (850, 855, 856, 810, 832) in, 850 and 997/999 out.

Pure: bytes in, canonical records or :class:`X12DecodeError` out; nothing here reads a clock,
a file or a socket (DESIGN.md §9, "in-house envelope tokenizer and writers").

- :mod:`.tokenizer`: delimiters from the ISA header, segments (:func:`tokenize`);
- :mod:`.envelope`: ISA/GS/ST envelopes checked (:func:`read_interchange`);
- :mod:`.documents`: :func:`decode_document`, each set by its decoder, others refused;
- :mod:`.purchase_order_850`, :mod:`.po_acknowledgment_855`, :mod:`.ship_notice_856`,
  :mod:`.invoice_810`, :mod:`.price_catalog_832`: one decoder a transaction set;
- :mod:`.interchange_writer`: :class:`TradingPartnerProfile`, :class:`ControlNumbers`;
  :func:`write_850`; :mod:`.functional_acknowledgment_997`: :func:`write_997`, :func:`write_999`;
- :mod:`.errors`: :class:`X12DecodeError`, :class:`X12EncodeError`, :class:`X12Finding`.
"""

from __future__ import annotations

from suture.formats.x12.documents import (
    DECODERS,
    X12Document,
    X12Record,
    decode_document,
    decode_transaction_set,
)
from suture.formats.x12.envelope import (
    FunctionalGroup,
    Interchange,
    TechnicalAcknowledgment,
    TransactionSet,
    read_interchange,
)
from suture.formats.x12.errors import X12DecodeError, X12EncodeError, X12Error, X12Finding
from suture.formats.x12.functional_acknowledgment_997 import (
    GroupOutcome,
    SetOutcome,
    assess_group,
    write_997,
    write_999,
)
from suture.formats.x12.interchange_writer import ControlNumbers, TradingPartnerProfile
from suture.formats.x12.invoice_810 import Invoice810, InvoiceLine810, decode_810
from suture.formats.x12.po_acknowledgment_855 import (
    PurchaseOrderAcknowledgment855,
    decode_855,
)
from suture.formats.x12.price_catalog_832 import CatalogItem, PriceCatalog832, decode_832
from suture.formats.x12.purchase_order_850 import (
    PurchaseOrder850,
    decode_850,
    purchase_order_from_850,
    write_850,
)
from suture.formats.x12.ship_notice_856 import ShipNotice856, decode_856
from suture.formats.x12.tokenizer import Delimiters, Segment, split_interchanges, tokenize

__all__ = [
    "DECODERS",
    "CatalogItem",
    "ControlNumbers",
    "Delimiters",
    "FunctionalGroup",
    "GroupOutcome",
    "Interchange",
    "Invoice810",
    "InvoiceLine810",
    "PriceCatalog832",
    "PurchaseOrder850",
    "PurchaseOrderAcknowledgment855",
    "Segment",
    "SetOutcome",
    "ShipNotice856",
    "TechnicalAcknowledgment",
    "TradingPartnerProfile",
    "TransactionSet",
    "X12DecodeError",
    "X12Document",
    "X12EncodeError",
    "X12Error",
    "X12Finding",
    "X12Record",
    "assess_group",
    "decode_810",
    "decode_832",
    "decode_850",
    "decode_855",
    "decode_856",
    "decode_document",
    "decode_transaction_set",
    "purchase_order_from_850",
    "read_interchange",
    "split_interchanges",
    "tokenize",
    "write_850",
    "write_997",
    "write_999",
]
