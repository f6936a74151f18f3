"""The composition root: the only module that knows every concrete class (STYLE.md habit 6).

``build(settings)`` turns settings into a :class:`Hub` of wired collaborators. It only wires; the
work is done by services, adapters and entrypoints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from suture.adapters.analytics.duckdb_reconciler import DuckDbReconciler
from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import current_revision, downgrade, ensure_schema, upgrade
from suture.adapters.db.period_extract import DatabaseExtract
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.adapters.erp.file_gateway import FileErpGateway
from suture.adapters.erp.tryton import TrytonErpGateway
from suture.adapters.erp.tryton_mapping import ErpMappingError, TrytonMapping, load_mapping
from suture.adapters.erp.tryton_rpc import TrytonRpc
from suture.adapters.file_drop import FileDropTransport
from suture.adapters.nats.stream import StreamSettings
from suture.adapters.rate_limits import RateLimiter
from suture.adapters.security.hashing import Argon2SecretHasher
from suture.adapters.security.tokens import JwtCodec
from suture.config import Settings
from suture.domain.approval import ApprovalPolicy
from suture.domain.audit import AuditKey
from suture.domain.authority import AuthorityRegistry
from suture.domain.matching import Tolerance
from suture.eventlog.errors import RoutingPolicyError
from suture.eventlog.events import build_registry
from suture.eventlog.retry import RetryPolicy
from suture.eventlog.routing import RoutingPolicy, default_policy_text, load_policy
from suture.services.approval_policy import (
    ApprovalPolicyError,
    default_approval_policy_text,
    load_approval_policy,
)
from suture.services.audit import AuditTrail
from suture.services.clients import ClientRegistry
from suture.services.clock import Clock, system_clock
from suture.services.csv_ingest import CsvDecoder, CsvFeed, CsvFeedError, CsvIngest, load_feeds
from suture.services.deliveries import Deliveries, DeliveryQueue, Transport
from suture.services.delivery_worker import DeliveryWorker
from suture.services.erp import (
    OPERATION_PURCHASE_ORDER,
    ErpGateway,
    ErpTransport,
    redrive_after_order,
)
from suture.services.erp_payments import ErpPayments
from suture.services.erp_suppliers import ScheduledPull, SupplierSync
from suture.services.exceptions import CombinedRedrive, WorkQueue
from suture.services.fhir_ingest import FHIR_DECODE, FhirIngest, FhirRedrive
from suture.services.hl7_ingest import HL7_DECODE, Hl7Ingest
from suture.services.inbox import IdFactory, Inbox
from suture.services.interfaces import InterfaceInventory
from suture.services.kpis import KpiService
from suture.services.messagebus import MessageBus
from suture.services.phi import PhiTokenizer
from suture.services.receiving import Receiving
from suture.services.reconciliation_batch import ReconciliationBatch
from suture.services.redrive import REDRIVE_ON_MAPPING, redrive_on_mapping
from suture.services.relay import OutboxRelay
from suture.services.requisitions import Requisitions
from suture.services.shadow import ShadowGate, ShadowReports, TargetModes
from suture.services.supplier_invoices import SupplierInvoices
from suture.services.tokens import TokenService
from suture.services.trading_partners import TradingPartners
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.match_operations import MatchOperations
from suture.services.workflows.order_dispatch import (
    OPERATION_850,
    PurchaseOrderDispatch,
    X12Identity,
    mark_sent,
)
from suture.services.workflows.reconciliation import (
    CHARGE_RECONCILIATION,
    ReconciliationProcess,
    ReconciliationSweeper,
)
from suture.services.workflows.requisitions import (
    PURCHASE_ORDER_DISPATCH,
    PURCHASE_ORDERING,
    REQUISITION_APPROVAL,
    RequisitionProcess,
)
from suture.services.workflows.three_way_match import THREE_WAY_MATCH, ThreeWayMatch
from suture.services.workflows.usage import (
    COST_ATTRIBUTION,
    INVENTORY,
    RecordUsage,
    UsageProcess,
)
from suture.services.x12_ingest import X12_DECODE, X12Applier, X12Ingest

#: Destinations the routing policy may name: the bus's handlers and the process managers and
#: outbound deliveries that later issues register. A name outside this set fails start-up.
DESTINATIONS = frozenset(
    {
        REDRIVE_ON_MAPPING,
        "decode",
        "inventory",
        "cost_attribution",
        CHARGE_RECONCILIATION,
        "legacy_mms_export",
        "revenue_integrity_review",
        "erp_item_sync",
        "parked_redrive",
        THREE_WAY_MATCH,
        REQUISITION_APPROVAL,
        PURCHASE_ORDERING,
        PURCHASE_ORDER_DISPATCH,
    }
)


@dataclass(slots=True)
class Hub:
    """Everything an entrypoint needs, wired once."""

    engine: Engine
    uow_factory: Callable[[], UnitOfWork]
    #: Units of work for reads that write nothing (the API's lists and lookups, metrics). On
    #: SQLite they begin DEFERRED, so a read never queues behind a writer for the write lock;
    #: elsewhere they are the same as ``uow_factory``.
    read_uow_factory: Callable[[], UnitOfWork]
    authority: AuthorityRegistry
    clock: Clock
    batch_size: int
    inbox: Inbox
    bus: MessageBus
    deliveries: Deliveries
    delivery_queue: DeliveryQueue
    delivery_worker: DeliveryWorker
    work_queue: WorkQueue
    #: HL7 v2 messages in (the MLLP listener, ``suture ingest``): store, decode, post, ACK.
    hl7_ingest: Hl7Ingest
    #: FHIR R4 resources and Bundles in (``/fhir/R4``): store, decode, apply, answer.
    fhir_ingest: FhirIngest
    #: CSV files in (drop folder, ``text/csv`` ingest): stored with the event that decodes them.
    csv_ingest: CsvIngest
    #: X12 interchanges in (System API, ``suture ingest x12``, the drop folder): store, apply
    #: 855/856/810, queue a 997 per group to the supplier.
    x12_ingest: X12Ingest
    #: Dock receipts of ship notices (``suture receive``, ``POST /api/v1/process/receipts``).
    receiving: Receiving
    #: Invoices suppliers submit as JSON (the Experience API), filed like an X12 810.
    supplier_invoices: SupplierInvoices
    #: The API's OAuth2 clients, their tokens and per-client request budgets (docs/api-security.md).
    clients: ClientRegistry
    tokens: TokenService
    rate_limiter: RateLimiter
    #: The hash-chained audit trail (issue 7): every write and operator action is recorded here.
    audit: AuditTrail
    #: The integration inventory: interfaces, governance, unmanaged traffic, the governed share.
    interfaces: InterfaceInventory
    #: Shadow mode (docs/shadow-mode.md): what each target's interface mode is, and the reports
    #: comparing withheld outputs with the legacy system's.
    target_modes: TargetModes
    #: The KPIs of DESIGN.md §7 over a period (``suture kpis``, the dashboard API, the demo).
    kpis: KpiService
    shadow_reports: ShadowReports
    #: The three-way match's operator actions (``suture match``, the Process API).
    matching: MatchOperations
    #: Charge-to-cost reconciliation: the continuous form's sweeper (``suture serve`` runs it
    #: in its dispatcher loop) and the batch over a period (``suture reconcile``, the API).
    reconciliation_sweeper: ReconciliationSweeper
    reconciliation_batch: ReconciliationBatch
    #: Procure-to-pay's ordering half: departmental requests, the approval work list and
    #: decisions, and suppliers' X12 trading-partner profiles (docs/workflows.md).
    requisitions: Requisitions
    trading_partners: TradingPartners
    closers: list[Callable[[], None]] = field(default_factory=list)
    #: Scale-out (DESIGN.md §8), only when ``SUTURE_NATS_URL`` is set: where the event stream
    #: is, and the relay that publishes the outbox to it (``suture worker`` runs both).
    stream: StreamSettings | None = None
    relay: OutboxRelay | None = None
    #: The ERP's supplier master pulled into Suture's (``suture erp suppliers pull``, docs/erp.md).
    erp_suppliers: SupplierSync | None = None
    #: ... and on a schedule (``SUTURE_ERP_SUPPLIER_PULL_SECONDS``), a work source of the
    #: ``serve`` and ``worker`` loops; None for the file ERP or when turned off.
    erp_supplier_pull: ScheduledPull | None = None
    #: The ERP's payment status of supplier invoices (``suture erp payments``, docs/erp.md).
    erp_payments: ErpPayments | None = None

    def close(self) -> None:
        for closer in reversed(self.closers):
            closer()


def build(
    settings: Settings,
    *,
    migrate: bool = True,
    clock: Clock = system_clock,
    requisition_ids: IdFactory | None = None,
) -> Hub:
    """Wire the hub. The embedded default migrates its database on first use.

    ``clock`` is the time of the hub's business records and schedules (ingest, workflows,
    deliveries, KPIs); ``suture demo`` passes a clock that jumps ahead through the simulated
    days of the suppliers' replies. Security keeps the system's time: tokens, clients and the
    audit trail say when a caller really acted.

    ``requisition_ids`` makes the ids of departmental requisitions (default: UUIDv7s of the
    submission time). Their POs are numbered after them and the scripted supplier draws its
    scenario from the PO number, so ``suture demo`` passes ids that do not depend on when it
    runs: the same seed then gives the same POs, scenarios and figures.
    """
    codec = token_codec(settings)
    engine = create_engine(settings.database_url, sqlite_background_checkpoints=True)
    if migrate:
        ensure_schema(engine)

    def uow_factory() -> UnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    read_engine = engine
    if engine.dialect.name == "sqlite":
        read_engine = create_engine(settings.database_url, sqlite_begin="DEFERRED")

    def read_uow_factory() -> UnitOfWork:
        return SqlAlchemyUnitOfWork(read_engine)

    retry = RetryPolicy(
        max_attempts=settings.bus_max_attempts,
        base_delay=timedelta(seconds=settings.bus_base_delay_seconds),
        max_delay=timedelta(seconds=settings.bus_max_delay_seconds),
    )
    delivery_queue = DeliveryQueue()
    usage = UsageProcess(delivery_queue, erp_target=erp_target(settings))
    tokenizer = PhiTokenizer(settings.secret_key)
    csv_decoder = CsvDecoder(tokenizer, csv_feeds(settings))
    match = ThreeWayMatch(
        delivery_queue, match_tolerance(settings), erp_target=erp_target(settings)
    )
    window = timedelta(hours=settings.reconciliation_window_hours)
    reconciliation = ReconciliationProcess(window)
    identity = X12Identity(
        settings.x12_sender_qualifier, settings.x12_sender_id, settings.x12_application_id
    )
    ordering = RequisitionProcess(
        approval_policy(settings),
        # POs go to the ERP too when it takes them (Tryton); a file ERP gets the 850 only.
        PurchaseOrderDispatch(delivery_queue, identity, erp_target=erp_orders_target(settings)),
    )
    x12 = X12Applier(delivery_queue)
    bus = MessageBus(
        uow_factory,
        # The usage workflow's steps are reached through the routing policy's destinations
        # ``inventory`` and ``cost_attribution`` (docs/workflows.md).
        handlers={
            REDRIVE_ON_MAPPING: redrive_on_mapping,
            INVENTORY: usage.apply_usage,
            COST_ATTRIBUTION: usage.attribute_cost,
            # Stored CSV files are read by their feed's profile (services/csv_ingest.py).
            "decode": csv_decoder.decode,
            THREE_WAY_MATCH: match.match_on_event,
            CHARGE_RECONCILIATION: reconciliation.reconcile_event,
            REQUISITION_APPROVAL: ordering.route_requisition,
            PURCHASE_ORDERING: ordering.raise_orders,
            PURCHASE_ORDER_DISPATCH: ordering.dispatch_order,
            # X12 interchanges parked on an unknown sender, or retried from the exception queue
            # (docs/x12.md): applied when the sender is mapped or the message is re-published.
            X12_DECODE: x12.decode_received,
            # FHIR messages retried from the exception queue (docs/fhir.md).
            FHIR_DECODE: FhirRedrive(tokenizer).decode_received,
            # HL7 v2 messages retried from the exception queue (docs/hl7v2.md); the ingest is
            # built on this bus below, so the handler reaches it when it runs.
            HL7_DECODE: lambda envelope, uow, context: hl7_ingest.decode_received(  # noqa: PLW0108 - bound late
                envelope, uow, context
            ),
        },
        subscriptions={
            "crosswalk.mapped": [REDRIVE_ON_MAPPING],
            "message.received": [X12_DECODE, FHIR_DECODE, HL7_DECODE],
        },
        batch_handlers={
            INVENTORY: usage.apply_usages,
            COST_ATTRIBUTION: usage.attribute_costs,
            THREE_WAY_MATCH: match.match_on_events,
            CHARGE_RECONCILIATION: reconciliation.reconcile_events,
        },
        commands=[(RecordUsage, usage.record_usage)],
        policy=routing_policy(settings),
        retry=retry,
        clock=clock,
        registry=build_registry(),
    )
    deliveries = Deliveries(uow_factory, clock)
    inbox = Inbox(uow_factory)
    gateway = erp_gateway(settings)
    transports: dict[str, Transport] = {
        # Journals, AP vouchers and POs to the ERP, one gateway call per delivery (docs/erp.md).
        "erp": ErpTransport(gateway),
        # 850s to suppliers (target ``x12:<supplier>`` or a profile's own ``x12:*``)
        "x12": FileDropTransport(settings.x12_outbox_dir, suffix=".x12"),
    }
    # Every transport is behind the shadow gate: an interface in shadow or legacy mode has its
    # outputs computed and kept, not sent (docs/shadow-mode.md).
    target_modes = TargetModes(uow_factory, clock)
    gated = {kind: ShadowGate(transport, target_modes) for kind, transport in transports.items()}
    supplier_sync = SupplierSync(uow_factory, gateway, clock)
    erp_payments = ErpPayments(uow_factory, gateway)
    audit = AuditTrail(uow_factory, AuditKey.from_secret(settings.secret_key), system_clock)
    clients = ClientRegistry(
        uow_factory, Argon2SecretHasher(), system_clock, read_uow_factory=read_uow_factory
    )
    hl7_ingest = Hl7Ingest(uow_factory, inbox, bus, tokenizer, clock)
    return Hub(
        engine=engine,
        uow_factory=uow_factory,
        read_uow_factory=read_uow_factory,
        # Suture loads the ERP's supplier master and the materials system's item master on their
        # behalf (DESIGN.md §1), so the hub is a delegate of both owners.
        authority=AuthorityRegistry(
            delegates={
                "erp": frozenset({"suture"}),
                "materials": frozenset({"suture"}),
                "procurement": frozenset({"suture"}),
            }
        ),
        clock=clock,
        batch_size=settings.import_batch_size,
        inbox=inbox,
        bus=bus,
        deliveries=deliveries,
        delivery_queue=delivery_queue,
        # A PO's 850 left: the PO is sent; a PO reached the ERP: what waited for it is due.
        delivery_worker=DeliveryWorker(
            uow_factory,
            gated,
            retry,
            clock,
            on_delivered={OPERATION_850: mark_sent, OPERATION_PURCHASE_ORDER: redrive_after_order},
        ),
        work_queue=WorkQueue(
            uow_factory, CombinedRedrive(events=bus, deliveries=deliveries), clock
        ),
        hl7_ingest=hl7_ingest,
        fhir_ingest=FhirIngest(uow_factory, inbox, bus, tokenizer, clock),
        csv_ingest=CsvIngest(uow_factory, inbox, bus, clock),
        x12_ingest=X12Ingest(uow_factory, inbox, bus, delivery_queue, clock, applier=x12),
        receiving=Receiving(
            uow_factory,
            bus,
            clock,
            deliveries=delivery_queue,
            erp_target=erp_orders_target(settings),
        ),
        supplier_invoices=SupplierInvoices(uow_factory, inbox, bus, clock),
        clients=clients,
        tokens=TokenService(
            codec,
            clients,
            system_clock,
            issuer=settings.auth_jwt_issuer,
            audience=settings.auth_jwt_audience,
            lifetime=timedelta(seconds=settings.auth_token_lifetime_seconds),
            revocation_ttl=timedelta(seconds=settings.auth_revocation_cache_seconds),
        ),
        rate_limiter=RateLimiter(
            settings.redis_url or "memory://",
            client_limit=settings.rate_limit_client,
            address_limit=settings.rate_limit_token,
        ),
        audit=audit,
        interfaces=InterfaceInventory(uow_factory, clock),
        target_modes=target_modes,
        kpis=KpiService(read_uow_factory, InterfaceInventory(read_uow_factory, clock), clock),
        shadow_reports=ShadowReports(read_uow_factory),
        matching=MatchOperations(uow_factory, bus, match, clock, read_uow_factory=read_uow_factory),
        reconciliation_sweeper=ReconciliationSweeper(
            uow_factory, clock, window, read_uow_factory=read_uow_factory
        ),
        reconciliation_batch=ReconciliationBatch(
            DatabaseExtract(read_engine), DuckDbReconciler(), window, read_uow_factory
        ),
        requisitions=Requisitions(
            uow_factory,
            bus,
            audit,
            clock,
            read_uow_factory=read_uow_factory,
            new_id=requisition_ids,
        ),
        trading_partners=TradingPartners(uow_factory, audit, clock),
        closers=[engine.dispose, read_engine.dispose, *erp_closers(gateway)],
        erp_suppliers=supplier_sync,
        erp_supplier_pull=erp_supplier_pull(settings, supplier_sync, erp_payments),
        erp_payments=erp_payments,
        stream=stream_settings(settings),
        relay=None if settings.nats_url is None else OutboxRelay(uow_factory, clock=clock),
    )


def erp_target(settings: Settings) -> str:
    """The delivery target of journals and AP vouchers: ``erp:file`` (where they always went)
    or ``erp:tryton``; the ``erp`` transport serves both."""
    return f"erp:{settings.erp_kind}"


def erp_orders_target(settings: Settings) -> str | None:
    """Where purchase orders go besides the supplier's 850: the ERP, when it is Tryton."""
    return "erp:tryton" if settings.erp_kind == "tryton" else None


def erp_closers(gateway: ErpGateway) -> list[Callable[[], None]]:
    """What to close with the hub: the Tryton gateway's HTTP client."""
    return [gateway.close] if isinstance(gateway, TrytonErpGateway) else []


def erp_mapping(settings: Settings) -> TrytonMapping:
    """Suture ids → the ERP's codes from ``SUTURE_ERP_MAPPING_FILE`` (docs/erp.md, Mapping);
    without one, every id is its own code."""
    path = settings.erp_mapping_file
    if path is None:
        return TrytonMapping()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ErpMappingError(
            "SUTURE_ERP_MAPPING_FILE", f"cannot read {path}: {error.strerror}"
        ) from None
    except UnicodeDecodeError as error:
        reason = f"cannot read {path}: not UTF-8 text (byte {error.start})"
        raise ErpMappingError("SUTURE_ERP_MAPPING_FILE", reason) from None
    return load_mapping(text, str(path))


def erp_supplier_pull(
    settings: Settings, sync: SupplierSync, payments: ErpPayments
) -> ScheduledPull | None:
    """The scheduled supplier pull (and payment status read-back) of the ``serve`` and
    ``worker`` loops: only for an ERP that can be read (``tryton``), every
    ``SUTURE_ERP_SUPPLIER_PULL_SECONDS`` (0: never)."""
    if settings.erp_kind != "tryton" or settings.erp_supplier_pull_seconds <= 0:
        return None
    every = timedelta(seconds=settings.erp_supplier_pull_seconds)
    return ScheduledPull(sync, system_clock, every, payments=payments)


def erp_gateway(settings: Settings) -> ErpGateway:
    """The ERP gateway of ``SUTURE_ERP_KIND`` (docs/erp.md): interface files in the outbox by
    default (where ``erp:file`` deliveries landed before the gateway), or Tryton's API."""
    if settings.erp_kind == "tryton":
        rpc = TrytonRpc(
            settings.erp_url or "",
            settings.erp_database or "",
            settings.erp_user or "",
            settings.erp_secret(),
            timeout=settings.erp_timeout_seconds,
        )
        return TrytonErpGateway(rpc, erp_mapping(settings))
    return FileErpGateway(settings.erp_outbox_dir / "erp_file")


def match_tolerance(settings: Settings) -> Tolerance:
    """The three-way match's default tolerance; rules per facility and supplier override it."""
    return Tolerance(
        price_percent=settings.match_price_percent,
        price_amount=settings.match_price_amount,
        quantity_percent=settings.match_quantity_percent,
        quantity_amount=settings.match_quantity_amount,
    )


def token_codec(settings: Settings) -> JwtCodec:
    """The token signer the settings name; a key file that does not fit stops start-up."""
    if settings.auth_jwt_algorithm == "HS256":
        return JwtCodec.hs256(settings.secret_key)
    return JwtCodec.from_key_files(
        settings.auth_jwt_algorithm,
        settings.auth_jwt_private_key_file,
        settings.auth_jwt_public_key_file,
    )


def csv_feeds(settings: Settings) -> dict[str, CsvFeed]:
    """The configured CSV feeds, validated now so that a bad file stops start-up."""
    if settings.csv_feeds is None:
        return {}
    path = settings.csv_feeds
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CsvFeedError("SUTURE_CSV_FEEDS", f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        reason = f"cannot read {path}: not UTF-8 text (byte {error.start})"
        raise CsvFeedError("SUTURE_CSV_FEEDS", reason) from None
    return load_feeds(text, str(path), base=path.parent)


def stream_settings(settings: Settings) -> StreamSettings | None:
    """Where the NATS JetStream event stream is; None in the embedded default."""
    if settings.nats_url is None:
        return None
    return StreamSettings(
        url=settings.nats_url,
        stream=settings.nats_stream,
        subject_prefix=settings.nats_subject_prefix,
    )


def routing_policy(settings: Settings) -> RoutingPolicy:
    """The configured routing policy, validated now so a bad file stops start-up."""
    if settings.routing_policy is None:
        return load_policy(default_policy_text(), "default.yaml", destinations=DESTINATIONS)
    path = settings.routing_policy
    text = _setting_file_text(path, "SUTURE_ROUTING_POLICY", RoutingPolicyError)
    return load_policy(text, str(path), destinations=DESTINATIONS)


def approval_policy(settings: Settings) -> ApprovalPolicy:
    """The configured requisition approval policy, validated now so a bad file stops start-up."""
    if settings.approval_policy is None:
        return load_approval_policy(default_approval_policy_text(), "approval.yaml")
    path = settings.approval_policy
    text = _setting_file_text(path, "SUTURE_APPROVAL_POLICY", ApprovalPolicyError)
    return load_approval_policy(text, str(path))


def _setting_file_text(
    path: Path, setting: str, error: type[RoutingPolicyError | ApprovalPolicyError]
) -> str:
    """The text of a policy file a setting names; one it cannot read stops start-up naming both."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(setting, f"cannot read: {exc.strerror}", source=str(path)) from None
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text (byte {exc.start})"
        raise error(setting, reason, source=str(path)) from None


def database_revision(settings: Settings) -> str | None:
    """The schema revision the configured database is at (None: not migrated)."""
    engine = create_engine(settings.database_url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def migrate_database(settings: Settings, revision: str = "head", *, down: bool = False) -> None:
    """Upgrade (or with ``down``, downgrade) the configured database to ``revision``."""
    engine = create_engine(settings.database_url)
    try:
        if down:
            downgrade(engine, revision)
        else:
            upgrade(engine, revision)
    finally:
        engine.dispose()
