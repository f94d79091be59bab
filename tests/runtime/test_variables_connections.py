"""Variables and Connections as a task sees them under ``dags test``: from the environment
(Airflow's and tradewind's spellings) and from the store, in code and in templates, with their
secrets masked in the task's log."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tradewind import DAG, BashOperator, task
from tradewind.definitions import secrets
from tradewind.definitions.connection import BaseHook, Connection
from tradewind.definitions.variable import Variable
from tradewind.scheduler import dag_test
from tradewind.store import make_engine, migrate, session_scope
from tradewind.store import secrets as stored

WHEN = datetime(2025, 7, 2, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No store yet, no AIRFLOW_/TRADEWIND_ variables or connections, no masks left over."""
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    for name in list(__import__("os").environ):
        if name.startswith(("AIRFLOW_VAR_", "AIRFLOW_CONN_", "TRADEWIND_VAR_", "TRADEWIND_CONN_")):
            monkeypatch.delenv(name)
    secrets.clear_masks()


def store() -> Any:
    engine = make_engine()
    migrate(engine)
    return engine


def outcome(dag: DAG) -> tuple[dict[str, tuple[str, Any, str | None]], str]:
    """Every task's (state, return value, error message), and the run's log."""
    log = io.StringIO()
    state = dag_test.test_dag(dag, log, logical_date=WHEN)
    records = {r.task_id: (str(r.state), r.return_value, r.error.message if r.error else None) for r in state.records()}
    return records, log.getvalue()


def one_task(fn: Any, **dag_kwargs: Any) -> tuple[tuple[str, Any, str | None], str]:
    with DAG("vars", start_date=datetime(2025, 1, 1), schedule=None, **dag_kwargs) as dag:
        task(fn, task_id="t")()
    records, log = outcome(dag)
    return records["t"], log


# -- Variables


def test_variables_from_the_environment_in_both_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_BUCKET", "airflow-bucket")
    monkeypatch.setenv("AIRFLOW_VAR_REGION", "eu")
    monkeypatch.setenv("TRADEWIND_VAR_REGION", "us")  # tradewind's spelling wins
    monkeypatch.setenv("AIRFLOW_VAR_SETTINGS", '{"retries": 3}')

    result, _ = one_task(
        lambda: [
            Variable.get("bucket"),
            Variable.get("region"),
            Variable.get("settings", deserialize_json=True),
            Variable.get("missing", default_var="fallback"),
            Variable.get("missing", default=None),
        ]
    )

    assert result == ("success", ["airflow-bucket", "us", {"retries": 3}, "fallback", None], None)


def test_a_missing_variable_fails_the_task_naming_it_and_the_fix() -> None:
    state, value, error = one_task(lambda: Variable.get("nowhere"))[0]

    assert (state, value) == ("failed", None)
    assert error is not None
    assert "Variable 'nowhere' does not exist" in error
    assert "tradewind variables set nowhere" in error and "AIRFLOW_VAR_NOWHERE" in error


def test_a_variable_that_is_not_json_fails_with_deserialize_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_PLAIN", "not json")
    state, _, error = one_task(lambda: Variable.get("plain", deserialize_json=True))[0]
    assert state == "failed" and error is not None and "deserialize_json=True): the value is not JSON" in error


def test_variables_from_the_store_and_set_by_a_task(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = store()
    with session_scope(engine) as session:
        stored.set_variable(session, "bucket", "stored-bucket")
        stored.set_variable(session, "shadowed", "from the store")
    monkeypatch.setenv("AIRFLOW_VAR_SHADOWED", "from the environment")

    def work() -> list[str]:
        Variable.set("written", {"by": "task"}, serialize_json=True)
        return [Variable.get("bucket"), Variable.get("shadowed")]

    result, _ = one_task(work)

    assert result == ("success", ["stored-bucket", "from the environment"], None)
    with session_scope(engine) as session:
        row = stored.get_variable(session, "written")
        assert row is not None and json.loads(row.val) == {"by": "task"}


def test_variable_set_without_a_store_says_how_to_get_one() -> None:
    state, _, error = one_task(lambda: Variable.set("x", "1"))[0]
    assert state == "failed" and error is not None and "tradewind db migrate" in error


# -- Connections


def test_connections_from_the_environment_as_uri_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SALES_DB", "postgresql://app:p%40ss@db.internal:5432/sales?sslmode=require")
    monkeypatch.setenv(
        "TRADEWIND_CONN_API", json.dumps({"conn_type": "http", "host": "api.example.org", "port": "8443"})
    )

    def work() -> list[Any]:
        db = BaseHook.get_connection("sales_db")
        api = Connection.get("api")
        return [db.conn_type, db.host, db.port, db.login, db.password, db.schema, db.extra_dejson, api.host, api.port]

    result, _ = one_task(work)

    assert result == (
        "success",
        ["postgres", "db.internal", 5432, "app", "p@ss", "sales", {"sslmode": "require"}, "api.example.org", 8443],
        None,
    )


def test_connections_from_the_store_and_a_missing_one(tmp_path: Path) -> None:
    with session_scope(store()) as session:
        stored.add_connection(session, "warehouse", {"conn_type": "mysql", "host": "wh", "login": "bi"})

    assert one_task(lambda: BaseHook.get_connection("warehouse").get_uri())[0] == (
        "success",
        "mysql://bi@wh",
        None,
    )
    state, _, error = one_task(lambda: BaseHook.get_connection("nope"))[0]
    assert state == "failed" and error is not None
    assert "The conn_id `nope` isn't defined" in error and "AIRFLOW_CONN_NOPE" in error


@pytest.mark.parametrize(
    ("uri", "fields"),
    [
        ("http://example.org", {"conn_type": "http", "host": "example.org"}),
        (
            "aws://AKIA:se%2Fcret@/?region_name=eu-west-1",
            {"conn_type": "aws", "login": "AKIA", "password": "se/cret", "extra": '{"region_name": "eu-west-1"}'},
        ),
        ("my-conn-type://h:1", {"conn_type": "my_conn_type", "host": "h", "port": 1}),
        ("http://https://example.org:443", {"conn_type": "http", "host": "https://example.org", "port": 443}),
        (
            'gcp://?__extra__={"key_path": "/k.json"}'.replace(" ", "%20"),
            {"conn_type": "gcp", "extra": '{"key_path": "/k.json"}'},
        ),
    ],
)
def test_connection_uris_parse_as_in_airflow(uri: str, fields: dict[str, Any]) -> None:
    conn = Connection.from_uri(uri, conn_id="c")
    expected = dict.fromkeys(("conn_type", "host", "login", "password", "schema", "port", "extra"))
    expected.update(fields)
    assert {k: getattr(conn, k) for k in expected} == expected
    again = Connection.from_uri(conn.get_uri(), conn_id="c")
    assert {k: getattr(again, k) for k in expected} == {**expected, "extra": again.extra} and (
        again.extra_dejson == conn.extra_dejson
    )


def test_a_malformed_connection_says_which_and_why() -> None:
    with pytest.raises(Exception, match="'c': 'nonsense' is not a connection URI"):
        Connection.from_uri("nonsense", conn_id="c")
    with pytest.raises(Exception, match="unknown field.*hostname"):
        Connection.from_json('{"hostname": "x"}', conn_id="c")


# -- templates


def test_var_conn_and_macros_in_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_BUCKET", "b1")
    monkeypatch.setenv("AIRFLOW_VAR_CONFIG", '{"region": "eu", "sizes": [1, 2]}')
    monkeypatch.setenv("AIRFLOW_CONN_DB", "postgres://u@dbhost:5432/x")
    with DAG("tpl", start_date=datetime(2025, 1, 1), schedule=None) as dag:
        BashOperator(
            task_id="show",
            bash_command=(
                "echo {{ var.value.bucket }} {{ var.json.config.region }} {{ var.json.config['sizes'][1] }} "
                "{{ var.value.get('missing', 'dflt') }} {{ conn.db.host }}:{{ conn.db.port }} "
                "{{ macros.ds_add(ds, -2) }} {{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%Y') }} "
                "{{ (macros.datetime(2025, 1, 1) + macros.timedelta(days=1)).day }} "
                "{{ macros.json.dumps([1]) }} {{ macros.dateutil.relativedelta.relativedelta(months=1).months }}"
            ),
        )

    records, log = outcome(dag)

    assert records["show"] == ("success", "b1 eu 2 dflt dbhost:5432 2025-06-30 02/07/2025 2 [1] 1", None), log


def test_a_missing_variable_in_a_template_fails_the_task() -> None:
    with DAG("tpl", start_date=datetime(2025, 1, 1), schedule=None) as dag:
        BashOperator(task_id="show", bash_command="echo {{ var.value.not_set }}")

    state, _, error = outcome(dag)[0]["show"]

    assert state == "failed" and error is not None and "Variable 'not_set' does not exist" in error


def test_a_template_file_found_in_template_searchpath(tmp_path: Path) -> None:
    folder = tmp_path / "sql"
    folder.mkdir()
    (folder / "report.sql").write_text("SELECT * FROM t WHERE day = '{{ ds }}' AND team = '{{ team }}'")
    with DAG(
        "files",
        start_date=datetime(2025, 1, 1),
        schedule=None,
        template_searchpath=[str(folder)],
        user_defined_macros={"team": "data"},
    ) as dag:

        @task(templates_exts=[".sql"])
        def query(sql: str) -> str:
            return sql

        query("report.sql")

    assert outcome(dag)[0]["query"][:2] == ("success", "SELECT * FROM t WHERE day = '2025-07-02' AND team = 'data'")


# -- masking


def test_connection_passwords_and_sensitive_variables_are_masked_in_the_task_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_DB", "postgres://app:hunter22@dbhost/x")
    monkeypatch.setenv("AIRFLOW_VAR_API_TOKEN", "tok-123456")
    monkeypatch.setenv("AIRFLOW_VAR_COLOUR", "turquoise")

    def leaky() -> str:
        conn = BaseHook.get_connection("db")
        print(f"password={conn.password} uri={conn.get_uri()}")
        print(f"token={Variable.get('api_token')} colour={Variable.get('colour')}")
        return "done"

    result, log = one_task(leaky)

    assert result == ("success", "done", None)
    assert "password=*** uri=postgres://app:***@dbhost/x" in log
    assert "token=*** colour=turquoise" in log
    assert "hunter22" not in log and "tok-123456" not in log


def test_a_password_in_an_error_message_is_masked_in_the_log_and_the_stored_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_DB", "postgres://app:hunter22@dbhost/x")

    def fails() -> None:
        conn = BaseHook.get_connection("db")
        raise RuntimeError(f"could not log in with {conn.password}")

    (state, _, error), log = one_task(fails)

    assert state == "failed"
    assert error == "could not log in with ***"
    assert "hunter22" not in log
