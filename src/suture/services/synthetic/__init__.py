"""A deterministic synthetic health system to demo, test and benchmark Suture on.

``HealthSystemGenerator(profile, seed)`` streams the objects; ``seed(...)`` in :mod:`.loader`
writes them through the unit of work, idempotently.
"""

from suture.services.synthetic.health_system import HealthSystemGenerator
from suture.services.synthetic.profiles import PROFILES, Profile

__all__ = ["PROFILES", "HealthSystemGenerator", "Profile"]
