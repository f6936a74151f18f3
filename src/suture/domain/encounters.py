"""The clinical context the revenue cycle sends: encounters (ADT, BAR) and staff (MFN^M02).

Charges and usage name their encounter by token (DESIGN.md §6); an ADT or BAR message tells the
hub what that encounter is: the account it bills to, its patient class, when it was admitted and
discharged. An :class:`Encounter` is keyed by facility and encounter token and holds tokens only,
never an identifier a person could read. Later messages about the same encounter (A08 update,
A03 discharge, BAR^P05) update it: :meth:`Encounter.merged` keeps what a message does not say.

A :class:`StaffMember` is reference data from MFN^M02 (a practitioner's id, name, type, job and
specialty): staff are not patients, and their names are not PHI.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from suture.domain.errors import DomainError
from suture.domain.messages import require_aware


@dataclass(frozen=True, slots=True, kw_only=True)
class Encounter:
    """One patient visit at a facility, as tokens and times."""

    facility_id: str
    encounter_token: str
    updated_at: datetime
    account_token: str | None = None
    patient_class: str | None = None
    admitted_at: datetime | None = None
    discharged_at: datetime | None = None
    #: The message type and event that last changed it (``ADT^A03``, ``BAR^P01``).
    last_event: str | None = None
    source_system: str = "rcm"

    def __post_init__(self) -> None:
        if not self.facility_id:
            raise DomainError("facility_id", "must not be empty")
        if not self.encounter_token:
            raise DomainError("encounter_token", "must not be empty")
        require_aware("updated_at", self.updated_at)
        for name in ("admitted_at", "discharged_at"):
            value = getattr(self, name)
            if value is not None:
                require_aware(name, value)

    def merged(self, newer: Encounter) -> Encounter:
        """This encounter with what ``newer`` says; what it leaves empty stays as it was."""
        return replace(
            self,
            updated_at=newer.updated_at,
            account_token=newer.account_token or self.account_token,
            patient_class=newer.patient_class or self.patient_class,
            admitted_at=newer.admitted_at or self.admitted_at,
            discharged_at=newer.discharged_at or self.discharged_at,
            last_event=newer.last_event or self.last_event,
            source_system=newer.source_system,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffMember:
    """A staff member or practitioner of the master file the RCM or HR system sends."""

    source_system: str
    staff_id: str
    family_name: str
    given_name: str
    updated_at: datetime
    prefix: str = ""
    staff_type: str = ""
    job_title: str = ""
    specialty: str = ""
    active: bool = True

    def __post_init__(self) -> None:
        if not self.staff_id:
            raise DomainError("staff_id", "must not be empty")
        require_aware("updated_at", self.updated_at)
