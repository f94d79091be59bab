"""Variables and Connections through the REST API, on a real SQLite store with FastAPI's test
client: what a script calling Airflow's ``/api/v2/variables`` and ``/api/v2/connections`` sees
(fields, masking, status codes, error bodies), and that a Variable set here is what a task reads."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete

from tradewind.api.app import create_app
from tradewind.auth import create_user, issue_token, secret_key
from tradewind.cli.main import main
from tradewind.store import make_engine, migrate
from tradewind.store.engine import session_scope
from tradewind.store.models import StoredConnection, StoredVariable

VARS = "/api/v2/variables"
CONNS = "/api/v2/connections"


@dataclass
class Store:
    client: TestClient
    engine: Engine
    tokens: dict[str, str]

    def call(self, method: str, path: str, role: str = "op", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return self.client.request(method, path, headers=headers, **kwargs)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Store]]:
    """A store in a TRADEWIND_HOME (the one `tradewind dags test` reads), a user per role; built
    once per module (hashing the passwords costs a second)."""
    home = tmp_path_factory.mktemp("varconn") / "home"
    home.mkdir()
    engine = make_engine(f"sqlite:///{home / 'tradewind.db'}")
    migrate(engine)
    with session_scope(engine) as session:
        users = {
            role: create_user(session, f"{role}_u", f"{role}-password", role) for role in ("viewer", "op", "admin")
        }
        secret = secret_key(session)
    client = TestClient(create_app(engine, logs_folder=home / "logs", with_ui=False))
    yield home, Store(client, engine, {role: issue_token(user, secret) for role, user in users.items()})
    engine.dispose()


@pytest.fixture
def store(built: tuple[Path, Store], monkeypatch: pytest.MonkeyPatch) -> Store:
    """The module's store with no Variables or Connections, and this test's environment."""
    home, found = built
    monkeypatch.setenv("TRADEWIND_HOME", str(home))
    for name in list(os.environ):
        if name.startswith(("TRADEWIND__", "AIRFLOW_VAR_", "TRADEWIND_VAR_", "AIRFLOW_CONN_", "TRADEWIND_CONN_")):
            monkeypatch.delenv(name)
    with session_scope(found.engine) as session:
        session.execute(delete(StoredVariable))
        session.execute(delete(StoredConnection))
    return found


def body_of(response: Any, code: int = 200) -> Any:
    assert response.status_code == code, response.text
    return response.json() if response.content else None


# --- variables -------------------------------------------------------------------------------


def test_variable_create_read_change_delete(store: Store) -> None:
    created = body_of(store.call("POST", VARS, json={"key": "region", "value": "eu", "description": "where"}), 201)
    assert created == {"key": "region", "value": "eu", "description": "where", "is_encrypted": False, "team_name": None}
    assert body_of(store.call("GET", f"{VARS}/region"))["value"] == "eu"

    changed = body_of(store.call("PATCH", f"{VARS}/region", json={"key": "region", "value": "us"}))
    assert (changed["value"], changed["description"]) == ("us", "where")  # fields the body leaves out stay
    masked = store.call(
        "PATCH",
        f"{VARS}/region",
        params={"update_mask": "description"},
        json={"key": "region", "value": "ignored", "description": "moved"},
    )
    assert (body_of(masked)["value"], body_of(masked)["description"]) == ("us", "moved")

    assert body_of(store.call("DELETE", f"{VARS}/region"), 204) is None
    assert body_of(store.call("GET", f"{VARS}/region"), 404) == {
        "detail": "The Variable with key: `region` was not found"
    }


def test_a_non_string_value_is_stored_as_json_and_keys_may_hold_slashes(store: Store) -> None:
    body_of(store.call("POST", VARS, json={"key": "team/limits", "value": {"rows": 10, "tags": ["a"]}}), 201)
    got = body_of(store.call("GET", f"{VARS}/team/limits"))
    assert json.loads(got["value"]) == {"rows": 10, "tags": ["a"]}
    body_of(store.call("POST", VARS, json={"key": "count", "value": 3}), 201)
    assert body_of(store.call("GET", f"{VARS}/count"))["value"] == "3"


def test_sensitive_values_are_masked_in_every_answer_but_stored_whole(store: Store) -> None:
    assert body_of(store.call("POST", VARS, json={"key": "db_password", "value": "hunter22"}), 201)["value"] == "***"
    assert body_of(store.call("GET", f"{VARS}/db_password"))["value"] == "***"
    nested = {"url": "https://x", "api_key": "k-123", "inner": {"token": "t-9", "n": 1}}
    body_of(store.call("POST", VARS, json={"key": "service", "value": nested}), 201)
    shown = json.loads(body_of(store.call("GET", f"{VARS}/service"))["value"])
    assert shown == {"url": "https://x", "api_key": "***", "inner": {"token": "***", "n": 1}}
    listed = {v["key"]: v["value"] for v in body_of(store.call("GET", VARS))["variables"]}
    assert listed["db_password"] == "***" and "k-123" not in listed["service"]

    result = CliRunner().invoke(main, ["variables", "get", "db_password"], catch_exceptions=False)
    assert result.output == "hunter22\n"  # what a task reads


def test_the_list_pages_filters_and_orders_in_the_store_only(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_FROM_ENV", "not listed")
    for key, description in (("b_one", "2"), ("a_two", "3"), ("B_three", "1"), ("other", None)):
        body_of(store.call("POST", VARS, json={"key": key, "value": "v", "description": description}), 201)

    everything = body_of(store.call("GET", VARS))
    assert [v["key"] for v in everything["variables"]] == ["B_three", "a_two", "b_one", "other"]
    assert everything["total_entries"] == 4
    page = body_of(store.call("GET", VARS, params={"limit": 2, "offset": 1, "order_by": "-key"}))
    assert ([v["key"] for v in page["variables"]], page["total_entries"]) == (["b_one", "a_two"], 4)
    found = body_of(store.call("GET", VARS, params={"variable_key_pattern": "b_"}))  # case-insensitive, _ literal
    assert [v["key"] for v in found["variables"]] == ["B_three", "b_one"]
    prefixed = body_of(store.call("GET", VARS, params={"variable_key_prefix_pattern": "b"}))  # case-sensitive
    assert [v["key"] for v in prefixed["variables"]] == ["b_one"]
    by_description = body_of(store.call("GET", VARS, params={"order_by": "description", "variable_key_pattern": "_"}))
    assert [v["key"] for v in by_description["variables"]] == ["B_three", "b_one", "a_two"]

    refused = body_of(store.call("GET", VARS, params={"order_by": "team_name"}), 400)
    assert "order_by 'team_name' is not allowed" in refused["detail"]
    assert body_of(store.call("GET", f"{VARS}/from_env"), 404)


@pytest.mark.parametrize(
    ("method", "path", "json_body", "code", "detail"),
    [
        ("POST", VARS, {"key": "dup", "value": "again"}, 409, "The Variable with key: `dup` already exists"),
        ("PATCH", f"{VARS}/dup", {"key": "other", "value": "x"}, 400, "key from request body doesn't match"),
        ("PATCH", f"{VARS}/nope", {"key": "nope", "value": "x"}, 404, "The Variable with key: `nope` was not found"),
        ("DELETE", f"{VARS}/nope", None, 404, "The Variable with key: `nope` was not found"),
        ("POST", VARS, {"key": "t", "value": "x", "team_name": "blue"}, 400, "team_name: tradewind has no teams"),
    ],
)
def test_variable_errors_name_the_cause(
    store: Store, method: str, path: str, json_body: Any, code: int, detail: str
) -> None:
    body_of(store.call("POST", VARS, json={"key": "dup", "value": "first"}), 201)
    assert detail in body_of(store.call(method, path, json=json_body), code)["detail"]
    assert body_of(store.call("GET", f"{VARS}/dup"))["value"] == "first"  # nothing lost


@pytest.mark.parametrize(
    ("json_body", "field"),
    [
        ({"value": "x"}, "key"),
        ({"key": "k"}, "value"),
        ({"key": "k", "value": "x", "colour": "red"}, "colour"),
        ({"key": "k" * 251, "value": "x"}, "key"),
        ({"key": "bad\nkey", "value": "x"}, "key"),
    ],
)
def test_malformed_variable_bodies_are_422_naming_the_field(store: Store, json_body: Any, field: str) -> None:
    errors = body_of(store.call("POST", VARS, json=json_body), 422)["detail"]
    assert field in [e["loc"][-1] for e in errors]
    assert body_of(store.call("GET", VARS))["total_entries"] == 0


def test_an_update_mask_naming_an_unknown_field_or_the_key_is_a_400(store: Store) -> None:
    body_of(store.call("POST", VARS, json={"key": "k", "value": "x"}), 201)
    refused = store.call("PATCH", f"{VARS}/k", params={"update_mask": "colour"}, json={"key": "k", "value": "y"})
    assert body_of(refused, 400) == {"detail": "Invalid update_mask field(s): colour"}
    refused = store.call(
        "PATCH", f"{VARS}/k", params={"update_mask": ["key", "value"]}, json={"key": "k", "value": "y"}
    )
    assert "key cannot be changed" in body_of(refused, 400)["detail"]
    assert body_of(store.call("GET", f"{VARS}/k"))["value"] == "x"


def test_environment_connections_are_not_listed_nor_served(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FROM_ENV", "http://user:pw@env.host")
    assert body_of(store.call("GET", CONNS)) == {"connections": [], "total_entries": 0}
    assert body_of(store.call("GET", f"{CONNS}/from_env"), 404)


def test_bulk_creates_updates_and_deletes_and_reports_each_action(store: Store) -> None:
    body_of(store.call("POST", VARS, json={"key": "old", "value": "1"}), 201)
    actions = {
        "actions": [
            {
                "action": "create",
                "entities": [{"key": "new", "value": "n"}, {"key": "old", "value": "2"}],
                "action_on_existence": "overwrite",
            },
            {"action": "update", "entities": [{"key": "new", "value": "n2", "description": "d"}]},
            {"action": "delete", "entities": ["missing"], "action_on_non_existence": "skip"},
        ]
    }
    result = body_of(store.call("PATCH", VARS, json=actions))
    assert result["create"] == {"success": ["new", "old"], "errors": []}
    assert result["update"] == {"success": ["new"], "errors": []}
    assert result["delete"] == {"success": [], "errors": []}
    assert body_of(store.call("GET", f"{VARS}/old"))["value"] == "2"
    assert body_of(store.call("GET", f"{VARS}/new"))["description"] == "d"

    failing = {
        "actions": [
            {"action": "create", "entities": [{"key": "fresh", "value": "f"}, {"key": "old", "value": "3"}]},
            {"action": "delete", "entities": ["new", "gone", "lost"]},
        ]
    }
    outcome = body_of(store.call("PATCH", VARS, json=failing))
    assert outcome["create"] == {
        "success": [],
        "errors": [{"error": "The variables with these keys: {'old'} already exist.", "status_code": 409}],
    }
    assert outcome["delete"]["errors"] == [
        {"error": "The variables with these keys: {'gone', 'lost'} were not found.", "status_code": 404}
    ]
    assert outcome["update"] is None
    assert body_of(store.call("GET", f"{VARS}/fresh"), 404)  # a failed action writes nothing
    assert body_of(store.call("GET", f"{VARS}/old"))["value"] == "2"
    assert body_of(store.call("GET", f"{VARS}/new"))["value"] == "n2"


def test_a_variable_set_through_the_api_is_what_a_task_reads_in_dags_test(store: Store, tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "reader.py").write_text(
        "from datetime import datetime\n"
        "from airflow.sdk import Variable, dag, task\n"
        "@dag(start_date=datetime(2025, 1, 1), schedule=None)\n"
        "def reader():\n"
        "    @task\n"
        "    def read():\n"
        "        return [Variable.get('team'), Variable.get('limits', deserialize_json=True)]\n"
        "    read()\n"
        "reader()\n"
    )
    body_of(store.call("POST", VARS, json={"key": "team", "value": "data"}), 201)
    body_of(store.call("POST", VARS, json={"key": "limits", "value": {"rows": 5}}), 201)
    body_of(store.call("PATCH", f"{VARS}/team", json={"key": "team", "value": "platform"}))

    result = CliRunner().invoke(main, ["dags", "test", "reader", "--dags-folder", str(dags), "-o", "json"])

    assert result.exit_code == 0, result.output
    [instance] = json.loads(result.stdout)["task_instances"]
    assert (instance["state"], instance["return_value"]) == ("success", ["platform", {"rows": 5}])


# --- connections -----------------------------------------------------------------------------

WAREHOUSE = {
    "connection_id": "warehouse",
    "conn_type": "postgresql",
    "host": "db.local",
    "login": "etl",
    "password": "s3cret-pw",
    "schema": "sales",
    "port": 5432,
    "extra": json.dumps({"sslmode": "require", "api_key": "k-1"}),
    "description": "the warehouse",
}


def test_connection_create_read_change_delete_never_return_the_password(store: Store) -> None:
    created = body_of(store.call("POST", CONNS, json=WAREHOUSE), 201)
    assert created == {
        **WAREHOUSE,
        "conn_type": "postgres",  # normalised as everywhere in tradewind (and Airflow)
        "password": "***",
        "extra": json.dumps({"sslmode": "require", "api_key": "***"}),
        "team_name": None,
    }
    assert body_of(store.call("GET", f"{CONNS}/warehouse")) == created
    assert body_of(store.call("GET", CONNS)) == {"connections": [created], "total_entries": 1}

    # what was read, sent back with one change: the masked password and extra key stay as stored
    sent_back = {**created, "host": "db2.local", "extra": json.dumps({"sslmode": "disable", "api_key": "***"})}
    del sent_back["team_name"]
    changed = body_of(store.call("PATCH", f"{CONNS}/warehouse", json=sent_back))
    assert changed["host"] == "db2.local"
    result = CliRunner().invoke(main, ["connections", "get", "warehouse", "--show-password", "-o", "json"])
    stored = json.loads(result.output)
    assert stored["password"] == "s3cret-pw"
    assert json.loads(stored["extra"]) == {"sslmode": "disable", "api_key": "k-1"}

    only_port = {"connection_id": "warehouse", "conn_type": "ignored", "port": 6543}
    changed = body_of(store.call("PATCH", f"{CONNS}/warehouse", params={"update_mask": "port"}, json=only_port))
    assert (changed["port"], changed["conn_type"], changed["host"]) == (6543, "postgres", "db2.local")

    assert body_of(store.call("DELETE", f"{CONNS}/warehouse"), 204) is None
    missing = body_of(store.call("GET", f"{CONNS}/warehouse"), 404)
    assert missing == {"detail": "The Connection with connection_id: `warehouse` was not found"}


def test_a_new_password_through_patch_replaces_the_old_one(store: Store) -> None:
    body_of(store.call("POST", CONNS, json=WAREHOUSE), 201)
    body_of(
        store.call(
            "PATCH",
            f"{CONNS}/warehouse",
            params={"update_mask": "password"},
            json={"connection_id": "warehouse", "conn_type": "postgres", "password": "new-pw"},
        )
    )
    result = CliRunner().invoke(main, ["connections", "get", "warehouse", "--show-password", "-o", "json"])
    assert json.loads(result.output)["password"] == "new-pw"


def test_the_connection_list_filters_pages_and_orders(store: Store) -> None:
    for conn_id, conn_type in (
        ("s3_logs", "aws"),
        ("pg_main", "postgres"),
        ("pg_test", "postgres"),
        ("Pg_old", "http"),
    ):
        body_of(store.call("POST", CONNS, json={"connection_id": conn_id, "conn_type": conn_type}), 201)
    ids = lambda answer: [c["connection_id"] for c in body_of(answer)["connections"]]  # noqa: E731
    assert ids(store.call("GET", CONNS, params={"connection_id_pattern": "pg_"})) == ["Pg_old", "pg_main", "pg_test"]
    assert ids(store.call("GET", CONNS, params={"connection_id_prefix_pattern": "pg"})) == ["pg_main", "pg_test"]
    assert ids(store.call("GET", CONNS, params={"order_by": ["conn_type", "-connection_id"], "limit": 3})) == [
        "s3_logs",
        "Pg_old",
        "pg_test",
    ]
    assert body_of(store.call("GET", CONNS, params={"limit": 1}))["total_entries"] == 4
    assert "order_by 'login'" in body_of(store.call("GET", CONNS, params={"order_by": "login"}), 400)["detail"]


@pytest.mark.parametrize(
    ("method", "path", "json_body", "code", "detail"),
    [
        ("POST", CONNS, {"connection_id": "warehouse", "conn_type": "http"}, 409, "`warehouse` already exists"),
        ("PATCH", f"{CONNS}/warehouse", {"connection_id": "x", "conn_type": "http"}, 400, "does not match the URL"),
        ("PATCH", f"{CONNS}/nope", {"connection_id": "nope", "conn_type": "http"}, 404, "`nope` was not found"),
        ("DELETE", f"{CONNS}/nope", None, 404, "`nope` was not found"),
        ("POST", CONNS, {"connection_id": "t", "conn_type": "http", "team_name": "b"}, 400, "no teams"),
    ],
)
def test_connection_errors_name_the_cause(
    store: Store, method: str, path: str, json_body: Any, code: int, detail: str
) -> None:
    body_of(store.call("POST", CONNS, json=WAREHOUSE), 201)
    assert detail in body_of(store.call(method, path, json=json_body), code)["detail"]
    assert body_of(store.call("GET", f"{CONNS}/warehouse"))["host"] == "db.local"  # nothing lost


@pytest.mark.parametrize(
    ("json_body", "field"),
    [
        ({"connection_id": "has space", "conn_type": "http"}, "connection_id"),
        ({"connection_id": "c"}, "conn_type"),
        ({"connection_id": "c", "conn_type": "http", "extra": "[1, 2]"}, "extra"),
        ({"connection_id": "c", "conn_type": "http", "extra": "not json"}, "extra"),
        ({"connection_id": "c", "conn_type": "http", "port": "eighty"}, "port"),
        ({"connection_id": "c", "conn_type": "http", "uri": "http://x"}, "uri"),
    ],
)
def test_malformed_connection_bodies_are_422_naming_the_field(store: Store, json_body: Any, field: str) -> None:
    errors = body_of(store.call("POST", CONNS, json=json_body), 422)["detail"]
    assert field in [e["loc"][-1] for e in errors]
    assert body_of(store.call("GET", CONNS))["total_entries"] == 0


# --- who may -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", VARS),
        ("GET", f"{VARS}/k"),
        ("POST", VARS),
        ("PATCH", f"{VARS}/k"),
        ("DELETE", f"{VARS}/k"),
        ("PATCH", VARS),
        ("GET", CONNS),
        ("GET", f"{CONNS}/c"),
        ("POST", CONNS),
        ("PATCH", f"{CONNS}/c"),
        ("DELETE", f"{CONNS}/c"),
    ],
)
def test_anonymous_callers_get_401_and_viewers_403_as_in_airflows_default_roles(
    store: Store, method: str, path: str
) -> None:
    assert store.client.request(method, path).status_code == 401
    bad = store.client.request(method, path, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    refused = store.call(method, path, role="viewer", json={})
    assert body_of(refused, 403) == {"detail": "Forbidden: role 'viewer' may not act"}


def test_op_and_admin_may_read_and_write(store: Store) -> None:
    body_of(store.call("POST", VARS, role="admin", json={"key": "k", "value": "v"}), 201)
    body_of(store.call("POST", CONNS, role="op", json={"connection_id": "c", "conn_type": "http"}), 201)
    assert body_of(store.call("GET", f"{VARS}/k", role="op"))["value"] == "v"
    assert body_of(store.call("GET", f"{CONNS}/c", role="admin"))["conn_type"] == "http"
