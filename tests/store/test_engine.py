"""Where the store lives and how it is opened: the default SQLite file, configured URLs, SQLite
settings, and the migrations shipped inside the package."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from tradewind.errors import ConfigError
from tradewind.store import database_url, describe_url, make_engine, migrate, session_scope
from tradewind.store import queries as q

REPO = Path(__file__).parents[2]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A TRADEWIND_HOME that does not exist yet, with no database URL configured."""
    folder = tmp_path / "nested" / "home"
    monkeypatch.setenv("TRADEWIND_HOME", str(folder))
    monkeypatch.delenv("TRADEWIND__DATABASE__URL", raising=False)
    return folder


@pytest.fixture
def sqlite_engine(home: Path) -> Iterator[Engine]:
    engine = make_engine()
    migrate(engine)
    yield engine
    engine.dispose()


def test_default_store_is_a_sqlite_file_in_tradewind_home(home: Path) -> None:
    assert database_url() == f"sqlite:///{home / 'tradewind.db'}"
    engine = make_engine()
    try:
        assert home.is_dir()  # created for the file
        migrate(engine)
        assert (home / "tradewind.db").is_file()
        assert describe_url(engine) == f"sqlite:///{home / 'tradewind.db'}"
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_busy_timeout_and_foreign_keys(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_sqlite_readers_do_not_wait_for_a_writer(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as session:
        q.upsert_dag(session, dag_id="etl", fileloc="/dags/etl.py", schedule=None)
    with sqlite_engine.connect() as writer, sqlite_engine.connect() as reader:
        writer.exec_driver_sql("BEGIN IMMEDIATE")
        writer.execute(text("UPDATE dag SET is_paused = 1"))
        assert reader.execute(text("SELECT is_paused FROM dag")).scalar() == 0  # the last committed state
        writer.commit()
        assert reader.execute(text("SELECT is_paused FROM dag")).scalar() == 1


def test_a_run_of_an_unknown_dag_is_refused(sqlite_engine: Engine) -> None:
    with pytest.raises(IntegrityError), session_scope(sqlite_engine) as session:
        q.create_dag_run(
            session, dag_id="ghost", run_id="manual__1", logical_date=datetime.now(UTC),
            data_interval_start=None, data_interval_end=None, run_type="manual",
        )  # fmt: skip


def test_configured_url_wins_over_the_default(home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home.mkdir(parents=True)
    (home / "tradewind.toml").write_text(f'[database]\nurl = "sqlite:///{tmp_path / "from_toml.db"}"\n')
    assert database_url() == f"sqlite:///{tmp_path / 'from_toml.db'}"
    monkeypatch.setenv("TRADEWIND__DATABASE__URL", f"sqlite:///{tmp_path / 'from_env.db'}")
    assert database_url() == f"sqlite:///{tmp_path / 'from_env.db'}"
    assert database_url("sqlite:///explicit.db") == "sqlite:///explicit.db"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://ann:s3cret@db.example:5432/tradewind",
        "postgres://ann:s3cret@db.example:5432/tradewind",
        "postgresql+psycopg://ann:s3cret@db.example:5432/tradewind",
    ],
)
def test_postgresql_urls_use_psycopg_3_and_print_without_password(url: str) -> None:
    engine = make_engine(url)  # connects lazily: no server needed
    try:
        assert engine.url.drivername == "postgresql+psycopg"
        assert engine.dialect.driver == "psycopg"
        assert describe_url(engine) == "postgresql+psycopg://ann:***@db.example:5432/tradewind"
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/tw", r"tradewind supports SQLite \(sqlite:///path\) and PostgreSQL"),
        ("postgresql+psycopg2://u@h/db", "through psycopg 3"),
        ("not a url", "is not a valid URL"),
    ],
)
def test_unsupported_urls_are_refused_with_a_hint(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_engine(url)


@pytest.mark.slow
def test_the_built_wheel_ships_the_migrations(tmp_path: Path) -> None:
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(REPO / "src", source / "src", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(source), "-w", str(tmp_path / "dist")],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("tradewind-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "tradewind/store/migrations/env.py",
        "tradewind/store/migrations/script.py.mako",
        "tradewind/store/migrations/versions/0001_initial.py",
    } <= names


def test_the_head_read_from_file_names_is_alembics_head() -> None:
    from tradewind.store.engine import head_revision, shipped_head

    assert shipped_head() == head_revision()
