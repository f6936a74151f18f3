"""The message bus: commands to one handler, events to every subscriber, each exactly once.

DESIGN.md §3 guarantees 2 to 5 over the event log store (``uow.events``):

- :meth:`MessageBus.publish` appends an event with one work item per subscriber (the
  subscriptions, plus routing-policy destinations that name a handler) in the caller's
  transaction: the transactional outbox. :meth:`~MessageBus.publish_many` does the same for a
  batch with one insert per table, the path of an ingest that publishes many events at once.
- :meth:`MessageBus.process_many` (and :meth:`~MessageBus.process`, a batch of one) executes
  handler H for event E exactly once per (H, E): a short transaction claims the work items,
  counting an attempt at each (the crash-loop guard, below), then one transaction locks them,
  runs the handlers, inserts the tracking rows and deletes the items. The embedded dispatcher
  (:meth:`run_once`) and a NATS worker (:meth:`process_due`) share this one code path. A
  batch costs a few statements plus what its handlers write, not a transaction per item; the
  handlers share the batch's transaction, with no savepoint, and only a batch in which one
  fails is rolled back and runs again, locked anew, with a savepoint per handler (PostgreSQL
  pays a round trip per savepoint, and more than 64 subtransactions in one transaction slow
  every session's snapshots). A handler may also be
  given in batch form (:data:`~suture.services.handlers.BatchHandler`), which the batch calls
  once for its items, so that its effects too cost a statement per batch; the
  one-event form stays the contract, and is what runs when a batch is told apart.
- A failure takes that handler's writes back (its savepoint, in the batch run again), the rest
  of the batch commits,
  then a transaction of its own records the attempt and, as
  :class:`~suture.eventlog.retry.RetryPolicy` decides, schedules the retry, parks the item on
  its missing dependency or dead-letters it; parking and dead letter open an exception item
  (DESIGN.md §5), so no failure is swallowed (STYLE.md habit 4). A crash before the commit
  loses the batch whole; its work is still there and is claimed again.
- The crash-loop guard: a worker killed inside a handler (SIGKILL, OOM) records no failure, so
  the claim counts the attempt, committed before any handler runs, and marks the item
  :data:`~suture.services.event_store.IN_PROGRESS` (a success deletes the item, a failure
  replaces the mark). An item claimed again with the mark still on it killed its worker, or
  shared a batch with one that did: it is logged as a ``worker_died`` attempt and run alone,
  in a batch of its own, so that only the poison message spends its budget; with the budget
  spent it is dead-lettered ("worker died while handling it N times") with an exception item.
  The cost is one ``UPDATE`` and one commit per batch, and a lease: the items of a batch whose
  worker died wait for ``lease`` before another worker takes them.

Ordering: work is taken oldest-due first, then in log order, but a retried or parked item
waits while later events go ahead; handlers must not rely on the order of events (a handler
that needs data that is not there yet parks on it).
"""

from __future__ import annotations

import fnmatch
import random
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from suture.domain.errors import SutureError
from suture.eventlog.envelope import Envelope
from suture.eventlog.errors import DependencyKey, SchemaError, classify
from suture.eventlog.ids import Uuid7Sequence
from suture.eventlog.payloads import JsonPayload
from suture.eventlog.retry import RetryPolicy
from suture.eventlog.routing import RoutingPolicy, Rule
from suture.eventlog.schemas import SchemaRegistry
from suture.services import exceptions as exception_queue
from suture.services import replay as replaying
from suture.services.clock import Clock, system_clock
from suture.services.event_store import (
    IN_PROGRESS,
    AlreadyProcessedError,
    Claimed,
    WorkItem,
    WorkStatus,
)
from suture.services.failures import Processing, bury_crashed, record_crash, settle
from suture.services.handlers import (
    BatchHandler,
    BusConfigurationError,
    CommandHandler,
    Handler,
    HandlerContext,
    UnknownCommandError,
    UnknownWorkError,
    new_trace_id,
)
from suture.services.redrive import redrive_parked
from suture.services.unit_of_work import UnitOfWork


class MessageBus:
    """Publishes events, executes commands and runs event handlers exactly once."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        handlers: Mapping[str, Handler],
        subscriptions: Mapping[str, Sequence[str]] | None = None,
        *,
        commands: Iterable[tuple[type[Any], CommandHandler]] = (),
        batch_handlers: Mapping[str, BatchHandler] | None = None,
        policy: RoutingPolicy | None = None,
        retry: RetryPolicy | None = None,
        clock: Clock = system_clock,
        rand: Callable[[], float] = random.random,
        registry: SchemaRegistry | None = None,
        lease: timedelta = timedelta(minutes=1),
        source_system: str = "suture",
    ) -> None:
        self._uow = uow_factory
        self._handlers = dict(handlers)
        self._subscriptions = {glob: tuple(names) for glob, names in (subscriptions or {}).items()}
        for glob, names in self._subscriptions.items():
            for name in names:
                if name not in self._handlers:
                    raise BusConfigurationError(f"subscriptions[{glob!r}]", f"no handler {name!r}")
        self._batch_handlers = dict(batch_handlers or {})
        for name in self._batch_handlers:
            if name not in self._handlers:
                raise BusConfigurationError(
                    f"batch_handlers[{name!r}]", "a batch form needs its one-event handler"
                )
        self._commands: dict[type[Any], CommandHandler] = {}
        for command_type, command_handler in commands:
            if command_type in self._commands:
                raise BusConfigurationError(
                    command_type.__name__, "a command goes to exactly one handler; two are given"
                )
            self._commands[command_type] = command_handler
        self.policy = policy
        self.retry_policy = retry or RetryPolicy()
        self.clock = clock
        self._rand = rand
        self.registry = registry
        self._lease = lease
        self._source_system = source_system
        self._new_id = Uuid7Sequence()
        self._routes: dict[str, _Route] = {}

    @property
    def handler_names(self) -> list[str]:
        return sorted(self._handlers)

    def subscribers(self, envelope: Envelope) -> list[str]:
        """The handlers an event goes to: subscriptions by type glob, then routed handlers."""
        return list(self._subscribers(envelope))

    def _subscribers(self, envelope: Envelope) -> tuple[str, ...]:
        """:meth:`subscribers`, decided once per type where the type alone decides.

        The subscriptions depend on the type alone, and so do the routing rules without payload
        predicates; a rule that names none of this bus's handlers cannot add one. Only a type
        with a rule that reads the payload and may add a handler is routed event by event.
        """
        route = self._routes.get(envelope.type)
        if route is None or route.policy is not self.policy:
            route = self._routes[envelope.type] = self._route_of(envelope.type)
        if route.per_event is None:
            return route.names
        handlers = self._handlers
        routed = [
            name
            for rule in route.per_event
            if not rule.reads_payload or rule.matches_payload(envelope)
            for name in rule.destinations
            if name in handlers
        ]
        return tuple(dict.fromkeys(route.names + tuple(routed)))

    def _route_of(self, event_type: str) -> _Route:
        names = [
            name
            for glob, handlers in self._subscriptions.items()
            if fnmatch.fnmatchcase(event_type, glob)
            for name in handlers
        ]
        policy = self.policy
        if policy is None:
            return _Route(None, tuple(dict.fromkeys(names)), None)
        rules = tuple(
            rule
            for rule in policy.rules_of_type(event_type)
            if any(name in self._handlers for name in rule.destinations)
        )
        if any(rule.reads_payload for rule in rules):
            return _Route(policy, tuple(dict.fromkeys(names)), rules)
        routed = [name for rule in rules for name in rule.destinations if name in self._handlers]
        return _Route(policy, tuple(dict.fromkeys(names + routed)), None)

    # --- publishing and commands --------------------------------------------------------------

    def publish(self, uow: UnitOfWork, envelope: Envelope) -> bool:
        """Append ``envelope`` for its subscribers in ``uow``'s transaction (the caller commits).

        With a registry the payload is validated first, so nothing unreadable enters the log,
        unless this bus built the envelope from a model of that registry (:meth:`envelope`),
        which validated it already. Returns False, appending nothing, when the idempotency key
        is in the log already.
        """
        registry = self.registry
        if registry is not None and not envelope.validated_by(registry):
            registry.validate(envelope.type, envelope.schema_version, envelope.payload)
        return uow.events.append(envelope, self._subscribers(envelope))

    def publish_many(self, uow: UnitOfWork, envelopes: Iterable[Envelope]) -> int:
        """:meth:`publish` for a batch, with one insert per table; how many were appended.

        Every payload is validated (as :meth:`publish` does) before anything is written. An
        envelope whose idempotency key is in the log already, or earlier in the batch, is not
        appended (nor is its work).
        """
        batch = list(envelopes)
        registry = self.registry
        if registry is not None:
            for envelope in batch:
                if not envelope.validated_by(registry):
                    registry.validate(envelope.type, envelope.schema_version, envelope.payload)
        return len(uow.events.append_many([(e, self._subscribers(e)) for e in batch]))

    def envelope(
        self,
        event_type: str,
        payload: dict[str, Any] | BaseModel | JsonPayload,
        *,
        idempotency_key: str,
        correlation_id: str,
        schema_version: int | None = None,
        trace_id: str | None = None,
        causation_id: Any = None,
        occurred_at: datetime | None = None,
        source_system: str | None = None,
        source_facility: str | None = None,
    ) -> Envelope:
        """A new envelope recorded now, from this bus's source system unless another is named.

        ``payload`` is a dict, validated when the envelope is published, or the event's model
        (typed code): a model registered for ``event_type`` (and for ``schema_version``, when
        given) in this bus's registry, whose construction validated it; the envelope then
        carries its JSON-mode dump at the model's version, and publishing does not validate it
        again (:meth:`Envelope.of_valid_payload`). Build such a model with its constructor or
        ``model_validate``, never ``model_construct``, which validates nothing. A
        :class:`~suture.eventlog.payloads.JsonPayload` (a model's JSON form built by typed
        code, held to the model by a test) is taken as its model would be.
        """
        now = self.clock()
        event_id = self._new_id(now)
        if isinstance(payload, JsonPayload) and self.registry is None:
            payload = payload.data  # nothing vouches: the constructor checks
        if isinstance(payload, BaseModel) and self.registry is None:
            payload = payload.model_dump(mode="json")  # nothing vouches: the constructor checks
        if isinstance(payload, BaseModel | JsonPayload):
            return self._envelope_of_model(
                event_id, now, event_type, payload, schema_version=schema_version,
                idempotency_key=idempotency_key, correlation_id=correlation_id,
                trace_id=trace_id, causation_id=causation_id, occurred_at=occurred_at,
                source_system=source_system, source_facility=source_facility,
            )  # fmt: skip
        if schema_version is None:
            schema_version = 1 if self.registry is None else self.registry.latest(event_type)
        return Envelope(
            id=event_id,
            type=event_type,
            schema_version=schema_version,
            occurred_at=occurred_at or now,
            recorded_at=now,
            source_system=source_system or self._source_system,
            source_facility=source_facility,
            trace_id=trace_id or new_trace_id(event_id),
            correlation_id=correlation_id,
            causation_id=causation_id,
            idempotency_key=idempotency_key,
            payload=payload,
        )

    def _envelope_of_model(
        self,
        event_id: UUID,
        now: datetime,
        event_type: str,
        model: BaseModel | JsonPayload,
        *,
        schema_version: int | None,
        idempotency_key: str,
        correlation_id: str,
        trace_id: str | None,
        causation_id: Any,
        occurred_at: datetime | None,
        source_system: str | None,
        source_facility: str | None,
    ) -> Envelope:
        registry = self.registry
        assert registry is not None
        model_type = model.model if isinstance(model, JsonPayload) else type(model)
        registered, version = registry.key_of(model_type)
        if registered != event_type or schema_version not in (None, version):
            wanted = event_type if schema_version is None else f"{event_type}/v{schema_version}"
            raise SchemaError(
                "payload", f"a {model_type.__name__} is {registered}/v{version}, not {wanted}"
            )
        return Envelope.of_valid_payload(
            id=event_id,
            type=event_type,
            schema_version=version,
            occurred_at=occurred_at or now,
            recorded_at=now,
            source_system=source_system or self._source_system,
            source_facility=source_facility,
            trace_id=trace_id or new_trace_id(event_id),
            correlation_id=correlation_id,
            causation_id=causation_id,
            idempotency_key=idempotency_key,
            payload=model.data if isinstance(model, JsonPayload) else model.model_dump(mode="json"),
            validated_by=registry,
        )

    def execute(self, command: object) -> Any:
        """Run the one handler of ``command``'s type in one transaction; its result."""
        handler = self._commands.get(type(command))
        if handler is None:
            raise UnknownCommandError("command", f"no handler for {type(command).__name__}")
        with self._uow() as uow:
            result = handler(command, uow, HandlerContext(self, uow, None, self.clock()))
            uow.commit()
        return result

    # --- running handlers ---------------------------------------------------------------------

    def run_once(self, limit: int = 500, *, handlers: Sequence[str] | None = None) -> int:
        """Claim up to ``limit`` due work items, process them as one batch; how many were claimed.

        Only work of the handlers this bus has (or of ``handlers``) is claimed, so a worker
        built with fewer handlers, or an older version, leaves the rest to those that can.
        Concurrent claimers take disjoint rows (PostgreSQL ``SKIP LOCKED``; on SQLite the one
        writer's lock), and the claim leases what it took until the batch is settled.
        """
        names = self.handler_names if handlers is None else list(handlers)

        def claim(uow: UnitOfWork, now: datetime) -> list[WorkItem]:
            lease_until = now + self._lease
            return uow.events.claim_counted(now, limit, handlers=names, lease_until=lease_until)

        return len(self._batch(claim))

    def process(self, handler_name: str, event_id: str) -> Processing:
        """Execute handler ``handler_name`` for event ``event_id`` exactly once.

        Safe to call for any (handler, event) at any time, from any worker: work that is gone,
        not pending, or already tracked is skipped.
        """
        (outcome,) = self.process_many([(handler_name, event_id)])
        return outcome

    def process_many(self, keys: Sequence[tuple[str, str]]) -> list[Processing]:
        """Execute each (handler name, event id) exactly once, as one batch; what became of each.

        As safe as :meth:`process` for any keys, in one transaction for the batch: the items
        are locked (waiting for a worker that holds one), then run as :meth:`run_once` runs
        what it claims.
        """
        wanted = list(keys)

        def lock(uow: UnitOfWork, now: datetime) -> list[WorkItem]:
            found = [i for i in uow.events.lock_many(wanted) if i.status is WorkStatus.PENDING]
            return self._count_fresh(uow, found, now)

        outcomes = self._batch(lock)
        return [outcomes.pop(key, Processing.SKIPPED) for key in wanted]

    def process_due(self, event_ids: Sequence[str]) -> int:
        """Run the pending, due work of these events for this bus's handlers as one batch, in
        one transaction with reading it; how many items were run.

        A stream worker's batch of delivered events (``services/stream_work.py``): the items
        are locked as :meth:`process_many` locks them (waiting for a worker that holds one), so
        work done, leased or rescheduled meanwhile is left alone, and a redelivery finds nothing.
        """
        wanted = list(event_ids)
        names = self.handler_names

        def claim(uow: UnitOfWork, now: datetime) -> list[WorkItem]:
            lease_until = now + self._lease
            return uow.events.claim_due_of(wanted, handlers=names, now=now, lease_until=lease_until)

        return len(self._batch(claim))

    def _batch(
        self, take: Callable[[UnitOfWork, datetime], list[WorkItem]]
    ) -> dict[tuple[str, str], Processing]:
        """Claim the items ``take`` finds, run them as one batch; then those a dead worker left.

        ``take`` locks the items and counts an attempt at each (:meth:`_count_fresh`), which
        commits before any handler runs, so an attempt is spent even when the worker dies in
        the handler; it returns them as they were before. Items still marked by such a claim
        are not part of the batch: each is taken alone (:meth:`_after_crash`).
        """
        at = self.clock()
        with self._uow() as uow:
            items = take(uow, at)
            if not items:
                return {}
            # Not waiting for the log flush: the claim must be committed before a handler runs
            # (visible to the next claim when this process dies), not durable; the batch's
            # durable commit makes it so, and a server crash before that loses nothing but
            # the claim itself (the items are as they were).
            uow.commit(durable=False)
        fresh = [item for item in items if item.last_error != IN_PROGRESS]
        outcomes = self._run_claimed(fresh, at) if fresh else {}
        for item in items:
            if item.last_error == IN_PROGRESS:
                outcomes.update(self._after_crash(item))
        return outcomes

    def _count_fresh(self, uow: UnitOfWork, items: list[WorkItem], at: datetime) -> list[WorkItem]:
        """Claim the items not marked by an earlier claim: count the attempt, lease them."""
        fresh = [_key(item) for item in items if item.last_error != IN_PROGRESS]
        if fresh:
            uow.events.claim_attempts(fresh, at, at + self._lease)
        return items

    def _run_claimed(
        self, items: Sequence[WorkItem], at: datetime
    ) -> dict[tuple[str, str], Processing]:
        """Run claimed items in one transaction; then settle the failures, one each.

        The items are locked again with their events and tracking state; one whose claim is no
        longer this one's (settled or claimed again meanwhile) is left alone. The handlers run
        with no savepoint; should one fail, the transaction is rolled back and the batch locked
        and run again with a savepoint per handler, so that a failure takes back that handler's
        writes only, and the batch's effects, new events and tracking rows commit together
        (exactly once, item by item). A
        crash before the commit leaves every item of the batch to do again. The failures are
        recorded once the batch has committed, each in a transaction of its own
        (:func:`~suture.services.failures.settle`). Should a tracking row appear meanwhile
        (work done by a path that did not lock it), the batch is rolled back and its items are
        run one at a time, so that only the item already done is skipped.
        """
        before = {_key(item): item for item in items}
        failed_before = {key for key, seen in before.items() if seen.last_error is not None}
        rows = {key: item.row for key, item in before.items() if item.row is not None}
        isolated = False
        while True:
            with self._uow() as uow:
                claimed = [
                    c
                    for c in uow.events.lock_batch(list(before), rows)
                    if c.item.status is WorkStatus.PENDING
                    and c.item.last_error == IN_PROGRESS
                    and c.item.attempts == before[_key(c.item)].attempts + 1
                ]
                if not claimed:
                    return {}
                try:
                    outcomes, failures = self._run(uow, claimed, at, failed_before, isolated)
                except AlreadyProcessedError:
                    raced = True
                except _BatchFailedError:  # rolled back whole; again, a savepoint per handler
                    isolated = True
                    continue
                else:
                    uow.commit()
                    raced = False
            break
        if raced:
            return self._one_at_a_time([c.item for c in claimed])
        for item, error in failures:
            outcomes[(item.handler, item.event_id)] = self._fail(item, error)
        return outcomes

    def _after_crash(self, seen: WorkItem) -> dict[tuple[str, str], Processing]:
        """An item whose worker died while handling it (the crash-loop guard).

        Its attempt was counted by that claim; it is logged now. With attempts left it is
        claimed and run alone, so that a poison message kills no batch-mate's budget again;
        with none left it is dead-lettered with an exception item.
        """
        key = _key(seen)
        at = self.clock()
        with self._uow() as uow:
            found = uow.events.lock_many([key])
            item = found[0] if found else None
            if (
                item is None
                or item.status is not WorkStatus.PENDING
                or item.last_error != IN_PROGRESS
                or item.attempts != seen.attempts
            ):
                return {key: Processing.SKIPPED}  # settled or taken meanwhile
            if item.attempts >= self.retry_policy.max_attempts:
                outcome = bury_crashed(uow, item, at=at)
                uow.commit()
                return {key: outcome}
            record_crash(uow, item, at=at)
            uow.events.claim_attempts([key], at, at + self._lease)
            uow.commit()
        return self._run_claimed([item], at)  # marked: it is "failed before" when it succeeds

    def _one_at_a_time(self, items: Sequence[WorkItem]) -> dict[tuple[str, str], Processing]:
        if len(items) > 1:
            return {_key(item): self.process(item.handler, item.event_id) for item in items}
        (item,) = items
        with self._uow() as uow:  # done meanwhile: only its work item is left to remove
            uow.events.discard(item.handler, item.event_id)
            uow.commit()
        return {_key(item): Processing.SKIPPED}

    def _run(
        self,
        uow: UnitOfWork,
        claimed: Sequence[Claimed],
        at: datetime,
        failed_before: Set[tuple[str, str]],
        isolated: bool,
    ) -> tuple[dict[tuple[str, str], Processing], list[tuple[WorkItem, Exception]]]:
        # ``lock_batch`` read each item's event and tracking state; ``failed_before``: the items
        # whose earlier attempt failed (an exception item may be open, to resolve on success).
        todo = [c.item for c in claimed if not c.processed]
        envelopes = {c.item.event_id: c.envelope for c in claimed if not c.processed}
        outcomes = {_key(c.item): Processing.SKIPPED for c in claimed if c.processed}
        failures: list[tuple[WorkItem, Exception]] = []
        if isolated:
            failures = self._isolated(
                uow, todo, envelopes, at, outcomes, failed_before=failed_before
            )
        else:  # the common case, every handler succeeding, pays for no savepoint at all
            try:
                self._handle_all(uow, todo, envelopes, at, failed_before)
            except Exception as error:  # the caller rolls back and runs the batch isolated
                raise _BatchFailedError("batch", "a handler failed") from error
            outcomes.update(dict.fromkeys(map(_key, todo), Processing.DONE))
        uow.events.discard_many([k for k, o in outcomes.items() if o is Processing.SKIPPED])
        rows = {_key(c.item): c.item.row for c in claimed if c.item.row is not None}
        done = [k for k, o in outcomes.items() if o is Processing.DONE]
        uow.events.complete_many(done, at, rows)
        return outcomes, failures

    def _isolated(
        self,
        uow: UnitOfWork,
        items: Sequence[WorkItem],
        envelopes: Mapping[str, Envelope],
        at: datetime,
        outcomes: dict[tuple[str, str], Processing],
        *,
        failed_before: Set[tuple[str, str]],
    ) -> list[tuple[WorkItem, Exception]]:
        """Each handler again, in a savepoint of its own: a failure takes back only its writes."""
        failures: list[tuple[WorkItem, Exception]] = []
        for item in items:
            try:
                with uow.savepoint():
                    self._handle(uow, item, envelopes.get(item.event_id), at, failed_before)
            except AlreadyProcessedError:  # the handler found its effect applied already
                outcomes[_key(item)] = Processing.SKIPPED
            except Exception as error:  # any handler failure ends in an attempt, never lost
                failures.append((item, error))
            else:
                outcomes[_key(item)] = Processing.DONE
        return failures

    def _handle_all(
        self,
        uow: UnitOfWork,
        items: Sequence[WorkItem],
        envelopes: Mapping[str, Envelope],
        at: datetime,
        failed_before: Set[tuple[str, str]],
    ) -> None:
        """Every item in one savepoint: handlers with a batch form get their items at once.

        Handlers must not rely on the order of events (module docstring), so running a batch
        form's items together, after the one-event handlers, changes no outcome.
        """
        batched: dict[str, list[tuple[Envelope, HandlerContext]]] = {}
        for item in items:
            if item.handler not in self._batch_handlers:
                self._handle(uow, item, envelopes.get(item.event_id), at, failed_before)
                continue
            envelope = self._readable(item, envelopes.get(item.event_id))
            context = HandlerContext(self, uow, envelope, at)
            batched.setdefault(item.handler, []).append((envelope, context))
        for name, batch in batched.items():
            self._batch_handlers[name](batch, uow)
        for item in items:
            if item.handler in batched and _key(item) in failed_before:
                self._resolve_earlier_failure(uow, item, at)

    def _handle(
        self,
        uow: UnitOfWork,
        item: WorkItem,
        envelope: Envelope | None,
        at: datetime,
        failed_before: Set[tuple[str, str]],
    ) -> None:
        envelope = self._readable(item, envelope)
        self._handlers[item.handler](envelope, uow, HandlerContext(self, uow, envelope, at))
        if _key(item) in failed_before:
            self._resolve_earlier_failure(uow, item, at)

    def _readable(self, item: WorkItem, envelope: Envelope | None) -> Envelope:
        """The item's event at its latest schema version; raises when it cannot be run."""
        if item.handler not in self._handlers:
            raise BusConfigurationError("handler", f"no handler {item.handler!r} is registered")
        if envelope is None:
            raise UnknownWorkError("event_id", f"no event {item.event_id}")
        return self._upcast(envelope)

    @staticmethod
    def _resolve_earlier_failure(uow: UnitOfWork, item: WorkItem, at: datetime) -> None:
        """It failed before: its exception item, if any, is settled now."""
        exception_queue.resolve_for_subject(
            uow, at=at, note="processed on a later attempt", event_id=item.event_id,
            handler=item.handler,
        )  # fmt: skip

    def _upcast(self, envelope: Envelope) -> Envelope:
        registry = self.registry
        if registry is None or envelope.schema_version >= registry.latest(envelope.type):
            return envelope
        version, payload = registry.upcaster.upcast(
            envelope.type, envelope.schema_version, envelope.payload,
            to=registry.latest(envelope.type),
        )  # fmt: skip
        return _replace_payload(envelope, version, payload)

    def _fail(self, item: WorkItem, error: BaseException) -> Processing:
        at = self.clock()
        kind = classify(error)
        decision = self.retry_policy.decide(item.attempts, kind, at, self._rand)  # counted
        with self._uow() as uow:
            outcome = settle(uow, item, error, kind=kind, decision=decision, at=at)
            uow.commit()
        return outcome

    # --- recovery -----------------------------------------------------------------------------

    def redrive(self, dependency: DependencyKey) -> int:
        """Make every item parked on ``dependency`` due now, resolving its open exceptions."""
        with self._uow() as uow:
            count = redrive_parked(uow, dependency, self.clock())
            uow.commit()
        return count

    def retry_event(self, handler: str, event_id: str) -> None:
        """Make a dead or parked item due now with a fresh attempt budget (exception retry)."""
        with self._uow() as uow:
            item = uow.events.retry(handler, event_id, self.clock())
            if item is None and not uow.events.is_processed(handler, event_id):
                raise UnknownWorkError("event_id", f"no work for {handler} on event {event_id}")
            uow.commit()

    def retry_message(self, message_id: str) -> None:
        """Take an inbound message back to ``received`` and re-publish ``message.received``."""
        replaying.retry_message(self, message_id)

    def replay(self, selection: replaying.ReplaySelection, **options: Any) -> replaying.Report:
        """Re-drive events with guardrails; see :func:`suture.services.replay.replay`."""
        return replaying.replay(self, selection, **options)

    def uow(self) -> UnitOfWork:
        """A new unit of work of the bus's factory (for replay and trace)."""
        return self._uow()


@dataclass(frozen=True, slots=True)
class _Route:
    """Where a type's events go: ``names``, and with ``per_event`` (rules that read the
    payload, in rule order, each naming a handler) the routed handlers found event by event.
    ``policy`` is the routing policy this was decided with."""

    policy: RoutingPolicy | None
    names: tuple[str, ...]
    per_event: tuple[Rule, ...] | None


class _BatchFailedError(SutureError):
    """A handler of a batch run without savepoints failed: the batch is to run again, isolated."""


def _replace_payload(envelope: Envelope, version: int, payload: dict[str, Any]) -> Envelope:
    return replace(envelope, schema_version=version, payload=payload)


def _key(item: WorkItem) -> tuple[str, str]:
    return item.handler, item.event_id


__all__ = ["MessageBus", "Processing"]
