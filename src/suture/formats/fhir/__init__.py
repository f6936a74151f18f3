"""The FHIR R4 codec: JSON resources and Bundles into canonical records, or an OperationOutcome.

Pure, like every codec (STYLE.md): no sockets, no database, no clock. The HTTP edge
(``POST /fhir/R4/{type}``, ``POST /fhir/R4``, ``GET /fhir/R4/metadata``) stores the raw body,
then calls this package, and answers what it returns. It hands in a :class:`Decoding`: the
:class:`Settings` of the sending client (facility, zone, currency, source system), the keyed-hash
``tokenize`` for patient identifiers (the codec never returns one), and ``read_udi``
(:func:`suture.formats.udi.parse_udi`, passed in so codecs do not import each other).

- :mod:`.validation`: :func:`load_json`, :func:`validate_resource` with the fhir.resources R4B
  models, plus :mod:`.bindings` (required codes the models do not check);
- :mod:`.errors`: :class:`FhirDecodeError`, :class:`Issue`, :func:`operation_outcome`, and the
  HTTP status (400 structure, 422 business rule); :mod:`.paths`: pydantic locations to FHIRPath;
- :mod:`.decoder`: :func:`decode_resource`, dispatching to :mod:`.charges` (ChargeItem),
  :mod:`.usage` (SupplyDelivery, Procedure), :mod:`.devices` (Device), :mod:`.invoices`
  (Invoice), :mod:`.requisitions` (SupplyRequest); :mod:`.references` resolves and tokenizes;
- :mod:`.bundles`: :func:`decode_bundle` for ``batch`` and ``transaction``;
- :mod:`.capability`: :func:`capability_statement`.
"""

from __future__ import annotations

from suture.formats.fhir.bundles import BUNDLE_TYPES, BundleEntry, DecodedBundle, decode_bundle
from suture.formats.fhir.capability import FHIR_VERSION, capability_statement
from suture.formats.fhir.charges import DecodedChargeItem
from suture.formats.fhir.decoder import Decoded, Decoding, Record, decode_resource
from suture.formats.fhir.devices import DeviceIdentification, ReadUdi, UdiReading
from suture.formats.fhir.errors import (
    BAD_REQUEST,
    UNPROCESSABLE,
    FhirDecodeError,
    Issue,
    operation_outcome,
)
from suture.formats.fhir.invoices import DecodedInvoice, PatientInvoice
from suture.formats.fhir.references import Tokenize
from suture.formats.fhir.usage import DecodedUsage, UsageLine
from suture.formats.fhir.validation import SUPPORTED_TYPES, load_json, validate_resource
from suture.formats.fhir.values import Settings

__all__ = [
    "BAD_REQUEST",
    "BUNDLE_TYPES",
    "FHIR_VERSION",
    "SUPPORTED_TYPES",
    "UNPROCESSABLE",
    "BundleEntry",
    "Decoded",
    "DecodedBundle",
    "DecodedChargeItem",
    "DecodedInvoice",
    "DecodedUsage",
    "Decoding",
    "DeviceIdentification",
    "FhirDecodeError",
    "Issue",
    "PatientInvoice",
    "ReadUdi",
    "Record",
    "Settings",
    "Tokenize",
    "UdiReading",
    "UsageLine",
    "capability_statement",
    "decode_bundle",
    "decode_resource",
    "load_json",
    "operation_outcome",
    "validate_resource",
]
