"""The UDI codec: a GS1 or HIBC barcode scan → device identifier, lot, serial and dates.

Pure: text in, a :class:`Udi` or a :class:`UdiDecodeError` out (DESIGN.md §2, §9).

- :mod:`.scan`: :func:`parse_udi`, which recognises the syntax and dispatches;
- :mod:`.gs1`: GS1 element strings through biip, plus check digits and dates;
- :mod:`.hibc`, :mod:`.hibc_secondary`: HIBC LIC primary and secondary data, in-house;
- :mod:`.records`: :class:`Udi`, :class:`Issuer`; :mod:`.errors`: :class:`UdiDecodeError`.
"""

from __future__ import annotations

from suture.formats.udi.errors import UdiDecodeError
from suture.formats.udi.records import Issuer, Udi
from suture.formats.udi.scan import parse_udi

__all__ = ["Issuer", "Udi", "UdiDecodeError", "parse_udi"]
