"""Charge ids of FT1 lines: every stored charge id depends on them, so they never change."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from suture.formats.hl7v2.keys import ChargeIds, charge_id_for

# surrogates included: ids are encoded with "surrogatepass", and must stay so
TEXT = st.text(st.characters(), max_size=12)


def test_ids_are_the_ones_stored_so_far() -> None:
    # computed by the code that stored the first charges; a change here orphans them
    assert ChargeIds("MAIN", "EPICADT", "FT1-2")("TX0000000101") == "CHG-B77C2790202704E19A16"
    assert charge_id_for("MAIN", "EPICADT", "MSG1", "1") == "CHG-C4E8A2BE9178B94C2DC8"
    assert ChargeIds("MAIN", "EPIC", "FT1-2")("TXé\ud800") == "CHG-8978C9610ACD96104F0C"


@given(st.lists(TEXT, min_size=1, max_size=4), TEXT)
def test_a_prefix_hashed_once_gives_the_id_of_the_whole_key(prefix: list[str], last: str) -> None:
    ids = ChargeIds(*prefix)
    assert ids(last) == charge_id_for(*prefix, last)
    assert ids(last + "x") != ids(last)
