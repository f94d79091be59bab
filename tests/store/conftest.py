"""Fixtures of the store tests: a real SQLite file per test, and one throwaway PostgreSQL server
per test session.

The PostgreSQL server is a fresh cluster made with ``initdb`` in a temporary folder, listening
on 127.0.0.1 only, on a free port, with trust authentication (nothing else can reach it); it is
stopped and deleted when the session ends. As root, the server runs as the unprivileged
``postgres`` OS user (PostgreSQL refuses to run as root). Without the server binaries the
PostgreSQL tests are skipped, or fail under CI (where scripts/test installs them).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tradewind.store import make_engine, migrate, reset

PG_DATABASE = "tradewind_test"
PG_USER = "tradewind"
PG_PASSWORD = "not-a-secret"  # trust authentication ignores it; the CLI test checks it is hidden


def _version(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)


def postgres_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin`` with initdb and pg_ctl, else the folder of ``initdb`` on PATH."""
    found = [
        d for d in Path("/usr/lib/postgresql").glob("*/bin") if (d / "initdb").exists() and (d / "pg_ctl").exists()
    ]
    if found:
        return max(found, key=_version)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    """A cluster in ``base`` run by ``initdb``/``pg_ctl`` from ``bin_dir`` (as ``postgres`` when we are root)."""

    def __init__(self, bin_dir: Path, base: Path) -> None:
        self.bin_dir = bin_dir
        self.base = base
        self.data = base / "data"
        self.log = base / "server.log"
        self.port = _free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root, but there is no 'postgres' OS user to run the server") from None
            os.chown(base, account.pw_uid, account.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]

    def _run(self, tool: str, *args: str, timeout: float = 120) -> None:
        command = [*self.prefix, str(self.bin_dir / tool), *args]
        done = subprocess.run(command, cwd=self.base, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{log}")

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def create_database(self) -> str:
        import psycopg

        admin = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"CREATE ROLE {PG_USER} LOGIN PASSWORD '{PG_PASSWORD}'")
            connection.execute(f"CREATE DATABASE {PG_DATABASE} OWNER {PG_USER}")
        return f"postgresql://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{self.port}/{PG_DATABASE}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a database on a PostgreSQL server started for this test session."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        reason = (
            "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin or on PATH; "
            "install them (Debian: apt-get install postgresql, as scripts/test does)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    base = Path(tempfile.mkdtemp(prefix="tradewind-pg-"))  # under /tmp: reachable by the postgres user
    cluster = PostgresCluster(bin_dir, base)
    try:
        cluster.start()
        yield cluster.create_database()
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)],
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store: a SQLite file in tmp_path, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'tradewind.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """A migrated, empty store on SQLite or PostgreSQL (each test starts from a clean schema)."""
    engine = make_engine(store_url)
    if engine.dialect.name == "postgresql":
        reset(engine)
    else:
        migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()
