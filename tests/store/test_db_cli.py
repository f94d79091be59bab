"""``tradewind db migrate`` and ``tradewind db reset`` through the installed console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tradewind.store import head_revision, make_engine, session_scope
from tradewind.store import queries as q

HEAD = head_revision()  # the newest migration shipped

TRADEWIND = Path(sys.executable).with_name("tradewind")


def run(home: Path, *args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
    env["TRADEWIND_HOME"] = str(home)
    if url is not None:
        env["TRADEWIND__DATABASE__URL"] = url
    return subprocess.run([str(TRADEWIND), *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def dag_ids(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return [d.dag_id for d in q.list_dags(session)]
    finally:
        engine.dispose()


def test_db_migrate_creates_the_sqlite_file_in_tradewind_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = run(home, "db", "migrate")
    assert first.returncode == 0, first.stderr
    database = home / "tradewind.db"
    assert database.is_file()
    assert first.stdout.splitlines() == [
        f"Database: sqlite:///{database}",
        f"Created the schema at revision {HEAD}.",
        f"Schema is up to date (revision {HEAD}).",
    ]
    again = run(home, "db", "migrate")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [f"Database: sqlite:///{database}", f"Schema is up to date (revision {HEAD})."]


def test_db_reset_needs_yes_then_wipes_everything(tmp_path: Path) -> None:
    home = tmp_path / "home"
    url = f"sqlite:///{home / 'tradewind.db'}"
    assert run(home, "db", "migrate").returncode == 0
    engine = make_engine(url)
    with session_scope(engine) as session:
        q.upsert_dag(session, dag_id="etl", fileloc="/dags/etl.py", schedule="@daily")
    engine.dispose()

    refused = run(home, "db", "reset")
    assert refused.returncode == 1
    assert "Run `tradewind db reset --yes` to confirm" in refused.stderr
    assert dag_ids(url) == ["etl"]

    done = run(home, "db", "reset", "--yes")
    assert done.returncode == 0, done.stderr
    assert f"up to date (revision {HEAD})" in done.stdout
    assert dag_ids(url) == []


def test_db_migrate_reports_an_unsupported_url(tmp_path: Path) -> None:
    result = run(tmp_path, "db", "migrate", url="mysql://root@localhost/tw")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: database url 'mysql://root@localhost/tw': tradewind supports SQLite")


@pytest.mark.slow
def test_db_migrate_and_reset_on_postgresql_hide_the_password(tmp_path: Path, postgres_url: str) -> None:
    migrated = run(tmp_path, "db", "migrate", url=postgres_url)
    assert migrated.returncode == 0, migrated.stderr
    reset = run(tmp_path, "db", "reset", "--yes", url=postgres_url)
    assert reset.returncode == 0, reset.stderr
    for output in (migrated.stdout, reset.stdout):
        assert "not-a-secret" not in output
        assert "Database: postgresql+psycopg://tradewind:***@127.0.0.1:" in output
    assert f"Schema is up to date (revision {HEAD})." in migrated.stdout
    assert dag_ids(postgres_url) == []
    assert not (tmp_path / "tradewind.db").exists()


def test_other_commands_do_not_import_sqlalchemy() -> None:
    code = "import sys, tradewind.cli.main; print(sorted(m for m in ('sqlalchemy', 'alembic') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
