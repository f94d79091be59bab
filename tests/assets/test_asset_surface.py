"""What a user reads about assets after the scheduler ran a producer: ``tradewind assets
list/details/events`` and the API's ``/api/v2/assets`` and ``/api/v2/assets/events``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from asset_home import Home
from click.testing import CliRunner
from fastapi.testclient import TestClient

from tradewind.api.app import create_app
from tradewind.auth import create_user, issue_token, secret_key
from tradewind.cli.main import main
from tradewind.store.engine import session_scope


@pytest.fixture
def ran(home: Home) -> Home:
    home.trigger("make_orders")
    home.trigger("make_through_alias")
    home.run_scheduler()
    return home


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": "250"})
    return result.exit_code, result.output


def test_assets_list_shows_each_asset_with_its_events_and_the_dags_waiting_on_it(ran: Home) -> None:
    code, out = cli("assets", "list", "--output", "json")
    assert code == 0, out
    rows = {r["uri"]: r for r in json.loads(out)}
    assert set(rows) == {"s3://shop/orders", "s3://shop/refunds", "s3://shop/daily/2026-11-30"}
    orders = rows["s3://shop/orders"]
    assert (orders["events"], orders["scheduled_dags"], orders["queued_for"]) == (
        1,
        ["both", "either", "only_orders"],
        ["both"],  # `both` waits for refunds too
    )
    assert orders["producing_tasks"] == ["fails.broken", "make_orders.write_orders"]
    refunds = rows["s3://shop/refunds"]
    assert (refunds["name"], refunds["events"], refunds["id"]) == ("refunds", 0, None)  # named, never updated
    code, out = cli("assets", "list")
    assert code == 0 and "make_orders.write_orders" in out and "both, either, only_orders" in out


def test_assets_details_and_events(ran: Home) -> None:
    code, out = cli("assets", "details", "--uri", "s3://shop/orders/")  # normalised as Asset(uri=...)
    assert code == 0, out
    assert "name: s3://shop/orders\n" in out and "queued_for: both\n" in out
    code, out = cli("assets", "details", "--name", "nothing")
    assert (code, out.strip()) == (1, "Error: No asset with name 'nothing' (tradewind assets list)")
    code, out = cli("assets", "details", "--uri", "airflow://x")
    assert code == 1 and "the scheme 'airflow' is reserved" in out

    code, out = cli("assets", "events", "--output", "json")
    assert code == 0, out
    events = json.loads(out)
    assert sorted((e["uri"], e["source_dag_id"], e["source_task_id"], e["extra"], e["aliases"]) for e in events) == [
        ("s3://shop/daily/2026-11-30", "make_through_alias", "attach", {"day": 30}, ["daily"]),
        ("s3://shop/orders", "make_orders", "write_orders", {"rows": 12}, []),
    ]
    assert [e["timestamp"] for e in events] == sorted((e["timestamp"] for e in events), reverse=True)  # newest first
    code, out = cli("assets", "events", "--alias", "daily")
    assert code == 0 and "make_through_alias.attach" in out and "write_orders" not in out


def test_the_api_lists_assets_and_asset_events_in_airflows_shapes(ran: Home, tmp_path: Path) -> None:
    with session_scope(ran.engine) as session:
        user = create_user(session, "viewer_user", "viewer-password", "viewer")
        token = issue_token(user, secret_key(session))
    client = TestClient(create_app(ran.engine, logs_folder=tmp_path / "logs", with_ui=False))
    headers = {"Authorization": f"Bearer {token}"}

    answer = client.get("/api/v2/assets", headers=headers, params={"uri_pattern": "shop/orders"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total_entries"] == 1
    [orders] = body["assets"]
    assert (orders["name"], orders["uri"], orders["group"]) == ("s3://shop/orders", "s3://shop/orders", "asset")
    assert [d["dag_id"] for d in orders["scheduled_dags"]] == ["both", "either", "only_orders"]
    assert {(t["dag_id"], t["task_id"]) for t in orders["producing_tasks"]} == {
        ("fails", "broken"),
        ("make_orders", "write_orders"),
    }
    assert orders["last_asset_event"]["timestamp"] is not None

    answer = client.get(f"/api/v2/assets/{orders['id']}", headers=headers)
    assert answer.status_code == 200 and answer.json()["uri"] == "s3://shop/orders"
    assert client.get("/api/v2/assets/999", headers=headers).status_code == 404

    events = client.get("/api/v2/assets/events", headers=headers, params={"source_dag_id": "make_orders"}).json()
    assert events["total_entries"] == 1
    [event] = events["asset_events"]
    assert (event["asset_id"], event["source_task_id"], event["source_run_id"], event["extra"]) == (
        orders["id"],
        "write_orders",
        "go",
        {"rows": 12},
    )
    assert client.get("/api/v2/assets").status_code == 401


def test_a_dags_details_show_its_asset_expression_as_airflow(ran: Home, tmp_path: Path) -> None:
    with session_scope(ran.engine) as session:
        user = create_user(session, "viewer_user", "viewer-password", "viewer")
        token = issue_token(user, secret_key(session))
    client = TestClient(create_app(ran.engine, logs_folder=tmp_path / "logs", with_ui=False))
    headers = {"Authorization": f"Bearer {token}"}
    details = client.get("/api/v2/dags/either/details", headers=headers).json()
    assert details["asset_expression"] == {
        "any": [
            {"asset": {"uri": "s3://shop/orders", "name": "s3://shop/orders", "group": "asset"}},
            {"asset": {"uri": "s3://shop/refunds", "name": "refunds", "group": "asset"}},
        ]
    }
    assert client.get("/api/v2/dags/make_orders/details", headers=headers).json()["asset_expression"] is None
    runs = client.get("/api/v2/dags/either/dagRuns", headers=headers).json()["dag_runs"]
    assert [(r["run_type"], r["triggered_by"], r["logical_date"]) for r in runs] == [("asset_triggered", "asset", None)]
