"""Fixtures shared by every test tier: database URLs, migrated engines, units of work.

PostgreSQL comes from ``SUTURE_TEST_PG_URL``. Without it the PostgreSQL half of a test skips and
says why, except in CI (``CI`` set), where a missing service must fail the run (STYLE.md, Tests).

``engine`` is parametrized over both databases, so every test using it runs twice. SQLite gets a
fresh file per test, copied from one migrated template (migrating per test would dominate the
run time). PostgreSQL is migrated once per session into a schema of its own, so concurrent test
sessions on the shared server do not see each other's rows; within a session, tests stay apart
by random identifiers (uuid4 hex in ids and facility ids), never by truncating tables.
"""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from suture import bootstrap
from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema, scratch_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.adapters.erp.sandbox import Sandbox, SandboxServer
from suture.adapters.observability.logs import configure_logging
from suture.adapters.security.hashing import Argon2SecretHasher

PG_URL_VARIABLE = "SUTURE_TEST_PG_URL"


def pytest_configure(config: pytest.Config) -> None:
    """No terminal size inherited from the process: pytest-xdist's workers start with
    ``COLUMNS=80`` and ``LINES=24`` in their environment (the controller has none), and a rich
    console created while ``COLUMNS`` is set (``suture.entrypoints.cli.app``, at import) keeps
    that width for good, so a test's own ``COLUMNS`` would be ignored on a worker only. Without
    them rich reads ``COLUMNS`` at each print, or prints 80 columns wide, as in one process."""
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)


@pytest.fixture(autouse=True, scope="session")
def quiet_logs() -> None:
    """Warnings and errors only: the access log of every in-process request is noise here.

    Tests that assert on logs raise the level themselves (``caplog.set_level``); the
    end-to-end PHI test runs ``suture serve`` at DEBUG in a process of its own.
    """
    configure_logging("WARNING")


#: argon2id at its lowest cost, as the registry's own tests use it (test_client_registry.py).
CHEAP_HASHING = {"time_cost": 1, "memory_cost_kib": 8, "parallelism": 1}


@pytest.fixture(autouse=True, scope="session")
def cheap_secret_hashing() -> Iterator[None]:
    """Hubs built in the test process hash client secrets with argon2id at its lowest cost.

    ``build`` gives the client registry the production parameters (64 MiB, three passes, four
    lanes: about 0.2 s of CPU a secret on the CI machine), paid each time a test creates a client
    for a token; the API tests create hundreds (the authorization matrix, a client per call of
    ``writer``). No test of those is about the hash's cost; the hashing code path is the same,
    and what the parameters do is tested where they are chosen (``test_client_registry.py``,
    including the rehash of a weaker hash). ``suture serve`` in a subprocess (tests/e2e) keeps
    the production parameters.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            bootstrap, "Argon2SecretHasher", functools.partial(Argon2SecretHasher, **CHEAP_HASHING)
        )
        yield


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL server of the test run, e.g. ``postgresql+psycopg://postgres@host/test``."""
    url = os.environ.get(PG_URL_VARIABLE)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_URL_VARIABLE} not set: CI must run the PostgreSQL tests")
        pytest.skip(f"{PG_URL_VARIABLE} not set: PostgreSQL tests skipped")
    return url


@pytest.fixture
def unreachable_database_url() -> str:
    """A PostgreSQL URL, password included, on a local port that refuses connections (bound
    for a moment, never listened on): a database that is down, for the tests of retries."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+psycopg://suture:s3cret-pw@127.0.0.1:{port}/suture"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file URL in the test's temporary directory (the file does not exist yet)."""
    return f"sqlite:///{tmp_path / 'suture.db'}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session, copied by :func:`engine`."""
    path = tmp_path_factory.mktemp("schema") / "template.db"
    template = create_engine(f"sqlite:///{path}")
    try:
        ensure_schema(template)
    finally:
        template.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[sa.Engine]:
    """An engine on a schema of its own, migrated to head; the schema is dropped at the end."""
    with scratch_schema(postgres_url, "suture_test") as url:
        engine = create_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def own_postgres_engine(postgres_url: str) -> Iterator[sa.Engine]:
    """A schema for this test alone: for tests whose outbox relay publishes every unpublished
    event it finds, and should find this test's only."""
    with scratch_schema(postgres_url, "suture_own") as url:
        engine = create_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[sa.Engine]:
    """A migrated engine, once on SQLite and once on PostgreSQL."""
    if request.param == "postgres":
        yield request.getfixturevalue("postgres_engine")
        return
    path = tmp_path / "suture.db"
    shutil.copyfile(sqlite_template, path)
    sqlite = create_engine(f"sqlite:///{path}")
    try:
        ensure_schema(sqlite)
        yield sqlite
    finally:
        sqlite.dispose()


@pytest.fixture
def uow(engine: sa.Engine) -> Callable[[], SqlAlchemyUnitOfWork]:
    """A factory of units of work on :func:`engine`, one per ``with`` block a test needs."""
    return lambda: SqlAlchemyUnitOfWork(engine)


NATS_URL_VARIABLE = "SUTURE_TEST_NATS_URL"


@pytest.fixture(scope="session")
def nats_url() -> str:
    """The NATS server (JetStream enabled) of the test run, e.g. ``nats://127.0.0.1:4222``."""
    url = os.environ.get(NATS_URL_VARIABLE)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{NATS_URL_VARIABLE} not set: CI must run the NATS tests")
        pytest.skip(f"{NATS_URL_VARIABLE} not set: NATS tests skipped")
    return url


REDIS_URL_VARIABLE = "SUTURE_TEST_REDIS_URL"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis server of the test run, e.g. ``redis://127.0.0.1:6379/7``; tests keep apart by
    random key prefixes, never by flushing the database."""
    url = os.environ.get(REDIS_URL_VARIABLE)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{REDIS_URL_VARIABLE} not set: CI must run the Redis tests")
        pytest.skip(f"{REDIS_URL_VARIABLE} not set: Redis tests skipped")
    return url


# --- the Tryton ERP (tests/integration/test_tryton_erp.py, docs/erp.md) ------------------------

TRYTON_DIR_VARIABLE = "SUTURE_TEST_TRYTON_DIR"


def tryton_sandbox_dir() -> Path:
    """The sandbox folder; skips (fails in CI) when the run has no Tryton."""
    explicit = os.environ.get(TRYTON_DIR_VARIABLE)
    if explicit:
        return Path(explicit)
    if os.environ.get("SUTURE_TEST_TRYTON") == "1":
        return Path.home() / ".cache" / "suture" / "erp-sandbox"
    reason = "SUTURE_TEST_TRYTON_DIR or SUTURE_TEST_TRYTON=1 not set: Tryton tests skipped"
    if os.environ.get("CI"):
        pytest.fail(f"{reason.split(':', maxsplit=1)[0]}: CI must run the Tryton tests")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def tryton_sandbox() -> Sandbox:
    """The Tryton sandbox, built once when it has no snapshot (about a minute: Tryton's own
    virtualenv from PyPI, ``trytond-admin``, set-up over the API).

    The build runs under an exclusive lock on a file beside the sandbox: the pytest-xdist workers
    of one run (and concurrent test sessions) each have this session fixture, and two builds in
    one folder would clobber each other's virtualenv and ``build/``. The first to take the lock
    builds; the others wait for it, then find the snapshot and use it.
    """
    directory = tryton_sandbox_dir()
    sandbox = Sandbox(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "build.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not sandbox.snapshot.exists():
            sandbox.create(say=lambda text: None)
    return sandbox


@pytest.fixture(scope="session")
def tryton(tryton_sandbox: Sandbox) -> Iterator[SandboxServer]:
    """A Tryton server on a fresh copy of the sandbox snapshot, for this test session."""
    server = tryton_sandbox.serve(f"test_{uuid.uuid4().hex[:8]}")
    try:
        yield server
    finally:
        Sandbox.halt(server)


# --- the order of the run (pytest-xdist, Makefile's ``test``) -----------------------------------

#: Modules that take longest (measured with ``--durations``; docs/testing.md), longest first.
#: ``make test`` runs the suite on two pytest-xdist workers a module at a time (``--dist
#: loadfile``, so module-scoped fixtures such as a demo run are built once) and hands the
#: modules out in collection order, so these go first: a long module started last would leave
#: the other worker idle at the end. Only the order changes; a module missing here runs in its
#: usual place.
SLOW_MODULES = (
    "tests/e2e/test_demo_tryton.py",  # and in CI first the sandbox's build, about 80 s
    "tests/integration/test_crash_recovery.py",
    "tests/e2e/test_api_schemathesis.py",
    "tests/service/test_reconciliation_batch.py",
    "tests/integration/test_duckdb_reconciler.py",
    "tests/e2e/test_demo.py",
    "tests/integration/test_crash_loop.py",
    "tests/service/test_masterdata_import.py",
    "tests/integration/test_migrations.py",
    "tests/integration/test_tryton_erp.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow modules first (see :data:`SLOW_MODULES`); a stable sort keeps every other order."""
    rank = {module: index for index, module in enumerate(SLOW_MODULES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))
