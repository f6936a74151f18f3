"""SQLAlchemy Core implementations of the repository ports (``services/unit_of_work.py``).

One module per area of the domain; ``base.py`` holds the generic header-plus-lines repository
they share. The unit of work (``adapters/db/unit_of_work.py``) builds them on its connection.
"""

from suture.adapters.db.repositories.audit import AuditLogRepository
from suture.adapters.db.repositories.clients import ApiClientRepository
from suture.adapters.db.repositories.contracts import ContractRepository
from suture.adapters.db.repositories.crosswalk import CrosswalkRepository
from suture.adapters.db.repositories.deliveries import DeliveryRepository
from suture.adapters.db.repositories.encounters import EncounterRepository, StaffRepository
from suture.adapters.db.repositories.eventlog import EventLogRepository
from suture.adapters.db.repositories.exceptions import ExceptionRepository
from suture.adapters.db.repositories.inbox import InboxRepository
from suture.adapters.db.repositories.interfaces import InterfaceRepository
from suture.adapters.db.repositories.inventory import StockPositionRepository, UsageRepository
from suture.adapters.db.repositories.invoicing import InvoiceRepository
from suture.adapters.db.repositories.ledger import JournalEntryRepository
from suture.adapters.db.repositories.masterdata import (
    CostCenterRepository,
    DepartmentRepository,
    FacilityRepository,
    GLAccountRepository,
    ItemRepository,
    LocationRepository,
    ParLevelRepository,
    SupplierRepository,
)
from suture.adapters.db.repositories.matching import (
    InvoiceMatchRepository,
    MatchToleranceRepository,
)
from suture.adapters.db.repositories.procurement import (
    RequisitionApprovalRepository,
    TradingPartnerRepository,
)
from suture.adapters.db.repositories.purchasing import (
    PurchaseOrderRepository,
    ReceiptRepository,
    RequisitionRepository,
)
from suture.adapters.db.repositories.reconciliation import (
    ChargemasterRepository,
    ReconciliationRepository,
)
from suture.adapters.db.repositories.revenue import ChargeRepository
from suture.adapters.db.repositories.supplier_documents import (
    ExpectedReceiptRepository,
    X12InterchangeRepository,
)
from suture.adapters.db.repositories.usage_workflow import (
    ExpectedChargeRepository,
    UsageWorkflowRepository,
)

__all__ = [
    "ApiClientRepository",
    "AuditLogRepository",
    "ChargeRepository",
    "ChargemasterRepository",
    "ContractRepository",
    "CostCenterRepository",
    "CrosswalkRepository",
    "DeliveryRepository",
    "DepartmentRepository",
    "EncounterRepository",
    "EventLogRepository",
    "ExceptionRepository",
    "ExpectedChargeRepository",
    "ExpectedReceiptRepository",
    "FacilityRepository",
    "GLAccountRepository",
    "InboxRepository",
    "InterfaceRepository",
    "InvoiceMatchRepository",
    "InvoiceRepository",
    "ItemRepository",
    "JournalEntryRepository",
    "LocationRepository",
    "MatchToleranceRepository",
    "ParLevelRepository",
    "PurchaseOrderRepository",
    "ReceiptRepository",
    "ReconciliationRepository",
    "RequisitionApprovalRepository",
    "RequisitionRepository",
    "StaffRepository",
    "StockPositionRepository",
    "SupplierRepository",
    "TradingPartnerRepository",
    "UsageRepository",
    "UsageWorkflowRepository",
    "X12InterchangeRepository",
]
