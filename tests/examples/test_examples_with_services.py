"""Airflow 3.3's example DAGs that reach outside the machine or use what tradewind does not
provide: run against a local stand-in where one serves, else shown to fail saying why.
Airflow's results were observed with a real Airflow 3.3.2 (``airflow dags test DAG_ID 2026-11-29``
with the same conf and the same local server)."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from test_airflow_examples import wheel

from tradewind.loader import load_dags
from tradewind.scheduler.dag_test import test_dag as run_dag

LOGICAL_DATE = datetime(2026, 11, 29, tzinfo=UTC)
SAID = "Seems like today your server executing Airflow is connected from IP 127.0.0.1"


def example(tmp_path: Path, name: str) -> Path:
    with zipfile.ZipFile(wheel("apache_airflow_core-3.")) as archive:
        (tmp_path / name).write_bytes(archive.read(f"airflow/example_dags/{name}"))
    return tmp_path


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # the shape of httpbingo.org/get that the DAG reads
        body = json.dumps({"origin": "127.0.0.1", "url": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def local_get() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/get"
    finally:
        server.shutdown()
        server.server_close()


def test_dag_decorator_example_runs_as_in_airflow_against_a_local_server(tmp_path: Path, local_get: str) -> None:
    # the DAG's param url defaults to https://httpbingo.org/get; `dags test -c '{"url": ...}'`
    dag = load_dags(example(tmp_path, "example_dag_decorator.py")).get_dag("example_dag_decorator")

    state = run_dag(dag, io.StringIO(), logical_date=LOGICAL_DATE, conf={"url": local_get})

    assert {r.task_id: (str(r.state), r.return_value) for r in state.records()} == {
        "get_ip": ("success", {"origin": "127.0.0.1", "url": "/get"}),
        "prepare_command": ("success", {"command": f"echo '{SAID}'"}),
        "echo_ip_info": ("success", SAID),
    }
    assert str(state.dag_run_state()) == "success"


def test_task_state_store_example_fails_saying_tradewind_has_no_task_state_store(tmp_path: Path) -> None:
    # Airflow 3.3.2 runs it (success: each process_table instance stores its status); tradewind
    # has no task state store, and a task that uses it fails naming it, without retries
    bag = load_dags(example(tmp_path, "example_task_state_store_mapped.py"))
    log = io.StringIO()

    state = run_dag(bag.get_dag("example_task_state_store_mapped"), log, logical_date=LOGICAL_DATE)

    assert {(r.task_id, r.map_index): (str(r.state), r.try_number) for r in state.records()} == {
        ("get_tables", -1): ("success", 1),
        ("process_table", 0): ("failed", 1),
        ("process_table", 1): ("failed", 1),
        ("process_table", 2): ("failed", 1),
    }
    assert "task_state_store.set(): tradewind does not provide Airflow's task state store" in log.getvalue()


def test_task_state_store_example_with_never_expire_fails_to_import_naming_the_module(tmp_path: Path) -> None:
    bag = load_dags(example(tmp_path, "example_task_state_store.py"))
    (error,) = bag.import_errors.values()
    assert "No module named 'airflow.sdk.execution_time.context'" in error.error
    assert "docs/airflow-compatibility.md" in error.error
