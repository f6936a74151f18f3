"""The organisation of a synthetic health system: hospitals, departments, locations, suppliers.

Canonical ids and codes are functions of an object's position, never of the seed ("FAC-01",
"SUP-0007", ERP vendor "V100007"), so that seeding a database twice, even with another seed,
never maps one local code to two canonical ids. The seed decides only what varies: names,
addresses, terms. Identifiers use GS1 prefix 952, which GS1 reserves for demonstrations and
examples, so no synthetic GTIN or GLN can collide with a real product or party.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from suture.domain.identifiers import make_gln
from suture.domain.masterdata import (
    Address,
    CostCenter,
    Department,
    Facility,
    GLAccount,
    Location,
    LocationKind,
    Supplier,
)
from suture.services.synthetic import vocabulary as words
from suture.services.synthetic.profiles import Profile

#: GS1 prefix for demonstrations and examples (GS1 General Specifications, prefix list).
GS1_DEMO_PREFIX = "952"
#: The health system's own GS1 company prefix; its facilities' GLNs are numbered under it.
HEALTH_SYSTEM_COMPANY = GS1_DEMO_PREFIX + "0000"


def company_prefix(supplier_number: int) -> str:
    """The 7-digit GS1 company prefix of supplier ``supplier_number`` (1-based)."""
    return f"{GS1_DEMO_PREFIX}{1000 + supplier_number:04d}"


def supplier_id(supplier_number: int) -> str:
    return f"SUP-{supplier_number:04d}"


def facility_id(facility_number: int) -> str:
    return f"FAC-{facility_number:02d}"


def letters(number: int, width: int = 3) -> str:
    """``number`` in base 26 as upper-case letters, e.g. 0 -> "AAA", 27 -> "ABB"."""
    out = []
    for _ in range(width):
        number, digit = divmod(number, 26)
        out.append(chr(ord("A") + digit))
    return "".join(reversed(out))


@dataclass(frozen=True, slots=True)
class SupplierRole:
    """What a supplier is to the item master: a distributor, or a manufacturer of a specialty."""

    number: int
    is_distributor: bool
    specialty: str | None
    #: HIBC labeler code, for the manufacturers that label with HIBC as well as GS1.
    hibc_labeler: str | None


@dataclass(frozen=True, slots=True)
class LocationPlan:
    facility_number: int
    location_id: str
    kind: LocationKind
    department_id: str


class Organization:
    """Streams of the organisational master data; each stream draws from its own seeded RNG."""

    def __init__(self, profile: Profile, seed: int) -> None:
        self.profile = profile
        self.seed = seed

    def rng(self, stream: str) -> random.Random:
        # Reproducible synthetic data, not secrets: a seeded PRNG is the point.
        return random.Random(f"{self.seed}:{stream}")  # noqa: S311

    def facilities(self) -> Iterator[Facility]:
        rng = self.rng("facilities")
        places = list(words.PLACES)
        rng.shuffle(places)
        for number in range(1, self.profile.hospitals + 1):
            place = places[(number - 1) % len(places)]
            kind = rng.choice(words.HOSPITAL_KINDS)
            repeat = (number - 1) // len(places)
            name = f"Synthetic {place} {kind}" + (f" {repeat + 1}" if repeat else "")
            yield Facility(
                id=facility_id(number),
                code=f"SYN{number:02d}",
                name=name,
                gln=make_gln(f"{HEALTH_SYSTEM_COMPANY}{number:05d}"),
                timezone=words.TIMEZONES[(number - 1) % len(words.TIMEZONES)],
            )

    def _templates(self) -> tuple[words.DepartmentTemplate, ...]:
        return words.DEPARTMENTS[: self.profile.departments_per_hospital]

    def cost_centers(self) -> Iterator[CostCenter]:
        for number in range(1, self.profile.hospitals + 1):
            for template in self._templates():
                yield CostCenter(
                    id=f"CC-{number:02d}-{template.cost_center}",
                    facility_id=facility_id(number),
                    code=template.cost_center,
                    name=f"{template.name} (SYN{number:02d})",
                )

    def departments(self) -> Iterator[Department]:
        for number in range(1, self.profile.hospitals + 1):
            for template in self._templates():
                yield Department(
                    id=f"DEP-{number:02d}-{template.code}",
                    facility_id=facility_id(number),
                    code=template.code,
                    name=template.name,
                    cost_center_id=f"CC-{number:02d}-{template.cost_center}",
                )

    @cached_property
    def location_plan(self) -> tuple[LocationPlan, ...]:
        """Every inventory location: OR, cath lab, central supply, then the nursing units."""
        plans = []
        nursing_budget = self.profile.nursing_units_per_hospital
        for number in range(1, self.profile.hospitals + 1):
            nursing = 0
            for template in self._templates():
                if template.location is None:
                    continue
                if template.location is LocationKind.NURSING_UNIT:
                    if nursing == nursing_budget:
                        continue
                    nursing += 1
                plans.append(
                    LocationPlan(
                        facility_number=number,
                        location_id=f"LOC-{number:02d}-{template.code}",
                        kind=template.location,
                        department_id=f"DEP-{number:02d}-{template.code}",
                    )
                )
        return tuple(plans)

    def locations(self) -> Iterator[Location]:
        names = {template.code: template.name for template in words.DEPARTMENTS}
        for plan in self.location_plan:
            code = plan.location_id.rsplit("-", 1)[1]
            label = words.LOCATION_NAMES[plan.kind]
            if plan.kind is LocationKind.NURSING_UNIT:
                label = f"{names[code]} {label}"
            yield Location(
                id=plan.location_id,
                facility_id=facility_id(plan.facility_number),
                code=f"{code}-STOCK",
                name=label,
                kind=plan.kind,
                department_id=plan.department_id,
            )

    def gl_accounts(self) -> Iterator[GLAccount]:
        for number, name, kind in words.GL_ACCOUNTS:
            yield GLAccount(id=f"GL-{number}", number=number, name=name, kind=kind)

    @cached_property
    def supplier_roles(self) -> tuple[SupplierRole, ...]:
        """Distributors first, then manufacturers cycling through the specialties."""
        count = self.profile.suppliers
        distributors = max(1, round(count * self.profile.distributor_share))
        distributors = min(distributors, count - 1) if count > 1 else count
        roles = []
        for number in range(1, count + 1):
            if number <= distributors:
                roles.append(SupplierRole(number, True, None, None))
                continue
            specialty = words.SPECIALTIES[(number - distributors - 1) % len(words.SPECIALTIES)]
            labeler = f"S{letters(number)}" if number % 3 == 0 else None
            roles.append(SupplierRole(number, False, specialty, labeler))
        return tuple(roles)

    @cached_property
    def supplier_names(self) -> tuple[str, ...]:
        """Unique made-up names: per specialty, a seeded walk through prefix x form x suffix."""
        rng = self.rng("supplier-names")
        combos = [
            (prefix, form, suffix)
            for prefix in words.SUPPLIER_PREFIXES
            for form in words.SUPPLIER_FORMS
            for suffix in words.SUPPLIER_SUFFIXES
        ]
        orders: dict[str | None, list[tuple[str, str, str]]] = {}
        used: dict[str | None, int] = {}
        names = []
        for role in self.supplier_roles:
            if role.specialty not in orders:
                orders[role.specialty] = rng.sample(combos, len(combos))
            position = used.get(role.specialty, 0)
            used[role.specialty] = position + 1
            prefix, form, suffix = orders[role.specialty][position % len(combos)]
            repeat = position // len(combos)
            middle = f"{role.specialty} {form}" if role.specialty else words.DISTRIBUTION
            names.append(f"{prefix} {middle}{f' {repeat + 1}' if repeat else ''} {suffix}")
        return tuple(names)

    def suppliers(self) -> Iterator[Supplier]:
        rng = self.rng("suppliers")
        for role, name in zip(self.supplier_roles, self.supplier_names, strict=True):
            number = role.number
            yield Supplier(
                id=supplier_id(number),
                name=name,
                erp_vendor_id=erp_vendor_id(number),
                gln=make_gln(f"{company_prefix(number)}00000"),
                hin=f"SY{number:05d}00",
                remit_to=Address(
                    line1=f"{rng.randint(100, 9999)} {rng.choice(words.STREETS)}",
                    city=rng.choice(words.CITIES),
                    state=rng.choice(words.STATES),
                    postal_code=f"{rng.randint(10000, 99999)}",
                ),
                payment_terms=rng.choice(words.PAYMENT_TERMS),
            )


def erp_vendor_id(supplier_number: int) -> str:
    return f"V{100000 + supplier_number}"
