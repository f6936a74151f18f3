"""A Tryton 8.2 sandbox for people and tests: its own virtualenv, a database, a local server.

``suture erp sandbox create|start|stop|status`` (docs/erp.md). The sandbox lives in one folder:

    venv/            Tryton's virtualenv, apart from Suture's (trytond is GPL: Suture never
                     imports it, it only runs it as a separate program)
    snapshot.sqlite  the database after set-up, taken with SQLite's backup API
    db/<name>.sqlite the database a server runs on, copied from the snapshot at start
    trytond.conf     the server's configuration (SQLite, listen address)
    admin.password   the ``admin`` user's password (TRYTONPASSFILE); the sandbox's only user
    server.json      the running server: pid, url, database

``create`` installs the packages (about 10 s), creates the database with ``trytond-admin``
(about 50 s on SQLite), starts a server, sets up the company, chart of accounts, fiscal year,
payment term, product category and cost centers over the JSON-RPC API
(``adapters/erp/tryton_setup.py``), stops the server and snapshots the database. ``start``
copies the snapshot under the database name (unless it exists and ``fresh`` is off), starts a
server on a free local port and waits until a login works.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from suture.adapters.erp.tryton_rpc import TrytonRpc
from suture.services.erp import ErpError

TRYTON_SERIES = ">=8.2,<8.3"
PACKAGES = (
    "trytond", "trytond-purchase", "trytond-purchase-request", "trytond-purchase-requisition",
    "trytond-stock", "trytond-stock-supply", "trytond-account", "trytond-account-invoice",
    "trytond-account-invoice-stock", "trytond-analytic-account", "trytond-analytic-purchase",
    "trytond-company", "trytond-party", "trytond-product", "trytond-currency",
)  # fmt: skip
MODULES = (
    "purchase", "purchase_request", "purchase_requisition", "stock_supply",
    "account_invoice_stock", "analytic_purchase",
)  # fmt: skip
ADMIN = "admin"
SNAPSHOT_DATABASE = "suture_erp"


class SandboxError(ErpError):
    """The sandbox cannot be built, started or stopped; the reason says which step."""


@dataclass(frozen=True, slots=True)
class SandboxServer:
    """A running sandbox server and how to log in to it."""

    url: str
    database: str
    user: str
    password: str = field(repr=False)
    pid: int
    #: The server's process when this process started it (reaped by :meth:`Sandbox.halt`).
    process: subprocess.Popen[bytes] | None = field(default=None, compare=False, repr=False)

    def rpc(self, timeout: float = 60.0) -> TrytonRpc:
        return TrytonRpc(self.url, self.database, self.user, self.password, timeout=timeout)


Say = Callable[[str], None]


class Sandbox:
    """The sandbox folder and what can be done with it."""

    def __init__(self, directory: Path, *, python: str | None = None) -> None:
        self.directory = Path(directory).resolve()
        self._python = python or sys.executable

    @property
    def venv(self) -> Path:
        return self.directory / "venv"

    @property
    def snapshot(self) -> Path:
        return self.directory / "snapshot.sqlite"

    def _bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    def password(self) -> str:
        path = self.directory / "admin.password"
        if not path.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(18), "utf-8")
            path.chmod(0o600)
        return path.read_text("utf-8").strip()

    # -- create ---------------------------------------------------------------------------

    def install(self, say: Say = print) -> None:
        """Tryton's virtualenv with the 8.2 packages (kept when it is there already)."""
        if self._bin("trytond").exists():
            return
        say(f"creating Tryton's virtualenv in {self.venv}")
        self.directory.mkdir(parents=True, exist_ok=True)
        base = _base_python(self._python)
        _run([base, "-m", "venv", str(self.venv)], "creating the virtualenv")
        specs = [f"{name}{TRYTON_SERIES}" for name in PACKAGES]
        _run(
            [str(self._bin("python")), "-m", "pip", "install", "--quiet", *specs],
            "installing trytond",
        )

    def create(self, say: Say = print) -> Path:
        """Build the snapshot from scratch: packages, database, set-up over the API."""
        from suture.adapters.erp.tryton_setup import set_up_hospital  # noqa: PLC0415 - cycle

        self.install(say)
        say("creating the database with trytond-admin (about a minute)")
        work = self.directory / "build"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        (work / f"{SNAPSHOT_DATABASE}.sqlite").touch()
        conf = self._write_conf(work, _free_port())
        env = {**os.environ, "TRYTONPASSFILE": str(self._password_file())}
        _run(
            [
                str(self._bin("trytond-admin")), "-c", str(conf), "-d", SNAPSHOT_DATABASE,
                "--all", "-u", *MODULES, "--activate-dependencies",
                "--email", "admin@example.com",
            ],
            "trytond-admin",
            env=env,
        )  # fmt: skip
        say("setting up company, chart of accounts, fiscal year and cost centers over the API")
        server = self._serve(work, conf, SNAPSHOT_DATABASE)
        try:
            rpc = server.rpc()
            try:
                set_up_hospital(rpc)
            finally:
                rpc.close()
        finally:
            self.halt(server)
        _backup(work / f"{SNAPSHOT_DATABASE}.sqlite", self.snapshot)
        shutil.rmtree(work, ignore_errors=True)
        say(f"snapshot at {self.snapshot}")
        return self.snapshot

    # -- start / stop ---------------------------------------------------------------------

    def start(
        self, database: str = "suture", *, fresh: bool = True, port: int | None = None
    ) -> SandboxServer:
        """A server on the snapshot copied as ``database``, on ``port`` or a free one."""
        if not self.snapshot.exists():
            raise SandboxError("snapshot", f"no snapshot in {self.directory}: run create first")
        running = self.status()
        if running is not None:
            raise SandboxError("server", f"a sandbox server runs already at {running.url}")
        server = self.serve(database, fresh=fresh, port=port)
        (self.directory / "server.json").write_text(
            json.dumps({"pid": server.pid, "url": server.url, "database": database}), "utf-8"
        )
        return server

    def serve(self, database: str, *, fresh: bool = True, port: int | None = None) -> SandboxServer:
        """A server of its own on ``database`` (tests: several may run side by side); the
        caller stops it with :meth:`halt`. ``fresh``: copy the snapshot over the database."""
        if not self.snapshot.exists():
            raise SandboxError("snapshot", f"no snapshot in {self.directory}: run create first")
        data = self.directory / "db"
        data.mkdir(parents=True, exist_ok=True)
        target = data / f"{database}.sqlite"
        if fresh or not target.exists():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(self.snapshot, target)
        conf = self._write_conf(data, port or _free_port(), name=f"trytond-{database}.conf")
        return self._serve(data, conf, database)

    @staticmethod
    def halt(server: SandboxServer) -> None:
        """Stop a server started with :meth:`serve` (SIGTERM, then SIGKILL after 10 s)."""
        _terminate(server.pid)
        if server.process is not None:
            server.process.wait()

    def status(self) -> SandboxServer | None:
        """The running server, if any (a stale ``server.json`` is removed)."""
        state = self.directory / "server.json"
        if not state.exists():
            return None
        raw = json.loads(state.read_text("utf-8"))
        if not _alive(int(raw["pid"])):
            state.unlink(missing_ok=True)
            return None
        return SandboxServer(raw["url"], raw["database"], ADMIN, self.password(), int(raw["pid"]))

    def stop(self) -> bool:
        """Stop the running server; False when none was running."""
        server = self.status()
        if server is None:
            return False
        _terminate(server.pid)
        (self.directory / "server.json").unlink(missing_ok=True)
        return True

    # -- internals ------------------------------------------------------------------------

    def _password_file(self) -> Path:
        self.password()
        return self.directory / "admin.password"

    def _write_conf(self, data: Path, port: int, name: str = "trytond.conf") -> Path:
        conf = self.directory / name
        conf.write_text(
            "[database]\nuri = sqlite://\n"
            f"path = {data}\n\n[web]\nlisten = 127.0.0.1:{port}\n\n"
            "[session]\ntimeout = 300\n",
            "utf-8",
        )
        return conf

    def _serve(self, data: Path, conf: Path, database: str) -> SandboxServer:
        port = _conf_port(conf)
        log = (self.directory / "trytond.log").open("ab")
        process = subprocess.Popen(  # noqa: S603 - our own venv's trytond, fixed arguments
            [str(self._bin("trytond")), "-c", str(conf), "-d", database],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        server = SandboxServer(
            f"http://127.0.0.1:{port}", database, ADMIN, self.password(), process.pid, process
        )
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SandboxError(
                    "server", f"trytond exited ({process.returncode}): see trytond.log"
                )
            rpc = server.rpc(timeout=5)
            try:
                rpc.login()
            except ErpError:
                if time.monotonic() > deadline:
                    _terminate(process.pid)
                    process.wait()
                    raise SandboxError("server", "trytond did not accept a login in 60 s") from None
                time.sleep(0.3)
            else:
                return server
            finally:
                rpc.close()


def _base_python(python: str) -> str:
    """The interpreter a virtualenv is based on: Tryton's venv must not nest in Suture's."""
    out = subprocess.run(  # noqa: S603 - the running interpreter, fixed arguments
        [python, "-c", "import sys; print(sys._base_executable)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip() or python


def _run(command: list[str], step: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(  # noqa: S603 - fixed commands of the sandbox
        command, capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise SandboxError("sandbox", f"{step} failed ({result.returncode}): {' | '.join(tail)}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _conf_port(conf: Path) -> int:
    for line in conf.read_text("utf-8").splitlines():
        if line.startswith("listen"):
            return int(line.rsplit(":", 1)[1])
    raise SandboxError("conf", f"{conf} has no listen address")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as gone
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == 0


def _terminate(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM the server (its own process group), SIGKILL it if it lingers."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            break
        time.sleep(0.1)


def _backup(source: Path, destination: Path) -> None:
    """Snapshot with SQLite's backup API: copying a live WAL file loses commits."""
    destination.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(destination) as dst:
        src.backup(dst)
    src.close()
    dst.close()
