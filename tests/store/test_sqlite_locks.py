"""Opening more connections in a process must not cost SQLite the locks its other connections
hold: a process that closes any file descriptor of the database drops every POSIX lock it has
on it, another process then believes it is the last reader, removes the WAL, and what this
process writes next is lost to everyone else (a scheduler's runs stayed 'queued' for the CLI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from tradewind.store.engine import make_engine

READ = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
    "print(c.execute('select count(*) from t').fetchone()[0]); c.close()"
)


def count_from_another_process(database: Path) -> int:
    done = subprocess.run([sys.executable, "-c", READ, str(database)], capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_writes_stay_visible_after_this_process_opens_more_connections(tmp_path: Path) -> None:
    database = tmp_path / "tradewind.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.connect() as first:
        first.execute(text("create table t (x integer)"))
        first.commit()
        with engine.connect() as second:  # a new connection of the pool, in the same process
            second.execute(text("select 1"))
        assert count_from_another_process(database) == 0  # another process reads, then closes
        first.execute(text("insert into t values (1)"))
        first.commit()
        assert count_from_another_process(database) == 1
