"""The audit trail from the API's side: who an API caller is, and recording an action's outcome.

Every write and operator action through the API is recorded (issue 7): the client, the scope
the route required, what and on which record, before and after, and how it ended: ``success``,
``denied`` (refused for scope, facility or supplier: a 403) or ``failed`` (a business refusal or
an error). A success is recorded in the transaction of the change wherever the service lets the
caller in (the work queue's ``audit`` hook; writes done here in a unit of work); services that
commit on their own otherwise (replay, ingest) are recorded in a transaction of their own right
after. A failure is always recorded on its own: nothing else was committed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import HTTPException

from suture.bootstrap import Hub
from suture.domain.access import AccessDeniedError, Principal, Scope
from suture.domain.audit import Actor, Outcome
from suture.domain.errors import SutureError

T = TypeVar("T")


def actor(principal: Principal, scope: Scope) -> Actor:
    """An API caller as the audit trail names it: the client, and the scope the route used."""
    return Actor(name=principal.client_id, client_id=principal.client_id, scope=str(scope))


def audited(
    hub: Hub,
    principal: Principal,
    scope: Scope,
    action: str,
    *,
    target: tuple[str, str | None],
    run: Callable[[], T],
    before: str | None = None,
    after: Callable[[T], str | None] = lambda _: None,
    success_recorded: bool = False,
) -> T:
    """Run ``run`` and record its outcome under ``action`` on ``target`` (type, id); re-raise
    what it raised. Only a :class:`SutureError`'s field and reason are recorded, never the
    text of another exception, which could quote content. ``success_recorded``: ``run``
    recorded its success itself, inside its transaction; only a failure is recorded here."""
    who = actor(principal, scope)
    target_type, target_id = target

    def failed(outcome: Outcome, reason: str) -> None:
        hub.audit.record_alone(
            who, action, target_type=target_type, target_id=target_id, before=before,
            outcome=outcome, reason=reason,
        )  # fmt: skip

    try:
        result = run()
    except AccessDeniedError as error:
        failed(Outcome.DENIED, f"{error.field}: {error.reason}")
        raise
    except HTTPException as error:
        failed(
            Outcome.DENIED if error.status_code in {401, 403} else Outcome.FAILED, str(error.detail)
        )
        raise
    except SutureError as error:
        failed(Outcome.FAILED, f"{error.field}: {error.reason}")
        raise
    if success_recorded:
        return result
    hub.audit.record_alone(
        who, action, target_type=target_type, target_id=target_id, before=before,
        after=after(result),
    )  # fmt: skip
    return result
