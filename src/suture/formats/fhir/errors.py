"""The one error of the FHIR codec: a list of OperationOutcome issues and the HTTP status.

Every failure of this package, from bytes that are not JSON to a ChargeItem whose status is not
in its required value set, is a :class:`FhirDecodeError`::

    SutureError
    └── FhirDecodeError     issues (severity, code, diagnostics, FHIRPath expression),
                            http_status 400 (unparseable, structure) or 422 (business rule)

Each :class:`Issue` names the offending element by its FHIRPath (``ChargeItem.quantity.value``,
``Bundle.entry[2].resource.status``) as OperationOutcome.issue.expression asks (FHIR R4
§2.36 OperationOutcome). The status follows FHIR R4 http.html#create: 400 when the resource
could not be parsed or failed basic FHIR validation, 422 when it is well-formed but breaks a
rule of this server (a required binding, a reference of the wrong type, money without a
currency, a mapping the hub cannot make). Diagnostics never quote a value from the resource:
identifiers, names and dates in it may be PHI (DESIGN.md §6); only element names, codes of
this server's value sets and resource type names appear.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from suture.domain.errors import SutureError

#: HTTP status for a body that is not a FHIR resource at all or fails structural validation.
BAD_REQUEST = 400
#: HTTP status for a well-formed resource that breaks a business rule of this server.
UNPROCESSABLE = 422


@dataclass(frozen=True, slots=True)
class Issue:
    """One OperationOutcome.issue; ``code`` from the FHIR issue-type value set.

    Codes used: ``invalid`` (not JSON), ``structure`` (wrong type, unknown element),
    ``required`` (missing element), ``value`` (a value out of range or of the wrong shape),
    ``code-invalid`` (a code outside its required value set), ``not-supported`` (a resource
    type, Bundle type or interaction this server does not take), ``not-found`` (an unresolvable
    reference), ``business-rule`` (a rule of the mapping).
    """

    code: str
    diagnostics: str
    expression: str = ""
    severity: str = "error"
    status: int = UNPROCESSABLE

    def to_json(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            issue["expression"] = [self.expression]
        return issue

    def under(self, prefix: str, root: str) -> Issue:
        """The same issue for a resource found at ``prefix`` (``Bundle.entry[2].resource``)."""
        expression = self.expression
        if expression == root or expression.startswith((root + ".", root + "[")):
            expression = prefix + expression[len(root) :]
        elif not expression:
            expression = prefix
        return Issue(self.code, self.diagnostics, expression, self.severity, self.status)


def operation_outcome(issues: Iterable[Issue]) -> dict[str, Any]:
    """A FHIR R4 OperationOutcome as a plain JSON-ready dict."""
    return {"resourceType": "OperationOutcome", "issue": [issue.to_json() for issue in issues]}


def http_status(issues: Sequence[Issue]) -> int:
    """400 when any issue is structural, else 422 (FHIR R4 http.html#create)."""
    return BAD_REQUEST if any(i.status == BAD_REQUEST for i in issues) else UNPROCESSABLE


class FhirDecodeError(SutureError):
    """A body or resource the codec refuses, with one :class:`Issue` per problem.

    ``field`` is the first issue's FHIRPath and ``reason`` its diagnostics, so the error reads
    like every other :class:`SutureError`; :attr:`issues` holds them all.
    """

    def __init__(self, issues: Sequence[Issue]) -> None:
        if not issues:
            raise ValueError("a FhirDecodeError needs at least one issue")
        first = issues[0]
        super().__init__(first.expression, first.diagnostics)
        self.issues = tuple(issues)

    @property
    def http_status(self) -> int:
        """What the endpoint answers: 400 or 422."""
        return http_status(self.issues)

    @property
    def outcome(self) -> dict[str, Any]:
        """The OperationOutcome the endpoint sends back."""
        return operation_outcome(self.issues)


def fail(
    code: str, diagnostics: str, expression: str, status: int = UNPROCESSABLE
) -> FhirDecodeError:
    """A :class:`FhirDecodeError` with a single issue."""
    return FhirDecodeError([Issue(code, diagnostics, expression, status=status)])
