"""The one error of the UDI codec: which part of the barcode is wrong, and why.

A UDI scan fails in one place a person can name: an application identifier of a GS1 element
string ("(17) expiry"), or a part of an HIBC code ("HIBC secondary: link character")::

    SutureError
    └── UdiDecodeError   part of the barcode (``field``) and the reason

Character positions in reasons are 1-based, counted from the start of the scan as given (after
a symbology identifier and ``*`` delimiters are removed, for HIBC).
"""

from __future__ import annotations

from suture.domain.errors import SutureError

__all__ = ["UdiDecodeError"]


class UdiDecodeError(SutureError):
    """A scan that is not a valid GS1 or HIBC UDI; ``field`` names the part, e.g. ``(01) GTIN``."""
