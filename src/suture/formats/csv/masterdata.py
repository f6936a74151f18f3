"""Turning a stream of rows into decoded master data or row errors, lazily.

The import service consumes this stream in batches; a bad row becomes a :class:`RowError` in
the stream, in its place, so a rejected row never stops or drops the valid rows around it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from suture.formats.csv.chargemaster import decode_chargemaster_price
from suture.formats.csv.contract_prices import decode_contract_price
from suture.formats.csv.crosswalks import decode_crosswalk
from suture.formats.csv.errors import RowError
from suture.formats.csv.fields import ImportKind
from suture.formats.csv.items import decode_item
from suture.formats.csv.profile import ColumnProfile
from suture.formats.csv.reader import Row
from suture.formats.csv.records import Decoded
from suture.formats.csv.suppliers import decode_supplier

Decoder = Callable[[Row, ColumnProfile], object]

DECODERS: Mapping[ImportKind, Decoder] = {
    ImportKind.ITEMS: decode_item,
    ImportKind.SUPPLIERS: decode_supplier,
    ImportKind.CONTRACT_PRICES: decode_contract_price,
    ImportKind.CROSSWALKS: decode_crosswalk,
    ImportKind.CHARGEMASTER: decode_chargemaster_price,
}


def decode_rows(
    rows: Iterable[Row], profile: ColumnProfile
) -> Iterator[Decoded[object] | RowError]:
    """Each row decoded with the profile's kind, or the :class:`RowError` that refused it."""
    decode = DECODERS[profile.kind]
    columns = profile.field_headers()
    for row in rows:
        try:
            yield Decoded(row.line_number, decode(row, profile), columns)
        except RowError as error:
            yield error
