"""The ``suture`` command line (Typer). Each command group lives in its own module; this module
only registers them on the root application."""

from __future__ import annotations

from suture.entrypoints.cli.api import api_app
from suture.entrypoints.cli.app import app, reflow_help
from suture.entrypoints.cli.audit import audit_app
from suture.entrypoints.cli.bus import replay_command, trace_command
from suture.entrypoints.cli.clients import clients_app
from suture.entrypoints.cli.demo import demo_command
from suture.entrypoints.cli.erp import erp_app
from suture.entrypoints.cli.exceptions import exceptions_app
from suture.entrypoints.cli.ingest import ingest_app
from suture.entrypoints.cli.interfaces import interfaces_app
from suture.entrypoints.cli.kpis import kpis_command
from suture.entrypoints.cli.masterdata import masterdata_app
from suture.entrypoints.cli.match import match_app
from suture.entrypoints.cli.operations import migrate_command, status_command
from suture.entrypoints.cli.partners import partners_app
from suture.entrypoints.cli.quality import quality_app
from suture.entrypoints.cli.reconcile import reconcile_command
from suture.entrypoints.cli.requisitions import requisitions_app
from suture.entrypoints.cli.schemas import schemas_app
from suture.entrypoints.cli.seed import seed_command
from suture.entrypoints.cli.serve import serve_command
from suture.entrypoints.cli.shadow import shadow_app
from suture.entrypoints.cli.supplier_documents import ingest_x12_command, receive_command
from suture.entrypoints.cli.supplier_sim import supplier_sim_app
from suture.entrypoints.cli.udi import udi_command
from suture.entrypoints.cli.worker import worker_command

app.command("migrate")(migrate_command)
app.command("seed")(seed_command)
app.add_typer(masterdata_app, name="masterdata")
app.add_typer(quality_app, name="quality")
app.command("status")(status_command)
app.command("demo")(demo_command)
app.command("serve")(serve_command)
app.add_typer(ingest_app, name="ingest")
ingest_app.command("x12")(ingest_x12_command)
app.command("receive")(receive_command)
app.command("replay")(replay_command)
app.command("trace")(trace_command)
app.add_typer(exceptions_app, name="exceptions")
app.command("worker")(worker_command)
app.add_typer(schemas_app, name="schemas")
app.add_typer(api_app, name="api")
app.command("udi")(udi_command)
app.add_typer(clients_app, name="clients")
app.add_typer(audit_app, name="audit")
app.add_typer(interfaces_app, name="interfaces")
app.command("kpis")(kpis_command)
app.add_typer(shadow_app, name="shadow")
app.add_typer(supplier_sim_app, name="supplier-sim")
app.add_typer(match_app, name="match")
app.command("reconcile")(reconcile_command)
app.add_typer(requisitions_app, name="requisitions")
app.add_typer(partners_app, name="partners")
app.add_typer(erp_app, name="erp")
reflow_help(app)


def main() -> None:
    app()


__all__ = ["app", "main"]
