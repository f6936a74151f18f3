"""The words a synthetic health system is made of: names, departments, accounts, item categories.

Every name is plainly made up ("Synthetic Valley General Hospital", "Example Ortho Devices
Inc."), so that seeded data can never be mistaken for a real hospital, vendor or patient.
Codes that carry meaning are real: UB-04 revenue codes (0278 other implants, 0272 sterile
supply, 0270 general supply), CMS device HCPCS C-codes (C1776 joint device, C1713 anchor/screw,
C1874 coated stent with delivery system, ...) and UNSPSC classes of segment 42 (Medical
Equipment and Accessories and Supplies), chosen per category for plausibility rather than as an
authoritative classification.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from suture.domain.masterdata import AccountKind, LocationKind

PLACES = (
    "Valley", "Ridge", "Lakes", "Harbor", "Prairie", "River", "Summit", "Meadow", "Canyon",
    "Pine", "Cedar", "Bay", "Highland", "Orchard", "Willow", "Granite", "Sample", "Mesa",
)  # fmt: skip
HOSPITAL_KINDS = ("General Hospital", "Medical Center", "Community Hospital", "Regional Hospital")
TIMEZONES = ("America/Chicago", "America/New_York", "America/Denver", "America/Los_Angeles")

SUPPLIER_PREFIXES = (
    "Example", "Sample", "Synthetic", "Placeholder", "Demo", "Fictional", "Testbed", "Mock",
    "Imaginary", "Notional",
)  # fmt: skip
SUPPLIER_FORMS = ("Devices", "Systems", "Products", "Technologies", "Instruments", "Labs")
SUPPLIER_SUFFIXES = ("Inc.", "LLC", "Co.", "Corp.", "Ltd.")
#: Manufacturer specialties; a category is made by manufacturers of its specialty.
SPECIALTIES = ("Ortho", "Cardio", "Surgical", "Medical", "Wound Care", "Vascular", "Spine")
DISTRIBUTION = "Medical Distribution"
CITIES = ("Exampleville", "Sampleton", "Mockford", "Testburg", "Placeholder Falls", "Demo City")
STATES = ("IL", "OH", "TX", "GA", "MN", "TN", "IN", "NC", "PA", "WI")
STREETS = ("Example Way", "Synthetic Blvd", "Sample Parkway", "Placeholder Ave", "Demo Drive")
PAYMENT_TERMS = ("NET30", "NET45", "NET60", "2%10NET30")
GPOS = ("Example Purchasing Alliance", "Sample Health Sourcing Cooperative")


@dataclass(frozen=True, slots=True)
class DepartmentTemplate:
    code: str
    name: str
    cost_center: str
    #: The inventory location kind this department runs, if any.
    location: LocationKind | None


#: In order: the three procedural/supply departments every hospital has, then nursing units,
#: then support departments. A profile takes the first ``departments_per_hospital``.
DEPARTMENTS = (
    DepartmentTemplate("SURG", "Perioperative Services", "6100", LocationKind.OPERATING_ROOM),
    DepartmentTemplate("CATH", "Cardiac Catheterization Lab", "6200", LocationKind.CATH_LAB),
    DepartmentTemplate("MATL", "Materials Management", "8400", LocationKind.CENTRAL_SUPPLY),
    DepartmentTemplate("ICU", "Intensive Care Unit", "6010", LocationKind.NURSING_UNIT),
    DepartmentTemplate("MSU", "Medical-Surgical Unit", "6020", LocationKind.NURSING_UNIT),
    DepartmentTemplate("TELE", "Telemetry Unit", "6030", LocationKind.NURSING_UNIT),
    DepartmentTemplate("LND", "Labor and Delivery", "6040", LocationKind.NURSING_UNIT),
    DepartmentTemplate("PEDS", "Pediatrics Unit", "6050", LocationKind.NURSING_UNIT),
    DepartmentTemplate("ED", "Emergency Department", "6300", None),
    DepartmentTemplate("RAD", "Radiology", "7100", None),
    DepartmentTemplate("IR", "Interventional Radiology", "7150", None),
    DepartmentTemplate("ENDO", "Endoscopy", "6400", None),
    DepartmentTemplate("ONC", "Oncology Infusion", "6500", None),
    DepartmentTemplate("LAB", "Laboratory", "7200", None),
    DepartmentTemplate("PHAR", "Pharmacy", "7300", None),
    DepartmentTemplate("REHB", "Rehabilitation Services", "7400", None),
)

LOCATION_NAMES = {
    LocationKind.OPERATING_ROOM: "Main OR Core",
    LocationKind.CATH_LAB: "Cath Lab Supply Room",
    LocationKind.CENTRAL_SUPPLY: "Central Supply",
    LocationKind.NURSING_UNIT: "Supply Closet",
}

#: The chart of accounts shared by every hospital: (number, name, kind).
GL_ACCOUNTS = (
    ("1400", "Inventory - Medical Supplies", AccountKind.ASSET),
    ("1410", "Inventory - Implants", AccountKind.ASSET),
    ("2000", "Accounts Payable - Trade", AccountKind.LIABILITY),
    ("2100", "Accrued Receipts Not Invoiced", AccountKind.LIABILITY),
    ("4300", "Patient Revenue - Supplies and Implants", AccountKind.REVENUE),
    ("5100", "Medical Supplies Expense", AccountKind.EXPENSE),
    ("5110", "Implant Expense", AccountKind.EXPENSE),
    ("5120", "Non-Chargeable Supplies Expense", AccountKind.EXPENSE),
    ("5190", "Purchase Price Variance", AccountKind.EXPENSE),
    ("5195", "Freight In", AccountKind.EXPENSE),
)


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of item: how it is described, classified, packaged, priced, billed and stocked.

    ``boxes`` lists (eaches per box, boxes per case) packagings; (1, 1) means sold by the each
    only. A category with an ``hcpcs`` is always chargeable; others are chargeable at the
    profile's ``chargeable_share``. Prices are per each.
    """

    key: str
    nouns: tuple[str, ...]
    variants: tuple[str, ...]
    unspsc: str
    specialty: str
    is_implant: bool
    revenue_code: str
    hcpcs: str | None
    price_low: Decimal
    price_high: Decimal
    boxes: tuple[tuple[int, int], ...]
    locations: tuple[LocationKind, ...]
    weight: int


_OR = (LocationKind.OPERATING_ROOM,)
_CATH = (LocationKind.CATH_LAB,)
_FLOOR = (LocationKind.CENTRAL_SUPPLY, LocationKind.NURSING_UNIT)


def _d(value: str) -> Decimal:
    return Decimal(value)


IMPLANTS = (
    Category("joint", ("Knee femoral component", "Tibial baseplate", "Hip femoral stem",
             "Acetabular shell", "Humeral stem"), ("cemented", "cementless", "size 3", "size 5"),
             "42295400", "Ortho", True, "0278", "C1776", _d("1500"), _d("9000"), ((1, 1),), _OR,
             25),
    Category("screw", ("Cortical bone screw", "Cancellous bone screw", "Suture anchor",
             "Interference screw"), ("titanium, 3.5 mm", "titanium, 4.5 mm", "PEEK, 5.0 mm"),
             "42321500", "Ortho", True, "0278", "C1713", _d("120"), _d("900"), ((1, 1),), _OR, 25),
    Category("spine", ("Pedicle screw", "Interbody cage", "Spinal rod"), ("titanium", "PEEK"),
             "42321600", "Spine", True, "0278", "C1713", _d("400"), _d("3500"), ((1, 1),), _OR,
             10),
    Category("des", ("Drug-eluting coronary stent", "Covered peripheral stent"),
             ("2.5 x 18 mm", "3.0 x 23 mm", "3.5 x 28 mm"), "42295400", "Cardio", True, "0278",
             "C1874", _d("900"), _d("2200"), ((1, 1),), _CATH, 20),
    Category("bms", ("Bare-metal coronary stent",), ("2.75 x 15 mm", "3.5 x 20 mm"), "42295400",
             "Vascular", True, "0278", "C1876", _d("500"), _d("1200"), ((1, 1),), _CATH, 5),
    Category("pacemaker", ("Dual-chamber pacemaker",), ("MRI-conditional", "standard"),
             "42295400", "Cardio", True, "0278", "C1785", _d("4000"), _d("9500"), ((1, 1),),
             _CATH, 5),
    Category("lead", ("Transvenous pacing lead",), ("52 cm", "58 cm"), "42295400", "Cardio", True,
             "0278", "C1898", _d("600"), _d("1500"), ((1, 1),), _CATH, 5),
    Category("mesh", ("Hernia repair mesh",), ("15 x 15 cm", "30 x 30 cm"), "42295400",
             "Surgical", True, "0278", "C1781", _d("300"), _d("2500"), ((1, 1),), _OR, 5),
)  # fmt: skip

SUPPLIES = (
    Category("ptca", ("PTCA balloon catheter",), ("2.5 x 15 mm", "3.0 x 20 mm"), "42203400",
             "Cardio", False, "0272", "C1725", _d("150"), _d("700"), ((1, 1),), _CATH, 4),
    Category("wire", ("Guide wire",), ("0.014 in x 190 cm", "0.035 in x 150 cm"), "42203400",
             "Vascular", False, "0272", "C1769", _d("40"), _d("200"), ((5, 4),), _CATH, 4),
    Category("sheath", ("Introducer sheath",), ("6 Fr", "7 Fr", "8 Fr"), "42203400", "Vascular",
             False, "0272", "C1894", _d("60"), _d("250"), ((5, 4),), _CATH, 3),
    Category("exam_glove", ("Exam glove",), ("nitrile", "latex-free vinyl"), "42132200",
             "Medical", False, "0270", None, _d("0.05"), _d("0.30"), ((100, 10), (200, 10)),
             _FLOOR, 12),
    Category("surg_glove", ("Surgical glove",), ("sterile, powder-free", "sterile, underglove"),
             "42132200", "Surgical", False, "0272", None, _d("0.80"), _d("2.50"), ((50, 4),), _OR,
             8),
    Category("syringe", ("Syringe",), ("1 mL", "3 mL", "10 mL", "20 mL"), "42142600", "Medical",
             False, "0270", None, _d("0.08"), _d("0.60"), ((100, 10), (50, 8)), _FLOOR, 10),
    Category("needle", ("Hypodermic needle",), ("18 G", "22 G", "25 G"), "42142500", "Medical",
             False, "0270", None, _d("0.05"), _d("0.40"), ((100, 10),), _FLOOR, 8),
    Category("iv", ("IV catheter",), ("20 G", "22 G", "24 G"), "42221500", "Vascular", False,
             "0270", None, _d("1.00"), _d("3.00"), ((50, 4),), _FLOOR, 6),
    Category("dressing", ("Foam dressing", "Gauze sponge", "Transparent film dressing"),
             ("4 x 4 in", "6 x 6 in"), "42311500", "Wound Care", False, "0270", None, _d("0.10"),
             _d("20.00"), ((10, 10), (25, 8), (200, 10)), _FLOOR, 10),
    Category("suture", ("Absorbable suture", "Nonabsorbable suture"), ("2-0", "3-0", "4-0"),
             "42312200", "Surgical", False, "0272", None, _d("3.00"), _d("25.00"), ((12, 6),
             (36, 4)), _OR, 8),
    Category("drape", ("Surgical drape",), ("universal", "laparotomy", "extremity"), "42131700",
             "Surgical", False, "0272", None, _d("3.00"), _d("30.00"), ((1, 20), (10, 4)), _OR, 6),
    Category("blade", ("Scalpel blade",), ("#10", "#11", "#15"), "42291600", "Surgical", False,
             "0272", None, _d("0.30"), _d("2.00"), ((50, 4),), _OR, 5),
    Category("wrap", ("Sterilization wrap",), ("24 x 24 in", "36 x 36 in"), "42281500",
             "Medical", False, "0270", None, _d("0.50"), _d("3.00"), ((1, 250), (100, 4)),
             (LocationKind.CENTRAL_SUPPLY,), 4),
    Category("foley", ("Urinary catheter tray",), ("14 Fr", "16 Fr"), "42231500", "Medical",
             False, "0270", None, _d("6.00"), _d("18.00"), ((1, 10), (1, 20)), _FLOOR, 4),
)  # fmt: skip
