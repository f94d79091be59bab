"""``tradewind variables ...`` and ``tradewind connections ...``, run in process (click's runner)
against a real SQLite store in a temporary TRADEWIND_HOME."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tradewind.cli.main import main


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AIRFLOW_VAR_REGION", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_SALES", raising=False)

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return run


def test_variables_set_get_list_delete(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("variables", "set", "region", "eu", "--description", "where we run").output == "Variable region set\n"
    assert cli("variables", "set", "db_password", "hunter22").exit_code == 0
    assert cli("variables", "set", "config", '{"a": [1, 2]}', "-j").exit_code == 0

    assert cli("variables", "get", "region").output == "eu\n"
    assert json.loads(cli("variables", "get", "config", "-j").output) == {"a": [1, 2]}
    listed = json.loads(cli("variables", "list", "-o", "json").output)
    assert listed == [
        {"key": "config", "value": '{\n  "a": [\n    1,\n    2\n  ]\n}', "description": None},
        {"key": "db_password", "value": "***", "description": None},
        {"key": "region", "value": "eu", "description": "where we run"},
    ]

    assert cli("variables", "delete", "region").output == "Variable region deleted\n"
    missing = cli("variables", "get", "region")
    assert missing.exit_code == 1
    assert "Variable 'region' does not exist" in missing.output
    assert cli("variables", "get", "region", "-d", "fallback").output == "fallback\n"
    gone = cli("variables", "delete", "region")
    assert (gone.exit_code, "Variable region is not in the store" in gone.output) == (1, True)


def test_variables_get_answers_what_a_task_sees_environment_first(cli) -> None:  # type: ignore[no-untyped-def]
    cli("variables", "set", "region", "stored")
    assert cli("variables", "get", "region", env={"AIRFLOW_VAR_REGION": "from-env"}).output == "from-env\n"


def test_variables_set_refuses_bad_json(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("variables", "set", "x", "{nope", "-j")
    assert result.exit_code == 1 and "--serialize-json: VALUE is not JSON" in result.output


def test_connections_add_get_list_delete(cli) -> None:  # type: ignore[no-untyped-def]
    added = cli("connections", "add", "sales", "--conn-uri", "postgresql://app:s3cret@db:5432/sales")
    assert added.output == "Connection sales added\n"
    by_fields = cli(
        "connections", "add", "api", "--conn-type", "http", "--conn-host", "api.example.org", "--conn-extra", '{"a": 1}'
    )
    assert by_fields.exit_code == 0, by_fields.output
    again = cli("connections", "add", "sales", "--conn-uri", "http://other")
    assert again.exit_code == 1 and "Connection sales already exists" in again.output

    shown = json.loads(cli("connections", "get", "sales", "-o", "json").output)
    assert shown == {
        "conn_id": "sales",
        "conn_type": "postgres",
        "description": None,
        "host": "db",
        "login": "app",
        "password": "***",
        "schema": "sales",
        "port": 5432,
        "extra": None,
    }
    assert (
        json.loads(cli("connections", "get", "sales", "--show-password", "-o", "json").output)["password"] == "s3cret"
    )
    listed = json.loads(cli("connections", "list", "-o", "json").output)
    assert [(c["conn_id"], c["conn_type"], c["host"], c["extra"], c["password"]) for c in listed] == [
        ("api", "http", "api.example.org", '{"a": 1}', None),
        ("sales", "postgres", "db", None, "***"),
    ]
    assert "s3cret" not in cli("connections", "list").output

    assert cli("connections", "delete", "sales").output == "Connection sales deleted\n"
    missing = cli("connections", "get", "sales")
    assert missing.exit_code == 1 and "The conn_id `sales` isn't defined" in missing.output


def test_connections_get_reads_the_environment(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(
        "connections", "get", "sales", "-o", "json", env={"AIRFLOW_CONN_SALES": '{"conn_type": "http", "host": "h"}'}
    )
    assert json.loads(result.output)["host"] == "h"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--conn-uri", "http://h", "--conn-type", "http"], "pass exactly one of --conn-uri, --conn-json"),
        (["--conn-host", "h"], "--conn-type is required"),
        (["--conn-uri", "not a uri"], "is not a connection URI"),
        (["--conn-json", '{"port": "x", "conn_type": "http"}'], "port must be a whole number"),
        (["--conn-type", "http", "--conn-extra", "[1]"], "extra must be a JSON object"),
        (["--conn-json", '{"host": "h"}'], "has no type"),
        (["--conn-uri", "://h"], "has no type"),
    ],
)
def test_connections_add_refuses_bad_input_and_stores_nothing(cli, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    result = cli("connections", "add", "c", *args)
    assert result.exit_code == 1 and message in result.output, result.output
    assert cli("connections", "list").output == "No connections in the store.\n"


def test_dags_test_reads_store_variables_at_the_top_of_a_dag_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "top.py").write_text(
        "from datetime import datetime\n"
        "from airflow.sdk import Variable, dag, task\n"
        "TEAM = Variable.get('team')\n"
        "@dag(start_date=datetime(2025, 1, 1), schedule=None)\n"
        "def top():\n"
        "    @task\n"
        "    def who():\n"
        "        return TEAM\n"
        "    who()\n"
        "top()\n"
    )
    cli("variables", "set", "team", "data")

    result = cli("dags", "test", "top", "--dags-folder", str(dags), "-o", "json")

    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert [(ti["task_id"], ti["state"]) for ti in run["task_instances"]] == [("who", "success")]
