"""Variables and Connections in the store (migration 0005), on SQLite and PostgreSQL through the
``engine`` fixture, and the picklable read handle a worker gets."""

from __future__ import annotations

import pickle

from sqlalchemy import Engine

from tradewind.store import secrets as s
from tradewind.store import session_scope


def test_variables_set_replace_list_and_delete(engine: Engine) -> None:
    with session_scope(engine) as session:
        s.set_variable(session, "bucket", "dev", "where files go")
        s.set_variable(session, "api_token", "abc123")
    with session_scope(engine) as session:
        s.set_variable(session, "bucket", "prod")  # a replaced value keeps its description
    with session_scope(engine) as session:
        rows = [(v.key, v.val, v.description) for v in s.list_variables(session)]
        assert rows == [("api_token", "abc123", None), ("bucket", "prod", "where files go")]
        assert s.delete_variable(session, "bucket") is True
        assert s.delete_variable(session, "bucket") is False
        assert s.get_variable(session, "bucket") is None


def test_connections_add_once_list_and_delete(engine: Engine) -> None:
    fields = {"conn_type": "postgres", "host": "db", "login": "app", "password": "pw", "port": 5432, "extra": "{}"}
    with session_scope(engine) as session:
        assert s.add_connection(session, "sales", fields) is True
    with session_scope(engine) as session:
        assert s.add_connection(session, "sales", {"conn_type": "http"}) is False
        [row] = s.list_connections(session)
        assert s.connection_fields(row) == {**fields, "description": None, "schema": None}
        assert s.delete_connection(session, "sales") is True
        assert s.list_connections(session) == []


def test_the_store_handle_reads_and_writes_after_pickling(engine: Engine) -> None:
    handle = s.StoreSecrets(engine.url.render_as_string(hide_password=False))
    handle.set_variable("region", "eu")
    with session_scope(engine) as session:
        s.add_connection(session, "web", {"conn_type": "http", "host": "example.org"})

    copy = pickle.loads(pickle.dumps(handle))  # what a worker process receives

    assert copy.get_variable("region") == "eu"
    assert copy.get_variable("missing") is None
    assert copy.get_connection("web") == {
        "conn_type": "http",
        "description": None,
        "host": "example.org",
        "login": None,
        "password": None,
        "schema": None,
        "port": None,
        "extra": None,
    }
    assert copy.delete_variable("region") is True
    assert handle.get_variable("region") is None
    copy.close()
    handle.close()
