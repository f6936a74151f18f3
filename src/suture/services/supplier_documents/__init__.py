"""A supplier's documents applied to the canonical records: 855 → PO lines, 856 → expected
receipt, 810 (or the supplier API) → invoice (DESIGN.md §4, procure-to-pay).

Each ``apply_*`` runs inside the caller's unit of work (one transaction, or one savepoint of
it), writes the records and publishes the event, and opens the business exceptions the document
raises; the caller commits. What is wrong with the document itself (a line the PO does not
have, no facility to file an invoice under) raises :class:`DocumentError` naming the segment
and element, so the caller rolls the set back and fails it.

- **855** (:func:`apply_acknowledgment`): each PO1 line's first ACK01 code becomes a
  :class:`~suture.domain.purchasing.LineAcknowledgment`; the price is ACK's CTP, else PO104,
  so a price changed without saying so is caught too. A rejected or repriced line opens a
  ``po_acknowledgment_discrepancy`` item with the PO number, line and amounts. The PO is
  ``acknowledged``; event ``purchasing.order.acknowledged``.
- **856** (:func:`apply_ship_notice`): the shipped items under each order level (PRF01) become
  an :class:`~suture.domain.purchasing.ExpectedReceipt` of that PO, items identified by the
  buyer's number (``IN``/``BP``), a GTIN (``UK``/``EN``/``UP``), the supplier's part number
  (``VP``/``VN``/``MG``, through the item crosswalk of source system = the supplier id), else
  the PO line LIN01 names. A PO the hub does not know opens ``not_on_po``; an item it cannot
  identify opens ``missing_item_mapping``. Event ``purchasing.shipment.noticed``.
- **810** (:func:`invoice_from_810`, :func:`record_invoice`): an
  :class:`~suture.domain.invoicing.Invoice` matched to its PO by BIG04, its lines to PO lines
  by IT101 or item, stored with event ``purchasing.invoice.received``. Matching is not done
  here: the three-way match subscribes to that event.

PHI: supplier documents carry none; reasons name PO numbers, lines, codes and amounts only.
"""

from suture.services.supplier_documents.acknowledgments import (
    ACK_CODES,
    ORDER_ACKNOWLEDGED,
    apply_acknowledgment,
)
from suture.services.supplier_documents.common import (
    DocumentError,
    Provenance,
    facility_by_code_or_id,
    stable_id,
)
from suture.services.supplier_documents.invoices import (
    INVOICE_RECEIVED,
    invoice_from_810,
    record_invoice,
)
from suture.services.supplier_documents.ship_notices import SHIPMENT_NOTICED, apply_ship_notice

__all__ = [
    "ACK_CODES",
    "INVOICE_RECEIVED",
    "ORDER_ACKNOWLEDGED",
    "SHIPMENT_NOTICED",
    "DocumentError",
    "Provenance",
    "apply_acknowledgment",
    "apply_ship_notice",
    "facility_by_code_or_id",
    "invoice_from_810",
    "record_invoice",
    "stable_id",
]
