"""Column profiles: a legacy export's headers and formats, refused early when they are wrong.

Every refusal names the profile file, the line in it, the key and the reason, so the person who
wrote the YAML can fix it without reading code.
"""

from __future__ import annotations

from textwrap import dedent

import pytest

from suture.formats.csv import (
    ColumnProfile,
    ImportKind,
    PackagingColumns,
    ProfileError,
    default_profile,
    load_profile,
)

SUPPLIERS = """\
kind: suppliers
columns:
  vendor_number: Vendor No
  name: Vendor Name
"""


def refusal(text: str) -> tuple[str, str, int | None]:
    """The (key, reason, line) with which :func:`load_profile` refuses ``text``."""
    with pytest.raises(ProfileError) as caught:
        load_profile(dedent(text), "lawson.yaml")
    return caught.value.field, caught.value.reason, caught.value.line


# Loading


def test_a_minimal_profile_takes_the_defaults_for_everything_else() -> None:
    assert load_profile(SUPPLIERS, "lawson.yaml") == ColumnProfile(
        kind=ImportKind.SUPPLIERS,
        source="lawson.yaml",
        columns={"vendor_number": "Vendor No", "name": "Vendor Name"},
    )


def test_every_setting_is_read_as_written() -> None:
    profile = load_profile(
        dedent("""\
        kind: items
        source_system: lawson
        delimiter: ";"
        quotechar: "'"
        encoding: cp1252
        date_format: "%d.%m.%Y"
        decimal_comma: yes
        true_values: [j, ja]
        false_values: [n, nein]
        uom_aliases: {Stk: EA, karton: CS}
        columns:
          description: Bezeichnung
          manufacturer: Hersteller
          catalog_number: Artikelnr
          purchase_uom: ME
        defaults:
          is_chargeable: N
          revenue_code: 0278
        packaging:
          - {uom: EA, each_per_unit: 1, gtin_column: EAN}
          - {uom_column: ME2, each_per_unit_column: Inhalt, gtin_column: EAN2}
        """),
        "lawson.yaml",
    )

    assert profile == ColumnProfile(
        kind=ImportKind.ITEMS,
        source="lawson.yaml",
        columns={
            "description": "Bezeichnung",
            "manufacturer": "Hersteller",
            "catalog_number": "Artikelnr",
            "purchase_uom": "ME",
        },
        defaults={"is_chargeable": "N", "revenue_code": "0278"},
        packaging=(
            PackagingColumns(uom="EA", each_per_unit=1, gtin_column="EAN"),
            PackagingColumns(uom_column="ME2", each_per_unit_column="Inhalt", gtin_column="EAN2"),
        ),
        delimiter=";",
        quotechar="'",
        encoding="cp1252",
        date_format="%d.%m.%Y",
        decimal_comma=True,
        true_values=frozenset({"J", "JA"}),
        false_values=frozenset({"N", "NEIN"}),
        uom_aliases={"STK": "EA", "KARTON": "CS"},
        source_system="lawson",
    )


def test_scalars_stay_text_so_a_leading_zero_or_a_yes_survives() -> None:
    profile = load_profile(SUPPLIERS + "defaults:\n  payment_terms: 0030\n  active: yes\n", "x")

    assert profile.defaults == {"payment_terms": "0030", "active": "yes"}


def test_a_tab_delimiter_is_kept_although_it_is_whitespace() -> None:
    assert load_profile(SUPPLIERS + 'delimiter: "\\t"\n', "x").delimiter == "\t"


@pytest.mark.parametrize("kind", list(ImportKind))
def test_each_kind_has_a_built_in_profile(kind: ImportKind) -> None:
    profile = default_profile(kind)

    assert (profile.kind, profile.source) == (kind, f"built-in profile {kind.value}.yaml")


def test_the_built_in_item_profile_reads_a_legacy_item_master_export() -> None:
    assert default_profile(ImportKind.ITEMS).headers == (
        "Item Number", "Description", "Mfr Name", "Mfr Catalog No", "Vendor Number", "UOM",
        "HIBC", "UNSPSC", "Implant Y/N", "Consignment Y/N", "Chargeable Y/N", "CDM", "HCPCS",
        "Rev Code", "List Price", "Active Y/N", "GTIN EA", "Each Per BX", "GTIN BX",
        "Each Per CS", "GTIN CS",
    )  # fmt: skip


def test_fixed_unit_gtin_columns_are_named_for_checks_made_after_decoding() -> None:
    headers = default_profile(ImportKind.ITEMS).field_headers()

    assert (headers["gtin.EA"], headers["gtin.BX"], headers["gtin.CS"]) == (
        "GTIN EA",
        "GTIN BX",
        "GTIN CS",
    )


# Refusals: key, reason and line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "kind: [items\n",
            ("", "not valid YAML: expected ',' or ']', but got '<stream end>'", 2),
            id="yaml",
        ),
        pytest.param(
            "- items\n", ("", "must be a mapping of keys (kind:, columns:, ...)", None), id="list"
        ),
        pytest.param(
            "columns: {name: N}\n",
            (
                "kind",
                "is required: one of items, suppliers, contract-prices, crosswalks, chargemaster, "
                "usage, charges",
                1,
            ),
            id="no-kind",
        ),
        pytest.param(
            "kind: vendors\n",
            (
                "kind",
                "'vendors' is not items, suppliers, contract-prices, crosswalks, chargemaster, "
                "usage, charges",
                1,
            ),
            id="bad-kind",
        ),
        pytest.param(
            "kind: suppliers\n",
            ("columns", "is required: canonical field -> CSV header", 1),
            id="no-columns",
        ),
        pytest.param(
            SUPPLIERS + "column: {}\n",
            (
                "column",
                "unknown key; expected one of kind, source_system, delimiter, quotechar, "
                "encoding, date_format, decimal_comma, true_values, false_values, uom_aliases, "
                "columns, defaults, packaging, time_format, time_zone",
                5,
            ),
            id="typo",
        ),
        pytest.param(SUPPLIERS + "kind: items\n", ("kind", "is given twice", 5), id="twice"),
        pytest.param(
            SUPPLIERS + "  vendor_nmber: V\n",
            (
                "columns.vendor_nmber",
                "unknown field; expected one of vendor_number, name, id, gln, hin, remit_line1, "
                "remit_city, remit_state, remit_postal_code, remit_country, payment_terms, active",
                5,
            ),
            id="unknown-field",
        ),
        pytest.param(
            "kind: suppliers\ncolumns:\n  name: N\n",
            ("columns.vendor_number", "is required: map a column or a default", 2),
            id="required",
        ),
        pytest.param(
            SUPPLIERS + "  gln:\n",
            ("columns.gln", "must be a non-empty text value", 5),
            id="empty-header",
        ),
        pytest.param(
            SUPPLIERS + "delimiter: ';;'\n",
            ("delimiter", "must be one character, got ';;'", 5),
            id="delimiter",
        ),
        pytest.param(
            SUPPLIERS + "quotechar: ','\n",
            ("quotechar", "must differ from the delimiter", 5),
            id="quotechar",
        ),
        pytest.param(
            SUPPLIERS + "encoding: utf-9\n",
            ("encoding", "unknown encoding 'utf-9'", 5),
            id="encoding",
        ),
        pytest.param(
            SUPPLIERS + "date_format: YYYY-MM-DD\n",
            ("date_format", "'YYYY-MM-DD' is not a strptime format of a whole date", 5),
            id="date-format",
        ),
        pytest.param(
            SUPPLIERS + "decimal_comma: maybe\n",
            ("decimal_comma", "must be true or false, got 'maybe'", 5),
            id="boolean",
        ),
        pytest.param(
            SUPPLIERS + "true_values: [Y]\nfalse_values: [y, n]\n",
            ("false_values", "['Y'] are also true values", 6),
            id="overlap",
        ),
        pytest.param(
            SUPPLIERS + "true_values: Y\n",
            ("true_values", "must be a non-empty list", 5),
            id="words",
        ),
        pytest.param(
            SUPPLIERS + "packaging: []\n",
            ("packaging", "applies to items only, not suppliers", 5),
            id="packaging-kind",
        ),
    ],
)
def test_a_bad_profile_is_refused_naming_key_reason_and_line(
    text: str, expected: tuple[str, str, int | None]
) -> None:
    assert refusal(text) == expected


ITEMS = """\
kind: items
columns:
  description: Description
  manufacturer: Mfr
  catalog_number: Cat No
  purchase_uom: UOM
"""


@pytest.mark.parametrize(
    ("packaging", "expected"),
    [
        pytest.param("", ("packaging", "is required for items: a list of levels", 1), id="missing"),
        pytest.param(
            "packaging: {uom: EA}\n",
            ("packaging", "must be a non-empty list of levels", 7),
            id="not-a-list",
        ),
        pytest.param(
            "packaging:\n  - {uom: EA, uom_column: U, each_per_unit: 1}\n",
            ("packaging[0]", "needs exactly one of uom and uom_column", 8),
            id="both",
        ),
        pytest.param(
            "packaging:\n  - {uom: EA}\n",
            ("packaging[0]", "needs exactly one of each_per_unit and each_per_unit_column", 8),
            id="neither",
        ),
        pytest.param(
            "packaging:\n  - {uom: BAG, each_per_unit: 1}\n",
            (
                "packaging[0].uom",
                "unknown unit 'BAG'; known: BG, BX, CA, CS, CT, DZ, EA, KT, PK, PR, RL, ST",
                8,
            ),
            id="unit",
        ),
        pytest.param(
            "packaging:\n  - {uom: EA, each_per_unit: 0}\n",
            ("packaging[0].each_per_unit", "must be a whole number >= 1, got '0'", 8),
            id="zero",
        ),
        pytest.param(
            "packaging:\n  - {uom: EA, each_per_unit: 1, gtin: G}\n",
            (
                "packaging[0].gtin",
                "unknown key; expected one of uom, uom_column, each_per_unit, "
                "each_per_unit_column, gtin_column",
                8,
            ),
            id="key",
        ),
        pytest.param(
            "uom_aliases: {BOX: BOXES}\npackaging:\n  - {uom: EA, each_per_unit: 1}\n",
            (
                "uom_aliases.BOX",
                "unknown unit 'BOXES'; known: BG, BX, CA, CS, CT, DZ, EA, KT, PK, PR, RL, ST",
                7,
            ),
            id="alias",
        ),
    ],
)
def test_item_packaging_levels_are_checked(
    packaging: str, expected: tuple[str, str, int | None]
) -> None:
    assert refusal(ITEMS + packaging) == expected


def test_a_packaging_unit_may_be_spelled_by_an_alias() -> None:
    profile = load_profile(
        ITEMS + "uom_aliases: {EACH: EA}\npackaging:\n  - {uom: each, each_per_unit: 1}\n", "x"
    )

    assert profile.packaging == (PackagingColumns(uom="EA", each_per_unit=1),)


CONTRACT_HEADER = """\
kind: contract-prices
columns:
  contract_number: Contract
  contract_name: Name
  vendor_number: Vendor
  contract_start: Start
  tier: Tier
"""


def test_a_contract_file_needs_membership_or_price_columns() -> None:
    assert refusal(CONTRACT_HEADER) == (
        "columns",
        "a membership or price line needs facility_id or unit_price+uom mapped",
        2,
    )


def test_a_contract_price_line_needs_a_way_to_name_its_item() -> None:
    text = CONTRACT_HEADER + "  unit_price: Price\n  uom: UOM\n  manufacturer: Mfr\n"

    assert refusal(text) == (
        "columns",
        "the item of a price line needs item_id or gtin or manufacturer+catalog_number mapped",
        2,
    )


def test_a_default_counts_as_a_mapping_for_a_required_field() -> None:
    text = CONTRACT_HEADER + "  facility_id: Facility\ndefaults:\n  gpo: Vizient\n"

    assert load_profile(text, "x").defaults == {"gpo": "Vizient"}


def test_the_message_names_the_file_the_line_and_the_key() -> None:
    with pytest.raises(ProfileError) as caught:
        load_profile(SUPPLIERS + "encoding: utf-9\n", "profiles/lawson.yaml")

    assert str(caught.value) == "profiles/lawson.yaml, line 5: encoding: unknown encoding 'utf-9'"
