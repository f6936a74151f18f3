"""Decoding a crosswalk row into a :class:`~suture.formats.csv.records.CrosswalkRequest`.

Row shape (canonical fields; the built-in profile's headers in brackets): source_system
["Source System"], kind ["Code Type"], local_code ["Local Code"] and canonical_id
["Canonical ID"] are required; facility_id ["Facility"] (blank: the mapping holds system-wide)
and supersede ["Supersede Y/N"] are optional. ``kind`` is one of
:class:`~suture.domain.crosswalk.CrosswalkKind`, in any case, with spaces or hyphens for
underscores ("Cost Center").

Whether the request is accepted (new, unchanged, or a conflict) is decided against the stored
mappings by the import service with :func:`~suture.domain.crosswalk.decide_mapping`.
"""

from __future__ import annotations

from suture.domain.crosswalk import CrosswalkKey, CrosswalkKind
from suture.domain.errors import SutureError
from suture.formats.csv.cells import Cells
from suture.formats.csv.profile import ColumnProfile
from suture.formats.csv.reader import Row
from suture.formats.csv.records import CrosswalkRequest


def decode_crosswalk(row: Row, profile: ColumnProfile) -> CrosswalkRequest:
    """The mapping requested by one row; raises :class:`RowError` listing every bad cell."""
    cells = Cells(row, profile)
    source_system = cells.text("source_system", required=True)
    kind = cells.parse("kind", _kind, required=True)
    local_code = cells.text("local_code", required=True)
    canonical_id = cells.text("canonical_id", required=True)
    facility_id = cells.text("facility_id")
    supersede = cells.boolean("supersede", default=False)
    cells.finish()
    key = CrosswalkKey(
        (source_system or "").lower(), facility_id, kind or CrosswalkKind.ITEM, local_code or ""
    )
    return CrosswalkRequest(key=key, canonical_id=canonical_id or "", supersede=supersede)


def _kind(value: str, column: str) -> CrosswalkKind:
    name = "_".join(value.lower().replace("-", " ").split())
    try:
        return CrosswalkKind(name)
    except ValueError:
        known = ", ".join(kind.value for kind in CrosswalkKind)
        raise SutureError(
            column, f"{value!r} is not a crosswalk kind; expected one of {known}"
        ) from None
