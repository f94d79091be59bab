"""The SQLite store holds run conf and, soon, secrets: the files tradewind creates for it are the
owner's alone, whatever the umask allows."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from tradewind.config import create_private_file, make_folders
from tradewind.store import make_engine, migrate


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(value: int) -> Iterator[None]:
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "nested" / "home"
    monkeypatch.setenv("TRADEWIND_HOME", str(folder))
    monkeypatch.delenv("TRADEWIND__DATABASE__URL", raising=False)
    return folder


def test_the_sqlite_file_and_its_wal_and_shm_are_private(home: Path) -> None:
    with umask(0o022):  # the usual umask, which leaves new files readable by everyone
        engine = make_engine()
        try:
            migrate(engine)
            with engine.connect() as connection:  # while a connection is open, -wal and -shm exist
                connection.execute(text("CREATE TABLE probe (x INTEGER)"))
                connection.commit()
                files = {name: home / name for name in ("tradewind.db", "tradewind.db-wal", "tradewind.db-shm")}
                assert {name: mode(path) for name, path in files.items()} == dict.fromkeys(files, 0o600)
        finally:
            engine.dispose()
    assert mode(home) == 0o700 and mode(home.parent) == 0o700  # the folders made for it, parents too


def test_a_database_file_that_exists_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    path.touch()
    path.chmod(0o640)
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate(engine)
    finally:
        engine.dispose()
    assert mode(path) == 0o640


def test_private_files_and_folders_helpers(tmp_path: Path) -> None:
    with umask(0o002):
        make_folders(tmp_path / "a" / "b" / "c")
        create_private_file(tmp_path / "a" / "b" / "c" / "tradewind.toml")
        make_folders(tmp_path / "a" / "b" / "c")  # exists: nothing to do
    assert [mode(tmp_path / p) for p in ("a", "a/b", "a/b/c")] == [0o700] * 3
    assert mode(tmp_path / "a" / "b" / "c" / "tradewind.toml") == 0o600
    (tmp_path / "file").touch()
    with pytest.raises(FileExistsError):
        make_folders(tmp_path / "file")
