"""The pure core of the message backbone (DESIGN.md §3): envelopes, schemas, retries, routing.

Nothing here touches a database, a socket or a clock; storage and transport build on it.

- :mod:`~suture.eventlog.envelope` and :mod:`~suture.eventlog.ids`: the envelope, its JSON
  form, UUIDv7 ids and idempotency keys.
- :mod:`~suture.eventlog.schemas`, :mod:`~suture.eventlog.upcasting`,
  :mod:`~suture.eventlog.compatibility` and :mod:`~suture.eventlog.events`: versioned payload
  models, upcasters, the backward-compatibility check and the event catalog.
- :mod:`~suture.eventlog.retry`: retry, dead-letter or park after a failed attempt.
- :mod:`~suture.eventlog.routing`: the YAML routing policy.

The package's branch of the error tree (``SutureError`` is in :mod:`suture.domain.errors`)::

    SutureError
    ├── EventLogError                 an envelope, schema or policy is not as promised
    │   ├── EnvelopeError             malformed envelope or envelope JSON (field = the key)
    │   ├── SchemaError               unknown type or version, inconsistent registration
    │   │   ├── PayloadError          a payload fails its (type, version) schema
    │   │   └── UpcastError           no upcaster step to bring a payload forward
    │   ├── RetryPolicyError          impossible retry settings
    │   └── RoutingPolicyError        invalid policy YAML; message "source:line: key: reason"
    └── MissingDependencyError        master data missing: park on ``dependency``, re-drive later

:func:`~suture.eventlog.errors.classify` maps any failure to what the retry decision needs:
missing dependency (park), permanent (dead letter now: ``EnvelopeError``, ``SchemaError``,
pydantic ``ValidationError``, ``DomainError``) or transient (everything else: retry).
"""

from suture.eventlog.errors import (
    DependencyKey,
    EnvelopeError,
    ErrorKind,
    EventLogError,
    MissingDependencyError,
    PayloadError,
    RetryPolicyError,
    RoutingPolicyError,
    SchemaError,
    UpcastError,
    classify,
)

__all__ = [
    "DependencyKey",
    "EnvelopeError",
    "ErrorKind",
    "EventLogError",
    "MissingDependencyError",
    "PayloadError",
    "RetryPolicyError",
    "RoutingPolicyError",
    "SchemaError",
    "UpcastError",
    "classify",
]
