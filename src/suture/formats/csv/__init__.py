"""The flat-file codec: CSV master data (item, vendor, contract-price and crosswalk files) and
the usage and charge feeds of procedural and legacy billing systems.

Pure: it reads a text stream it is given and returns canonical objects or row errors; the
database, the file system and the progress bar belong to the import service and the CLI.

- :mod:`.profile`: :func:`load_profile` / :func:`default_profile`, a legacy export's columns;
- :mod:`.reader`: :func:`read_rows`, streaming rows with their physical line numbers;
- :mod:`.items`, :mod:`.suppliers`, :mod:`.contract_prices`, :mod:`.crosswalks`: one decoder a
  kind; :func:`decode_rows` applies the profile's;
- :mod:`.usage`, :mod:`.charges`: feed rows to :class:`UsageLine` / :class:`ChargeLine`, with
  patient identifiers tokenized by the caller's ``tokenize`` (:mod:`.feeds`);
- :mod:`.errors`: :class:`ProfileError`, :class:`CsvFileError`, :class:`RowError`.
"""

from __future__ import annotations

from suture.formats.csv.charges import ChargeLine, decode_charge, decode_charge_rows
from suture.formats.csv.contract_prices import decode_contract_price
from suture.formats.csv.crosswalks import decode_crosswalk
from suture.formats.csv.errors import CsvError, CsvFileError, ProfileError, RowError
from suture.formats.csv.feeds import Tokenize
from suture.formats.csv.fields import ImportKind
from suture.formats.csv.items import decode_item
from suture.formats.csv.keys import contract_id_for, item_id_for, supplier_id_for
from suture.formats.csv.masterdata import decode_rows
from suture.formats.csv.profile import (
    ColumnProfile,
    PackagingColumns,
    default_profile,
    load_profile,
)
from suture.formats.csv.reader import Row, read_rows
from suture.formats.csv.records import (
    ContractLine,
    CrosswalkRequest,
    Decoded,
    ItemLine,
    ItemRef,
    PriceLine,
)
from suture.formats.csv.suppliers import decode_supplier
from suture.formats.csv.usage import UsageItemRef, UsageLine, decode_usage, decode_usage_rows

__all__ = [
    "ChargeLine",
    "ColumnProfile",
    "ContractLine",
    "CrosswalkRequest",
    "CsvError",
    "CsvFileError",
    "Decoded",
    "ImportKind",
    "ItemLine",
    "ItemRef",
    "PackagingColumns",
    "PriceLine",
    "ProfileError",
    "Row",
    "RowError",
    "Tokenize",
    "UsageItemRef",
    "UsageLine",
    "contract_id_for",
    "decode_charge",
    "decode_charge_rows",
    "decode_contract_price",
    "decode_crosswalk",
    "decode_item",
    "decode_rows",
    "decode_supplier",
    "decode_usage",
    "decode_usage_rows",
    "default_profile",
    "item_id_for",
    "load_profile",
    "read_rows",
    "supplier_id_for",
]
